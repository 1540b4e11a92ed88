"""Classical reference systems, trained on the same data as the transformer: one of each kind.

* :mod:`~tagger.baselines.crf`: a linear-chain CRF for NER (word, affix and Arabic clitic features). Used by
  evaluation reports (``tagger eval --baselines``) and by ``benchmarks/ner_anercorp.py``.
* :mod:`~tagger.baselines.topics`: TF-IDF char n-grams + logistic regression, and the weak rules as a classifier,
  for topics.
"""

from __future__ import annotations

from tagger.baselines.crf import CrfError, CrfNerBaseline
from tagger.baselines.topics import BaselineDataError, BaselineNotFittedError, RuleTopicBaseline, TfidfTopicBaseline

__all__ = [
    "BaselineDataError",
    "BaselineNotFittedError",
    "CrfError",
    "CrfNerBaseline",
    "RuleTopicBaseline",
    "TfidfTopicBaseline",
]
