"""A lexical topic model saved without pickle, for blending with a topic head (``lexical_blend``).

TF-IDF over character n-grams (``char_wb``) + one logistic regression per label, fitted with scikit-learn
(:class:`tagger.baselines.topics.TfidfTopicBaseline`, the baseline that reports compare against) and then kept as
plain arrays: the n-gram vocabulary and settings in ``lexical.json``, ``idf``, ``coef`` and ``intercept`` in
``lexical.safetensors``. Scoring is this module's numpy re-implementation of the fitted vectorizer (same
preprocessing, n-grams, sublinear tf, idf and L2 norm), so a saved model needs neither scikit-learn nor pickle to
load, and an ONNX export carries the two files and scores with them exactly as torch does.

Why a blend: on this project's data the character n-gram model is steadier across outlets (its scores need less
threshold tuning) and the encoder keeps multi-topic documents whole; their weighted mean probability is the
document score (:func:`blend_scores`), thresholded like any topic score. The lexical model scores a text whole and
paragraph by paragraph and keeps the max, so that a topic one paragraph carries survives (measured in
``benchmarks/lexical_blend.py``; scored whole, it diluted the minor topics of multi-topic documents).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.errors import ModelLoadError
from tagger.schema import Document

logger = logging.getLogger(__name__)

PARAGRAPH_WORDS = 5
LEXICAL_JSON = "lexical.json"
LEXICAL_WEIGHTS = "lexical.safetensors"
FORMAT = "tagger-lexical-topics/1"


@dataclass
class LexicalTopicModel:
    """A fitted TF-IDF (character n-grams within words) + per-label logistic regression, as arrays."""

    labels: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray  # [V]
    coef: np.ndarray  # [L, V]
    intercept: np.ndarray  # [L]
    ngram_range: tuple[int, int] = (2, 5)
    uncovered: tuple[str, ...] = ()  # labels without a positive training text: scored by the head alone
    paragraph_words: int = PARAGRAPH_WORDS  # a text's score: max over it and its lines of >= this many words (0: whole text)

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, texts: Sequence[str], label_sets: Sequence[Iterable[str]], labels: Sequence[str],
            seed: int = 0) -> LexicalTopicModel:
        """Fit on ``texts`` with their label sets (columns in ``labels`` order); scikit-learn does the fitting.
        A label without a positive text is left uncovered (:attr:`uncovered`); :class:`BaselineDataError` when no
        label has one."""
        from tagger.baselines.topics import BaselineDataError, TfidfTopicBaseline

        sets = [set(s) for s in label_sets]
        covered = [lab for lab in labels if any(lab in s for s in sets)]
        if not covered or len(texts) < 2:
            raise BaselineDataError(f"{len(texts)} texts with no positive example of any of {list(labels)}")
        base = TfidfTopicBaseline(seed=seed).fit(texts, sets, covered)
        vec, clf = base._vectorizer, base._clf
        vocabulary = {str(k): int(v) for k, v in vec.vocabulary_.items()}  # type: ignore[union-attr]
        rows = {lab: e for lab, e in zip(covered, clf.estimators_)}  # type: ignore[union-attr]
        coef = np.zeros((len(labels), len(vocabulary)), dtype=np.float32)
        intercept = np.zeros(len(labels), dtype=np.float32)
        for j, lab in enumerate(labels):
            if lab in rows:
                coef[j] = np.asarray(rows[lab].coef_, dtype=np.float32).ravel()
                intercept[j] = float(np.ravel(rows[lab].intercept_)[0])
        return cls(tuple(labels), vocabulary, np.asarray(vec.idf_, dtype=np.float32), coef, intercept,  # type: ignore[union-attr]
                   tuple(base.ngram_range), tuple(lab for lab in labels if lab not in rows))

    # ------------------------------------------------------------------ scoring
    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, values)``: the L2-normalised sublinear TF-IDF vector of ``text`` (known n-grams only)."""
        counts = Counter(i for g in char_wb_ngrams(text, self.ngram_range) if (i := self.vocabulary.get(g)) is not None)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
        vals = tf * self.idf[idx]
        return idx, (vals / np.linalg.norm(vals)).astype(np.float32)

    def logits(self, text: str) -> np.ndarray:
        """Per-label decision values ``[L]`` of one text."""
        idx, vals = self.features(text)
        return self.coef[:, idx].astype(np.float64) @ vals.astype(np.float64) + self.intercept

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Per-label probabilities ``[n, L]`` (columns in :attr:`labels` order); NaN for :attr:`uncovered` labels.

        A text is scored whole and, when it has several, paragraph by paragraph (lines of at least
        :attr:`paragraph_words` words); its score is the max. A topic that one paragraph of a multi-topic article
        carries is not diluted by the rest of the article (the head's windows do the same for long texts)."""
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        for i, text in enumerate(texts):
            parts = paragraphs(text, self.paragraph_words)
            out[i] = np.max([self.logits(p) for p in [text, *parts]], axis=0) if len(parts) > 1 else self.logits(text)
        return self._mask_uncovered((1.0 / (1.0 + np.exp(-out))).astype(np.float32))

    def subheading_scores(self, texts: Sequence[str], max_words: int) -> np.ndarray:
        """Per-label probabilities ``[n, L]`` of each text's sub-headings (:func:`subheading_items`): the max over
        its items, each scored alone. NaN where a text has no sub-heading and for :attr:`uncovered` labels, so
        that ``np.fmax`` with another score leaves that score as it is."""
        out = np.full((len(texts), len(self.labels)), np.nan, dtype=np.float64)
        for i, text in enumerate(texts):
            items = subheading_items(text, max_words)
            if items:
                out[i] = 1.0 / (1.0 + np.exp(-np.max([self.logits(x) for x in items], axis=0)))
        return self._mask_uncovered(out.astype(np.float32))

    def _mask_uncovered(self, probs: np.ndarray) -> np.ndarray:
        """``probs`` with NaN in the columns of :attr:`uncovered` labels (the head alone scores them)."""
        probs[:, [j for j, lab in enumerate(self.labels) if lab in self.uncovered]] = np.nan
        return probs

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path) -> None:
        """``lexical.json`` and ``lexical.safetensors`` in ``directory`` (which the caller stages and swaps in)."""
        from safetensors.numpy import save_file

        directory = Path(directory)
        ngrams = [""] * len(self.vocabulary)
        for g, i in self.vocabulary.items():
            ngrams[i] = g
        meta = {"format": FORMAT, "labels": list(self.labels), "ngram_range": list(self.ngram_range),
                "analyzer": "char_wb", "preprocessor": "tagger.data.weak.normalize_for_match",
                "sublinear_tf": True, "norm": "l2", "uncovered": list(self.uncovered),
                "paragraph_words": self.paragraph_words, "ngrams": ngrams}
        (directory / LEXICAL_JSON).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        save_file({"idf": self.idf, "coef": self.coef, "intercept": self.intercept}, str(directory / LEXICAL_WEIGHTS))

    @classmethod
    def load(cls, directory: str | Path, labels: Sequence[str]) -> LexicalTopicModel:
        """Read the two files; :class:`ModelLoadError` naming the file when one is missing, corrupt or does not
        fit ``labels`` (the topic head's)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        directory = Path(directory)
        meta_path, weights_path = directory / LEXICAL_JSON, directory / LEXICAL_WEIGHTS
        repair = "copy both lexical files from the directory the model was trained into, or retrain"
        for path in (meta_path, weights_path):
            if not path.is_file():
                raise ModelLoadError(f"{path}: missing; this model blends a lexical topic model (lexical_blend in "
                                     f"config.json): {repair}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            arrays = load_file(str(weights_path))
        except (ValueError, SafetensorError, OSError) as err:
            raise ModelLoadError(f"{directory}: cannot read the lexical topic model ({err}); {repair}") from None
        ngrams = meta.get("ngrams") if isinstance(meta, dict) else None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(ngrams, list):
            raise ModelLoadError(f"{meta_path}: not a lexical topic model of this library (format {FORMAT}); {repair}")
        idf, coef, intercept = arrays.get("idf"), arrays.get("coef"), arrays.get("intercept")
        n, k = len(ngrams), len(labels)
        if (idf is None or coef is None or intercept is None or idf.shape != (n,) or coef.shape != (k, n)
                or intercept.shape != (k,)):
            raise ModelLoadError(f"{weights_path}: arrays do not fit {meta_path.name} ({n} n-grams) and the topic "
                                 f"head's {k} labels; {repair}")
        if list(meta.get("labels", [])) != list(labels):
            raise ModelLoadError(f"{meta_path}: labels {meta.get('labels')} differ from the topic head's {list(labels)}; "
                                 f"{repair}")
        lo, hi = meta.get("ngram_range", [2, 5])
        return cls(tuple(labels), {g: i for i, g in enumerate(ngrams)}, idf, coef, intercept, (int(lo), int(hi)),
                   tuple(lab for lab in labels if lab in set(meta.get("uncovered", []))),
                   int(meta.get("paragraph_words", PARAGRAPH_WORDS)))


def fit_on_documents(docs: Sequence[Document], labels: Sequence[str], seed: int = 0) -> LexicalTopicModel:
    """The lexical model of a topic head trained on ``docs``: fitted on the documents labelled for every one of
    ``labels`` (soft targets count at >= 0.5). A label without a positive among them is scored by the head alone
    (a warning); :class:`tagger.data.io.DataError` when no label has one."""
    from tagger.baselines.topics import BaselineDataError
    from tagger.data.io import DataError
    from tagger.tasks.topics import topic_targets

    texts, sets = [], []
    for doc in docs:
        vec, mask = topic_targets(doc, labels)
        if all(mask) and doc.text.strip():
            texts.append(doc.text)
            sets.append({lab for lab, v in zip(labels, vec) if v >= 0.5})
    try:
        model = LexicalTopicModel.fit(texts, sets, labels, seed)
    except BaselineDataError as err:
        raise DataError(f"lexical_blend: cannot fit the lexical topic model on the {len(texts)} training documents "
                        f"labelled for every topic ({err}); add labelled documents or set lexical_blend: 0") from None
    if model.uncovered:
        logger.warning("lexical_blend: no training document labelled for every topic is positive for %s; "
                       "the head alone scores %s", list(model.uncovered), "it" if len(model.uncovered) == 1 else "them")
    logger.info("lexical topic model: %d n-grams fitted on %d training documents (lexical_blend)",
                len(model.vocabulary), len(texts))
    return model


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams inside words padded with one space, as scikit-learn's ``analyzer="char_wb"`` makes them,
    after :func:`tagger.data.weak.normalize_for_match` (the fitted vectorizer's preprocessor)."""
    from tagger.data.weak import normalize_for_match

    lo, hi = ngram_range
    out: list[str] = []
    for word in normalize_for_match(text).split():
        w = f" {word} "
        for n in range(lo, hi + 1):
            offset = 0
            out.append(w[:n])
            while offset + n < len(w):
                offset += 1
                out.append(w[offset:offset + n])
            if offset == 0:  # a word shorter than n: counted once
                break
    return out


