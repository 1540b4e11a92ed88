"""Topic thresholds for labels with few dev positives, and the evidence behind every threshold.

Thresholds are tuned on dev (F1-maximising, :func:`tagger.decode.tune_thresholds`). A label with fewer than
``min_dev_positives`` positive dev documents (a label just added, typically) cannot be tuned there: it gets its
threshold from ``calibration_folds``-fold cross-validation on the training documents annotated for it -- each
fold's documents scored by a model trained on the others -- pooled with the dev documents scored by the final
model when dev has at least one positive (a dev set with none was most likely never annotated for the label, so
its documents are not counted as negatives); with ``target_precision`` the threshold is the lowest one whose pooled precision reaches it. A warning
says so. The number of positives behind every threshold and where it came from are saved in the model's
``tagger`` block (``threshold_support``) and shown in the model card and the evaluation report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tagger.schema import Document

if TYPE_CHECKING:
    from tagger.config import TrainConfig
    from tagger.model import TaggerBlock

logger = logging.getLogger(__name__)

# (train indices, held-out indices) -> held-out topic scores [n_held_out, n_labels]
FoldScorer = Callable[[list[int], list[int]], np.ndarray]


def calibrate(cfg: TrainConfig, block: TaggerBlock, tagger: Any, docs: Sequence[Document],
              annotated: Sequence[set[str]], dev_docs: Sequence[Document], dev_annotated: Sequence[set[str]],
              fold_scores: FoldScorer) -> dict[str, dict[str, Any]]:
    """Set ``block.thresholds`` of the labels with too few dev positives; return ``threshold_support``."""
    labels = list(tagger.topic_labels)
    dev = [d for d, a in zip(dev_docs, dev_annotated) if "topics" in a]
    dev_pos = {lab: sum(lab in (d.topics or ()) for d in dev) for lab in labels}
    support = {lab: {"positives": dev_pos[lab], "source": "dev" if dev else "default"} for lab in labels}
    few = [lab for lab in labels if dev_pos[lab] < cfg.min_dev_positives]
    if not few:
        return support
    train_idx = [i for i, a in enumerate(annotated) if "topics" in a]
    gold, known = _train_targets(docs, train_idx, labels)
    train_pos = {lab: int(gold[:, j][known[:, j]].sum()) for j, lab in enumerate(labels)}
    folds = cfg.calibration_folds
    usable = [lab for lab in few if folds >= 2 and train_pos[lab] >= folds]
    for lab in sorted(set(few) - set(usable)):
        logger.warning("topic %r: %d dev positives (min_dev_positives %d) and %s; its threshold %.3f rests on "
                       "little evidence: add positive dev documents", lab, dev_pos[lab], cfg.min_dev_positives,
                       "cross-validation is off (calibration_folds)" if folds < 2 else
                       f"only {train_pos[lab]} annotated training positives for {folds} folds",
                       block.thresholds.get(lab, 0.5))
    if not usable:
        return support
    oof = _out_of_fold(train_idx, folds, cfg.seed, fold_scores, len(labels))
    dev_scores = tagger._topic_scores(dev) if dev else np.zeros((0, len(labels)))
    dev_gold = np.array([[lab in (d.topics or ()) for lab in labels] for d in dev], dtype=bool).reshape(-1, len(labels))
    for lab in usable:
        j = labels.index(lab)
        keep = known[:, j]
        # dev without a single positive was most likely never annotated for this label (one added later): its
        # documents are not taken as negatives then
        use_dev = dev_pos[lab] > 0
        y = np.concatenate([gold[keep, j], dev_gold[:, j] if use_dev else []]).astype(bool)
        s = np.concatenate([oof[keep, j], dev_scores[:, j] if use_dev else []])
        threshold = threshold_for(y, s, cfg.target_precision)
        block.thresholds[lab] = threshold
        support[lab] = {"positives": int(y.sum()), "source": "cross-validation", "dev_positives": dev_pos[lab],
                        "documents": int(len(y))}
        logger.warning("topic %r: %d dev positives (< min_dev_positives %d): threshold %.3f from %d-fold "
                       "cross-validation on %d annotated documents%s (%d positives)%s", lab, dev_pos[lab],
                       cfg.min_dev_positives, threshold, folds, int(keep.sum()), " + dev" if use_dev else "", int(y.sum()),
                       f", target precision {cfg.target_precision}" if cfg.target_precision else "")
    return support


def _train_targets(docs: Sequence[Document], idx: list[int], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hard gold ``[n, L]`` (a soft target >= 0.5 counts as positive) and which cells are annotated: the
    training targets (:func:`tagger.tasks.topics.topic_targets`) of the documents ``idx``."""
    from tagger.tasks.topics import topic_targets

    pairs = [topic_targets(docs[i], labels) for i in idx]
    targets = np.array([t for t, _ in pairs], dtype=np.float64).reshape(len(idx), len(labels))
    known = np.array([m for _, m in pairs], dtype=np.float64).reshape(len(idx), len(labels))
    return targets >= 0.5, known > 0


def _out_of_fold(idx: list[int], folds: int, seed: int, fold_scores: FoldScorer, n_labels: int) -> np.ndarray:
    """Scores ``[len(idx), n_labels]`` of each document by the model of the fold that held it out."""
    order = np.random.default_rng(seed).permutation(len(idx))
    out = np.zeros((len(idx), n_labels), dtype=np.float64)
    for part in np.array_split(order, folds):
        held = sorted(int(k) for k in part)
        rest = sorted(set(range(len(idx))) - set(held))
        out[held] = fold_scores([idx[k] for k in rest], [idx[k] for k in held])
    return out


def threshold_for(gold: np.ndarray, scores: np.ndarray, target_precision: float | None = None) -> float:
    """F1-maximising threshold of one label (the library's tuning), or the lowest reaching ``target_precision``."""
    from tagger.decode import tune_thresholds

    gold = np.asarray(gold, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    if target_precision is not None:
        for t in np.unique(scores):
            chosen = scores >= t
            if chosen.any() and gold[chosen].mean() >= target_precision:
                return float(t)
        return float(np.nextafter(scores.max(), np.inf)) if len(scores) else 1.0
    found = tune_thresholds([{"x"} if g else set() for g in gold], scores.reshape(-1, 1), ["x"])
    return float(found["x"])
