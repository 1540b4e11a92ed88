"""Choosing which pool documents to annotate next: :func:`suggest` and :class:`Suggestion`.

Two modes:

* **a new label** (``examples`` and/or ``terms``): the documents most similar to them (:mod:`.similarity`),
  reason ``"similar"``;
* **the model's own labels** (neither): the documents the model is least sure about (:mod:`.uncertainty`),
  reason ``"uncertain"``.

In both, ``round(n * random_share)`` of the ``n`` documents are drawn uniformly from the pool instead (reason
``"random"``): for a new label they are the real negatives the annotator confirms (a classifier trained only on
look-alikes learns nothing about the rest of the pool), for uncertainty sampling they keep the sample honest.

Rules, in this order: whitespace-only documents, later exact copies of a document (after normalisation) and
copies of an example are never suggested; the ranked documents are taken best first, then the random ones in
the order of a permutation drawn with ``seed``; a document whose char n-gram cosine with one already chosen is
``>= dedup`` is skipped (a near-duplicate), and none is chosen twice. Ties are broken by pool order, so the
result is a function of the inputs and ``seed``. In the output the random documents are spread evenly among the
ranked ones (not appended at the end), so that the annotator cannot tell them by position; ``rank`` is the
1-based position. When the pool has fewer usable documents than ``n``, all of them are returned.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tagger.config import NormalizationConfig
from tagger.errors import ConfigError, DataError
from tagger.suggest.pool import PoolRecord, as_records
from tagger.suggest.similarity import (
    centroid_cosine,
    char_vectors,
    check_method,
    encoder_scores,
    load_encoder,
    normalized,
)
from tagger.suggest.uncertainty import model_certainty

logger = logging.getLogger(__name__)

REASONS = ("similar", "uncertain", "random")


@dataclass(frozen=True)
class Suggestion:
    """One document to annotate.

    ``index``: its position in the pool; ``reason``: ``similar``, ``uncertain`` or ``random``; ``score``: its
    similarity to the new label's examples/terms (higher = more similar) or the model's certainty about it
    (smaller = more uncertain; see :mod:`tagger.suggest.uncertainty`), for a random document too; ``rank``: the
    1-based position in the suggestion list; ``detail``: what the score is made of (nearest label and its
    threshold, least confident word...).
    """

    index: int
    id: str
    text: str
    reason: str
    score: float
    rank: int = 0
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rank": self.rank, "id": self.id, "index": self.index, "reason": self.reason,
                               "score": round(float(self.score), 6)}
        if self.detail:
            out["detail"] = dict(self.detail)
        out["text"] = self.text
        return out


def suggest(
    source: Any,
    pool: Iterable[Any],
    *,
    n: int,
    label: str | None = None,
    examples: Sequence[Any] | None = None,
    terms: Sequence[str] | None = None,
    method: str = "char",
    random_share: float = 0.2,
    dedup: float | None = 0.9,
    seed: int = 0,
) -> list[Suggestion]:
    """Up to ``n`` pool documents to annotate next, in rank order (module docstring).

    ``source``: a :class:`~tagger.predict.Tagger` or a model directory (a bundle too); for a new label with the
    ``char`` method only its normalisation is read (``None``: the default normalisation), the ``encoder`` method
    also takes any transformers encoder directory. ``pool``: texts, ``{"text", "id"?}`` mappings, Documents or
    :class:`PoolRecord` (see :func:`tagger.suggest.read_pool`). ``label``: the new label's name (recorded in the
    output; ranking needs ``examples``, texts or records, and/or ``terms``). ``dedup``: the near-duplicate
    cosine (``None``: exact duplicates only).
    """
    check_options(n, random_share, dedup, method)
    records = as_records(pool)
    queries = [_text_of(e, i) for i, e in enumerate(examples or [])]
    n_examples = len(queries)
    queries += [t.strip() for t in (terms or []) if isinstance(t, str) and t.strip()]
    similar = bool(queries) or label is not None
    if label is not None and not queries:
        raise ConfigError(f"the new label {label!r} needs example texts (--examples FILE) or seed terms (--terms ...) "
                          "to rank the pool by")
    if not records:
        raise DataError("the pool is empty; give at least one document")

    norm = _norm_of(source, need_model=not similar or method == "encoder")
    norm_texts = [t.strip() for t in normalized([r.text for r in records], norm)]
    example_keys = set(normalized(queries[:n_examples], norm)) if n_examples else set()
    candidates = _candidates(norm_texts, {k.strip() for k in example_keys})
    if not candidates:
        raise DataError(f"the pool has no document to suggest: its {len(records)} documents are empty or copies of "
                        "the examples")

    cand_norm = [norm_texts[i] for i in candidates]
    vectors: Any = None
    if similar:
        reason = "similar"
        if method == "char":
            matrix = char_vectors(cand_norm, normalized(queries, norm))
            vectors = matrix[: len(candidates)]
            scores = centroid_cosine(vectors, matrix[len(candidates):])
        else:
            scores = encoder_scores(load_encoder(source), [records[i].text for i in candidates], queries[:n_examples],
                                    queries[n_examples:])
        details: list[dict[str, Any]] = [{} for _ in candidates]
        priority = np.lexsort((np.arange(len(candidates)), -np.asarray(scores, dtype=np.float64)))
    else:
        reason = "uncertain"
        certainty = model_certainty(_as_tagger(source), [records[i].text for i in candidates])
        scores, details = certainty.values, certainty.details
        priority = np.lexsort((np.arange(len(candidates)), np.asarray(scores, dtype=np.float64)))
    if dedup is not None and vectors is None:
        vectors = char_vectors(cand_norm)

    picked = choose([int(p) for p in priority], n=n, random_share=random_share, seed=seed,
                    vectors=vectors if dedup is not None else None, dedup=dedup)
    out = []
    for rank, (pos, why) in enumerate(picked, 1):
        i = candidates[pos]
        out.append(Suggestion(i, records[i].id, records[i].text, reason if why == "ranked" else "random",
                              float(scores[pos]), rank, details[pos]))
    logger.debug("suggest: %d of %d pool documents (%d usable): %d %s, %d random", len(out), len(records),
                len(candidates), sum(s.reason != "random" for s in out), reason, sum(s.reason == "random" for s in out))
    return out


def choose(priority: Sequence[int], *, n: int, random_share: float, seed: int, vectors: Any = None,
           dedup: float | None = None) -> list[tuple[int, str]]:
    """``(position, "ranked" | "random")`` of the chosen items, in output order (module docstring).

    ``priority``: item positions, best first (every item once); ``vectors``: unit-length rows (sparse or dense)
    whose dot products are the near-duplicate cosines (``None``: no near-duplicate check).
    """
    n_random = round(n * random_share)
    n_ranked = n - n_random
    chosen: list[int] = []
    taken: set[int] = set()

    def fits(pos: int) -> bool:
        if vectors is None or dedup is None or not chosen:
            return True
        sims = vectors[chosen] @ vectors[pos].T
        sims = sims.toarray() if hasattr(sims, "toarray") else np.asarray(sims)
        return float(sims.max()) < dedup - 1e-6

    def take(order: Iterable[int], count: int) -> list[int]:
        got: list[int] = []
        for pos in order:
            if len(got) >= count:
                break
            if pos in taken or not fits(pos):
                continue
            got.append(pos)
            chosen.append(pos)
            taken.add(pos)
        return got

    ranked = take(priority, n_ranked)
    rng = np.random.default_rng(seed)
    drawn = take((int(p) for p in rng.permutation(len(priority))), n_random)
    return interleave(ranked, drawn)


def interleave(ranked: list[int], drawn: list[int]) -> list[tuple[int, str]]:
    """The ranked items in order with the drawn ones spread evenly among them (drawn item ``j`` of ``r`` at
    position ``floor((j + 0.5) * total / r)``)."""
    total = len(ranked) + len(drawn)
    slots = {math.floor((j + 0.5) * total / len(drawn)) for j in range(len(drawn))} if drawn else set()
    out: list[tuple[int, str]] = []
    it_ranked, it_drawn = iter(ranked), iter(drawn)
    for slot in range(total):
        if slot in slots:
            out.append((next(it_drawn), "random"))
        else:
            out.append((next(it_ranked), "ranked"))
    return out


def check_options(n: int, random_share: float, dedup: float | None, method: str) -> None:
    """User errors in the options, as :class:`ConfigError` (one line each)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"the number of documents to suggest must be a positive integer, got {n!r}")
    if not 0.0 <= random_share <= 1.0:
        raise ConfigError(f"random share must be between 0 and 1, got {random_share}")
    if dedup is not None and not 0.0 < dedup <= 1.0:
        raise ConfigError(f"the near-duplicate threshold must be in (0, 1] (a cosine; 1 = identical only), got {dedup}")
    check_method(method)


