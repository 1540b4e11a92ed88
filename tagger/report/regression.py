"""The "Kept labels" section of an evaluation report (no regression on what a retrained model already knew), the
"positives behind threshold" column of the topic tables, and the CLI's one-line summary of the kept labels.

The numbers come from :func:`tagger.report.kept.kept_labels` (``result["kept_labels"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tagger.report.blocks import Block, Table, ci_text, p_text, pct

# (task key, heading, what one label is called, whether its labels have thresholds)
TASKS = (("ner", "NER entity types", "type", False), ("topics", "Topic labels", "label", True))


@dataclass(frozen=True)
class Flag:
    """A warning cell (a significant drop): plain text in Markdown, highlighted in HTML."""

    text: str


DROP = "▼ significant drop"
GAIN = "▲ significant gain"


def _pts(x: float) -> str:
    return f"{100 * x:+.1f}".replace("-0.0", "+0.0")


def _flag(row: Mapping) -> object:
    if row["significant_drop"]:
        return Flag(DROP)
    return GAIN if row["significant_gain"] else ""


def _change_row(label: str, row: Mapping) -> list[object]:
    return [
        label,
        row["support"],
        pct(row["reference_f1"]),
        pct(row["f1"]),
        _pts(row["delta_f1"]),
        ci_text(row["ci"]),
        p_text(row["p_value"]),
        _flag(row),
    ]


def _positives(row: Mapping) -> str:
    pos, src = row.get("threshold_positives"), row.get("threshold_source")
    if pos is None:
        return "—" if not src else src
    return f"{pos} ({src})" if src else str(pos)


def support_headers(top: Mapping) -> list[str]:
    """The extra column of a topic per-label table, when the model records its threshold support."""
    return ["positives behind threshold"] if top.get("threshold_support") else []


def support_cells(top: Mapping, label: str) -> list[str]:
    return [_positives(top["per_label"][label])] if top.get("threshold_support") else []


def _comparison_blocks(what: str, unit: str, thresholds: bool, ref: str, name: str, cmp: Mapping) -> list[Block]:
    blocks: list[Block] = [("h", 3, f"{what}: {name} vs {ref}")]
    if cmp["kept"]:
        rows = [_change_row(lab, row) for lab, row in cmp["kept"].items()]
        rows.append(_change_row(f"micro ({len(cmp['kept'])} kept)", cmp["micro"]))
        headers = [unit, "support", f"{ref} F1", f"{name} F1", "Δ F1", "Δ 95% CI", "p", "flag"]
        blocks.append(("table", Table(headers, rows, align="lrrrrrrl")))
        drops = cmp["significant_drops"]
        blocks.append(
            (
                "p",
                f"{DROP} on {len(drops)} kept {unit}(s): {', '.join(drops)}."
                if drops
                else f"No kept {unit} dropped significantly (every 95% interval of the change reaches 0 or above).",
            )
        )
    else:
        blocks.append(("p", f"No {unit} in common: nothing to compare."))
    new = cmp["new"]
    if new:
        headers = [unit, "precision", "recall", "F1", "support", "predicted"]
        if thresholds:
            headers += ["threshold", "positives behind threshold"]
        rows = []
        for lab, m in new.items():
            row = [lab, pct(m["precision"]), pct(m["recall"]), pct(m["f1"]), m["support"], m["predicted"]]
            if thresholds:
                row += ["n/a" if m["threshold"] is None else f"{m['threshold']:.2f}", _positives(m)]
            rows.append(row)
        blocks += [("p", f"New {unit}s ({name} only, no reference to compare with):"), ("table", Table(headers, rows))]
    else:
        blocks.append(("p", f"New {unit}s: none."))
    dropped = cmp["dropped"]
    blocks.append(
        (
            "p",
            f"Dropped {unit}s ({ref} only, unknown to {name}): "
            + ", ".join(f"{lab} ({ref} F1 {pct(m['f1'])}, support {m['support']})" for lab, m in dropped.items())
            + "."
            if dropped
            else f"Dropped {unit}s: none.",
        )
    )
    return blocks


def kept_label_blocks(result: Mapping) -> list[Block]:
    """One section comparing each later model with the reference on the labels both know; empty when fewer than
    two models are scored on a task."""
    kept = result.get("kept_labels") or {}
    if not any(kept.get(task) for task, *_ in TASKS):
        return []
    blocks: list[Block] = [
        ("h", 2, "Kept labels"),
        (
            "p",
            "The labels a later model shares with the reference (the first model): what retraining, e.g. with "
            "init_from and new labels, must not break. Per label: the F1 of each model, the change (later − "
            "reference, ×100) and its 95% paired-bootstrap interval over documents; "
            f"'{DROP}' marks a change whose whole interval is below 0. The micro row counts kept labels only, so "
            "new labels do not hide a regression.",
        ),
    ]
    for task, what, unit, thresholds in TASKS:
        for name, cmp in (kept.get(task) or {}).items():
            blocks += _comparison_blocks(what, unit, thresholds, kept["reference"][task], name, cmp)
    return blocks


def kept_headline(result: Mapping) -> list[str]:
    """One line per later model and task, for the CLI: the kept labels' micro F1 change and what moved."""
    kept = result.get("kept_labels") or {}
    lines = []
    for task, what, unit, _ in TASKS:
        for name, cmp in (kept.get(task) or {}).items():
            ref = kept["reference"][task]
            m = cmp["micro"]
            if m is None:
                head = f"no {unit} in common"
            else:
                ci = m["ci"]
                head = (
                    f"micro F1 over {m['labels']} kept {unit}(s) {m['reference_f1']:.4f} -> {m['f1']:.4f} "
                    f"(change {m['delta_f1']:+.4f} [{ci['low']:+.4f}, {ci['high']:+.4f}])"
                )
            drops = ", ".join(cmp["significant_drops"]) or "none"
            lines.append(
                f"kept labels, {name} vs {ref}: {what} {head}; significant drop: {drops}; "
                f"new: {', '.join(cmp['new']) or 'none'}; dropped: {', '.join(cmp['dropped']) or 'none'}"
            )
    return lines
