"""Typed records that flow through the library: gold documents and predictions.

Every offset is a character offset into the caller's ORIGINAL string, end exclusive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ENTITY_LABELS: tuple[str, ...] = ("LOC", "MISC", "ORG", "PER")
DEFAULT_TOPICS: tuple[str, ...] = ("5G", "cybersecurity", "e-government", "space")


@dataclass(frozen=True)
class Span:
    """A gold (or predicted) labelled character span ``text[start:end]``."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Entity:
    """A predicted named entity; ``text == original[start:end]`` always holds."""

    text: str
    label: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class TopicPrediction:
    """Every label's document score and the labels at or above their thresholds."""

    labels: tuple[str, ...]
    scores: Mapping[str, float]
    thresholds: Mapping[str, float]


@dataclass(frozen=True)
class Prediction:
    """What ``Tagger.predict`` returns for one input text."""

    text: str
    entities: tuple[Entity, ...] = ()
    topics: TopicPrediction | None = None

    def to_dict(self) -> dict:
        out: dict = {
            "text": self.text,
            "entities": [
                {"text": e.text, "label": e.label, "start": e.start, "end": e.end, "score": round(e.score, 6)}
                for e in self.entities
            ],
        }
        if self.topics is not None:
            out["topics"] = list(self.topics.labels)
            out["topic_scores"] = {k: round(v, 6) for k, v in self.topics.scores.items()}
        return out


@dataclass
class Document:
    """One annotated text, as the readers produce it.

    ``words`` are optional pre-split word spans (CoNLL input keeps its tokenisation); when absent the
    text is split by :func:`tagger.text.pretokenize`. ``source`` is ``path:line`` for error messages.
    """

    text: str
    entities: list[Span] = field(default_factory=list)
    topics: list[str] | None = None
    id: str | None = None
    words: list[tuple[int, int]] | None = None
    source: str = "<memory>"
    # training only: per-label topic targets in [0, 1] that replace ``topics`` (soft targets from an older model
    # under rehearsal); a label missing from the mapping is not trained on this document. None: from ``topics``.
    topic_targets: dict[str, float] | None = None
