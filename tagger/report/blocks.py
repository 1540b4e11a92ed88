"""The content of an evaluation report as a list of blocks (headings, paragraphs, tables, figures).

:mod:`tagger.report.render` turns the same blocks into Markdown and HTML, so both always say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tagger.report.ner import ERROR_DESCRIPTIONS, ERROR_KINDS
from tagger.report.notes import observations


@dataclass(frozen=True)
class Rtl:
    """A cell of (possibly) Arabic text."""

    text: str


@dataclass(frozen=True)
class Marked:
    """A context cell: tokens with the gold span and the predicted span marked."""

    ctx: Mapping


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    align: str | None = None  # one "l"/"r" per column; default: first column left, the rest right

    def right(self, j: int) -> bool:
        return (self.align[j] == "r") if self.align else j > 0


Block = tuple  # ("h", level, text) | ("p", text) | ("list", items) | ("table", Table) | ("img", name, alt)


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def ci_text(ci: Mapping | None) -> str:
    return "n/a" if not ci else f"[{pct(ci['low'])}, {pct(ci['high'])}]"


def p_text(p: float) -> str:
    return f"p={p:.3f}" if p >= 0.001 else "p<0.001"


# --------------------------------------------------------------------------------------------- blocks
def _summary_blocks(result: Mapping) -> list[Block]:
    blocks: list[Block] = [("h", 2, "Summary")]
    rows = []
    cmp = result["comparison"]
    for s in result["systems"]:
        ner, top = s["ner"], s["topics"]
        row = [f"{s['name']} ({s['kind']})"]
        if result["data"]["has_ner"]:
            row += (
                [
                    f"{pct(ner['strict']['f1'])} {ci_text(ner['ci']['micro_f1'])}",
                    pct(ner["default"]["f1"]),
                    pct(ner["macro"]["f1"]),
                ]
                if ner
                else ["—", "—", "—"]
            )
            d = cmp["ner"].get(s["name"])
            row.append(f"{100 * d['delta_f1']:+.1f} ({p_text(d['p_value'])})" if d else "reference" if ner else "—")
        if result["data"]["topic_documents"]:
            row += (
                [f"{pct(top['micro_f1'])} {ci_text(top['ci']['micro_f1'])}", pct(top["macro_f1"])]
                if top
                else ["—", "—"]
            )
            d = cmp["topics"].get(s["name"])
            row.append(f"{100 * d['delta_f1']:+.1f} ({p_text(d['p_value'])})" if d else "reference" if top else "—")
        rows.append(row)
    headers = ["system"]
    if result["data"]["has_ner"]:
        headers += ["NER strict F1 [95% CI]", "NER conlleval F1", "NER macro F1", "NER Δ vs reference"]
    if result["data"]["topic_documents"]:
        headers += ["topics micro F1 [95% CI]", "topics macro F1", "topics Δ vs reference"]
    blocks.append(("table", Table(headers, rows)))
    blocks.append(
        (
            "p",
            "Scores are ×100. Δ is the system's micro F1 minus the reference's (the first model), with "
            "a two-sided paired-bootstrap p-value over documents.",
        )
    )
    obs = observations(result)
    if obs:
        blocks += [("h", 3, "Read this first"), ("list", obs)]
    for name in ("comparison_ner.png", "comparison_topics.png"):
        if name in result.get("_figures", ()):
            blocks.append(("img", name, name.removesuffix(".png").replace("_", " ")))
    return blocks


def _ner_blocks(s: Mapping, slug: str, figures: Sequence[str]) -> list[Block]:
    ner = s["ner"]
    ci = ner["ci"]
    blocks: list[Block] = [("h", 2, f"NER — {s['name']}")]
    overall = []
    for label, key in (("strict (IOB2)", "strict"), ("conlleval (seqeval default)", "default")):
        m = ner[key]
        overall.append(
            [
                label,
                pct(m["precision"]),
                pct(m["recall"]),
                pct(m["f1"]),
                ci_text(ci["micro_f1"]) if key == "strict" else "",
                m["support"],
                m["predicted"],
                m["correct"],
            ]
        )
    for label, key in (("macro, strict", "macro"), ("macro, conlleval", "macro_default")):
        m = ner[key]
        overall.append([label, pct(m["precision"]), pct(m["recall"]), pct(m["f1"]), "", "", "", ""])
    blocks.append(
        (
            "table",
            Table(
                ["micro / macro", "precision", "recall", "F1", "F1 95% CI", "gold", "predicted", "correct"],
                overall,
            ),
        )
    )
    per = []
    for t, m in ner["per_type"].items():
        d = ner["per_type_default"].get(t, {})
        per.append(
            [
                t,
                pct(m["precision"]),
                pct(m["recall"]),
                pct(m["f1"]),
                ci_text(ci["per_type"].get(t)),
                m["support"],
                m["predicted"],
                pct(d.get("f1")),
            ]
        )
    blocks += [
        ("h", 3, "Per type (strict)"),
        (
            "table",
            Table(
                ["type", "precision", "recall", "F1", "F1 95% CI", "support", "predicted", "F1 conlleval"],
                per,
            ),
        ),
    ]
    err = ner["errors"]
    rows = [[t, *(row[k] for k in ERROR_KINDS)] for t, row in err["per_type"].items()]
    rows.append(["all", *(err["totals"][k] for k in ERROR_KINDS)])
    blocks += [
        ("h", 3, "Error breakdown"),
        (
            "p",
            "Each gold entity is counted once, in its gold type's row; spurious predictions in the predicted "
            "type's row.",
        ),
        ("list", [f"{k.replace('_', ' ')}: {v}" for k, v in ERROR_DESCRIPTIONS.items()]),
        ("table", Table(["type", *(k.replace("_", " ") for k in ERROR_KINDS)], rows)),
    ]
    if f"{slug}_ner_errors.png" in figures:
        blocks.append(("img", f"{slug}_ner_errors.png", "error breakdown per type"))
    conf = ner["confusion"]
    rows = [[g, *conf["matrix"][i]] for i, g in enumerate(conf["labels"])]
    blocks += [
        ("h", 3, "Type confusion (entity level)"),
        (
            "p",
            "Rows: gold type; columns: predicted type of the same or most-overlapping prediction. "
            "Column O: missed; row O: spurious.",
        ),
        ("table", Table(["gold \\ predicted", *conf["labels"]], rows)),
    ]
    if f"{slug}_ner_confusion.png" in figures:
        blocks.append(("img", f"{slug}_ner_confusion.png", "type confusion heatmap"))
    top = [
        [
            i,
            e["kind"].replace("_", " "),
            e["count"],
            e["gold_type"] or "—",
            Rtl(e["gold_text"] or "—"),
            e["pred_type"] or "—",
            Rtl(e["pred_text"] or "—"),
            Marked(e["context"]),
        ]
        for i, e in enumerate(ner["top_errors"], 1)
    ]
    blocks += [
        ("h", 3, "Most frequent errors"),
        (
            "p",
            f"The {len(top)} most frequent errors, grouped by kind, gold and predicted type and text; context of "
            "the first occurrence: gold entity in [brackets] (underlined in HTML), prediction in {braces} "
            "(highlighted in HTML).",
        ),
    ]
    if top:
        blocks.append(("legend",))
        headers = ["#", "kind", "count", "gold type", "gold", "predicted type", "predicted", "context"]
        blocks.append(("table", Table(headers, top, align="rlrlllll")))
    else:
        blocks.append(("p", "No errors."))
    return blocks


def _topic_blocks(s: Mapping, slug: str, figures: Sequence[str]) -> list[Block]:
    top = s["topics"]
    ci = top["ci"]
    from tagger.report.regression import support_cells, support_headers

    blocks: list[Block] = [("h", 2, f"Topics — {s['name']}")]
    overall = [
        [
            "micro precision / recall / F1",
            f"{pct(top['micro_precision'])} / {pct(top['micro_recall'])} / {pct(top['micro_f1'])}",
        ],
        ["micro F1 95% CI", ci_text(ci["micro_f1"])],
        ["macro F1", pct(top["macro_f1"])],
        ["hamming loss", f"{top['hamming_loss']:.4f}"],
        ["subset accuracy", pct(top["subset_accuracy"])],
        ["label-ranking average precision", f"{top['label_ranking_average_precision']:.3f}"],
        [
            "labels per document (gold / predicted)",
            f"{top['label_cardinality']['gold']:.2f} / {top['label_cardinality']['predicted']:.2f}",
        ],
        ["documents", top["documents"]],
    ]
    blocks.append(("table", Table(["metric", "value"], overall)))
    rows = []
    for lab, m in top["per_label"].items():
        auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.3f}"
        ap = "n/a" if m["pr_auc"] is None else f"{m['pr_auc']:.3f}"
        rows.append(
            [
                lab,
                pct(m["precision"]),
                pct(m["recall"]),
                pct(m["f1"]),
                ci_text(ci["per_label"].get(lab)),
                m["support"],
                m["predicted"],
                f"{m['threshold']:.2f}",
                f"{m['best_threshold']:.2f} ({pct(m['best_f1'])})",
                auc,
                ap,
                *support_cells(top, lab),
            ]
        )
    blocks += [
        ("h", 3, "Per label"),
        (
            "table",
            Table(
                [
                    "label",
                    "precision",
                    "recall",
                    "F1",
                    "F1 95% CI",
                    "support",
                    "predicted",
                    "threshold",
                    "best on this data (F1)",
                    "ROC-AUC",
                    "PR-AUC",
                    *support_headers(top),
                ],
                rows,
            ),
        ),
        (
            "p",
            '"best on this data" is chosen on the evaluation data itself: optimistic, shown only to '
            "judge the saved threshold.",
        ),
    ]
    if top["unknown_gold_labels"]:
        blocks.append(
            (
                "p",
                "Gold labels the system does not know (ignored): "
                + ", ".join(f"{k} ({v})" for k, v in top["unknown_gold_labels"].items()),
            )
        )
    for name, alt in (
        (f"{slug}_topics_f1_threshold.png", "F1 against threshold per label"),
        (f"{slug}_topics_pr.png", "precision-recall curves"),
    ):
        if name in figures:
            blocks.append(("img", name, alt))
    blocks.append(("h", 3, "Examples of errors"))
    if not any(ex[k] for ex in top["examples"].values() for k in ("false_positives", "false_negatives")):
        blocks.append(("p", "No false positives or false negatives at the saved thresholds."))
    for lab, ex in top["examples"].items():
        for kind, title in (
            ("false_positives", "false positives (highest scores)"),
            ("false_negatives", "false negatives (lowest scores)"),
        ):
            items = ex[kind]
            if not items:
                continue
            rows = [
                [
                    e["document"],
                    f"{e['score']:.3f}",
                    ", ".join(e["gold"]) or "—",
                    ", ".join(e["predicted"]) or "—",
                    Rtl(e["text"]),
                ]
                for e in items
            ]
            blocks += [
                ("h", 4, f"{lab}: {title}"),
                ("table", Table(["document", "score", "gold", "predicted", "text"], rows, align="lrlll")),
            ]
    return blocks


def build_blocks(result: Mapping, figures: Sequence[str]) -> list[Block]:
    data = result["data"]
    st = result["settings"]
    intro = (
        f"Data: {data['path']} — {data['documents']} documents, {data['tokens']} words"
        + (
            f", {data['entities']} gold entities ("
            + ", ".join(f"{k} {v}" for k, v in data["entity_types"].items())
            + ")"
            if data["has_ner"]
            else ""
        )
        + (
            f"; {data['topic_documents']} documents with topic labels ("
            + ", ".join(f"{k} {v}" for k, v in data["topic_labels"].items())
            + ")"
            if data["topic_documents"]
            else ""
        )
        + "."
    )
    systems = [
        f"{s['name']} — {s['kind']}, {s['source']}" + (f" ({'; '.join(s['notes'])})" if s["notes"] else "")
        for s in result["systems"]
    ]
    boot = (
        f"Confidence intervals: {st['confidence']:.0%} percentile bootstrap over documents "
        f"({st['bootstrap_samples']} resamples, seed {st['seed']}). Versions: "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items())
        + "."
    )
    blocks: list[Block] = [("h", 1, "Evaluation report"), ("p", intro), ("list", systems), ("p", boot), ("toc",)]
    res = dict(result)
    res["_figures"] = list(figures)
    blocks += _summary_blocks(res)
    from tagger.report.regression import kept_label_blocks

    blocks += kept_label_blocks(result)
    for n, s in enumerate(result["systems"]):
        if s["ner"] is not None:
            blocks += _ner_blocks(s, f"s{n}", figures)
        if s["topics"] is not None:
            blocks += _topic_blocks(s, f"s{n}", figures)
    blocks += [
        ("h", 2, "About these numbers"),
        (
            "list",
            [
                "strict: seqeval mode=strict, scheme=IOB2 — an entity counts only with exact boundaries, exact type and "
                "well-formed tags. conlleval: seqeval's default mode, as the CoNLL-2003 script scores.",
                "NER is scored on words (CoNLL tokens, or the library's pre-tokenisation for JSONL); a word overlapping an "
                "entity belongs to it.",
                "Topics: a label is predicted when its score is at least its threshold; scikit-learn metrics with "
                "zero_division=0 (a label with no gold positives has F1 0; ROC-AUC/PR-AUC are n/a).",
                "Paired bootstrap: both systems are resampled with the same documents; p is two-sided, null-centred, "
                "add-one smoothed. The field keys are documented in eval/README.md.",
            ],
        ),
    ]
    return blocks
