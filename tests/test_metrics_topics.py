"""tagger.metrics.topic_metrics on a hand-computed multi-label case."""

from __future__ import annotations

import numpy as np
import pytest

from tagger.metrics import MetricsError, binarize, topic_metrics

LABELS = ["A", "B", "C"]
GOLD = [{"A"}, {"A", "B"}, set(), {"B"}]
# thresholds 0.5 -> predicted: {A}, {A}, {A}, {B, C}
SCORES = np.array(
    [
        [0.9, 0.2, 0.1],
        [0.6, 0.4, 0.45],
        [0.7, 0.1, 0.2],
        [0.2, 0.8, 0.6],
    ]
)
TH = {"A": 0.5, "B": 0.5, "C": 0.5}


def test_metrics_topics_hand_computed():
    m = topic_metrics(GOLD, SCORES, LABELS, TH)
    a, b, c = (m["per_label"][k] for k in LABELS)
    # A: tp 2, fp 1, fn 0
    assert (a["precision"], a["recall"], a["f1"], a["support"], a["predicted"]) == pytest.approx((2 / 3, 1, 0.8, 2, 3))
    # B: tp 1, fp 0, fn 1
    assert (b["precision"], b["recall"], b["f1"], b["support"]) == pytest.approx((1, 0.5, 2 / 3, 2))
    # C: no gold positives, one false positive
    assert (c["precision"], c["recall"], c["f1"], c["support"], c["predicted"]) == (0.0, 0.0, 0.0, 0, 1)
    assert a["threshold"] == 0.5
    # micro: tp 3, fp 2, fn 1
    assert m["micro_precision"] == pytest.approx(3 / 5)
    assert m["micro_recall"] == pytest.approx(3 / 4)
    assert m["micro_f1"] == pytest.approx(6 / 9)
    assert m["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0) / 3)
    assert m["hamming_loss"] == pytest.approx(3 / 12)
    assert m["subset_accuracy"] == pytest.approx(1 / 4)
    # doc1: relevant A (rank 1) and B (rank 3, C outranks it): (1/1 + 2/3) / 2; doc2 has no relevant label: 1
    assert m["label_ranking_average_precision"] == pytest.approx((1 + 5 / 6 + 1 + 1) / 4)
    # A: positives .9 .6, negatives .7 .2 -> 3 of 4 pairs ordered; AP = .5*1 + .5*(2/3)
    assert a["roc_auc"] == pytest.approx(0.75)
    assert a["pr_auc"] == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert b["roc_auc"] == pytest.approx(1.0) and b["pr_auc"] == pytest.approx(1.0)
    # a label with no positives: AUCs are undefined, not 0 or 0.5
    assert c["roc_auc"] is None and c["pr_auc"] is None
    assert m["documents"] == 4 and m["labels"] == LABELS


def test_metrics_topics_threshold_is_inclusive():
    m = topic_metrics([{"A"}], np.array([[0.5]]), ["A"], {"A": 0.5})
    assert m["per_label"]["A"]["predicted"] == 1
    assert m["micro_f1"] == 1.0


def test_metrics_topics_empty_predictions():
    gold = [{"A"}, {"B"}, set()]
    m = topic_metrics(gold, np.zeros((3, 2)), ["A", "B"], {"A": 0.5, "B": 0.5})
    assert m["micro_f1"] == 0.0 and m["macro_f1"] == 0.0
    assert m["micro_precision"] == 0.0
    assert m["hamming_loss"] == pytest.approx(2 / 6)
    assert m["subset_accuracy"] == pytest.approx(1 / 3)  # the document with no labels is exactly right


def test_metrics_topics_unknown_gold_labels_are_ignored():
    assert binarize([{"A", "Z"}], ["A", "B"]).tolist() == [[1, 0]]
    m = topic_metrics([{"A", "Z"}], np.array([[0.9, 0.1]]), ["A", "B"], {"A": 0.5, "B": 0.5})
    assert m["subset_accuracy"] == 1.0


def test_metrics_topics_no_documents():
    m = topic_metrics([], np.zeros((0, 2)), ["A", "B"], {"A": 0.5, "B": 0.5})
    assert m["micro_f1"] == 0.0 and m["per_label"]["A"]["support"] == 0 and m["per_label"]["A"]["roc_auc"] is None


def test_metrics_topics_bad_inputs_raise():
    with pytest.raises(MetricsError, match="shape"):
        topic_metrics([{"A"}], np.zeros((2, 1)), ["A"], {"A": 0.5})
    with pytest.raises(MetricsError, match="no threshold for label"):
        topic_metrics([{"A"}], np.zeros((1, 2)), ["A", "B"], {"A": 0.5})
