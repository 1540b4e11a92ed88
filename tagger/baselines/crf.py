"""A linear-chain CRF NER baseline (sklearn-crfsuite) with word, affix and Arabic clitic features
(:func:`tagger.arabic.split_clitics`).

It exists so every evaluation report can say how much the transformer buys over a strong classical model
trained on the same data. Tokens should be the normalised words the transformer sees
(:func:`tagger.align.document_words`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from tagger.arabic import split_clitics
from tagger.errors import TaggerError

_LATIN_RE = re.compile(r"[A-Za-z]")


class CrfError(TaggerError, RuntimeError):
    """The CRF baseline was used before ``fit`` or with mismatched inputs."""


def _shape(word: str) -> str:
    if word.isdigit():
        return "digit"
    if all(unicodedata.category(c)[0] in "PS" for c in word):
        return "punct"
    if _LATIN_RE.search(word):
        return "latin"
    if any("\u0600" <= c <= "\u06ff" for c in word):
        return "arabic"
    return "other"


def word_features(word: str, prefix: str = "") -> dict[str, object]:
    pro, stem, enc = split_clitics(word)
    f: dict[str, object] = {
        f"{prefix}w": word,
        f"{prefix}stem": stem,
        f"{prefix}pro": pro,
        f"{prefix}shape": _shape(word),
    }
    if not prefix:
        f.update(
            {
                "bias": 1.0,
                "enc": enc,
                "len": min(len(word), 12),
                "has_al": "ال" in pro,
                **{f"p{k}": word[:k] for k in (1, 2, 3)},
                **{f"s{k}": word[-k:] for k in (1, 2, 3)},
                **{f"stem_p{k}": stem[:k] for k in (2, 3)},
                **{f"stem_s{k}": stem[-k:] for k in (2, 3)},
            }
        )
    else:
        f[f"{prefix}s2"] = word[-2:]
    return f


def sentence_features(tokens: Sequence[str]) -> list[dict[str, object]]:
    """Features of every token: itself, and its neighbours at distance 1 and 2."""
    out = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        f = word_features(tok)
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < n:
                f.update(word_features(tokens[j], prefix=f"{d:+d}:"))
            else:
                f[f"{d:+d}:edge"] = True
        if n:
            f["bigram-1"] = f"{tokens[i - 1] if i else '<s>'}|{tok}"
            f["bigram+1"] = f"{tok}|{tokens[i + 1] if i + 1 < n else '</s>'}"
        out.append(f)
    return out


@dataclass
class CrfNerBaseline:
    """CRF over word/affix/clitic features; ``fit(tokens, tags)`` then ``predict(tokens) -> tags``."""

    c1: float = 0.05
    c2: float = 0.05
    max_iterations: int = 150
    _crf: object | None = None

    def fit(self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> CrfNerBaseline:
        import sklearn_crfsuite

        if len(tokens) != len(tags):
            raise CrfError(f"{len(tokens)} token sequences but {len(tags)} tag sequences")
        for i, (t, g) in enumerate(zip(tokens, tags)):
            if len(t) != len(g):
                raise CrfError(f"sequence {i}: {len(t)} tokens but {len(g)} tags")
        keep = [i for i, t in enumerate(tokens) if t]
        crf = sklearn_crfsuite.CRF(
            algorithm="lbfgs",
            c1=self.c1,
            c2=self.c2,
            max_iterations=self.max_iterations,
            all_possible_transitions=True,
        )
        crf.fit([sentence_features(tokens[i]) for i in keep], [list(tags[i]) for i in keep])
        self._crf = crf
        return self

    def predict(self, tokens: Sequence[Sequence[str]]) -> list[list[str]]:
        if self._crf is None:
            raise CrfError("CrfNerBaseline.predict called before fit; call fit(tokens, tags) first")
        out: list[list[str]] = []
        for t in tokens:
            out.append(list(self._crf.predict_single(sentence_features(t))) if t else [])  # type: ignore[attr-defined]
        return out
