"""How unsure the current model is about each pool document (uncertainty sampling for its existing labels).

Every measure is a *certainty* >= 0: 0 = a coin flip, smaller = more uncertain = annotated first.

* topics: the distance of the document's score to its label's saved threshold, for the label where it is
  nearest, measured in logit space: ``min over labels of |logit(score) - logit(threshold)|``. In probability
  space a label whose tuned threshold is near 0 or 1 (the quickstart model's ``cybersecurity``: 0.05) would make
  every confident negative look unsure (score 0.0 is only 0.05 from it) and swamp the other labels; in logit
  space a distance means the same for every label. The details carry the label, its score and threshold.
* NER: the mean, over the document's words, of the margin between the two most probable tags (softmax of the
  word's merged window logits, the logits the decoder sees), in [0, 1]. The mean, not the minimum: a long
  article nearly always has one word with a tie somewhere, so the minimum would rank by length; the mean
  favours documents dense in unsure decisions (many names, hard ones). The details name the least confident
  word (``word``, ``start``, ``end``, ``word_margin``) to show the annotator.
* a model with both heads (joint, or a bundle): each certainty is turned into its rank fraction among the
  documents ranked (0 = the most uncertain, 1 = the least) and the document takes the smaller of the two: it is
  picked when either head is unsure about it, and neither head's scale swamps the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tagger.decode import merge_windows
from tagger.schema import Document

CHUNK = 256  # documents per model pass: bounds the window outputs held at once


@dataclass
class Certainty:
    """Per-document certainty (``values``; smaller = more uncertain) and what it is made of (``details``)."""

    values: np.ndarray
    details: list[dict[str, Any]] = field(default_factory=list)


def topic_distance(scores: np.ndarray, labels: Sequence[str], thresholds: dict[str, float]) -> Certainty:
    """``min over labels of |logit(score) - logit(threshold)|`` per row of ``scores`` ``[docs, labels]`` (a label
    without a saved threshold uses 0.5; probabilities are clipped to [1e-6, 1 - 1e-6]); details: the nearest
    label, its score and threshold."""
    scores = np.asarray(scores, dtype=np.float64).reshape(len(scores), len(labels))
    if not len(labels):
        return Certainty(np.full(len(scores), np.inf), [{} for _ in range(len(scores))])
    cut = np.array([float(thresholds.get(lab, 0.5)) for lab in labels])
    gap = np.abs(_logit(scores) - _logit(cut))
    nearest = gap.argmin(axis=1)
    values = gap[np.arange(len(scores)), nearest]
    details = [{"topic_distance": round(float(values[i]), 6), "label": labels[k], "score": round(float(scores[i, k]), 6),
                "threshold": round(float(cut[k]), 6)} for i, k in enumerate(nearest)]
    return Certainty(values, details)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


def word_margins(logits: np.ndarray) -> np.ndarray:
    """``p1 - p2`` per row of word logits ``[words, tags]`` (softmax probabilities of the two best tags)."""
    if logits.shape[0] == 0:
        return np.zeros(0)
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    if p.shape[1] < 2:
        return np.ones(p.shape[0])
    top = np.sort(p, axis=1)[:, -2:]
    return top[:, 1] - top[:, 0]


def ner_margin(docs: Sequence[Document], encoded: Sequence[Any], windows: Sequence[Any],
               outputs: Sequence[np.ndarray]) -> Certainty:
    """The mean top-2 margin of the words of each document, from the NER windows of ``Tagger._outputs``
    (a document without words gets 1.0: nothing to be unsure about); details name the least confident word."""
    by_doc: dict[int, list[int]] = {}
    for j, w in enumerate(windows):
        by_doc.setdefault(w.doc, []).append(j)
    values = np.ones(len(docs))
    details: list[dict[str, Any]] = [{"ner_margin": 1.0} for _ in docs]
    for i, js in by_doc.items():
        enc = encoded[i]
        logits = merge_windows(len(enc.word_spans), enc.first_subtoken,
                               [(windows[j].start, windows[j].end) for j in js], [outputs[j] for j in js])
        margins = word_margins(logits)
        if not len(margins):
            continue
        k = int(margins.argmin())
        start, end = enc.word_spans[k]
        values[i] = float(margins.mean())
        details[i] = {"ner_margin": round(float(values[i]), 6), "word": docs[i].text[start:end], "start": int(start),
                      "end": int(end), "word_margin": round(float(margins[k]), 6)}
    return Certainty(values, details)


def rank_fraction(values: np.ndarray) -> np.ndarray:
    """Each value's rank in ``values`` as a fraction in [0, 1] (0 = smallest; ties by position)."""
    n = len(values)
    order = np.lexsort((np.arange(n), values))
    out = np.zeros(n)
    out[order] = np.arange(n) / max(n - 1, 1)
    return out


def model_certainty(tagger: Any, texts: Sequence[str]) -> Certainty:
    """Certainty of ``tagger`` about each text (module docstring); for a topics-only model the topic distance, for
    an NER-only model the word margin, for both the smaller rank fraction (details carry both raw values)."""
    if not len(texts):
        return Certainty(np.zeros(0), [])
    topic_parts: list[Certainty] = []
    ner_parts: list[Certainty] = []
    for pos in range(0, len(texts), CHUNK):
        chunk = list(texts[pos : pos + CHUNK])
        if tagger.has_topics and not tagger.has_ner:
            topic_parts.append(topic_distance(tagger.topic_scores(chunk), tagger.topic_labels, tagger.thresholds))
            continue
        from tagger.tasks.topics import document_topic_scores

        docs = [Document(text=t) for t in chunk]
        runs = tagger._outputs(docs, ["ner", "topics"] if tagger.has_topics else ["ner"])
        ner_parts.append(ner_margin(docs, *runs["ner"]))
        if tagger.has_topics:
            scores = document_topic_scores(tagger.topics, docs, *runs["topics"][1:])
            topic_parts.append(topic_distance(scores, tagger.topic_labels, tagger.thresholds))
    topics = _concat(topic_parts)
    ner = _concat(ner_parts)
    if topics is None or ner is None:
        result = topics or ner
        assert result is not None
        return result
    both = np.minimum(rank_fraction(topics.values), rank_fraction(ner.values))
    details = [{"combined": "min rank fraction", **t, **m} for t, m in zip(topics.details, ner.details)]
    return Certainty(both, details)


def _concat(parts: list[Certainty]) -> Certainty | None:
    if not parts:
        return None
    return Certainty(np.concatenate([p.values for p in parts]), [d for p in parts for d in p.details])
