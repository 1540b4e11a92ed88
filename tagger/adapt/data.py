"""The corpus and the masking of ``tagger adapt``: reading and normalising the text, the held-out split,
token segments, whole-word masking (transformers' collator) and the fixed-masking held-out loss."""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagger.errors import ConfigError, DataError

if TYPE_CHECKING:
    from tagger.adapt import AdaptOptions


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
    texts = list(dict.fromkeys(texts))  # a duplicate on both sides would make the held-out loss not held out
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
    settings = {f.name: getattr(opts, f.name) for f in fields(opts) if f.name not in ("overwrite", "threads", "corpus")}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- masking
def whole_word_collator(tokenizer: Any, mlm_probability: float, seed: int | None = None,
                        check_only: bool = False) -> Any:
    """transformers' MLM collator with whole-word masking; pads the offsets it needs (its own padding does not).
    Whole-word masking replaces every chosen word by [MASK] (transformers does not mix in random tokens there).
    ``check_only``: only check that the installed transformers has it (ConfigError if not)."""
    from dataclasses import fields as dataclass_fields

    from transformers import DataCollatorForLanguageModeling

    have = {f.name for f in dataclass_fields(DataCollatorForLanguageModeling)}
    if not {"whole_word_mask", "mask_replace_prob", "random_replace_prob"} <= have:
        import transformers

        raise ConfigError(f"tagger adapt needs a transformers release whose DataCollatorForLanguageModeling masks whole "
                          f"words (transformers >= 5.0); this one is {transformers.__version__}: pip install -U transformers")
    if check_only:
        return None

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

    return WholeWordCollator(tokenizer, mlm=True, whole_word_mask=True, mlm_probability=mlm_probability, seed=seed,
                             mask_replace_prob=1.0, random_replace_prob=0.0)


def fixed_eval_batches(tokenizer: Any, rows: list[dict[str, Any]], opts: AdaptOptions) -> list[dict[str, Any]]:
    """The held-out segments masked once (seeded), in batches: the same masked positions before and after."""
    collator = whole_word_collator(tokenizer, opts.mlm_probability, seed=opts.seed + 1)
    return [collator(rows[i:i + opts.batch_size]) for i in range(0, len(rows), opts.batch_size)]


def mlm_loss(model: Any, batches: list[dict[str, Any]]) -> float:
    """Mean cross-entropy over every masked position of ``batches`` (token-weighted, not batch-weighted)."""
    import torch

    model.eval()
    total, count = 0.0, 0
    device = next(model.parameters()).device
    with torch.inference_mode():
        for batch in batches:
            out = model(**{k: v.to(device) for k, v in batch.items()})
            n = int((batch["labels"] != -100).sum())
            if n:
                total += float(out.loss) * n
                count += n
    if not count:
        raise DataError("the held-out documents got no masked position; give more text or raise --eval-share")
    return total / count
