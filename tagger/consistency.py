"""Document-level label consistency for NER: a name the model tagged once is tagged wherever it recurs.

News repeats names: an article about a meeting names ``إيران`` seven times and its minister four times, and a
token classifier that sees each mention in a different context finds some of them only. This step (opt-in with
``entity_consistency``, saved with the model) adds the missing repeats:

* every predicted entity gives a key: its normalised words (tashkeel, tatweel and the like removed);
* a key qualifies when its label is the majority label of its mentions, it is at least ``MIN_CHARS`` letters
  long and its mentions' mean score is at least ``MIN_SCORE``;
* every other occurrence of the key's words in the document (word for word; the first word may carry a glued
  proclitic و/ف/ب/ك/ل, which stays outside the span as the clitic policy says) that overlaps no entity becomes
  an entity with the key's label and the mean score of its mentions, longest keys first.

Offsets stay exact: a new entity's text is ``original[start:end]``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from tagger.arabic import is_proclitic_prefix
from tagger.config import NormalizationConfig
from tagger.schema import Entity
from tagger.text import normalize

MIN_CHARS = 3
MIN_SCORE = 0.5


def propagate_entities(
    text: str, word_spans: Sequence[tuple[int, int]], entities: Sequence[Entity], cfg: NormalizationConfig
) -> tuple[Entity, ...]:
    """``entities`` plus the unmarked repeats of their names in ``text`` (sorted by start; see the module doc)."""
    if not entities:
        return tuple(entities)
    words = [normalize(text[s:e], cfg).text for s, e in word_spans]
    keys = _qualified_keys(entities, cfg)
    if not keys:
        return tuple(entities)
    taken = [False] * len(word_spans)
    for ent in entities:
        for k, (s, e) in enumerate(word_spans):
            if s < ent.end and ent.start < e:
                taken[k] = True
    added: list[Entity] = []
    for key, (label, score) in sorted(keys.items(), key=lambda kv: -len(kv[0])):
        n = len(key)
        for i in range(len(words) - n + 1):
            if any(taken[i : i + n]) or words[i + 1 : i + n] != list(key[1:]):
                continue
            first = words[i]
            if first != key[0] and not (first.endswith(key[0]) and is_proclitic_prefix(first[: -len(key[0])])):
                continue
            start = _start_after(text, word_spans[i], len(first) - len(key[0]), cfg)
            end = word_spans[i + n - 1][1]
            added.append(Entity(text[start:end], label, start, end, score))
            taken[i : i + n] = [True] * n
    return tuple(sorted([*entities, *added], key=lambda e: (e.start, e.end)))


def _qualified_keys(entities: Sequence[Entity], cfg: NormalizationConfig) -> dict[tuple[str, ...], tuple[str, float]]:
    labels: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    scores: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for ent in entities:
        key = tuple(normalize(ent.text, cfg).text.split())
        if key:
            labels[key][ent.label] += 1
            scores[key].append(ent.score)
    out = {}
    for key, votes in labels.items():
        (label, top), *rest = votes.most_common()
        mean = sum(scores[key]) / len(scores[key])
        letters = sum(ch.isalpha() for ch in "".join(key))
        if (not rest or rest[0][1] < top) and letters >= MIN_CHARS and mean >= MIN_SCORE:
            out[key] = (label, mean)
    return out


def _start_after(text: str, span: tuple[int, int], prefix: int, cfg: NormalizationConfig) -> int:
    """Original offset of normalised character ``prefix`` of the word at ``span`` (past a glued proclitic)."""
    if prefix == 0:
        return span[0]
    norm = normalize(text[span[0] : span[1]], cfg)
    return span[0] + norm.starts[prefix]
