"""The data side of training: documents -> labels -> training windows, batching, and dev evaluation.

Windows come from the inference code path (:mod:`tagger.align`); dev evaluation runs the real :class:`Tagger`,
so the selected model is the one that decodes best. Used by :mod:`tagger.trainer` and by ``tagger export``'s
parity check (which needs no Trainer).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from tagger.align import encode_documents, make_windows
from tagger.config import TrainConfig
from tagger.data.io import DataError, check_topic_labels
from tagger.integrations.hf_datasets import read_source
from tagger.model import TaggerBlock
from tagger.schema import Document
from tagger.tasks import LabelSets, Task, get_task
from tagger.tasks.ner import ner_tags

__all__ = ["Collator", "build_examples", "evaluate_model", "ner_tags", "read_all", "resolve_labels"]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------ data
def read_all(paths: Sequence[Any], cfg: TrainConfig, task: Task | None = None,
             role: str = "train") -> tuple[list[Document], list[set[str]]]:
    """The documents of ``paths`` and, for each, the outputs it is annotated for (:meth:`Task.annotations`).

    An item is a data file, or a Hugging Face dataset: a ``datasets`` object, a parquet/arrow file or a
    ``save_to_disk`` directory, read with ``cfg.columns`` (:mod:`tagger.integrations.hf_datasets`; ``role`` picks
    the split of a ``DatasetDict``: ``train``, or ``validation``/``dev`` for ``role="dev"``).
    """
    task = task or get_task(cfg.task)
    topic_labels = (task.configured_labels(cfg) or {}).get("topics")
    docs: list[Document] = []
    annotated: list[set[str]] = []
    for p in paths:
        name, part = read_source(p, cfg.columns, role, cfg.normalization, topic_labels)
        docs.extend(part)
        annotated.extend(task.annotations(name, part))
    return docs, annotated


def resolve_labels(cfg: TrainConfig, train_docs: list[Document], dev_docs: list[Document], base: TaggerBlock | None) -> LabelSets:
    """Label sets per output: config > data (with ``init_from``: the old model's labels plus those of the data);
    order deterministic (a continued model's order first, then new labels sorted)."""
    task = get_task(cfg.task)
    seen = task.seen_labels(train_docs)
    dev_seen = task.seen_labels(dev_docs)
    configured = task.configured_labels(cfg) or {}
    old = task.labels_of(base) if base is not None else {}
    out: LabelSets = {}
    for name in task.outputs:
        wanted = list(configured[name]) if name in configured else seen[name]
        dev_only = sorted(set(dev_seen[name]) - set(seen[name]))
        if dev_only and name not in configured:
            logger.warning("label(s) %s occur only in the dev data and are not learned", dev_only)
        if name in configured and name == "topics":
            check_topic_labels([d for d in train_docs if d.topics is not None], wanted)
        if name in old:
            if name not in configured:  # continuing a model: its labels stay unless the config lists the labels
                wanted = [*old[name], *(x for x in wanted if x not in old[name])]
            wanted = [x for x in old[name] if x in wanted] + sorted(x for x in wanted if x not in old[name])
        if not wanted:
            raise DataError(f"no {'entities' if name == 'ner' else 'topic labels'} found in {cfg.train}")
        out[name] = wanted
    return out


def build_examples(tokenizer, docs: list[Document], cfg: TrainConfig, max_length: int, names: LabelSets,
                   annotated: Sequence[set[str]] | None = None) -> list[dict]:
    """Training windows with the task's targets (:meth:`Task.window_targets`), cut by the inference code path."""
    task = get_task(cfg.task)
    annotated = annotated if annotated is not None else [set(task.outputs) for _ in docs]
    encoded = encode_documents(tokenizer, docs, cfg.normalization)
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    examples = []
    targets: list[Any] = []
    for i, (doc, enc) in enumerate(zip(docs, encoded)):
        targets.append(task.document_targets(doc, enc, names, annotated[i]))
        for w in make_windows(enc, i, max_length, cfg.stride) if enc.input_ids else ():
            examples.append({"input_ids": [cls_id, *enc.input_ids[w.start : w.end], sep_id],
                             **task.window_targets(targets[-1], w)})
    examples.extend(task.extra_examples(encoded, targets, cfg, max_length, cls_id, sep_id))
    return examples


class Collator:
    """Dynamic padding to the longest window of the batch; targets collated by the task."""

    def __init__(self, pad_id: int, task: object) -> None:
        self.pad_id, self.task = pad_id, get_task(task)

    def __call__(self, batch: list[dict]) -> dict:
        import torch

        n = max(len(ex["input_ids"]) for ex in batch)
        ids = torch.full((len(batch), n), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), n), dtype=torch.long)
        for r, ex in enumerate(batch):
            ids[r, : len(ex["input_ids"])] = torch.tensor(ex["input_ids"])
            mask[r, : len(ex["input_ids"])] = 1
        return {"input_ids": ids, "attention_mask": mask, **self.task.collate(batch, n)}


# ------------------------------------------------------------------------------------------------ evaluation
def evaluate_model(tagger, docs: list[Document], task: object, tune: bool = False,
                   annotated: Sequence[set[str]] | None = None) -> tuple[dict, dict[str, float]]:
    """Dev metrics through the real inference path (the task's scorer); topics optionally tune thresholds."""
    return get_task(task).evaluate(tagger, docs, tune=tune, annotated=annotated)
