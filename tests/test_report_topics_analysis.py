"""Topic analysis (tagger.report.topics): F1 against threshold, error examples, CIs."""

from __future__ import annotations

import numpy as np
import pytest

from tagger.report.topics import THRESHOLD_GRID, evaluate_topics, f1_by_threshold


def test_report_topics_f1_by_threshold_hand():
    y = np.array([[1], [0], [1]])
    s = np.array([[0.9], [0.6], [0.3]])
    curve = f1_by_threshold(y, s)[0]
    at = {round(float(t), 2): f for t, f in zip(THRESHOLD_GRID, curve)}
    assert at[0.2] == pytest.approx(0.8)  # all predicted: tp 2, pred 3, gold 2
    assert at[0.5] == pytest.approx(0.5)  # tp 1, pred 2, gold 2
    assert at[0.9] == pytest.approx(2 / 3)  # inclusive threshold: tp 1, pred 1, gold 2
    assert at[0.95] == 0.0


def test_report_topics_evaluate_examples_ci_and_unknown_labels():
    labels = ["A", "B"]
    gold = [{"A"}, {"A"}, set(), set(), {"B", "Z"}]
    scores = np.array([[0.9, 0.1], [0.3, 0.2], [0.8, 0.1], [0.6, 0.2], [0.1, 0.7]])
    texts = ["نص أول", "نص ثان", "نص ثالث", "نص رابع", "نص خامس"]
    r = evaluate_topics(gold, scores, labels, {"A": 0.5, "B": 0.5}, texts, ["d0", "d1", "d2", "d3", "d4"], samples=100)
    ex = r["examples"]["A"]
    assert [e["document"] for e in ex["false_positives"]] == ["d2", "d3"]  # most confident first
    assert [e["document"] for e in ex["false_negatives"]] == ["d1"]
    assert ex["false_positives"][0]["text"] == "نص ثالث"
    assert ex["false_positives"][0]["predicted"] == ["A"]
    assert r["examples"]["B"] == {"false_positives": [], "false_negatives": []}
    assert r["unknown_gold_labels"] == {"Z": 1}
    assert r["per_label"]["A"]["best_f1"] >= r["per_label"]["A"]["f1"]
    assert r["per_label"]["B"]["best_f1"] == 1.0
    assert r["ci"]["micro_f1"]["low"] <= r["micro_f1"] <= r["ci"]["micro_f1"]["high"]
    again = evaluate_topics(gold, scores, labels, {"A": 0.5, "B": 0.5}, texts, samples=100)
    assert again["ci"] == r["ci"]
    # over the model's labels: the unknown Z does not count
    assert r["label_cardinality"] == {"gold": pytest.approx(3 / 5), "predicted": pytest.approx(4 / 5)}


def test_report_topics_best_threshold_ties_go_to_the_saved_one():
    s = np.array([[0.8], [0.2]])  # any threshold in (0.2, 0.8] is perfect
    r = evaluate_topics([{"A"}, set()], s, ["A"], {"A": 0.45}, ["x", "y"], samples=10)
    assert r["per_label"]["A"]["best_f1"] == 1.0
    assert r["per_label"]["A"]["best_threshold"] == pytest.approx(0.45)
    r = evaluate_topics([{"A"}, set()], s, ["A"], {"A": 0.9}, ["x", "y"], samples=10)
    assert r["per_label"]["A"]["best_threshold"] == pytest.approx(0.8)
