"""NER error analysis for evaluation reports: what kinds of mistakes a model makes, where, and how sure we are.

All functions take word-level IOB2 tag sequences (one per unit: a document, or a CoNLL sentence) and use the
entities seqeval's strict IOB2 mode extracts, so ``correct`` here equals the strict true positives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tagger.metrics import EntityKey, MetricsError, bootstrap_ci, ner_metrics, strict_entities

OUTSIDE = "O"
ERROR_KINDS: tuple[str, ...] = (
    "correct",
    "wrong_type",
    "wrong_boundary_same_type",
    "wrong_boundary_other_type",
    "missed",
    "spurious",
)
ERROR_DESCRIPTIONS: dict[str, str] = {
    "correct": "same span, same type",
    "wrong_type": "same span, other type",
    "wrong_boundary_same_type": "overlapping span (not identical), same type",
    "wrong_boundary_other_type": "overlapping span (not identical), other type",
    "missed": "gold entity that no prediction overlaps",
    "spurious": "predicted entity that overlaps no gold entity",
}

Ent = tuple[str, int, int]  # (type, start, end exclusive) within one unit


@dataclass(frozen=True)
class NerError:
    """One classified gold/predicted entity (or pair) in unit ``unit``."""

    kind: str
    unit: int
    gold: Ent | None
    pred: Ent | None


def _overlap(a: Ent, b: Ent) -> int:
    return max(0, min(a[2], b[2]) - max(a[1], b[1]))


def _by_unit(ents: list[EntityKey], n: int) -> list[list[Ent]]:
    out: list[list[Ent]] = [[] for _ in range(n)]
    for unit, label, start, end in ents:
        out[unit].append((label, start, end))
    return out


def classify_errors(gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> list[NerError]:
    """Classify every gold entity, and every prediction that overlaps no gold entity.

    Each gold entity gets exactly one kind (``correct``, ``wrong_type``, ``wrong_boundary_*`` or ``missed``),
    so these counts add up to the number of gold entities; the paired prediction is the one with the same
    span, else the one overlapping most (first on ties). ``wrong_boundary_same_type`` wins over
    ``_other_type`` when several predictions overlap. Predictions overlapping no gold entity are ``spurious``.
    """
    n = len(gold_tags)
    if len(pred_tags) != n:
        raise MetricsError(f"gold has {n} sequences but predictions have {len(pred_tags)}")
    gold_u = _by_unit(strict_entities(gold_tags), n)
    pred_u = _by_unit(strict_entities(pred_tags), n)
    out: list[NerError] = []
    for u in range(n):
        preds = pred_u[u]
        for g in gold_u[u]:
            same_span = [p for p in preds if p[1:] == g[1:]]
            overlapping = [p for p in preds if _overlap(g, p) > 0]
            if same_span:
                p = same_span[0]
                out.append(NerError("correct" if p[0] == g[0] else "wrong_type", u, g, p))
            elif overlapping:
                same = [p for p in overlapping if p[0] == g[0]]
                pool = same or overlapping
                p = max(pool, key=lambda q: _overlap(g, q))
                kind = "wrong_boundary_same_type" if same else "wrong_boundary_other_type"
                out.append(NerError(kind, u, g, p))
            else:
                out.append(NerError("missed", u, g, None))
        for p in preds:
            if not any(_overlap(g, p) > 0 for g in gold_u[u]):
                out.append(NerError("spurious", u, None, p))
    return out


def error_breakdown(errors: Sequence[NerError]) -> dict:
    """``{"totals": {kind: n}, "per_type": {type: {kind: n}}}``; spurious counts go to the predicted type."""
    totals = dict.fromkeys(ERROR_KINDS, 0)
    per_type: dict[str, dict[str, int]] = {}
    for e in errors:
        label = e.gold[0] if e.gold is not None else e.pred[0]  # type: ignore[index]
        row = per_type.setdefault(label, dict.fromkeys(ERROR_KINDS, 0))
        row[e.kind] += 1
        totals[e.kind] += 1
    return {"totals": totals, "per_type": dict(sorted(per_type.items()))}


def confusion_matrix(errors: Sequence[NerError]) -> dict:
    """Entity-level type confusion: rows gold type (+ ``O``), columns predicted type (+ ``O``).

    Row ``O`` counts spurious predictions; column ``O`` counts missed gold entities; a gold entity paired with
    an overlapping prediction (see :func:`classify_errors`) counts in its (gold, predicted) cell.
    """
    types = sorted({e.gold[0] for e in errors if e.gold} | {e.pred[0] for e in errors if e.pred})
    labels = [*types, OUTSIDE]
    index = {t: i for i, t in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=int)
    for e in errors:
        g = e.gold[0] if e.gold else OUTSIDE
        p = e.pred[0] if e.pred else OUTSIDE
        m[index[g], index[p]] += 1
    return {"labels": labels, "matrix": m.tolist()}


def _context(tokens: Sequence[str], gold: Ent | None, pred: Ent | None, window: int) -> dict:
    spans = [s for s in (gold, pred) if s is not None]
    lo = max(0, min(s[1] for s in spans) - window)
    hi = min(len(tokens), max(s[2] for s in spans) + window)
    rel = {k: ([s[1] - lo, s[2] - lo] if s else None) for k, s in (("gold", gold), ("pred", pred))}
    return {
        "tokens": list(tokens[lo:hi]),
        "gold": rel["gold"],
        "pred": rel["pred"],
        "truncated_left": lo > 0,
        "truncated_right": hi < len(tokens),
    }


def marked_context(ctx: dict) -> str:
    """Plain-text context: gold entity in ``[...]``, prediction in ``{...}``."""
    toks = list(ctx["tokens"])
    for key, (o, c) in (("gold", ("[", "]")), ("pred", ("{", "}"))):
        span = ctx[key]
        if span:
            toks[span[0]] = o + toks[span[0]]
            toks[span[1] - 1] = toks[span[1] - 1] + c
    text = " ".join(toks)
    return ("… " if ctx["truncated_left"] else "") + text + (" …" if ctx["truncated_right"] else "")


def top_errors(
    errors: Sequence[NerError],
    tokens: Sequence[Sequence[str]],
    unit_ids: Sequence[str] | None = None,
    k: int = 20,
    window: int = 8,
) -> list[dict]:
    """The ``k`` most frequent errors, grouped by (kind, gold type+text, predicted type+text).

    Each comes with its count and the context of its first occurrence (``window`` tokens each side).
    """
    groups: dict[tuple, list[NerError]] = {}
    for e in errors:
        if e.kind == "correct":
            continue
        toks = tokens[e.unit]
        g_text = " ".join(toks[e.gold[1] : e.gold[2]]) if e.gold else None
        p_text = " ".join(toks[e.pred[1] : e.pred[2]]) if e.pred else None
        key = (e.kind, e.gold[0] if e.gold else None, g_text, e.pred[0] if e.pred else None, p_text)
        groups.setdefault(key, []).append(e)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0].unit, kv[0][0]))
    out = []
    for (kind, g_type, g_text, p_type, p_text), items in ranked[:k]:
        first = items[0]
        ctx = _context(tokens[first.unit], first.gold, first.pred, window)
        out.append(
            {
                "kind": kind,
                "count": len(items),
                "gold_type": g_type,
                "gold_text": g_text,
                "pred_type": p_type,
                "pred_text": p_text,
                "document": unit_ids[first.unit] if unit_ids is not None else first.unit,
                "context": ctx,
                "context_text": marked_context(ctx),
            }
        )
    return out


def unit_counts(
    gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]], types: Sequence[str]
) -> np.ndarray:
    """``[units, types, 3]`` strict ``(correct, predicted, gold)`` counts, for the bootstrap."""
    index = {t: j for j, t in enumerate(types)}
    out = np.zeros((len(gold_tags), len(types), 3), dtype=np.int64)
    gold = set(strict_entities(gold_tags))
    pred = set(strict_entities(pred_tags))
    for ents, col in ((gold & pred, 0), (pred, 1), (gold, 2)):
        for unit, label, _s, _e in ents:
            if label in index:
                out[unit, index[label], col] += 1
    return out


def evaluate_ner_tags(
    gold_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    tokens: Sequence[Sequence[str]],
    unit_ids: Sequence[str] | None = None,
    *,
    samples: int = 1000,
    seed: int = 0,
    k: int = 20,
) -> dict:
    """Everything the report says about one system's NER: metrics, CIs, error breakdown, confusion, top errors.

    Model-free: pass gold and predicted word-level IOB2 tags and the words themselves (for context).
    """
    for i, (toks, g) in enumerate(zip(tokens, gold_tags)):
        if len(toks) != len(g):
            raise MetricsError(f"unit {i}: {len(toks)} tokens but {len(g)} gold tags")
    result = ner_metrics(gold_tags, pred_tags)
    types = sorted(result["per_type"])
    counts = unit_counts(gold_tags, pred_tags, types)
    ci = bootstrap_ci(counts, types, samples=samples, seed=seed)
    result["ci"] = {
        "samples": ci["samples"],
        "seed": ci["seed"],
        "confidence": ci["confidence"],
        "micro_f1": ci["micro_f1"],
        "per_type": ci["per_class"],
    }
    errors = classify_errors(gold_tags, pred_tags)
    result["errors"] = error_breakdown(errors)
    result["confusion"] = confusion_matrix(errors)
    result["top_errors"] = top_errors(errors, tokens, unit_ids, k=k)
    result["units"] = len(gold_tags)
    result["tokens"] = sum(len(t) for t in tokens)
    return result
