"""The data side of training: documents -> labels -> training windows, batching, and dev evaluation.

Windows come from the inference code path (:mod:`tagger.align`); dev evaluation runs the real :class:`Tagger`,
so the selected model is the one that decodes best. Used by :mod:`tagger.trainer` and by ``tagger export``'s
parity check (which needs no Trainer).
"""

from __future__ import annotations

import logging
from typing import Any

from tagger.align import document_words, encode_documents, entities_to_tags, make_windows, word_labels
from tagger.config import Task, TrainConfig
from tagger.data.io import DataError, check_topic_labels, read_documents
from tagger.data.multitopic import mixed_windows
from tagger.decode import tune_thresholds
from tagger.model import TaggerBlock
from tagger.predict import Tagger
from tagger.schema import Document

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------ data
def read_all(paths: list[str], cfg: TrainConfig) -> list[Document]:
    docs: list[Document] = []
    for p in paths:
        docs.extend(read_documents(p, cfg.normalization))
    return docs


def ner_tags(types: list[str]) -> list[str]:
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]


def resolve_labels(cfg: TrainConfig, train_docs: list[Document], dev_docs: list[Document], base: TaggerBlock | None) -> list[str]:
    """Label set: config > data; order deterministic (a continued model's order first, then new labels sorted)."""
    if cfg.task is Task.NER:
        seen = sorted({s.label for d in train_docs for s in d.entities})
        dev_only = sorted({s.label for d in dev_docs for s in d.entities} - set(seen))
    else:
        seen = sorted({t for d in train_docs for t in (d.topics or [])})
        dev_only = sorted({t for d in dev_docs for t in (d.topics or [])} - set(seen))
    wanted = list(cfg.labels) if cfg.labels is not None else seen
    if dev_only and cfg.labels is None:
        logger.warning("label(s) %s occur only in the dev data and are not learned", dev_only)
    if cfg.labels is not None and cfg.task is Task.TOPICS:
        check_topic_labels(train_docs, wanted)
    if base is not None:
        old = [t[2:] for t in base.labels if t.startswith("B-")] if cfg.task is Task.NER else list(base.labels)
        wanted = [x for x in old if x in wanted] + sorted(x for x in wanted if x not in old)
    if not wanted:
        raise DataError(f"no {'entities' if cfg.task is Task.NER else 'topic labels'} found in {cfg.train}")
    return wanted


def build_examples(tokenizer, docs: list[Document], cfg: TrainConfig, max_length: int, label_names: list[str]) -> list[dict]:
    """Training windows: token labels (ner) or multi-hot topic vectors (topics), one path with prediction."""
    encoded = encode_documents(tokenizer, docs, cfg.normalization)
    index = {x: i for i, x in enumerate(label_names)}
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    examples = []
    targets: list[list[float]] = []
    for i, (doc, enc) in enumerate(zip(docs, encoded)):
        targets.append([float(t in (doc.topics or ())) for t in label_names] if cfg.task is Task.TOPICS else [])
        if not enc.input_ids:
            continue
        if cfg.task is Task.NER:
            tags = entities_to_tags(enc.word_spans, doc.entities)
            unknown = {t for t in tags if t not in index}
            if unknown:
                raise DataError(f"{doc.source}: tag(s) {sorted(unknown)} not in the label set {label_names}")
            labels = word_labels(enc, tags, index)
        else:
            vec = [0.0] * len(label_names)
            for t in doc.topics or []:
                if t in index:
                    vec[index[t]] = 1.0
        for w in make_windows(enc, i, max_length, cfg.stride):
            ids = [cls_id, *enc.input_ids[w.start : w.end], sep_id]
            ex: dict[str, Any] = {"input_ids": ids}
            ex["labels"] = [-100, *labels[w.start : w.end], -100] if cfg.task is Task.NER else vec
            examples.append(ex)
    if cfg.task is Task.TOPICS and cfg.mix_documents:
        mixed = mixed_windows(encoded, targets, n=round(cfg.mix_documents * len(docs)), max_length=max_length,
                              cls_id=cls_id, sep_id=sep_id, seed=cfg.seed)
        logger.info("added %d composed multi-topic windows (mix_documents %.2f)", len(mixed), cfg.mix_documents)
        examples.extend(mixed)
    return examples


class Collator:
    """Dynamic padding to the longest window of the batch."""

    def __init__(self, pad_id: int, task: Task) -> None:
        self.pad_id, self.task = pad_id, task

    def __call__(self, batch: list[dict]) -> dict:
        import torch

        n = max(len(ex["input_ids"]) for ex in batch)
        ids = torch.full((len(batch), n), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), n), dtype=torch.long)
        for r, ex in enumerate(batch):
            ids[r, : len(ex["input_ids"])] = torch.tensor(ex["input_ids"])
            mask[r, : len(ex["input_ids"])] = 1
        out = {"input_ids": ids, "attention_mask": mask}
        if self.task is Task.NER:
            labels = torch.full((len(batch), n), -100, dtype=torch.long)
            for r, ex in enumerate(batch):
                labels[r, : len(ex["labels"])] = torch.tensor(ex["labels"])
        else:
            labels = torch.tensor([ex["labels"] for ex in batch], dtype=torch.float)
        out["labels"] = labels
        return out


# ------------------------------------------------------------------------------------------------ evaluation
def evaluate_model(tagger: Tagger, docs: list[Document], task: Task, tune: bool = False) -> tuple[dict, dict[str, float]]:
    """Dev metrics through the real inference path; topics optionally tune thresholds first."""
    from tagger.metrics import ner_metrics, topic_metrics

    if task is Task.NER:
        preds = tagger.predict_documents(docs)
        gold, pred = [], []
        for doc, p in zip(docs, preds):
            words = document_words(doc, tagger.ner.norm)[0]
            gold.append(entities_to_tags(words, doc.entities))
            pred.append(entities_to_tags(words, p.entities))
        m = ner_metrics(gold, pred)
        return {"ner": m, "f1": m["strict"]["f1"]}, {}
    labels = tagger.topic_labels
    scores = tagger._topic_scores(docs)
    gold_sets = [set(d.topics or []) & set(labels) for d in docs]
    thresholds = tune_thresholds(gold_sets, scores, labels) if tune else tagger.thresholds
    m = topic_metrics(gold_sets, scores, labels, thresholds)
    return {"topics": m, "f1": m["micro_f1"]}, thresholds
