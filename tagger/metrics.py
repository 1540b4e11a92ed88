"""Evaluation metrics: NER from seqeval, topics from scikit-learn. Pure functions, no model.

Conventions (documented in ``eval/README.md``):

* NER ``strict`` is seqeval ``mode="strict", scheme=IOB2``: an entity counts only when its IOB2 tags are
  well formed and both its boundaries and its type match. ``default`` is seqeval's default mode, which is
  conlleval-compatible (an ``I-X`` without ``B-X`` starts an entity).
* Undefined ratios (no predictions, no gold entities, a label with no positives) are 0, as with
  ``zero_division=0`` in both libraries; never NaN.
* Macro averages are the unweighted mean over the types that occur in gold or predictions (seqeval's
  ``macro avg``) and, for topics, over all the model's labels (scikit-learn's ``average="macro"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence

import numpy as np
from seqeval.metrics import classification_report
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2, Entities
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    hamming_loss,
    label_ranking_average_precision_score,
    roc_auc_score,
)

from tagger.errors import TaggerError

__all__ = [
    "MetricsError",
    "binarize",
    "bootstrap_ci",
    "bootstrap_weights",
    "counts_f1",
    "default_entities",
    "ner_metrics",
    "paired_bootstrap",
    "prf",
    "strict_entities",
    "topic_metrics",
]

EntityKey = tuple[int, str, int, int]  # (sequence index, type, start token, end token exclusive)


class MetricsError(TaggerError, ValueError):
    """Inputs to a metric do not line up (lengths, shapes, unknown labels)."""


def prf(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts; 0 where a ratio is undefined (``zero_division=0``)."""
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _check_sequences(gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> None:
    if len(gold_tags) != len(pred_tags):
        raise MetricsError(
            f"gold has {len(gold_tags)} sequences but predictions have {len(pred_tags)}; "
            "pass one predicted tag sequence per gold sequence"
        )
    for i, (g, p) in enumerate(zip(gold_tags, pred_tags)):
        if len(g) != len(p):
            raise MetricsError(
                f"sequence {i}: gold has {len(g)} tags but prediction has {len(p)}; "
                "predict on the gold tokenisation (Document.words)"
            )


def strict_entities(tags: Sequence[Sequence[str]]) -> list[EntityKey]:
    """Entities as seqeval's strict IOB2 mode sees them (ill-formed ``I-X`` runs are dropped)."""
    if not tags:
        return []
    ents = Entities([list(t) for t in tags], IOB2, suffix=False)
    return [(e.sent_id, e.tag, e.start, e.end) for sent in ents.entities for e in sent]


def default_entities(tags: Sequence[Sequence[str]]) -> list[EntityKey]:
    """Entities as seqeval's default (conlleval) mode sees them; ``end`` is exclusive."""
    out: list[EntityKey] = []
    for i, seq in enumerate(tags):
        for label, start, end in get_entities(list(seq)):
            out.append((i, label, start, end + 1))
    return out


def _counts(gold: list[EntityKey], pred: list[EntityKey]) -> dict[str, dict[str, int]]:
    gold_set, pred_set = set(gold), set(pred)
    types = sorted({e[1] for e in gold_set} | {e[1] for e in pred_set})
    out: dict[str, dict[str, int]] = {}
    for t in types:
        g = {e for e in gold_set if e[1] == t}
        p = {e for e in pred_set if e[1] == t}
        out[t] = {"correct": len(g & p), "predicted": len(p), "support": len(g)}
    return out


def _mode_metrics(
    gold_tags: list[list[str]], pred_tags: list[list[str]], strict: bool
) -> tuple[dict, dict[str, dict], dict]:
    """(micro, per_type, macro) for one seqeval mode."""
    if not gold_tags:  # seqeval rejects an empty list of sequences
        zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        return {**zero, "support": 0, "predicted": 0, "correct": 0}, {}, dict(zero)
    kwargs: dict = {"mode": "strict", "scheme": IOB2} if strict else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns on empty input and takes the mean of nothing
        report = classification_report(gold_tags, pred_tags, output_dict=True, zero_division=0, **kwargs)
    extract = strict_entities if strict else default_entities
    counts = _counts(extract(gold_tags), extract(pred_tags))
    per_type: dict[str, dict] = {}
    for t, c in counts.items():
        row = report.get(t)
        if row is None:  # cannot happen with seqeval 1.2; guard so a library change fails loudly
            raise MetricsError(f"seqeval reported no row for entity type {t!r}")
        per_type[t] = {
            "precision": float(row["precision"]),
            "recall": float(row["recall"]),
            "f1": float(row["f1-score"]),
            "support": int(row["support"]),
            "predicted": c["predicted"],
            "correct": c["correct"],
        }
    micro_row = report["micro avg"]
    micro = {
        "precision": float(micro_row["precision"]),
        "recall": float(micro_row["recall"]),
        "f1": float(micro_row["f1-score"]),
        "support": sum(c["support"] for c in counts.values()),
        "predicted": sum(c["predicted"] for c in counts.values()),
        "correct": sum(c["correct"] for c in counts.values()),
    }
    # seqeval lists a type whose only tags are ill-formed (strict mode) with 0 gold and 0 predicted
    # entities; such a type is not in ``counts`` and so not in the macro mean either.
    n = len(per_type)
    macro = {k: (sum(v[k] for v in per_type.values()) / n if n else 0.0) for k in ("precision", "recall", "f1")}
    return micro, per_type, macro


def ner_metrics(gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> dict:
    """Entity-level P/R/F1 of word-level IOB2 tag sequences, in seqeval's strict and default modes.

    Returns ``{"scheme", "strict", "default", "macro", "macro_default", "per_type", "per_type_default"}``;
    ``strict``/``default`` hold micro ``precision, recall, f1, support, predicted, correct``; ``per_type``
    (strict) maps each type to the same keys; ``macro`` is the strict unweighted mean over types.
    """
    _check_sequences(gold_tags, pred_tags)
    gold = [list(t) for t in gold_tags]
    pred = [list(t) for t in pred_tags]
    strict, per_type, macro = _mode_metrics(gold, pred, strict=True)
    default, per_type_default, macro_default = _mode_metrics(gold, pred, strict=False)
    return {
        "scheme": "IOB2",
        "strict": strict,
        "default": default,
        "macro": macro,
        "macro_default": macro_default,
        "per_type": per_type,
        "per_type_default": per_type_default,
    }


def binarize(gold: Sequence[Collection[str]], labels: Sequence[str]) -> np.ndarray:
    """Gold label sets -> indicator matrix ``[n, L]`` in ``labels`` order (unknown labels are ignored)."""
    index = {label: j for j, label in enumerate(labels)}
    y = np.zeros((len(gold), len(labels)), dtype=int)
    for i, labs in enumerate(gold):
        for label in labs:
            j = index.get(label)
            if j is not None:
                y[i, j] = 1
    return y


def _threshold_vector(labels: Sequence[str], thresholds: Mapping[str, float]) -> np.ndarray:
    missing = [label for label in labels if label not in thresholds]
    if missing:
        raise MetricsError(f"no threshold for label(s) {missing}; pass a threshold for every label")
    return np.array([float(thresholds[label]) for label in labels])


def topic_metrics(
    gold: Sequence[Collection[str]],
    scores: np.ndarray,
    labels: Sequence[str],
    thresholds: Mapping[str, float],
) -> dict:
    """Multi-label metrics of document scores against gold label sets (scikit-learn).

    A label is predicted when ``score >= threshold``. Gold labels outside ``labels`` are ignored (the report
    lists them). ``roc_auc``/``pr_auc`` are ``None`` for a label whose gold column is constant (undefined).
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape != (len(gold), len(labels)):
        raise MetricsError(
            f"scores have shape {scores.shape}, expected ({len(gold)}, {len(labels)}) = (documents, labels)"
        )
    y_true = binarize(gold, labels)
    y_pred = (scores >= _threshold_vector(labels, thresholds)).astype(int)
    n = len(gold)
    # counted per column: scikit-learn reads a one-column indicator matrix as a binary target and would score
    # its negative class
    tp = (y_true & y_pred).sum(0).astype(float)
    fp = ((1 - y_true) & y_pred).sum(0).astype(float)
    fn = (y_true & (1 - y_pred)).sum(0).astype(float)
    p = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    r = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    f = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
    s = y_true.sum(0)
    per_label: dict[str, dict] = {}
    for j, label in enumerate(labels):
        col = y_true[:, j]
        defined = n > 0 and 0 < col.sum() < n
        per_label[label] = {
            "precision": float(p[j]),
            "recall": float(r[j]),
            "f1": float(f[j]),
            "support": int(s[j]),
            "predicted": int(y_pred[:, j].sum()),
            "threshold": float(thresholds[label]),
            "roc_auc": float(roc_auc_score(col, scores[:, j])) if defined else None,
            "pr_auc": float(average_precision_score(col, scores[:, j])) if defined else None,
        }
    if n and len(labels):
        stp, sfp, sfn = tp.sum(), fp.sum(), fn.sum()
        micro = 2 * stp / (2 * stp + sfp + sfn) if stp + sfp + sfn else 0.0
        mp = stp / (stp + sfp) if stp + sfp else 0.0
        mr = stp / (stp + sfn) if stp + sfn else 0.0
        macro = float(f.mean())
        hamming = hamming_loss(y_true, y_pred)
        subset = accuracy_score(y_true, y_pred)
        lrap = label_ranking_average_precision_score(y_true, scores)
    else:
        micro = mp = mr = macro = hamming = subset = lrap = 0.0
    return {
        "documents": n,
        "labels": list(labels),
        "micro_precision": float(mp),
        "micro_recall": float(mr),
        "micro_f1": float(micro),
        "macro_f1": float(macro),
        "hamming_loss": float(hamming),
        "subset_accuracy": float(subset),
        "label_ranking_average_precision": float(lrap),
        "per_label": per_label,
    }


# --- bootstrap over documents ----------------------------------------------------------------------------
# Counts arrays have shape ``[units, classes, 3]`` with ``(correct, predicted, gold)`` per unit (a document or
# sentence) and class (entity type or topic label). Summing the rows of a resample gives that resample's
# micro and per-class F1 exactly as the full-data metrics compute them.


def counts_f1(counts: np.ndarray, undefined: float = 0.0) -> np.ndarray:
    """F1 from ``(..., 3)`` counts ``(correct, predicted, gold)``; ``undefined`` where nothing was predicted
    and nothing is gold (0 for reported metrics; NaN inside the bootstrap, which then skips that resample)."""
    counts = np.asarray(counts, dtype=float)
    c, p, g = counts[..., 0], counts[..., 1], counts[..., 2]
    denom = p + g
    return np.where(denom > 0, 2 * c / np.where(denom > 0, denom, 1), undefined)


def bootstrap_weights(n_units: int, samples: int, seed: int) -> np.ndarray:
    """``[samples, n_units]`` multiplicities of each unit in each resample (drawing with replacement)."""
    if samples < 1:
        raise MetricsError(f"bootstrap samples must be >= 1, got {samples}")
    rng = np.random.default_rng(seed)
    if n_units == 0:
        return np.zeros((samples, 0), dtype=np.int64)
    return rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=samples)


def _interval(values: np.ndarray, confidence: float) -> dict[str, float]:
    """Percentile interval of the defined (non-NaN) values; [0, 0] when none is defined."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {"low": 0.0, "high": 0.0}
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(values, [100 * alpha, 100 * (1 - alpha)])
    return {"low": float(low), "high": float(high)}


def bootstrap_ci(
    counts: np.ndarray,
    classes: Sequence[str],
    samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict:
    """Percentile bootstrap intervals of micro F1 and each class's F1, resampling units with replacement.

    ``counts`` is ``[units, len(classes), 3]``. Same ``seed`` -> same intervals. A resample in which a class
    has neither gold nor predicted items leaves that class's F1 undefined; such resamples are skipped for it
    (otherwise a perfect system on a rare type would get a lower bound of 0).
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, len(classes), 3)
    w = bootstrap_weights(counts.shape[0], samples, seed)
    sums = (w @ counts.reshape(counts.shape[0], -1)).reshape(samples, len(classes), 3)
    micro = counts_f1(sums.sum(axis=1), undefined=np.nan)
    per_class = counts_f1(sums, undefined=np.nan)
    return {
        "samples": samples,
        "seed": seed,
        "confidence": confidence,
        "micro_f1": _interval(micro, confidence),
        "per_class": {c: _interval(per_class[:, j], confidence) for j, c in enumerate(classes)},
    }


def paired_bootstrap(
    counts_a: np.ndarray,
    counts_b: np.ndarray,
    samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict:
    """Paired bootstrap test of the micro-F1 difference ``A - B`` on the same units.

    Both systems are resampled with the same unit draws. The p-value is two-sided and null-centred
    (Berg-Kirkpatrick et al. 2012; Efron & Tibshirani 1993, 16.4): the share of resamples whose difference
    lies at least as far from the observed difference as the observed difference lies from 0, with add-one
    smoothing, ``(1 + #{|d* - d| >= |d|}) / (1 + resamples)``, over the resamples where both F1s are defined.
    Identical systems give p = 1.
    """
    a = np.asarray(counts_a, dtype=np.int64)
    b = np.asarray(counts_b, dtype=np.int64)
    if a.shape[0] != b.shape[0]:
        raise MetricsError(f"paired bootstrap needs the same units: A has {a.shape[0]}, B has {b.shape[0]}")
    a = a.reshape(a.shape[0], -1, 3).sum(axis=1)  # micro counts per unit
    b = b.reshape(b.shape[0], -1, 3).sum(axis=1)
    observed = float(counts_f1(a.sum(axis=0)) - counts_f1(b.sum(axis=0)))
    w = bootstrap_weights(a.shape[0], samples, seed)
    deltas = counts_f1(w @ a, undefined=np.nan) - counts_f1(w @ b, undefined=np.nan)
    deltas = deltas[~np.isnan(deltas)]  # resamples where a system's F1 is undefined say nothing
    extreme = np.abs(deltas - observed) >= abs(observed) - 1e-12
    return {
        "delta_f1": observed,
        "p_value": float((1 + extreme.sum()) / (1 + deltas.size)),
        "ci": _interval(deltas, confidence),
        "samples": samples,
        "seed": seed,
    }