def paragraphs(text: str, min_words: int) -> list[str]:
    """The lines of ``text`` with at least ``min_words`` words (none when ``min_words`` is 0)."""
    if min_words <= 0:
        return []
    return [line for line in text.split("\n") if len(line.split()) >= min_words]


_SENTENCE_END = re.compile(r"[.!?؟:;؛…]\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-–•*▪·]|[0-9٠-٩]+\s*[.)\-])")
_ITEM_SEPARATORS = re.compile(r"\s*[،,؛;|]\s*|\s+[-–]\s+|\.{2,}")


def subheadings(text: str, max_words: int) -> list[str]:
    """The sub-headings of ``text``: lines after its first non-empty one (the title, which the whole-text score
    already reads) with 2 to ``max_words`` words, no sentence-final punctuation and no list bullet or number.
    The topic guidelines count a topic that "a headline or sub-headline announces as a subject" even when the
    text then gives it a sentence or two; a whole-article score dilutes such a topic (the seed article announces
    space cooperation in a sub-heading only). None when ``max_words`` is 0."""
    if max_words <= 0:
        return []
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return [line for line in lines[1:]
            if 2 <= len(line.split()) <= max_words and not _SENTENCE_END.search(line) and not _LIST_ITEM.match(line)]


def subheading_items(text: str, max_words: int) -> list[str]:
    """The subjects a text's sub-headings announce: each sub-heading (:func:`subheadings`) split at commas,
    semicolons, dashes and ellipses ("talks; focus on smart government, the digital economy and space
    cooperation" -> the lead-in and three items; a sub-heading without separators is one item)."""
    return [part for line in subheadings(text, max_words) for part in _ITEM_SEPARATORS.split(line) if part.strip()]


def blend_scores(model_scores: np.ndarray, lexical_scores: np.ndarray, weight: float) -> np.ndarray:
    """The document score of a blended topic head: ``(1 - weight) * model + weight * lexical`` per label; the
    model's own score where the lexical one is NaN (a label it does not cover)."""
    mixed = (1.0 - weight) * model_scores + weight * lexical_scores
    return np.where(np.isnan(lexical_scores), model_scores, mixed).astype(np.float32)
