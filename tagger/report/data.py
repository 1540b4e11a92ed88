"""What an evaluation scores: the gold data (with the words every system is scored on) and each system's
predictions. Shared by :mod:`tagger.report.run` and :mod:`tagger.report.baselines`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tagger.align import document_words, entities_to_tags
from tagger.config import NormalizationConfig
from tagger.schema import Document


@dataclass
class EvalData:
    """Gold documents plus the words every system is scored on (CoNLL tokens, else pre-tokenised words)."""

    docs: list[Document]
    words: list[list[tuple[int, int]]]  # original character spans
    tokens: list[list[str]]  # surface strings of ``words`` (for contexts)
    norm_tokens: list[list[str]]  # normalised strings (features for the CRF baseline)
    has_ner: bool
    topic_docs: list[int]  # indices of documents that carry topic annotations

    @property
    def gold_tags(self) -> list[list[str]]:
        return [entities_to_tags(w, d.entities) for w, d in zip(self.words, self.docs)]

    @property
    def has_topics(self) -> bool:
        return bool(self.topic_docs)


@dataclass
class SystemPredictions:
    """One system's output on :class:`EvalData`: word-level IOB2 tags and/or raw topic scores."""

    name: str
    kind: str = "model"  # "model" or "baseline"
    source: str = ""
    ner_tags: list[list[str]] | None = None  # one per document, aligned with EvalData.words
    topic_scores: np.ndarray | None = None  # [len(EvalData.topic_docs), len(topic_labels)]
    topic_labels: list[str] | None = None
    thresholds: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)
    ner_labels: list[str] | None = None  # the entity types the model knows (None: not said)
    threshold_support: dict[str, dict] | None = None  # label -> {"positives", "source"} behind each threshold


def prepare_data(docs: Sequence[Document], cfg: NormalizationConfig | None = None) -> EvalData:
    """Words per document and which annotations the data has.

    NER annotations are assumed present when the data is CoNLL (documents carry ``words``) or any document has
    an entity: a JSONL file of topics alone has no entity lists, and scoring NER against it would be nonsense.
    """
    cfg = cfg or NormalizationConfig()
    words, tokens, norm = [], [], []
    for doc in docs:
        spans, strings = document_words(doc, cfg)
        words.append(list(spans))
        tokens.append([doc.text[s:e] for s, e in spans])
        norm.append(list(strings))
    has_ner = any(d.words is not None for d in docs) or any(d.entities for d in docs)
    topic_docs = [i for i, d in enumerate(docs) if d.topics is not None]
    return EvalData(list(docs), words, tokens, norm, has_ner, topic_docs)
