"""``tagger adapt``: domain-adaptive continued pre-training of an encoder (masked LM, whole-word masking).

AraBERT users adapt the encoder to their domain (news of one field, one outlet's style) on unlabelled text
before fine-tuning. This module does it in one call:

* the corpus is read like a ``tagger suggest`` pool (JSON lines with a ``"text"``, text lines, parquet, or a
  ``datasets`` directory; :func:`tagger.suggest.pool.read_pool`) and normalised exactly as fine-tuning does
  (:func:`tagger.align.document_words` with the training config's ``normalization``);
* a share of the documents (``eval_share``) is held out; their masked-LM loss is measured before and after
  training on one fixed masking (same positions both times), so the two figures compare;
* masking: transformers' ``DataCollatorForLanguageModeling(whole_word_mask=True)`` (every sub-token of a chosen
  word is masked); training: transformers' ``Trainer`` with checkpoints;
* resumable: the run works in ``.OUT.adapt-work`` next to ``OUT`` (checkpoints and the run's settings); the
  same command after a kill continues from the last checkpoint. The adapted encoder is published as ``OUT``
  in one step at the end (:func:`tagger.savedir.swap_into_place`), with ``adapt_report.json``. ``OUT`` may be
  given to ``model:`` in any training config.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tagger.errors import ConfigError, DataError, OutputError

logger = logging.getLogger(__name__)

REPORT = "adapt_report.json"
STATE = "adapt_state.json"


@dataclass
class AdaptOptions:
    """Settings of one ``tagger adapt`` run (CLI flags of the same names)."""

    encoder: str
    corpus: list[Any]  # paths (or, from Python, datasets.Dataset objects)
    out: str
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 32
    learning_rate: float = 5e-5
    max_length: int = 128
    mlm_probability: float = 0.15
    eval_share: float = 0.05
    max_eval_documents: int = 2000
    seed: int = 42
    save_steps: int = 200
    config: str | None = None  # a training config whose `normalization:` block is used
    overwrite: bool = False
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        problems = [
            (self.epochs > 0 or self.max_steps > 0, "--epochs must be > 0 (or give --max-steps)"),
            (self.batch_size > 0, "--batch-size must be > 0"),
            (self.learning_rate > 0, "--learning-rate must be > 0"),
            (16 <= self.max_length <= 512, "--max-length must be in [16, 512]"),
            (0 < self.mlm_probability < 1, "--mlm-probability must be in (0, 1)"),
            (0 < self.eval_share < 0.5, "--eval-share must be in (0, 0.5)"),
            (self.save_steps > 0, "--save-steps must be > 0"),
            (bool(self.corpus), "give at least one --corpus"),
        ]
        for ok, message in problems:
            if not ok:
                raise ConfigError(message)


@dataclass(frozen=True)
class AdaptResult:
    out: Path
    eval_loss_before: float
    eval_loss_after: float
    train_documents: int
    eval_documents: int
    steps: int
    seconds: float

    def summary(self) -> str:
        return (f"held-out MLM loss {self.eval_loss_before:.3f} -> {self.eval_loss_after:.3f} "
                f"(perplexity {math.exp(min(self.eval_loss_before, 50)):.1f} -> {math.exp(min(self.eval_loss_after, 50)):.1f}) "
                f"on {self.eval_documents} held-out documents; {self.steps} steps on {self.train_documents} documents "
                f"in {self.seconds / 60:.1f} min; adapted encoder: {self.out}")


# ---------------------------------------------------------------------------------------------- corpus
def normalization_of(config: str | None) -> Any:
    """The ``normalization`` block of a training config (defaults when ``config`` is None)."""
    from tagger.config import NormalizationConfig, TrainConfig

    if config is None:
        return NormalizationConfig()
    return TrainConfig.from_file(config).normalization


def corpus_texts(paths: Sequence[str], norm: Any) -> list[str]:
    """Every non-empty document of the corpus files, normalised and pre-tokenised as for fine-tuning (words
    joined by single spaces, so the tokenizer's offsets mark the word boundaries whole-word masking uses)."""
    from tagger.align import document_words
    from tagger.integrations.hf_datasets import is_dataset
    from tagger.schema import Document
    from tagger.suggest.pool import _dataset_records, read_pool

    texts: list[str] = []
    for path in paths:
        if is_dataset(path):  # a `datasets.Dataset` given in Python
            records = _dataset_records(path, "corpus")
        elif not Path(path).exists():
            raise DataError(f"{path}: corpus file or directory not found")
        else:
            records = read_pool(path, "corpus")
        for rec in records:
            if rec.text.strip():
                _, words = document_words(Document(text=rec.text), norm)
                if words:
                    texts.append(" ".join(words))
    return texts


def split_documents(texts: list[str], opts: AdaptOptions) -> tuple[list[str], list[str]]:
    """``(train, held-out)`` documents: a seeded shuffle, ``eval_share`` (at most ``max_eval_documents``) held out."""
    if len(texts) < 2:
        raise DataError(f"the corpus has {len(texts)} non-empty document(s); adapting needs at least 2 (one is held "
                        "out to measure the masked-LM loss), and thousands to help")
    order = list(range(len(texts)))
    random.Random(opts.seed).shuffle(order)
    n_eval = max(1, min(opts.max_eval_documents, round(opts.eval_share * len(texts))))
    return [texts[i] for i in order[n_eval:]], [texts[i] for i in order[:n_eval]]


def segments(tokenizer: Any, texts: list[str], max_length: int) -> list[dict[str, Any]]:
    """Token segments of at most ``max_length`` (long documents continue in further segments), with the
    special-token mask and offsets the whole-word collator needs."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(texts), 256):
        enc = tokenizer(texts[start:start + 256], truncation=True, max_length=max_length,
                        return_overflowing_tokens=True, return_offsets_mapping=True, return_special_tokens_mask=True)
        for ids, special, offsets in zip(enc["input_ids"], enc["special_tokens_mask"], enc["offset_mapping"]):
            if len(ids) - sum(special) >= 2:
                rows.append({"input_ids": ids, "special_tokens_mask": special, "offset_mapping": [list(o) for o in offsets]})
    return rows


def fingerprint(opts: AdaptOptions, texts: list[str]) -> str:
    """What a resumed run must share with the interrupted one: encoder, data, and every training setting."""
    digest = hashlib.sha256()
    settings = {k: v for k, v in _settings(opts).items() if k not in ("overwrite", "threads", "extra", "corpus")}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- masking
def whole_word_collator(tokenizer: Any, mlm_probability: float, seed: int | None = None) -> Any:
    """transformers' MLM collator with whole-word masking; pads the offsets it needs (its own padding does not)."""
    import warnings

    from transformers import DataCollatorForLanguageModeling

    class WholeWordCollator(DataCollatorForLanguageModeling):
        def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
            import torch

            longest = max(len(ex["input_ids"]) for ex in examples)
            offsets = torch.tensor([ex["offset_mapping"] + [[0, 0]] * (longest - len(ex["offset_mapping"]))
                                    for ex in examples], dtype=torch.long)
            rest = [{k: v for k, v in ex.items() if k != "offset_mapping"} for ex in examples]
            if self.seed is not None and (not isinstance(self.generator, torch.Generator)
                                          or getattr(self, "_generator_pid", None) != os.getpid()):
                self.create_rng("pt")
            batch = dict(tokenizer.pad(rest, return_tensors="pt"))
            special = batch.pop("special_tokens_mask")
            batch["input_ids"], batch["labels"] = self.torch_mask_tokens(
                batch["input_ids"], special_tokens_mask=special, offset_mapping=offsets)
            return batch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Random token replacement is not supported")
        return WholeWordCollator(tokenizer, mlm=True, whole_word_mask=True, mlm_probability=mlm_probability,
                                 seed=seed)


def fixed_eval_batches(tokenizer: Any, rows: list[dict[str, Any]], opts: AdaptOptions) -> list[dict[str, Any]]:
    """The held-out segments masked once (seeded), in batches: the same masked positions before and after."""
    collator = whole_word_collator(tokenizer, opts.mlm_probability, seed=opts.seed + 1)
    return [collator(rows[i:i + opts.batch_size]) for i in range(0, len(rows), opts.batch_size)]


def mlm_loss(model: Any, batches: list[dict[str, Any]]) -> float:
    """Mean cross-entropy over every masked position of ``batches`` (token-weighted, not batch-weighted)."""
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for batch in batches:
            device = next(model.parameters()).device
            out = model(**{k: v.to(device) for k, v in batch.items()})
            n = int((batch["labels"] != -100).sum())
            if n:
                total += float(out.loss) * n
                count += n
    if not count:
        raise DataError("the held-out documents got no masked position; give more text or raise --eval-share")
    return total / count


# ---------------------------------------------------------------------------------------------- the run
def adapt(encoder: str, corpus: Any, out: str | os.PathLike, **kwargs: Any) -> AdaptResult:
    """Python entry point: ``adapt("aubmindlab/bert-base-arabertv02", ["news.jsonl"], "runs/arabert-news")``.
    ``corpus``: a path, a ``datasets.Dataset`` with a ``text`` column, or a list of those (formats: module
    docstring); keyword arguments: :class:`AdaptOptions`."""
    from tagger.integrations.hf_datasets import is_dataset

    items = [corpus] if isinstance(corpus, (str, os.PathLike)) or is_dataset(corpus) else list(corpus)
    items = [c if is_dataset(c) else str(c) for c in items]
    return run_adapt(AdaptOptions(encoder=encoder, corpus=items, out=str(out), **kwargs))


def run_adapt(opts: AdaptOptions) -> AdaptResult:
    from tagger import console
    from tagger.model import _from_pretrained, _hub_error, load_tokenizer
    from tagger.savedir import check_output_dir, fsync_tree, swap_into_place

    opts.check()
    paths = [c for c in opts.corpus if isinstance(c, str)]
    out = check_output_dir(opts.out, overwrite=opts.overwrite, protect=[*paths, opts.encoder, opts.config],
                           ours=(lambda p: (p / REPORT).is_file(), "an encoder adapted by `tagger adapt`"),
                           overwrite_hint="pass --overwrite")
    norm = normalization_of(opts.config)
    tokenizer = load_tokenizer(opts.encoder)
    logger.info("reading and normalising the corpus (%d source(s))", len(opts.corpus))
    texts = corpus_texts(opts.corpus, norm)
    train_texts, eval_texts = split_documents(texts, opts)
    logger.info("corpus: %d documents (%d held out for the loss)", len(texts), len(eval_texts))
    work = out.parent / f".{out.name}.adapt-work"
    key = fingerprint(opts, texts)
    state = _open_work_dir(work, key, opts)
    if opts.threads:
        import torch

        torch.set_num_threads(opts.threads)
    from transformers import AutoModelForMaskedLM

    try:
        with console.quiet():
            model = _from_pretrained(AutoModelForMaskedLM, opts.encoder)
    except (OSError, ValueError) as err:
        raise _hub_error(opts.encoder, err) from err
    train_rows = segments(tokenizer, train_texts, opts.max_length)
    eval_batches = fixed_eval_batches(tokenizer, segments(tokenizer, eval_texts, opts.max_length), opts)
    started = time.perf_counter()
    if "eval_loss_before" not in state:
        state["eval_loss_before"] = mlm_loss(model, eval_batches)
        _write_json(work / STATE, state)
    logger.info("held-out masked-LM loss before adapting: %.4f (%d held-out documents)", state["eval_loss_before"],
                len(eval_texts))
    steps = _train(model, tokenizer, train_rows, work, opts)
    after = mlm_loss(model, eval_batches)
    final = work / "final"
    if final.exists():
        shutil.rmtree(final)
    with console.quiet():
        model.save_pretrained(final)
        tokenizer.save_pretrained(final)
    result = AdaptResult(out, state["eval_loss_before"], after, len(train_texts), len(eval_texts), steps,
                         time.perf_counter() - started)
    report = {"encoder": opts.encoder, "corpus": [str(c) if isinstance(c, str) else repr(c) for c in opts.corpus],
              "normalization": asdict(norm),
              "eval_loss_before": result.eval_loss_before, "eval_loss_after": after,
              "train_documents": len(train_texts), "eval_documents": len(eval_texts),
              "train_segments": len(train_rows), "steps": steps,
              "settings": {k: v for k, v in _settings(opts).items() if k not in ("encoder", "corpus", "out", "extra")}}
    _write_json(final / REPORT, report)
    fsync_tree(final)
    swap_into_place(final, out)
    shutil.rmtree(work, ignore_errors=True)
    return result


def _open_work_dir(work: Path, key: str, opts: AdaptOptions) -> dict[str, Any]:
    """The run's state: a new work directory, or the interrupted run's when it had the same encoder, data and
    settings (then training resumes from its last checkpoint)."""
    state_file = work / STATE
    if work.exists():
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        if state.get("fingerprint") != key:
            raise OutputError(
                f"{work}: holds an interrupted `tagger adapt` run with another encoder, corpus or settings. Run that "
                "command again to finish it, or delete this directory to start a new run")
        logger.info("resuming the interrupted run in %s", work)
        return state
    work.mkdir(parents=True)
    state = {"fingerprint": key, "encoder": opts.encoder}
    _write_json(state_file, state)
    return state


def _train(model: Any, tokenizer: Any, rows: list[dict[str, Any]], work: Path, opts: AdaptOptions) -> int:
    """transformers' Trainer on the whole-word-masked segments; continues from the last checkpoint in ``work``."""
    from transformers import Trainer, TrainingArguments

    from tagger import console
    from tagger.trainer import _warmup_args

    checkpoints = work / "checkpoints"
    last = max(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]), default=None) \
        if checkpoints.is_dir() else None
    args = TrainingArguments(
        output_dir=str(checkpoints), per_device_train_batch_size=opts.batch_size, learning_rate=opts.learning_rate,
        num_train_epochs=opts.epochs, max_steps=opts.max_steps, **_warmup_args(TrainingArguments, 0.06), weight_decay=0.01,
        save_strategy="steps", save_steps=opts.save_steps, save_total_limit=2, logging_steps=max(1, opts.save_steps // 4),
        report_to=[], seed=opts.seed, data_seed=opts.seed, dataloader_num_workers=0, remove_unused_columns=False,
        use_cpu=not _cuda(), disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=rows,
                      data_collator=whole_word_collator(tokenizer, opts.mlm_probability))
    console.attach(trainer)
    if last is not None:
        logger.info("continuing from %s", last.name)
    with console.quiet():
        trainer.train(resume_from_checkpoint=str(last) if last is not None else None)
    return int(trainer.state.global_step)


def _settings(opts: AdaptOptions) -> dict[str, Any]:
    """The options as a flat dict, without ``asdict``'s deep copy (the corpus may hold dataset objects)."""
    return {f.name: getattr(opts, f.name) for f in fields(opts)}


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
