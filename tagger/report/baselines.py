"""Reference baselines for evaluation reports, trained on the models' training data: a CRF for NER
(:mod:`tagger.baselines.crf`) and TF-IDF + logistic regression for topics (:mod:`tagger.baselines.topics`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from tagger.report.data import EvalData, SystemPredictions, prepare_data

logger = logging.getLogger(__name__)


def baseline_systems(data: EvalData, train: str, topic_labels: Sequence[str] | None) -> list[SystemPredictions]:
    """Train the reference baselines on ``train`` and predict ``data``: CRF for NER, TF-IDF + LR for topics.

    Topic baselines use the first model's label set (else the training data's) and the baseline's
    ``thresholds`` attribute when it has one, else 0.5 for every label (said in the system's notes).
    """
    from tagger.data.io import read_documents

    train_data = prepare_data(read_documents(train))
    out: list[SystemPredictions] = []
    if data.has_ner and train_data.has_ner:
        from tagger.baselines import CrfNerBaseline

        crf = CrfNerBaseline().fit(train_data.norm_tokens, train_data.gold_tags)
        out.append(
            SystemPredictions(
                name="CRF baseline",
                kind="baseline",
                source=f"sklearn-crfsuite, word/affix/clitic features, trained on {train}",
                ner_tags=crf.predict(data.norm_tokens),
            )
        )
    elif data.has_ner:
        logger.warning("%s has no entity annotations: no NER baseline", train)
    if data.has_topics and train_data.has_topics:
        try:
            from tagger.baselines import TfidfTopicBaseline
        except ImportError:
            logger.warning("tagger.baselines.TfidfTopicBaseline is not available: no topic baseline")
            return out
        docs = [train_data.docs[i] for i in train_data.topic_docs]
        labels = list(topic_labels) if topic_labels else sorted({t for d in docs for t in d.topics or ()})
        model = TfidfTopicBaseline()
        model.fit([d.text for d in docs], [set(d.topics or ()) for d in docs], labels)
        scores = np.asarray(model.scores([data.docs[i].text for i in data.topic_docs]), dtype=float)
        saved = getattr(model, "thresholds", None)
        notes = [] if saved else ["threshold 0.5 for every label (the baseline has no tuned thresholds)"]
        thresholds = {lab: float(saved.get(lab, 0.5)) if saved else 0.5 for lab in labels}
        out.append(
            SystemPredictions(
                name="TF-IDF+LR baseline",
                kind="baseline",
                source=f"TF-IDF + logistic regression, trained on {train}",
                topic_scores=scores,
                topic_labels=labels,
                thresholds=thresholds,
                notes=notes,
            )
        )
    elif data.has_topics:
        logger.warning("%s has no topic annotations: no topic baseline", train)
    return out
