"""AraBERT v0.2-style Arabic normalisation that keeps a map back to the original string.

``normalize`` returns the normalised text plus, for every normalised character, the span of the original
string it came from. Characters that are deleted (tashkeel, tatweel) are folded into the span of the
preceding kept character, so a word's span in the original includes its diacritics; inserted spaces have
empty spans. ``pretokenize`` splits the normalised text on whitespace and maps each word back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from tagger.config import NormalizationConfig

TASHKEEL = frozenset(chr(c) for c in range(0x064B, 0x0653)) | {"\u0670"}
TATWEEL = "\u0640"
INVISIBLE = frozenset(
    ["\u00ad", "\u061c", "\ufeff", "\u2060"]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}
_ALEF = {"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627"}


@dataclass(frozen=True)
class Normalized:
    """``text`` with ``starts[i]:ends[i]`` the original span behind ``text[i]``."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span covering normalised characters ``start:end`` (``end > start``)."""
        return self.starts[start], self.ends[end - 1]


@dataclass(frozen=True)
class Words:
    """Word spans in the original text and the normalised strings fed to the tokenizer."""

    spans: tuple[tuple[int, int], ...]
    strings: tuple[str, ...]


def _is_punct(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "PS"


@lru_cache(maxsize=8)
def _char_table(cfg: NormalizationConfig) -> dict[str, str]:
    """Replacement for every special character under ``cfg`` ('' = delete)."""
    table: dict[str, str] = {}
    if cfg.remove_invisible:
        table.update(dict.fromkeys(INVISIBLE, ""))
    if cfg.strip_tashkeel:
        table.update(dict.fromkeys(TASHKEEL, ""))
    if cfg.strip_tatweel:
        table[TATWEEL] = ""
    if cfg.normalize_digits:
        table.update(_DIGITS)
    if cfg.unify_alef:
        table.update(_ALEF)
    return table


@lru_cache(maxsize=8)
def _special_re(cfg: NormalizationConfig) -> re.Pattern[str]:
    chars = "".join(_char_table(cfg))
    parts = [f"[{re.escape(chars)}]"] if chars else []
    if cfg.fold_presentation_forms:
        parts.append("[\ufb50-\ufdff\ufe70-\ufefc]")
    if cfg.space_punctuation:
        parts.append(r"[^\w\s]")
    if cfg.collapse_whitespace:
        parts.append(r"\s")
    return re.compile("|".join(parts) or r"(?!x)x")


def normalize(text: str, cfg: NormalizationConfig | None = None) -> Normalized:
    """Normalise ``text`` (see :class:`NormalizationConfig`) and keep the offset map."""
    if not isinstance(text, str):
        raise TypeError(f"normalize expects str, got {type(text).__name__}")
    cfg = cfg or NormalizationConfig()
    table = _char_table(cfg)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    n = len(text)

    def emit(piece: str, i: int, j: int) -> None:
        for ch in piece:
            out.append(ch)
            starts.append(i)
            ends.append(j)

    def space(i: int) -> None:
        if not cfg.collapse_whitespace or (out and out[-1] != " "):
            out.append(" ")
            starts.append(i)
            ends.append(i)

    for m in _special_re(cfg).finditer(text):
        i = m.start()
        if i > pos:  # a run of ordinary characters: identity map
            out.extend(text[pos:i])
            starts.extend(range(pos, i))
            ends.extend(range(pos + 1, i + 1))
        pos = i + 1
        ch = text[i]
        if ch in table:
            rep = table[ch]
            if rep:
                emit(rep, i, i + 1)
            elif ch == TATWEEL and cfg.strip_tatweel and _lone_tatweel(text, i):
                emit("-", i, i + 1)
                if cfg.space_punctuation:
                    space(i + 1)
            elif ch in TASHKEEL or ch == TATWEEL:
                if out and out[-1] != " ":  # fold the mark into the preceding letter's span
                    ends[-1] = i + 1
            continue
        if ch.isspace():
            if cfg.collapse_whitespace:
                space(i)
            else:
                emit(ch, i, i + 1)
            continue
        if cfg.fold_presentation_forms and ("\ufb50" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufefc"):
            folded = unicodedata.normalize("NFKC", ch)
            emit(ch if " " in folded else folded, i, i + 1)  # multi-word ligatures (U+FDFA) stay one word
            continue
        # punctuation / symbol
        if cfg.space_punctuation and _is_punct(ch):
            if out and out[-1] != " ":
                space(i)
            emit(ch, i, i + 1)
            space(i + 1)
        else:
            emit(ch, i, i + 1)
    if pos < n:
        out.extend(text[pos:n])
        starts.extend(range(pos, n))
        ends.extend(range(pos + 1, n + 1))
    if cfg.collapse_whitespace:
        while out and out[-1] == " ":
            out.pop()
            starts.pop()
            ends.pop()
        k = 0
        while k < len(out) and out[k] == " ":
            k += 1
        if k:
            del out[:k], starts[:k], ends[:k]
    return Normalized("".join(out), tuple(starts), tuple(ends))


def _lone_tatweel(text: str, i: int) -> bool:
    """A tatweel not attached to a letter on either side is used as a dash (ANERcorp does this)."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return not (before.isalpha() or before == TATWEEL or before in TASHKEEL) and not (
        after.isalpha() or after == TATWEEL
    )


@lru_cache(maxsize=8)
def _needs_work_re(cfg: NormalizationConfig) -> re.Pattern[str]:
    """Characters that ``normalize`` changes, deletes or maps (besides whitespace and punctuation)."""
    chars = "".join(_char_table(cfg))
    parts = [f"[{re.escape(chars)}]"] if chars else []
    parts.append("[\ufb50-\ufdff\ufe70-\ufefc]")  # presentation forms: always the full path (conservative)
    return re.compile("|".join(parts))


_NON_WORD = re.compile(r"[^\w\s]")
_WORD_OR_PUNCT = re.compile(r"\w+|[^\w\s]")
_NON_SPACE = re.compile(r"\S+")


def _plain_words(text: str, cfg: NormalizationConfig) -> Words | None:
    """Fast path of :func:`pretokenize` for text that normalisation leaves as it is (most news text).

    Applies when no character needs mapping/deleting and every non-word, non-space character is punctuation
    or a symbol; the words are then exactly the ``\\w+`` runs and single punctuation characters (or the
    whitespace-separated runs without ``space_punctuation``), at their original offsets. Returns None otherwise.
    """
    if _needs_work_re(cfg).search(text):
        return None
    if cfg.space_punctuation:
        if not all(_is_punct(ch) for ch in _NON_WORD.findall(text)):
            return None
        found = _WORD_OR_PUNCT.finditer(text)
    else:
        found = _NON_SPACE.finditer(text)
    spans, strings = [], []
    for m in found:
        spans.append(m.span())
        strings.append(m.group())
    return Words(tuple(spans), tuple(strings))


def pretokenize(text: str, cfg: NormalizationConfig | None = None) -> Words:
    """Split ``text`` into words: normalise, split on whitespace, map every word back to the original."""
    cfg = cfg or NormalizationConfig()
    if isinstance(text, str):
        plain = _plain_words(text, cfg)
        if plain is not None:
            return plain
    norm = normalize(text, cfg)
    spans: list[tuple[int, int]] = []
    strings: list[str] = []
    for m in re.finditer(r"\S+", norm.text):
        spans.append(norm.span(m.start(), m.end()))
        strings.append(m.group())
    return Words(tuple(spans), tuple(strings))


def normalize_words(words: list[str] | tuple[str, ...], cfg: NormalizationConfig | None = None) -> tuple[str, ...]:
    """Normalise pre-split words (e.g. CoNLL tokens) one by one; a word that normalises to nothing is '-'."""
    cfg = cfg or NormalizationConfig()
    plain = _plain_word_re(cfg)
    return tuple(w if plain.fullmatch(w) else (normalize(w, cfg).text or "-") for w in words)


@lru_cache(maxsize=8)
def _plain_word_re(cfg: NormalizationConfig) -> re.Pattern[str]:
    """A word that normalisation leaves unchanged: word characters only, none of them mapped or deleted."""
    chars = "".join(_char_table(cfg))
    return re.compile(f"[^\\W{re.escape(chars)}\ufb50-\ufdff\ufe70-\ufefc]+")
