"""topic_metrics with one label: scikit-learn reads a one-column indicator as a binary target (it scored the
negative class: support = number of negatives); the counts are now taken per column."""

import numpy as np
import pytest

from tagger.metrics import topic_metrics


def test_topic_metrics_one_label_scores_the_positive_class():
    gold = [{"space"}, {"space"}, set(), set(), set(), {"space"}]
    scores = np.array([[0.9], [0.2], [0.8], [0.1], [0.3], [0.7]])
    m = topic_metrics(gold, scores, ["space"], {"space": 0.5})
    row = m["per_label"]["space"]
    assert row["support"] == 3 and row["predicted"] == 3
    assert row["precision"] == pytest.approx(2 / 3) and row["recall"] == pytest.approx(2 / 3)
    assert m["micro_f1"] == pytest.approx(2 / 3) and m["macro_f1"] == pytest.approx(2 / 3)


def test_topic_metrics_several_labels_unchanged():
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    rng = np.random.default_rng(0)
    labels = ["a", "b", "c"]
    y = rng.random((50, 3)) < 0.3
    scores = rng.random((50, 3))
    gold = [{lab for lab, on in zip(labels, row) if on} for row in y]
    m = topic_metrics(gold, scores, labels, {"a": 0.5, "b": 0.4, "c": 0.7})
    pred = scores >= np.array([0.5, 0.4, 0.7])
    p, r, f, s = precision_recall_fscore_support(y, pred, average=None, zero_division=0)
    for j, lab in enumerate(labels):
        assert m["per_label"][lab]["f1"] == pytest.approx(f[j]) and m["per_label"][lab]["support"] == s[j]
    assert m["micro_f1"] == pytest.approx(f1_score(y, pred, average="micro", zero_division=0))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))
