"""Plain-language observations for the top of an evaluation report ("read this first").

Each rule looks at the metrics.json dict only and says something a person deciding whether to ship should know:
significance of differences, thin or missing support, strict/conlleval gaps, thresholds that look off.
"""

from __future__ import annotations

from collections.abc import Mapping

SMALL_SUPPORT = 30
WIDE_CI = 0.10
STRICT_GAP = 0.005
THRESHOLD_GAP = 0.05


def _pts(x: float) -> str:
    return f"{100 * x:.1f}".replace("-0.0", "0.0")


def _p(p: float) -> str:
    return f"p={p:.3f}" if p >= 0.001 else "p<0.001"


def _comparison_notes(result: Mapping, task: str, what: str) -> list[str]:
    out = []
    ref = next((s["name"] for s in result["systems"] if s[task] is not None), None)
    for name, d in result["comparison"][task].items():
        kind = next(s["kind"] for s in result["systems"] if s["name"] == name)
        sig = "significant" if d["p_value"] < 0.05 else "not significant"
        if kind == "baseline":  # say it from the model's side: how much the transformer buys
            gain = -d["delta_f1"]
            out.append(
                f"{what}: {ref} is {_pts(abs(gain))} F1 points {'above' if gain >= 0 else 'BELOW'} the {name} "
                f"(95% CI of the gain [{_pts(-d['ci']['high'])}, {_pts(-d['ci']['low'])}], {_p(d['p_value'])}, "
                f"{sig} at 0.05)."
            )
        else:
            out.append(
                f"{what}: {name} − {ref} = {100 * d['delta_f1']:+.1f} F1 points "
                f"(95% CI [{_pts(d['ci']['low'])}, {_pts(d['ci']['high'])}], {_p(d['p_value'])}, {sig} at 0.05)."
            )
    return out


def _kept_notes(result: Mapping) -> list[str]:
    """Significant drops on labels a later model shares with the reference (see the "Kept labels" section)."""
    kept = result.get("kept_labels") or {}
    out = []
    for task, what in (("ner", "NER"), ("topics", "Topics")):
        for name, cmp in (kept.get(task) or {}).items():
            ref = kept["reference"][task]
            rows = [(f"kept label {lab}", cmp["kept"][lab]) for lab in cmp["significant_drops"]]
            if cmp["micro"] is not None and cmp["micro"]["significant_drop"]:
                rows.insert(0, ("the kept labels' micro F1", cmp["micro"]))
            for what_row, r in rows:
                out.append(
                    f"{what}: REGRESSION — {name} is significantly below {ref} on {what_row}: F1 "
                    f"{_pts(r['reference_f1'])} -> {_pts(r['f1'])} (95% CI of the change "
                    f"[{_pts(r['ci']['low'])}, {_pts(r['ci']['high'])}])."
                )
    return out


def _ner_notes(s: Mapping) -> list[str]:
    ner = s["ner"]
    out = []
    gap = ner["default"]["f1"] - ner["strict"]["f1"]
    if abs(gap) >= STRICT_GAP:
        out.append(
            f"{s['name']}: conlleval F1 is {100 * gap:+.1f} points from strict F1 — the predictions contain "
            "ill-formed IOB2 runs (I-X without B-X) that only conlleval counts; quote the strict number."
        )
    if ner["strict"]["support"] == 0:
        out.append(f"{s['name']}: the data has no gold entities; NER precision/recall/F1 are 0 by convention.")
    elif ner["strict"]["predicted"] == 0:
        out.append(f"{s['name']}: the system predicted no entities at all.")
    unseen = [t for t, m in ner["per_type"].items() if m["support"] == 0]
    if unseen:
        out.append(f"{s['name']}: predicts type(s) absent from the gold data: {', '.join(unseen)} (all spurious).")
    ci = ner["ci"]["micro_f1"]
    if ci["high"] - ci["low"] > WIDE_CI:
        out.append(
            f"{s['name']}: NER micro-F1 CI is {_pts(ci['high'] - ci['low'])} points wide; the test set is "
            "small for fine distinctions."
        )
    return out


def _topic_notes(s: Mapping) -> list[str]:
    top = s["topics"]
    out = []
    none = [lab for lab, m in top["per_label"].items() if m["support"] == 0]
    if none:
        out.append(
            f"{s['name']}: no gold positives for {', '.join(none)}: their F1 is 0 by convention and they "
            "pull macro F1 down; evaluate them on data that has them."
        )
    for lab, m in top["per_label"].items():
        if m["support"] and m["best_f1"] - m["f1"] > THRESHOLD_GAP:
            out.append(
                f"{s['name']}: the saved threshold for {lab} ({m['threshold']:.2f}, F1 {_pts(m['f1'])}) is "
                f"{_pts(m['best_f1'] - m['f1'])} points below the best on this data ({m['best_threshold']:.2f}, "
                f"F1 {_pts(m['best_f1'])}); re-tune on a dev set if this data resembles production."
            )
    if top["unknown_gold_labels"]:
        out.append(
            f"{s['name']}: gold labels unknown to the model were ignored: "
            + ", ".join(top["unknown_gold_labels"])
            + "."
        )
    return out


def observations(result: Mapping) -> list[str]:
    """Short sentences, most important first: comparisons, then per-system caveats."""
    out = _kept_notes(result) + _comparison_notes(result, "ner", "NER") + _comparison_notes(result, "topics", "Topics")
    data = result["data"]
    thin = [f"{t} ({n})" for t, n in data["entity_types"].items() if n < SMALL_SUPPORT]
    if thin:
        out.append(f"Few gold entities for {', '.join(thin)}: per-type F1 there is noisy (see the CIs).")
    rare = [f"{t} ({n})" for t, n in data["topic_labels"].items() if n < SMALL_SUPPORT]
    if rare:
        out.append(f"Few gold documents for topic(s) {', '.join(rare)}: per-label F1 there is noisy (see the CIs).")
    for s in result["systems"]:
        if s["ner"] is not None:
            out += _ner_notes(s)
        if s["topics"] is not None:
            out += _topic_notes(s)
    return out
