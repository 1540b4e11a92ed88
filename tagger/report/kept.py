"""No-regression check of a retrained model: the labels it shares with the reference model ("kept" labels).

When ``tagger eval OLD NEW`` compares models whose label sets differ (typically NEW was trained with
``init_from: OLD`` and has extra labels), the overall micro F1 mixes two things: how NEW does on the labels OLD
already had, and how it does on its new ones. :func:`kept_labels` separates them. For each later model against
the reference (the first model), per task (NER entity types, topic labels):

* ``kept``: every label both know, with both F1s, the change (other − reference), its paired-bootstrap 95%
  interval (the same documents resampled for both, :func:`tagger.metrics.paired_bootstrap`) and p-value;
  ``significant_drop`` when the whole interval is below 0 (``significant_gain`` when above);
* ``micro``: the same for micro F1 computed over the kept labels only;
* ``new``: labels only the other model has, with its precision/recall/F1 (topics: its threshold and the number
  of positives that threshold was tuned on, when the model records it);
* ``dropped``: labels only the reference has, with the reference's F1.

Model-free like the rest of :mod:`tagger.report`: it takes the gold data and each system's predictions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tagger.metrics import counts_f1, paired_bootstrap
from tagger.report.data import EvalData, SystemPredictions
from tagger.report.ner import unit_counts
from tagger.report.topics import topic_unit_counts


# ------------------------------------------------------------------------------------ threshold support
def _normalise_support(raw: Any) -> dict[str, dict] | None:
    """``label -> {"positives": int | None, "source": str | None, ...}`` from what a model records, or None.

    Other plain values the model records (e.g. ``dev_positives``, ``documents``) are kept as they are."""
    if not isinstance(raw, Mapping):
        return None
    out: dict[str, dict] = {}
    for label, value in raw.items():
        if isinstance(value, Mapping):
            pos, src = value.get("positives"), value.get("source")
            extra = {str(k): v for k, v in value.items() if isinstance(v, (str, int, float, bool)) or v is None}
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            pos, src, extra = value, None, {}
        else:
            continue
        ok = isinstance(pos, (int, float)) and not isinstance(pos, bool)
        out[str(label)] = {**extra, "positives": int(pos) if ok else None, "source": str(src) if src else None}
    return out or None


def threshold_support(model: Any, path: str | Path | None = None) -> dict[str, dict] | None:
    """How many positives each topic threshold was tuned on, as the model records it (``threshold_support`` of
    its ``tagger`` block in config.json); None for models saved before it was recorded."""
    raw = getattr(model, "threshold_support", None)
    if not isinstance(raw, Mapping):
        block = getattr(getattr(model, "topics", None), "block", None)
        raw = getattr(block, "threshold_support", None)
    if not isinstance(raw, Mapping) and path is not None:  # a block that does not (yet) load the field
        for cfg in (Path(path) / "config.json", Path(path) / "topics" / "config.json"):
            try:
                raw = json.loads(cfg.read_text(encoding="utf-8")).get("tagger", {}).get("threshold_support")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(raw, Mapping):
                break
    return _normalise_support(raw)


# ------------------------------------------------------------------------------------------ comparison
def _change(other: np.ndarray, ref: np.ndarray, samples: int, seed: int) -> dict:
    """F1 of both, the change and its paired-bootstrap interval, for ``[units, labels, 3]`` counts."""
    test = paired_bootstrap(other, ref, samples=samples, seed=seed)
    ci = test["ci"]
    return {
        "reference_f1": float(counts_f1(ref.reshape(ref.shape[0], -1, 3).sum(axis=(0, 1)))),
        "f1": float(counts_f1(other.reshape(other.shape[0], -1, 3).sum(axis=(0, 1)))),
        "delta_f1": test["delta_f1"],
        "ci": ci,
        "p_value": test["p_value"],
        "significant_drop": ci["high"] < 0,
        "significant_gain": ci["low"] > 0,
    }


def _compare_counts(kept: list[str], other: np.ndarray, ref: np.ndarray, samples: int, seed: int) -> dict:
    per = {}
    for j, label in enumerate(kept):
        row = _change(other[:, j : j + 1], ref[:, j : j + 1], samples, seed)
        per[label] = {"support": int(ref[:, j, 2].sum()), **row}
    micro = _change(other, ref, samples, seed) if kept else None
    if micro is not None:
        micro["labels"] = len(kept)
        micro["support"] = int(ref[:, :, 2].sum())
    return {
        "kept": per,
        "micro": micro,
        "significant_drops": [lab for lab, r in per.items() if r["significant_drop"]],
    }


def _split(ref_labels: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    ref_set, own = set(ref_labels), set(labels)
    kept = [lab for lab in ref_labels if lab in own]
    return kept, [lab for lab in labels if lab not in ref_set], [lab for lab in ref_labels if lab not in own]


def _ner_labels(sys: SystemPredictions, entry: Mapping) -> tuple[list[str], str]:
    if sys.ner_labels:
        return sorted(sys.ner_labels), "model"
    return sorted(entry["ner"]["per_type"]), "gold and predicted types"  # a stand-in that does not say


def _ner_comparison(data: EvalData, ref: tuple, other: tuple, samples: int, seed: int) -> dict:
    (rsys, rentry), (osys, oentry) = ref, other
    ref_labels, ref_src = _ner_labels(rsys, rentry)
    labels, src = _ner_labels(osys, oentry)
    kept, new, dropped = _split(ref_labels, labels)
    gold = data.gold_tags
    out = _compare_counts(
        kept, unit_counts(gold, osys.ner_tags, kept), unit_counts(gold, rsys.ner_tags, kept), samples, seed
    )
    zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 0}
    out["new"] = {t: {k: oentry["ner"]["per_type"].get(t, zero)[k] for k in zero} for t in new}
    out["dropped"] = {
        t: {k: rentry["ner"]["per_type"].get(t, zero)[k] for k in ("f1", "support")} for t in dropped
    }
    out["labels"] = {"reference": ref_labels, "system": labels, "source": [ref_src, src]}
    return out


def _topic_counts(data: EvalData, sys: SystemPredictions, kept: list[str]) -> np.ndarray:
    gold = [data.docs[i].topics or [] for i in data.topic_docs]
    counts = topic_unit_counts(gold, sys.topic_scores, sys.topic_labels, sys.thresholds)
    labels = list(sys.topic_labels or [])
    return counts[:, [labels.index(lab) for lab in kept], :]


def _topic_comparison(data: EvalData, ref: tuple, other: tuple, samples: int, seed: int) -> dict:
    (rsys, rentry), (osys, oentry) = ref, other
    kept, new, dropped = _split(list(rsys.topic_labels), list(osys.topic_labels))
    out = _compare_counts(
        kept, _topic_counts(data, osys, kept), _topic_counts(data, rsys, kept), samples, seed
    )
    per = oentry["topics"]["per_label"]
    keys = ("precision", "recall", "f1", "support", "predicted", "threshold", "threshold_positives",
            "threshold_source")
    out["new"] = {lab: {k: per[lab].get(k) for k in keys} for lab in new}
    rper = rentry["topics"]["per_label"]
    out["dropped"] = {lab: {k: rper[lab][k] for k in ("f1", "support")} for lab in dropped}
    out["labels"] = {"reference": list(rsys.topic_labels), "system": list(osys.topic_labels), "source": "model"}
    return out


def kept_labels(
    data: EvalData,
    systems: Sequence[SystemPredictions],
    entries: Sequence[Mapping],
    *,
    samples: int = 1000,
    seed: int = 0,
) -> dict:
    """The ``kept_labels`` section of metrics.json: every later model against the first, per task.

    ``entries`` are the systems' metrics.json entries (same order as ``systems``). Baselines take no part.
    ``{"reference": {"ner": name | None, "topics": name | None}, "ner": {name: {...}}, "topics": {name: {...}}}``
    """
    out: dict[str, Any] = {"reference": {"ner": None, "topics": None}, "ner": {}, "topics": {}}
    for task, compare in (("ner", _ner_comparison), ("topics", _topic_comparison)):
        scored = [(s, e) for s, e in zip(systems, entries) if s.kind == "model" and e[task] is not None]
        if len(scored) < 2:
            continue
        out["reference"][task] = scored[0][0].name
        for other in scored[1:]:
            out[task][other[0].name] = compare(data, scored[0], other, samples, seed)
    return out


def add_threshold_support(topics: dict, support: Mapping[str, Mapping] | None) -> None:
    """Put the positives behind each saved threshold next to it in a system's topic metrics."""
    topics["threshold_support"] = dict(support) if support else None
    for label, row in topics["per_label"].items():
        s = (support or {}).get(label) or {}
        row["threshold_positives"] = s.get("positives")
        row["threshold_source"] = s.get("source")
