"""From model scores to predictions: window merging, BIO-constrained decoding, pooling, thresholds."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

import numpy as np

logger = logging.getLogger(__name__)


def merge_windows(
    n_words: int, first_subtoken: Sequence[int], windows: Sequence[tuple[int, int]], window_scores: Sequence[np.ndarray]
) -> np.ndarray:
    """Per-word scores from overlapping windows.

    ``window_scores[j][p]`` scores the ``p``-th sub-token of window ``j`` (``windows[j] = (start, end)`` in
    document sub-tokens, [CLS]/[SEP] excluded). Each word takes the window where its first sub-token is furthest
    from a window edge; ties go to the earlier window — deterministic.
    """
    n_labels = window_scores[0].shape[-1] if len(window_scores) else 0
    out = np.zeros((n_words, n_labels), dtype=np.float32)
    if not n_words or not len(windows):
        return out
    first = np.asarray(first_subtoken, dtype=np.int64)
    if len(windows) == 1:  # the common case: one window holds the whole text
        (start, end), scores = windows[0], window_scores[0]
        inside = (first >= start) & (first < end)
        out[inside] = scores[first[inside] - start]
        return out
    best = np.full(n_words, -1, dtype=np.int64)
    for (start, end), scores in zip(windows, window_scores):
        inside = (first >= start) & (first < end)
        margin = np.minimum(first - start, end - 1 - first)
        better = inside & (margin > best)
        best[better] = margin[better]
        out[better] = scores[first[better] - start]
    return out


def allowed_transitions(tags: Sequence[str]) -> np.ndarray:
    """``allowed[i, j]``: may tag ``j`` follow tag ``i`` in IOB2? (I-X only after B-X or I-X.)"""
    n = len(tags)
    allowed = np.ones((n, n), dtype=bool)
    for j, tj in enumerate(tags):
        if tj.startswith("I-"):
            for i, ti in enumerate(tags):
                allowed[i, j] = ti[2:] == tj[2:] and ti != "O"
    return allowed


def viterbi_iob2(log_probs: np.ndarray, tags: Sequence[str], allowed: np.ndarray | None = None) -> list[int]:
    """Most probable tag sequence under IOB2 constraints (no I-X after O or another type, none at the start)."""
    n, k = log_probs.shape
    if n == 0:
        return []
    allowed = allowed_transitions(tags) if allowed is None else allowed
    trans = np.where(allowed, 0.0, -np.inf)
    start_ok = np.array([0.0 if not t.startswith("I-") else -np.inf for t in tags])
    score = log_probs[0] + start_ok
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + trans  # [prev, cur]
        back[t] = np.argmax(cand, axis=0)
        score = cand[back[t], np.arange(k)] + log_probs[t]
    path = [int(np.argmax(score))]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def viterbi_iob2_many(
    log_probs: Sequence[np.ndarray], tags: Sequence[str], allowed: np.ndarray | None = None, max_cells: int = 1 << 18
) -> list[list[int]]:
    """:func:`viterbi_iob2` for many sequences at once (same paths, ties included), vectorised over sequences.

    Sequences are grouped by length so that a group pads to at most ``max_cells`` (sequence x step) cells.
    """
    k = len(tags)
    allowed = allowed_transitions(tags) if allowed is None else allowed
    trans = np.where(allowed, 0.0, -np.inf)
    start_ok = np.array([0.0 if not t.startswith("I-") else -np.inf for t in tags])
    paths: list[list[int]] = [[] for _ in log_probs]
    order = sorted((i for i in range(len(log_probs)) if len(log_probs[i])), key=lambda i: len(log_probs[i]))
    pos = 0
    while pos < len(order):
        end = pos + 1
        while end < len(order) and (end - pos + 1) * len(log_probs[order[end]]) <= max_cells:
            end += 1
        group = order[pos:end]
        pos = end
        n = len(log_probs[group[-1]])
        lengths = np.array([len(log_probs[i]) for i in group])
        lp = np.zeros((len(group), n, k), dtype=np.result_type(*(log_probs[i].dtype for i in group)))
        for r, i in enumerate(group):
            lp[r, : lengths[r]] = log_probs[i]
        score = lp[:, 0] + start_ok
        back = np.zeros((len(group), n, k), dtype=np.int64)
        final = score.copy()
        cols = np.arange(k)
        for t in range(1, n):
            cand = score[:, :, None] + trans  # [seq, prev, cur]
            back[:, t] = np.argmax(cand, axis=1)
            score = np.take_along_axis(cand, back[:, t][:, None, :], axis=1)[:, 0, cols] + lp[:, t]
            done = lengths == t + 1
            final[done] = score[done]
        rows = np.arange(len(group))
        last = np.argmax(final, axis=1)
        best = np.zeros((len(group), n), dtype=np.int64)
        best[rows, lengths - 1] = last
        for t in range(n - 1, 0, -1):  # backtrack all sequences of the group together
            active = lengths > t
            last = np.where(active, back[rows, t, last], last)
            best[active, t - 1] = last[active]
        for r, i in enumerate(group):
            paths[i] = best[r, : lengths[r]].tolist()
    return paths


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def tag_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """IOB2 tags -> ``(first, end_exclusive, label)`` word spans."""
    spans: list[tuple[int, int, str]] = []
    start, label = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        if tag == "O" or tag.startswith("B-") or tag[2:] != label:
            if start >= 0:
                spans.append((start, i, label))
            start, label = (i, tag[2:]) if tag != "O" else (-1, "")
    return spans


# ------------------------------------------------------------------------------------ topics
def pool_scores(window_scores: np.ndarray, window_doc: Sequence[int], n_docs: int, mode: str) -> np.ndarray:
    """Document scores from window scores (``max`` or ``mean`` over a document's windows)."""
    n_labels = window_scores.shape[1] if window_scores.ndim == 2 else 0
    out = np.zeros((n_docs, n_labels), dtype=np.float32)
    counts = np.zeros(n_docs, dtype=np.int64)
    if mode == "max":
        out[:] = -np.inf
    for row, d in zip(window_scores, window_doc):
        out[d] = np.maximum(out[d], row) if mode == "max" else out[d] + row
        counts[d] += 1
    if mode == "mean":
        out[counts > 0] /= counts[counts > 0, None]
    out[counts == 0] = 0.0
    return out


def tune_thresholds(
    gold: Sequence[Collection[str]], scores: np.ndarray, labels: Sequence[str], default: float = 0.5
) -> dict[str, float]:
    """Per-label threshold that maximises that label's F1 on (dev) data.

    The threshold is placed half-way between the lowest score predicted positive and the next lower score,
    so it generalises better than sitting exactly on a dev score. A label without positives keeps ``default``
    (with a warning).
    """
    out: dict[str, float] = {}
    for j, label in enumerate(labels):
        y = np.array([label in g for g in gold], dtype=bool)
        s = scores[:, j].astype(np.float64) if len(gold) else np.zeros(0)
        if not y.any():
            logger.warning("label %r has no positive documents in the tuning data; threshold stays %.2f", label, default)
            out[label] = default
            continue
        order = np.argsort(-s, kind="stable")
        s_sorted, y_sorted = s[order], y[order]
        tp = np.cumsum(y_sorted)
        fp = np.cumsum(~y_sorted)
        f1 = 2 * tp / (tp + fp + y.sum())
        # only cut between distinct scores
        valid = np.append(s_sorted[1:] < s_sorted[:-1], True)
        f1 = np.where(valid, f1, -1.0)
        k = int(np.argmax(f1))
        lower = s_sorted[k + 1] if k + 1 < len(s_sorted) else max(0.0, s_sorted[k] - 0.1)
        out[label] = float((s_sorted[k] + lower) / 2)
    return out


def apply_thresholds(scores: np.ndarray, labels: Sequence[str], thresholds: dict[str, float]) -> list[tuple[str, ...]]:
    """Per row, the labels whose score is at or above their threshold. Decided in float64, the precision of the
    thresholds and of the scores reported: a float32 score compared with a Python float is compared in float32
    (NEP 50), which can pick a label whose reported score is under its threshold."""
    rows = np.asarray(scores, dtype=np.float64)
    return [tuple(lab for j, lab in enumerate(labels) if row[j] >= thresholds[lab]) for row in rows]
