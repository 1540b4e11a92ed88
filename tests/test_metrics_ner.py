"""tagger.metrics.ner_metrics on small hand-computed cases (seqeval strict IOB2 and default/conlleval)."""

from __future__ import annotations

import pytest

from tagger.metrics import MetricsError, ner_metrics


def test_metrics_ner_hand_computed_micro_macro_and_per_type():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "O"]]
    m = ner_metrics(gold, pred)
    # gold: PER, LOC, ORG (3); predicted: PER, ORG@3 (2); correct: PER (1)
    s = m["strict"]
    assert (s["support"], s["predicted"], s["correct"]) == (3, 2, 1)
    assert s["precision"] == pytest.approx(1 / 2)
    assert s["recall"] == pytest.approx(1 / 3)
    assert s["f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))  # 0.4
    assert m["default"]["f1"] == pytest.approx(0.4)
    per = m["per_type"]
    assert per["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "predicted": 1, "correct": 1}
    assert per["LOC"]["support"] == 1 and per["LOC"]["predicted"] == 0 and per["LOC"]["f1"] == 0.0
    assert per["ORG"]["support"] == 1 and per["ORG"]["predicted"] == 1 and per["ORG"]["precision"] == 0.0
    assert m["macro"]["f1"] == pytest.approx(1 / 3)
    assert m["macro"]["precision"] == pytest.approx(1 / 3)
    assert m["scheme"] == "IOB2"


def test_metrics_ner_strict_drops_ill_formed_default_keeps_it():
    gold = [["B-PER", "I-PER", "O"]]
    pred = [["I-PER", "I-PER", "O"]]  # no B-: conlleval accepts it as a PER entity, strict IOB2 does not
    m = ner_metrics(gold, pred)
    assert m["default"]["f1"] == pytest.approx(1.0)
    assert m["per_type_default"]["PER"]["f1"] == pytest.approx(1.0)
    assert m["strict"]["predicted"] == 0
    assert m["strict"]["f1"] == 0.0
    assert m["per_type"]["PER"]["recall"] == 0.0


def test_metrics_ner_default_mode_splits_on_type_change():
    gold = [["B-PER", "I-LOC"]]  # conlleval: PER then LOC
    pred = [["B-PER", "B-LOC"]]
    m = ner_metrics(gold, pred)
    assert m["default"]["support"] == 2
    assert m["default"]["f1"] == pytest.approx(1.0)
    # strict: gold I-LOC after B-PER is ill-formed, so gold has only PER; predicted LOC is spurious
    assert m["strict"]["support"] == 1
    assert m["strict"]["precision"] == pytest.approx(0.5)
    assert m["strict"]["recall"] == pytest.approx(1.0)


def test_metrics_ner_empty_predictions():
    gold = [["B-PER", "I-PER", "O"], ["B-LOC"]]
    pred = [["O", "O", "O"], ["O"]]
    m = ner_metrics(gold, pred)
    for mode in ("strict", "default"):
        assert m[mode]["precision"] == 0.0 and m[mode]["recall"] == 0.0 and m[mode]["f1"] == 0.0
        assert m[mode]["predicted"] == 0 and m[mode]["support"] == 2
    assert set(m["per_type"]) == {"LOC", "PER"}
    assert m["macro"]["f1"] == 0.0


def test_metrics_ner_no_gold_entities():
    gold = [["O", "O"], ["O"]]
    pred = [["B-MISC", "O"], ["O"]]
    m = ner_metrics(gold, pred)
    assert m["strict"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 1, "correct": 0}
    assert m["per_type"]["MISC"]["support"] == 0
    assert m["per_type"]["MISC"]["predicted"] == 1


def test_metrics_ner_nothing_at_all_is_zero_not_nan():
    for gold, pred in (([["O"]], [["O"]]), ([], [])):
        m = ner_metrics(gold, pred)
        assert m["strict"]["f1"] == 0.0 and m["default"]["f1"] == 0.0
        assert m["per_type"] == {}
        assert m["macro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_metrics_ner_perfect():
    gold = [["B-ORG", "I-ORG", "O", "B-PER"]]
    m = ner_metrics(gold, [list(gold[0])])
    assert m["strict"]["f1"] == 1.0 and m["macro"]["f1"] == 1.0


@pytest.mark.parametrize(
    ("gold", "pred", "msg"),
    [
        ([["O"]], [], "1 sequences but predictions have 0"),
        ([["O", "O"]], [["O"]], "sequence 0: gold has 2 tags but prediction has 1"),
    ],
)
def test_metrics_ner_mismatched_lengths_raise(gold, pred, msg):
    with pytest.raises(MetricsError, match=msg):
        ner_metrics(gold, pred)
