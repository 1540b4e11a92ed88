"""tagger.baselines.TfidfTopicBaseline: one score column per label, in label order, for any number of labels."""

from __future__ import annotations

import pytest

from tagger.baselines import BaselineDataError, TfidfTopicBaseline

TEXTS = [f"أطلقت وكالة الفضاء قمرا صناعيا رقم {i}" for i in range(6)] + [f"هجوم سيبراني على شبكة البنك رقم {i}" for i in range(6)]
TOPICS = [["space"]] * 6 + [["cybersecurity"]] * 6


@pytest.mark.parametrize("labels", [["space"], ["space", "cybersecurity"], ["cybersecurity", "space"]])
def test_tfidf_scores_one_column_per_label(labels):
    scores = TfidfTopicBaseline().fit(TEXTS, TOPICS, labels).scores(["صاروخ يحمل قمرا صناعيا إلى الفضاء"])
    assert scores.shape == (1, len(labels))
    assert scores[0, labels.index("space")] > 0.5


def test_tfidf_label_without_positives_is_an_error():
    with pytest.raises(BaselineDataError, match="5G"):
        TfidfTopicBaseline().fit(TEXTS, TOPICS, ["space", "5G"])
