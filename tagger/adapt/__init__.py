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

import json
import logging
import math
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from tagger.adapt.data import (
    corpus_texts,
    fingerprint,
    fixed_eval_batches,
    mlm_loss,
    normalization_of,
    segments,
    split_documents,
    whole_word_collator,
)
from tagger.errors import ConfigError, DataError, OutputError

__all__ = ["AdaptOptions", "AdaptResult", "adapt", "corpus_texts", "fixed_eval_batches", "mlm_loss", "run_adapt",
           "segments", "split_documents", "whole_word_collator"]

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
    whole_word_collator(None, opts.mlm_probability, check_only=True)  # this transformers can mask whole words
    paths = [c for c in opts.corpus if isinstance(c, str)]

    def check_out() -> Path:
        return check_output_dir(opts.out, overwrite=opts.overwrite, protect=[*paths, opts.encoder, opts.config],
                                ours=(lambda p: (p / REPORT).is_file(), "an encoder adapted by `tagger adapt`"),
                                overwrite_hint="pass --overwrite")

    out = check_out()
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
        with console.quiet(reported=True):
            model, info = _from_pretrained(AutoModelForMaskedLM, opts.encoder, output_loading_info=True)
    except (OSError, ValueError) as err:
        raise _hub_error(opts.encoder, err) from err
    if info.get("missing_keys"):
        logger.warning("%s has no trained masked-LM head (%d weights initialised at random, e.g. %s): the loss before "
                       "adapting is that of a random head, so the before/after gain says little; adapt a pre-trained "
                       "encoder, not a fine-tuned model", opts.encoder, len(info["missing_keys"]), info["missing_keys"][0])
    if _cuda():
        model.to("cuda")
    train_rows = segments(tokenizer, train_texts, opts.max_length)
    if not train_rows:
        raise DataError("no training text left: every training document is shorter than 2 sub-tokens; give a corpus "
                        "of real documents")
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
              "settings": {k: v for k, v in _settings(opts).items() if k not in ("encoder", "corpus", "out")}}
    _write_json(final / REPORT, report)
    fsync_tree(final)
    check_out()  # again: OUT may have changed during a run of hours; never replace what the user put there since
    swap_into_place(final, out)
    shutil.rmtree(work, ignore_errors=True)
    return result


def _open_work_dir(work: Path, key: str, opts: AdaptOptions) -> dict[str, Any]:
    """The run's state: a new work directory, or the interrupted run's when it had the same encoder, data and
    settings (then training resumes from its last checkpoint); refused while that run's process still runs."""
    from tagger.savedir import _NODE, _pid_alive

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
        owner = state.get("owner", "")
        pid, _, node = owner.partition("@")
        if pid.isdigit() and node == _NODE and int(pid) != os.getpid() and _pid_alive(int(pid)):
            raise OutputError(f"{work}: the same `tagger adapt` run is running now (process {pid}); wait for it "
                              "instead of starting it twice")
        logger.info("resuming the interrupted run in %s", work)
    else:
        try:
            work.mkdir(parents=True)
        except FileExistsError:
            raise OutputError(f"{work}: another `tagger adapt` run into the same output started just now") from None
        state = {"fingerprint": key, "encoder": opts.encoder}
    state["owner"] = f"{os.getpid()}@{_NODE}"
    _write_json(state_file, state)
    return state


def _train(model: Any, tokenizer: Any, rows: list[dict[str, Any]], work: Path, opts: AdaptOptions) -> int:
    """transformers' Trainer on the whole-word-masked segments; continues from the last checkpoint in ``work``."""
    from transformers import Trainer, TrainingArguments

    from tagger import console
    from tagger.trainer import _warmup_args

    checkpoints = work / "checkpoints"
    last = last_checkpoint(checkpoints)
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


def last_checkpoint(folder: Path) -> Path | None:
    """The newest complete Trainer checkpoint (``checkpoint-N`` with its ``trainer_state.json``, which Trainer
    writes last): one cut short by a kill is skipped, and the one before it (two are kept) is used."""
    if not folder.is_dir():
        return None
    done = [p for p in folder.iterdir() if re.fullmatch(r"checkpoint-\d+", p.name) and (p / "trainer_state.json").is_file()]
    return max(done, key=lambda p: int(p.name.split("-")[1]), default=None)


def _settings(opts: AdaptOptions) -> dict[str, Any]:
    """The options as a flat dict, without ``asdict``'s deep copy (the corpus may hold dataset objects)."""
    return {f.name: getattr(opts, f.name) for f in fields(opts)}


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from tagger.annotate.formats import write_atomic

    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