# ---------------------------------------------------------------------------------------------- helpers
def _candidates(norm_texts: Sequence[str], exclude: set[str]) -> list[int]:
    """Pool positions that may be suggested: non-empty, the first of exact copies, not a copy of an example."""
    seen: set[str] = set(exclude)
    out = []
    for i, key in enumerate(norm_texts):
        if key and key not in seen:
            seen.add(key)
            out.append(i)
    return out


def _text_of(example: Any, i: int) -> str:
    if isinstance(example, str):
        return example
    if isinstance(example, PoolRecord):
        return example.text
    text = example.get("text") if isinstance(example, Mapping) else getattr(example, "text", None)
    if not isinstance(text, str):
        raise DataError(f"examples[{i}]: expected a text or a record with a string \"text\", got {type(example).__name__}")
    return text


def _norm_of(source: Any, need_model: bool) -> NormalizationConfig:
    """The normalisation ``source`` applies to its input (the default for None or a plain encoder directory)."""
    from tagger.predict import Tagger

    if isinstance(source, Tagger):
        return (source.topics or source.ner).norm
    if source is None:
        if need_model:
            raise ConfigError("ranking by the model's uncertainty or with the encoder method needs a model")
        return NormalizationConfig()
    from tagger.errors import ModelLoadError
    from tagger.model import read_block
    from tagger.savedir import is_model_dir

    path = Path(source)
    if not path.is_dir():
        raise ModelLoadError(f"{path}: no such model directory")
    for candidate in (path, path / "topics", path / "ner"):
        if is_model_dir(candidate):
            return read_block(candidate).norm
    if (path / "config.json").is_file():
        return NormalizationConfig()  # a plain transformers encoder directory
    raise ModelLoadError(f"{path}: neither a model directory (config.json) nor a bundle with ner/ or topics/")


def _as_tagger(source: Any) -> Any:
    from tagger.predict import Tagger

    if isinstance(source, Tagger):
        return source
    return Tagger.from_pretrained(source)
