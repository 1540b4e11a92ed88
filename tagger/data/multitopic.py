"""Composed multi-topic documents: real single-topic paragraphs joined into documents on 2-4 topics.

A ministers' meeting, a policy round-up or a conference report covers several topics, one per paragraph or
two. Dev sets of whole news articles hardly contain such documents (4 of the 510 gold dev documents carry two
topics), so they cannot show whether a model keeps a topic that only one paragraph carries. This module builds
such documents from labelled single-topic texts; :mod:`benchmarks.multitopic` scores models on them.

Contract of :func:`compose_documents`:

* every composed document joins ``min_topics``..``max_topics`` paragraphs on pairwise different topics, plus,
  with probability ``filler_share``, one paragraph on none of the topics, in a random order, separated by a
  blank line; its gold topics are exactly the union of its paragraphs' topics;
* a paragraph is used at most once in the whole set (so each composed document is new text for a model that
  has not seen its parts together); composition stops when no further document can be made;
* the result depends only on the inputs and ``seed``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tagger.align import EncodedDoc
from tagger.errors import DataError

MIX_PARTS = ("leads", "paragraphs")


@dataclass(frozen=True)
class Paragraph:
    """One single-topic (or, for fillers, no-topic) text and where it came from."""

    text: str
    topic: str | None
    source: str


def single_topic_paragraphs(records: Sequence[Mapping], where: str) -> tuple[dict[str, list[Paragraph]], list[Paragraph]]:
    """Split JSONL-style records (``text``, ``topics``, optional ``id``) into paragraphs per topic and fillers.

    Records with exactly one topic become that topic's paragraphs, records with ``"topics": []`` fillers;
    records with several topics (or no ``topics`` key) are skipped: their parts cannot be told apart.
    """
    by_topic: dict[str, list[Paragraph]] = {}
    fillers: list[Paragraph] = []
    for k, rec in enumerate(records):
        text, topics = rec.get("text"), rec.get("topics")
        if not isinstance(text, str) or not text.strip() or topics is None:
            continue
        source = f"{where}#{rec.get('id', k)}"
        if len(topics) == 1:
            by_topic.setdefault(topics[0], []).append(Paragraph(text.strip(), topics[0], source))
        elif not topics:
            fillers.append(Paragraph(text.strip(), None, source))
    return by_topic, fillers


def compose_documents(
    by_topic: Mapping[str, Sequence[Paragraph]],
    fillers: Sequence[Paragraph] = (),
    *,
    n: int = 200,
    min_topics: int = 2,
    max_topics: int = 4,
    filler_share: float = 0.3,
    seed: int = 0,
) -> list[dict]:
    """Up to ``n`` composed documents ``{"id", "text", "topics", "parts"}`` (see the module docstring)."""
    if not 2 <= min_topics <= max_topics:
        raise DataError(f"need 2 <= min_topics <= max_topics, got {min_topics}, {max_topics}")
    topics = sorted(t for t, ps in by_topic.items() if ps)
    if len(topics) < min_topics:
        raise DataError(f"composing needs paragraphs on at least {min_topics} topics, got {topics}")
    rng = random.Random(seed)
    pools = {t: rng.sample(list(by_topic[t]), len(by_topic[t])) for t in topics}
    spare = rng.sample(list(fillers), len(fillers))
    docs: list[dict] = []
    while len(docs) < n:
        left = [t for t in topics if pools[t]]
        if len(left) < min_topics:
            break
        k = rng.randint(min_topics, min(max_topics, len(left)))
        # favour the topics with most paragraphs left, so scarce topics are spread over the whole set
        weights = [len(pools[t]) for t in left]
        chosen: list[str] = []
        while len(chosen) < k:
            t = rng.choices(left, weights)[0]
            if t not in chosen:
                chosen.append(t)
        parts = [pools[t].pop() for t in chosen]
        if spare and rng.random() < filler_share:
            parts.append(spare.pop())
        rng.shuffle(parts)
        docs.append({
            "id": f"composed-{len(docs):04d}",
            "text": "\n\n".join(p.text for p in parts),
            "topics": sorted(chosen),
            "parts": [p.source for p in parts],
        })
    return docs


def mixed_windows(
    encoded: Sequence[EncodedDoc],
    targets: Sequence[Sequence[float]],
    *,
    n: int,
    max_length: int,
    cls_id: int,
    sep_id: int,
    seed: int = 0,
    positive_share: float = 0.75,
    parts: str = "leads",
) -> list[dict]:
    """``n`` composed training windows for a topic head (``mix_documents`` in the training config).

    Each joins one part of each of 2 or 3 training documents into one window of at most ``max_length``
    sub-tokens, cut at word starts; its target is the union (element-wise max) of the parts' targets. A part is
    drawn from the documents with a topic with probability ``positive_share``, otherwise from those without.
    The model so sees documents where one paragraph carries a topic and the others do not, which whole news
    articles rarely show.

    ``parts`` (``mix_parts`` in the config): ``"leads"``: a part is the document's lead (title and first
    sentences: the part of a news document that carries its topic); ``"paragraphs"``: half of the parts are
    leads, the others start at a random later paragraph (a gap of two or more characters between words, e.g. a
    blank line), so a topic is also carried by a paragraph in the middle of a window, as in a ministers'
    meeting or a round-up, not only by a lead.
    """
    if parts not in MIX_PARTS:
        raise DataError(f"mix_parts must be one of {MIX_PARTS}, got {parts!r}")
    rng = random.Random(seed)
    usable = [i for i, enc in enumerate(encoded) if enc.input_ids]
    positives = [i for i in usable if any(targets[i])]
    negatives = [i for i in usable if not any(targets[i])]
    if not positives:
        return []
    out: list[dict] = []
    for _ in range(n):
        k = rng.choice((2, 3))
        budget = (max_length - 2) // k
        picks = [rng.choice(positives if not negatives or rng.random() < positive_share else negatives) for _ in range(k)]
        ids: list[int] = []
        vec = [0.0] * len(targets[0])
        for i in picks:
            start = 0
            if parts == "paragraphs" and rng.random() < 0.5:
                starts = paragraph_starts(encoded[i])
                start = rng.choice(starts[1:]) if len(starts) > 1 else 0
            ids.extend(_lead(encoded[i], budget, start))
            vec = [max(a, b) for a, b in zip(vec, targets[i])]
        out.append({"input_ids": [cls_id, *ids, sep_id], "labels": vec})
    return out


def paragraph_starts(enc: EncodedDoc) -> list[int]:
    """Sub-token index of the first word of each paragraph: the document start and every word that follows a gap
    of two or more characters (a line break plus indentation, a blank line) after the previous word."""
    starts = [0]
    for w in range(1, len(enc.word_spans)):
        if enc.word_spans[w][0] - enc.word_spans[w - 1][1] >= 2 and enc.first_subtoken[w] > 0:
            starts.append(enc.first_subtoken[w])
    return starts


def _lead(enc: EncodedDoc, budget: int, start: int = 0) -> tuple[int, ...]:
    """At most ``budget`` sub-tokens of a document from sub-token ``start`` (a word start), cut at a word start
    when the rest is longer."""
    ids = enc.input_ids
    if len(ids) - start <= budget:
        return ids[start:]
    cut = enc.first_subtoken[enc.word_ids[start + budget]]
    return ids[start: cut if cut > start else start + budget]
