"""Multi-label topics: a sequence head with independent sigmoids, window scores pooled per document, per-label
thresholds tuned on dev, micro/macro F1.

The windows a topic head scores are the whole windows (``max_length``, ``stride``), plus, with
``passage_length``, shorter passages (:func:`topic_windows`). Training can add composed multi-topic windows
(``mix_documents``, :func:`tagger.data.multitopic.mixed_windows`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tagger.align import EncodedDoc, Window, make_windows
from tagger.decode import apply_thresholds, pool_scores, tune_thresholds
from tagger.schema import Document, TopicPrediction
from tagger.tasks.base import LabelSets, LossState, Task

if TYPE_CHECKING:
    from tagger.config import TrainConfig
    from tagger.model import TaggerBlock

logger = logging.getLogger(__name__)


class TopicsTask(Task):
    name = "topics"
    outputs = ("topics",)
    metric = "micro_f1"

    def seen_labels(self, docs: Sequence[Document]) -> LabelSets:
        return {"topics": sorted({t for d in docs for t in (d.topics or [])})}

    def head_labels(self, labels: LabelSets) -> LabelSets:
        return {"topics": list(labels["topics"])}

    def labels_of(self, block: TaggerBlock) -> LabelSets:
        return {"topics": list(block.labels)}

    def new_model(self, encoder: str, names: LabelSets, missing: set[str]) -> Any:
        from transformers import AutoModelForSequenceClassification

        from tagger.model import load_encoder_with_head

        return load_encoder_with_head(AutoModelForSequenceClassification, encoder, names["topics"], missing,
                                      problem_type="multi_label_classification")

    def load_model(self, model_dir: Any, **kwargs: Any) -> Any:
        from transformers import AutoModelForSequenceClassification

        from tagger.model import load_trained_model

        return load_trained_model(model_dir, AutoModelForSequenceClassification, **kwargs)

    def remap_heads(self, model: Any, old: LabelSets, new: LabelSets, seed: int) -> set[str]:
        from tagger.model import remap_classifier
        from tagger.tasks.ner import set_label_maps

        remap_classifier(model, "classifier", old["topics"], new["topics"], seed)
        set_label_maps(model.config, new["topics"])
        return {"classifier.weight", "classifier.bias"}

    # ------------------------------------------------------------------ training data
    def document_targets(self, doc: Document, enc: EncodedDoc, names: LabelSets, annotated: set[str]) -> Any:
        return topic_targets(doc, names["topics"])

    def window_targets(self, targets: Any, window: Window) -> dict[str, Any]:
        vec, mask = targets
        return {"labels": vec, "label_mask": mask}

    def extra_examples(self, encoded: Sequence[EncodedDoc], targets: Sequence[Any], cfg: TrainConfig,
                       max_length: int, cls_id: int, sep_id: int) -> list[dict[str, Any]]:
        """Composed multi-topic windows (``mix_documents``), and with ``train_passages`` the passages that
        inference scores (:func:`passage_examples`); targets as :meth:`window_targets` gives them."""
        mixed = [{"input_ids": ex["input_ids"], "labels": ex["labels"], "label_mask": [1.0] * len(ex["labels"])}
                 for ex in composed(encoded, targets, cfg, max_length, cls_id, sep_id)]
        if not cfg.train_passages:
            return mixed
        return mixed + passage_examples(encoded, targets, cfg.passage_length, max_length, cls_id, sep_id)

    def collate(self, batch: list[dict[str, Any]], length: int) -> dict[str, Any]:
        import torch

        return {"labels": torch.tensor([ex["labels"] for ex in batch], dtype=torch.float),
                "label_mask": torch.tensor([ex["label_mask"] for ex in batch], dtype=torch.float)}

    def loss_state(self, cfg: TrainConfig, examples: Sequence[dict[str, Any]]) -> LossState:
        return LossState(cfg, positive_weights(cfg, [ex["labels"] for ex in examples]))

    def loss(self, model: Any, inputs: dict[str, Any], state: LossState) -> tuple[Any, Any]:
        labels = inputs.pop("labels")
        mask = inputs.pop("label_mask", None)
        outputs = model(**inputs)
        return multilabel_loss(outputs.logits, labels, mask, state), outputs

    # ------------------------------------------------------------------ inference and scoring
    def views(self, block: TaggerBlock) -> dict[str, TaggerBlock]:
        return {"topics": block}

    def evaluate(self, tagger: Any, docs: Sequence[Document], tune: bool = False,
                 annotated: Sequence[set[str]] | None = None) -> tuple[dict, dict[str, float]]:
        metrics, thresholds = score_topics(tagger, docs, tune)
        return {"topics": metrics, "f1": metrics["micro_f1"]}, thresholds

    def model_card_lines(self, block: TaggerBlock) -> list[str]:
        return threshold_card(block)


def topic_targets(doc: Document, labels: Sequence[str]) -> tuple[list[float], list[float]]:
    """``(targets, mask)`` of a document: multi-hot from ``topics`` (labels the head does not know are ignored),
    or ``doc.topic_targets`` when set (soft targets; a label missing there has mask 0: not trained on it)."""
    if doc.topic_targets is not None:
        return ([float(doc.topic_targets.get(t, 0.0)) for t in labels],
                [float(t in doc.topic_targets) for t in labels])
    have = set(doc.topics or ())
    return [float(t in have) for t in labels], [1.0] * len(labels)


def composed(encoded: Sequence[EncodedDoc], targets: Sequence[Any], cfg: TrainConfig, max_length: int,
             cls_id: int, sep_id: int) -> list[dict[str, Any]]:
    """``mix_documents * len(documents)`` composed windows ``{"input_ids", "labels"}`` (none when off), from the
    documents whose targets cover every label (``targets``: ``(vector, mask)`` per document)."""
    if not cfg.mix_documents:
        return []
    from tagger.data.multitopic import mixed_windows

    full = [i for i, (_, mask) in enumerate(targets) if all(mask)]
    encoded, targets = [encoded[i] for i in full], [targets[i][0] for i in full]
    mixed = mixed_windows(encoded, targets, n=round(cfg.mix_documents * len(encoded)), max_length=max_length,
                          cls_id=cls_id, sep_id=sep_id, seed=cfg.seed, parts=cfg.mix_parts)
    logger.info("added %d composed multi-topic windows (mix_documents %.2f, mix_parts %s)", len(mixed), cfg.mix_documents,
                cfg.mix_parts)
    return mixed


def passage_examples(encoded: Sequence[EncodedDoc], targets: Sequence[Any], passage_length: int, max_length: int,
                     cls_id: int, sep_id: int) -> list[dict[str, Any]]:
    """Training passages for a head that scores passages (``passage_length``), cut as :func:`topic_windows` cuts
    them, from documents longer than one passage with at most one topic (a passage of a multi-topic document
    may carry only some of its topics, so those are left out); target: the document's. Training on what
    inference scores keeps the passage scores calibrated (a head trained on whole windows only scores short
    passages of text it never saw alone)."""
    if not passage_length or passage_length + 2 >= max_length:
        return []
    out: list[dict[str, Any]] = []
    for i, (enc, (vec, mask)) in enumerate(zip(encoded, targets)):
        if sum(1 for v in vec if v >= 0.5) > 1 or len(enc.input_ids) <= passage_length:
            continue
        for w in make_windows(enc, i, passage_length + 2, passage_length // 2):
            out.append({"input_ids": [cls_id, *enc.input_ids[w.start:w.end], sep_id], "labels": list(vec),
                        "label_mask": list(mask)})
    logger.info("added %d training passages of %d sub-tokens (passage_length)", len(out), passage_length)
    return out


def positive_weights(cfg: TrainConfig, targets: Sequence[Sequence[float]]) -> Any:
    """``pos_weight: auto``: per-label BCE weight negatives / positives, clipped to [1, 10]; else None."""
    if cfg.pos_weight != "auto" or not targets:
        return None
    import torch

    y = np.array(targets)
    pos = y.sum(0)
    return torch.tensor(np.clip((len(y) - pos) / np.maximum(pos, 1), 1.0, 10.0), dtype=torch.float)


def smooth_multilabel_targets(targets, eps: float):
    """Label smoothing for independent sigmoid labels: 1 -> 1 - eps/2 and 0 -> eps/2 (each label is a two-class
    problem, so eps is spread over its two outcomes as in cross-entropy label smoothing). ``eps = 0`` is a no-op."""
    return targets if eps == 0 else targets * (1.0 - eps) + eps / 2.0


def multilabel_loss(logits: Any, labels: Any, mask: Any, state: LossState) -> Any:
    """Mean BCE over the (document, label) cells ``mask`` keeps (``[B, L]`` or ``[B]`` weights; all when None);
    zero with a gradient path when it keeps none. With every cell kept it is plain mean BCE."""
    import torch

    weight = state.pos_weight.to(logits.device) if state.pos_weight is not None else None
    targets = smooth_multilabel_targets(labels.to(logits.dtype), state.cfg.label_smoothing)
    if mask is None:
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, pos_weight=weight)
    mask = mask.to(logits.dtype)
    if mask.dim() == 1:
        mask = mask[:, None].expand_as(logits)
    if not bool((mask > 0).any()):
        return logits.sum() * 0.0
    cells = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, pos_weight=weight, reduction="none")
    return (cells * mask).sum() / mask.sum()


def score_topics(tagger: Any, docs: Sequence[Document], tune: bool = False) -> tuple[dict, dict[str, float]]:
    """Topic metrics of ``tagger`` on ``docs`` with its saved thresholds, or thresholds tuned on ``docs``
    (``tune``): the one topic scorer. Returns ``(metrics, thresholds used)``."""
    from tagger.metrics import topic_metrics

    labels = tagger.topic_labels
    scores = tagger._topic_scores(docs)
    gold_sets = [set(d.topics or []) & set(labels) for d in docs]
    thresholds = tune_thresholds(gold_sets, scores, labels) if tune else tagger.thresholds
    return topic_metrics(gold_sets, scores, labels, thresholds), thresholds


def threshold_card(block: TaggerBlock) -> list[str]:
    support = block.threshold_support or {}

    def evidence(label: str) -> str:
        s = support.get(label)
        return f"{s.get('positives', '?')} ({s.get('source', '?')})" if s else "-"

    blend = (f" Each document score is {1 - block.lexical_blend:.2f} x the pooled head score + {block.lexical_blend:.2f} x "
             "a TF-IDF character n-gram + logistic regression model fitted on the same training documents "
             "(`lexical.json`, `lexical.safetensors`; tagger.lexical)." if block.lexical_blend else "")
    if block.lexical_blend and block.subheading_words:
        blend += (f" A sub-heading (a line after the first, of at most {block.subheading_words} words, without "
                  "sentence-final punctuation) announces its topics: its comma-separated items count in the lexical "
                  "score, and the document scores at least its best item (tagger.lexical.subheading_items).")
    return [
        f"Multi-label (sigmoid); window scores pooled by `{block.pooling}`.{blend} Thresholds (tuned on dev; a label "
        "with few dev positives by cross-validation, see tagger.calibration):",
        "",
        "| label | threshold | positives behind it |",
        "|---|---|---|",
        *[f"| {k} | {v:.3f} | {evidence(k)} |" for k, v in block.thresholds.items()],
        "",
    ]


# ---------------------------------------------------------------------------------------------- inference
def topic_windows(encoded: Sequence[EncodedDoc], block: TaggerBlock) -> list[Window]:
    """The windows a topic head scores: whole windows (``max_length``, ``stride``), plus, with
    ``passage_length``, passages of that many sub-tokens overlapping by half, so that a topic carried by one
    paragraph of a long multi-topic document is not diluted by the rest of its window. The document score pools
    over all of them."""
    out: list[Window] = []
    passage = block.passage_length + 2 if block.passage_length else 0
    for i, enc in enumerate(encoded):
        whole = make_windows(enc, i, block.max_length, block.stride)
        out.extend(whole)
        if passage and passage < block.max_length and len(whole) > 0 and len(enc.input_ids) > passage - 2:
            out.extend(make_windows(enc, i, passage, (passage - 2) // 2))
    return out


def pool_topic_scores(block: TaggerBlock, n_docs: int, windows: Sequence[Window], outputs: Sequence[np.ndarray]) -> np.ndarray:
    """Document scores ``[n_docs, n_labels]``: window sigmoids pooled by ``block.pooling``."""
    if not windows:
        return np.zeros((n_docs, len(block.labels)), dtype=np.float32)
    probs = 1.0 / (1.0 + np.exp(-np.stack(outputs)))
    return pool_scores(probs, [w.doc for w in windows], n_docs, block.pooling)


def document_topic_scores(head: Any, docs: Sequence[Document], windows: Sequence[Window],
                          outputs: Sequence[np.ndarray]) -> np.ndarray:
    """The document scores of a topic head (a :class:`tagger.backends.Head`): its window scores pooled
    (:func:`pool_topic_scores`), blended with its lexical model's scores of the texts (whole and per paragraph)
    when the model has one (``lexical_blend``, :mod:`tagger.lexical`), and raised to what its sub-headings announce
    (``subheading_words``). The one place a topic score is made: prediction, dev evaluation during training,
    calibration, reports and suggestions all call it."""
    block = head.block
    scores = pool_topic_scores(block, len(docs), windows, outputs)
    if head.lexical is None or not block.lexical_blend:
        return scores
    from tagger.lexical import blend_scores

    texts = [d.text for d in docs]
    lexical = head.lexical.scores(texts)
    if not block.subheading_words:
        return blend_scores(scores, lexical, block.lexical_blend)
    # a topic that a sub-heading announces (``subheading_words``): its item counts in the lexical max, and the
    # document scores at least that item (NaN where a text has no sub-heading: fmax keeps the other score)
    announced = head.lexical.subheading_scores(texts, block.subheading_words)
    return np.fmax(blend_scores(scores, np.fmax(lexical, announced), block.lexical_blend), announced).astype(np.float32)


def topic_predictions(block: TaggerBlock, docs: Sequence[Document], scores: np.ndarray,
                      override: dict[str, float] | None) -> list[TopicPrediction]:
    """Labels at or above their thresholds (saved ones, or ``override`` per call); an empty text gets none."""
    labels = list(block.labels)
    thresholds = {lab: float(block.thresholds.get(lab, 0.5)) for lab in labels}
    if override:
        unknown = sorted(set(override) - set(labels))
        if unknown:
            raise ValueError(f"thresholds for unknown label(s) {unknown}; labels are {labels}")
        thresholds.update({k: float(v) for k, v in override.items()})
    return [TopicPrediction(chosen if doc.text.strip() else (), {lab: float(row[j]) for j, lab in enumerate(labels)},
                            dict(thresholds))
            for doc, row, chosen in zip(docs, scores, apply_thresholds(scores, labels, thresholds))]
