"""Topic (multi-label) analysis for evaluation reports: metrics, CIs, F1-vs-threshold curves, error examples."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

import numpy as np

from tagger.metrics import MetricsError, binarize, bootstrap_ci, topic_metrics

THRESHOLD_GRID: np.ndarray = np.round(np.linspace(0.0, 1.0, 101), 2)
SNIPPET_CHARS = 240


def unit_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """``[documents, labels, 3]`` ``(correct, predicted, gold)`` indicator counts, for the bootstrap."""
    return np.stack([y_true & y_pred, y_pred, y_true], axis=-1).astype(np.int64)


def f1_by_threshold(y_true: np.ndarray, scores: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """``[labels, len(grid)]`` F1 of each label when predicted at ``score >= t`` (0 where undefined)."""
    pred = scores[:, :, None] >= grid[None, None, :]  # [n, L, T]
    gold = y_true[:, :, None].astype(bool)
    tp = (pred & gold).sum(axis=0)
    denom = pred.sum(axis=0) + gold.sum(axis=0)
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def error_examples(
    y_true: np.ndarray,
    scores: np.ndarray,
    labels: Sequence[str],
    thresholds: np.ndarray,
    texts: Sequence[str],
    doc_ids: Sequence[str],
    gold_sets: Sequence[Collection[str]],
    k: int = 5,
) -> dict[str, dict[str, list[dict]]]:
    """Per label, the ``k`` most confident false positives (highest score) and false negatives (lowest)."""
    y_pred = scores >= thresholds[None, :]
    out: dict[str, dict[str, list[dict]]] = {}
    for j, label in enumerate(labels):
        fp = np.flatnonzero(y_pred[:, j] & (y_true[:, j] == 0))
        fn = np.flatnonzero(~y_pred[:, j] & (y_true[:, j] == 1))
        fp = fp[np.argsort(-scores[fp, j], kind="stable")][:k]
        fn = fn[np.argsort(scores[fn, j], kind="stable")][:k]

        def row(i: int, j: int = j) -> dict:
            return {
                "document": doc_ids[i],
                "score": float(scores[i, j]),
                "gold": sorted(gold_sets[i]),
                "predicted": [lab for m, lab in enumerate(labels) if y_pred[i, m]],
                "text": _snippet(texts[i]),
            }

        out[label] = {"false_positives": [row(i) for i in fp], "false_negatives": [row(i) for i in fn]}
    return out


def evaluate_topics(
    gold: Sequence[Collection[str]],
    scores: np.ndarray,
    labels: Sequence[str],
    thresholds: Mapping[str, float],
    texts: Sequence[str],
    doc_ids: Sequence[str] | None = None,
    *,
    samples: int = 1000,
    seed: int = 0,
    examples: int = 5,
) -> dict:
    """Everything the report says about one system's topics. Model-free: pass gold sets and raw scores.

    Adds to :func:`tagger.metrics.topic_metrics`: bootstrap CIs (documents resampled), F1 against threshold
    per label with the best threshold on this data (optimistic: chosen on the test data itself), gold labels
    the model does not know, and the most confident false positives/negatives per label.
    """
    if len(texts) != len(gold):
        raise MetricsError(f"{len(texts)} texts for {len(gold)} gold label sets; pass one text per document")
    scores = np.asarray(scores, dtype=float)
    result = topic_metrics(gold, scores, labels, thresholds)
    ids = list(doc_ids) if doc_ids is not None else [str(i) for i in range(len(gold))]
    y_true = binarize(gold, labels)
    th = np.array([float(thresholds[label]) for label in labels])
    y_pred = (scores >= th[None, :]).astype(int) if len(gold) else np.zeros((0, len(labels)), dtype=int)
    ci = bootstrap_ci(unit_counts(y_true, y_pred), list(labels), samples=samples, seed=seed)
    result["ci"] = {
        "samples": ci["samples"],
        "seed": ci["seed"],
        "confidence": ci["confidence"],
        "micro_f1": ci["micro_f1"],
        "per_label": ci["per_class"],
    }
    curves = f1_by_threshold(y_true, scores) if len(gold) else np.zeros((len(labels), len(THRESHOLD_GRID)))
    result["f1_by_threshold"] = {
        "thresholds": THRESHOLD_GRID.tolist(),
        "f1": {label: np.round(curves[j], 6).tolist() for j, label in enumerate(labels)},
    }
    for j, label in enumerate(labels):
        # among equally good grid thresholds, the one nearest the saved threshold (no spurious "move it" advice)
        ties = np.flatnonzero(curves[j] >= curves[j].max() - 1e-12)
        best = int(ties[np.argmin(np.abs(THRESHOLD_GRID[ties] - th[j]))])
        result["per_label"][label]["best_threshold"] = float(THRESHOLD_GRID[best])
        result["per_label"][label]["best_f1"] = float(curves[j][best])
    known = set(labels)
    unknown = Counter(t for labs in gold for t in labs if t not in known)
    result["unknown_gold_labels"] = dict(sorted(unknown.items()))
    result["label_cardinality"] = {
        "gold": float(y_true.sum(axis=1).mean()) if len(gold) else 0.0,
        "predicted": float(y_pred.sum(axis=1).mean()) if len(gold) else 0.0,
    }
    result["examples"] = error_examples(y_true, scores, labels, th, texts, ids, gold, k=examples)
    return result


def topic_unit_counts(
    gold: Sequence[Collection[str]],
    scores: np.ndarray,
    labels: Sequence[str],
    thresholds: Mapping[str, float],
) -> np.ndarray:
    """Bootstrap counts of one system (for the paired test), from gold sets and raw scores."""
    y_true = binarize(gold, labels)
    th = np.array([float(thresholds[label]) for label in labels])
    y_pred = (np.asarray(scores, dtype=float) >= th[None, :]).astype(int)
    return unit_counts(y_true, y_pred)
