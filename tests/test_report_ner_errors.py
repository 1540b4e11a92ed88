"""NER error analysis (tagger.report.ner): breakdown, confusion, top errors with context, CIs."""

from __future__ import annotations

import pytest

from tagger.report import evaluate_ner
from tagger.report.ner import (
    classify_errors,
    confusion_matrix,
    error_breakdown,
    evaluate_ner_tags,
    marked_context,
    top_errors,
)
from tagger.schema import Document, Span

# unit 0: PER exact (correct); LOC predicted as ORG on the same span (wrong type)
# unit 1: ORG predicted one word short (boundary, same type); PER predicted as a longer LOC (boundary, other type)
# unit 2: MISC not predicted (missed); a PER predicted where there is nothing (spurious)
GOLD = [
    ["B-PER", "I-PER", "O", "B-LOC", "O"],
    ["B-ORG", "I-ORG", "I-ORG", "O", "B-PER", "O"],
    ["O", "B-MISC", "O", "O"],
]
PRED = [
    ["B-PER", "I-PER", "O", "B-ORG", "O"],
    ["B-ORG", "I-ORG", "O", "O", "B-LOC", "I-LOC"],
    ["O", "O", "O", "B-PER"],
]
TOKENS = [
    ["قال", "محمد", "في", "دبي", "أمس"],
    ["وزارة", "الاتصالات", "الكويتية", "و", "علي", "حسن"],
    ["عملة", "اليورو", "ارتفعت", "كثيرا"],
]


def test_report_ner_each_error_kind_once():
    errors = classify_errors(GOLD, PRED)
    b = error_breakdown(errors)
    assert b["totals"] == {
        "correct": 1,
        "wrong_type": 1,
        "wrong_boundary_same_type": 1,
        "wrong_boundary_other_type": 1,
        "missed": 1,
        "spurious": 1,
    }
    per = b["per_type"]
    assert per["PER"]["correct"] == 1 and per["PER"]["wrong_boundary_other_type"] == 1
    assert per["PER"]["spurious"] == 1  # spurious goes to the predicted type
    assert per["LOC"]["wrong_type"] == 1 and sum(per["LOC"].values()) == 1
    assert per["ORG"]["wrong_boundary_same_type"] == 1
    assert per["MISC"]["missed"] == 1
    kinds = {(e.kind, e.unit, e.gold, e.pred) for e in errors}
    assert ("wrong_type", 0, ("LOC", 3, 4), ("ORG", 3, 4)) in kinds
    assert ("wrong_boundary_same_type", 1, ("ORG", 0, 3), ("ORG", 0, 2)) in kinds
    assert ("wrong_boundary_other_type", 1, ("PER", 4, 5), ("LOC", 4, 6)) in kinds
    assert ("spurious", 2, None, ("PER", 3, 4)) in kinds


def test_report_ner_gold_kinds_add_up_to_gold_entities_and_correct_is_strict_tp():
    result = evaluate_ner_tags(GOLD, PRED, TOKENS, samples=50)
    t = result["errors"]["totals"]
    gold_side = t["correct"] + t["wrong_type"] + t["wrong_boundary_same_type"] + t["wrong_boundary_other_type"]
    assert gold_side + t["missed"] == result["strict"]["support"] == 5
    assert t["correct"] == result["strict"]["correct"] == 1


def test_report_ner_boundary_prefers_same_type_overlap():
    gold = [["B-PER", "I-PER", "I-PER"]]
    pred = [["B-LOC", "I-LOC", "B-PER"]]  # split: a LOC over two words and a PER over the third
    (e, *rest) = classify_errors(gold, pred)
    assert e.kind == "wrong_boundary_same_type" and e.pred == ("PER", 2, 3)
    assert rest == []  # both predictions overlap the gold entity, so neither is spurious


def test_report_ner_confusion_matrix():
    c = confusion_matrix(classify_errors(GOLD, PRED))
    labels = c["labels"]
    assert labels == ["LOC", "MISC", "ORG", "PER", "O"]
    m = {(g, p): c["matrix"][i][j] for i, g in enumerate(labels) for j, p in enumerate(labels)}
    assert m[("PER", "PER")] == 1 and m[("LOC", "ORG")] == 1 and m[("ORG", "ORG")] == 1
    assert m[("PER", "LOC")] == 1 and m[("MISC", "O")] == 1 and m[("O", "PER")] == 1
    assert sum(map(sum, c["matrix"])) == 6


def test_report_ner_top_errors_grouped_and_ranked_with_context():
    gold = [["O", "B-LOC", "O"], ["B-LOC", "O"], ["B-PER", "O"]]
    pred = [["O", "O", "O"], ["O", "O"], ["B-ORG", "O"]]
    tokens = [["في", "غزة", "اليوم"], ["غزة", "محاصرة"], ["سامي", "قال"]]
    top = top_errors(classify_errors(gold, pred), tokens, ["d0", "d1", "d2"], k=20, window=1)
    assert [(e["kind"], e["count"], e["gold_text"]) for e in top] == [("missed", 2, "غزة"), ("wrong_type", 1, "سامي")]
    first = top[0]
    assert first["document"] == "d0" and first["gold_type"] == "LOC" and first["pred_type"] is None
    assert first["context"] == {
        "tokens": ["في", "غزة", "اليوم"],
        "gold": [1, 2],
        "pred": None,
        "truncated_left": False,
        "truncated_right": False,
    }
    assert first["context_text"] == "في [غزة] اليوم"
    assert top_errors(classify_errors(gold, pred), tokens, k=1)[0]["count"] == 2


def test_report_ner_marked_context_overlap_and_truncation():
    ctx = {"tokens": ["a", "b", "c", "d"], "gold": [1, 3], "pred": [2, 4], "truncated_left": True,
           "truncated_right": False}
    assert marked_context(ctx) == "… a [b {c] d}"


def test_report_ner_bootstrap_ci_deterministic_and_brackets_f1():
    gold = GOLD * 10
    pred = PRED * 10
    tokens = TOKENS * 10
    a = evaluate_ner_tags(gold, pred, tokens, samples=200, seed=1)
    b = evaluate_ner_tags(gold, pred, tokens, samples=200, seed=1)
    assert a["ci"] == b["ci"]
    assert a["ci"]["micro_f1"]["low"] <= a["strict"]["f1"] <= a["ci"]["micro_f1"]["high"]
    assert set(a["ci"]["per_type"]) == set(a["per_type"])
    assert a["units"] == 30 and a["tokens"] == 150


def test_report_ner_evaluate_documents_with_char_spans():
    text = "زار محمد بن سلمان مدينة الرياض"
    gold = Document(text=text, entities=[Span(4, 17, "PER"), Span(24, 30, "LOC")])
    pred = Document(text=text, entities=[Span(4, 8, "PER"), Span(24, 30, "LOC")])
    r = evaluate_ner([gold], [pred], samples=20)
    assert r["strict"]["f1"] == pytest.approx(0.5)
    assert r["errors"]["totals"]["wrong_boundary_same_type"] == 1
    assert r["top_errors"][0]["gold_text"] == "محمد بن سلمان"
    assert r["top_errors"][0]["pred_text"] == "محمد"
