"""Reference topic baselines: weak rules applied directly, and TF-IDF char n-grams + logistic regression.

Both expose ``labels`` and ``scores(texts) -> np.ndarray [n, L]`` (columns in ``labels`` order) so reports can
threshold and score them exactly like a fine-tuned model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tagger.data.weak import DEFAULT_LABELS, WeakLabeler
from tagger.errors import TaggerError


class BaselineNotFittedError(TaggerError, RuntimeError):
    """``scores`` was called before ``fit``."""


class BaselineDataError(TaggerError, ValueError):
    """Training data cannot fit the baseline (e.g. a label with no positive example)."""


@dataclass
class TfidfTopicBaseline:
    """TF-IDF over character n-grams (``char_wb``, 2-5) + one-vs-rest logistic regression."""

    ngram_range: tuple[int, int] = (2, 5)
    max_features: int | None = 200_000
    C: float = 4.0
    class_weight: str | None = "balanced"
    seed: int = 0
    labels: tuple[str, ...] = ()
    _vectorizer: object | None = field(default=None, repr=False)
    _clf: object | None = field(default=None, repr=False)

    def fit(
        self, texts: Sequence[str], label_sets: Sequence[Iterable[str]], labels: Sequence[str] | None = None
    ) -> TfidfTopicBaseline:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        from tagger.data.weak import normalize_for_match

        sets = [set(s) for s in label_sets]
        if len(sets) != len(texts):
            raise BaselineDataError(f"fit got {len(texts)} texts but {len(sets)} label sets")
        self.labels = tuple(labels) if labels is not None else tuple(sorted(set().union(*sets)))
        y = np.array([[lab in s for lab in self.labels] for s in sets], dtype=int)
        missing = [lab for j, lab in enumerate(self.labels) if y[:, j].sum() == 0]
        if missing:
            raise BaselineDataError(f"no positive training example for label(s) {missing}; add data or drop them")
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=self.ngram_range, max_features=self.max_features,
            sublinear_tf=True, min_df=2, preprocessor=normalize_for_match,
        )
        x = self._vectorizer.fit_transform(texts)
        lr = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000, random_state=self.seed)
        self._clf = OneVsRestClassifier(lr).fit(x, y)
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        if self._vectorizer is None or self._clf is None:
            raise BaselineNotFittedError("TfidfTopicBaseline.scores called before fit(texts, label_sets, labels)")
        proba = np.asarray(self._clf.predict_proba(self._vectorizer.transform(texts)), dtype=float)
        if len(self.labels) == 1 and proba.shape[1] == 2:  # one label: sklearn fits a binary task, (P(0), P(1))
            proba = proba[:, 1:]
        return proba


@dataclass
class RuleTopicBaseline:
    """The weak rules of :mod:`tagger.data.weak` as a classifier: score 1.0 for an assigned label, else 0.0."""

    labels: tuple[str, ...] = DEFAULT_LABELS
    labeler: WeakLabeler | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.labeler is None:
            self.labeler = WeakLabeler(self.labels)

    def fit(self, *_args: object, **_kwargs: object) -> RuleTopicBaseline:
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        assert self.labeler is not None
        out = np.zeros((len(texts), len(self.labels)), dtype=float)
        for i, text in enumerate(texts):
            assigned = set(self.labeler.label(text).labels)
            out[i] = [lab in assigned for lab in self.labels]
        return out
