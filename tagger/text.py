"""AraBERT v0.2-style Arabic normalisation that keeps a map back to the original string.

``normalize`` returns the normalised text plus, for every normalised character, the span of the original
string it came from. Characters that are deleted (tashkeel, tatweel) are folded into the span of the
preceding kept character, so a word's span in the original includes its diacritics; inserted spaces have
empty spans. ``pretokenize`` splits the normalised text on whitespace and maps each word back.

Before any configurable step the working copy is always put in Unicode NFC (the form encoder vocabularies
are built from: ``ا`` + U+0654 HAMZA ABOVE becomes ``أ``; in NFD every hamza word would be [UNK]) and lone
surrogates, which no tokenizer can encode, become U+FFFD. A composed character maps to the original span of
all the characters it came from, so offsets still point into the caller's string.
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
    monotonic: bool = True  # False: NFC reordered or composed characters, spans may nest inside a sequence

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span covering normalised characters ``start:end`` (``end > start``)."""
        if self.monotonic:
            return self.starts[start], self.ends[end - 1]
        return min(self.starts[start:end]), max(self.ends[start:end])


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


_SURROGATE = re.compile("[\ud800-\udfff]")


# whitespace neither composes nor reorders with anything; U+2000/U+2001 have canonical singletons U+2002/U+2003
_CHUNK = re.compile("(?:[^\\s]|[\u2000\u2001])+")


def _working_copy(text: str) -> tuple[str, tuple[list[int], list[int]] | None]:
    """``text`` in NFC with lone surrogates replaced by U+FFFD, and per working character its original span.

    The map is None when the copy is ``text`` itself or differs only by the (one-for-one) surrogate swap.
    Only the whitespace-separated chunks that are not in NFC are worked on; in those, each output character
    maps to the span of the characters it came from (``أ`` from ``ا`` + U+0654 spans both, and any marks
    between), so spans can nest inside a character sequence but never cross one.
    """
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    if unicodedata.is_normalized("NFC", text):
        return text, None
    starts: list[int] = []
    ends: list[int] = []
    pieces = []
    pos = 0
    is_nfc = unicodedata.is_normalized
    for m in _CHUNK.finditer(text):
        if is_nfc("NFC", m.group()):
            continue
        a, b = m.span()
        pieces.append(text[pos:a])
        starts.extend(range(pos, a))
        ends.extend(range(pos + 1, a + 1))
        pieces.append(_nfc_chunk(text, a, b, starts, ends))
        pos = b
    pieces.append(text[pos:])
    starts.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    work = "".join(pieces)
    if work != unicodedata.normalize("NFC", text):  # pragma: no cover - a safety net
        starts, ends = [], []
        work = _nfc_chunk(text, 0, len(text), starts, ends)
    return work, (starts, ends)


def _nfc_chunk(text: str, a: int, b: int, starts: list[int], ends: list[int]) -> str:
    """NFC of ``text[a:b]``; appends each output character's original span to ``starts`` / ``ends``.

    Works per segment (a character of combining class 0 and the marks after it); segments NFC leaves alone
    map one to one.
    """
    bounds = [i for i in range(a, b) if i == a or not unicodedata.combining(text[i])]
    bounds.append(b)
    groups = [(i, j, unicodedata.normalize("NFC", text[i:j])) for i, j in zip(bounds, bounds[1:])]
    whole = unicodedata.normalize("NFC", text[a:b])
    if "".join(q for _, _, q in groups) != whole:
        # rare: a starter composes with the previous one (Hangul jamo, some Indic vowel signs) -> merge them
        merged = [groups[0]]
        for i, j, q in groups[1:]:
            gi, _, gq = merged[-1]
            joint = unicodedata.normalize("NFC", text[gi:j])
            if joint == gq + q:
                merged.append((i, j, q))
            else:
                merged[-1] = (gi, j, joint)
        groups = merged if "".join(q for _, _, q in merged) == whole else [(a, b, whole)]
    for i, j, q in groups:
        if q == text[i:j]:
            starts.extend(range(i, j))
            ends.extend(range(i + 1, j + 1))
        else:
            _nfc_sources(text, i, j, q, starts, ends)
    return whole


def _nfc_sources(text: str, a: int, b: int, nfc: str, starts: list[int], ends: list[int]) -> None:
    """Append the original span of every character of ``nfc`` (== NFC of ``text[a:b]``).

    Runs the NFC algorithm (canonical decomposition, ordering, composition) on characters tagged with their
    source index; if the result is not ``nfc`` (it always should be) every character gets the whole span.
    """
    combining = unicodedata.combining
    dec = [(c, k) for k in range(a, b) for c in unicodedata.normalize("NFD", text[k])]
    i = 0
    while i < len(dec):  # canonical ordering: stable sort of each run of non-starters by combining class
        j = i
        while j < len(dec) and combining(dec[j][0]):
            j += 1
        if j > i + 1:
            dec[i:j] = sorted(dec[i:j], key=lambda item: combining(item[0]))
        i = max(j, i + 1)
    out: list[list] = []  # [char, first source, last source + 1]
    starter, last_class = -1, 256
    for c, k in dec:
        cls = combining(c)
        if starter >= 0 and (last_class < cls or last_class == 0):
            composed = unicodedata.normalize("NFC", out[starter][0] + c)
            if len(composed) == 1:
                item = out[starter]
                item[0], item[1], item[2] = composed, min(item[1], k), max(item[2], k + 1)
                continue
        if cls == 0:
            starter = len(out)
        last_class = cls
        out.append([c, k, k + 1])
    if "".join(item[0] for item in out) == nfc:
        starts.extend(item[1] for item in out)
        ends.extend(item[2] for item in out)
    else:  # pragma: no cover - a safety net
        starts.extend([a] * len(nfc))
        ends.extend([b] * len(nfc))


def normalize(text: str, cfg: NormalizationConfig | None = None) -> Normalized:
    """Normalise ``text`` (NFC, then see :class:`NormalizationConfig`) and keep the offset map."""
    if not isinstance(text, str):
        raise TypeError(f"normalize expects str, got {type(text).__name__}")
    cfg = cfg or NormalizationConfig()
    table = _char_table(cfg)
    work, base = _working_copy(text)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    n = len(work)

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

    for m in _special_re(cfg).finditer(work):
        i = m.start()
        if i > pos:  # a run of ordinary characters: identity map
            out.extend(work[pos:i])
            starts.extend(range(pos, i))
            ends.extend(range(pos + 1, i + 1))
        pos = i + 1
        ch = work[i]
        if ch in table:
            rep = table[ch]
            if rep:
                emit(rep, i, i + 1)
            elif ch == TATWEEL and cfg.strip_tatweel and _lone_tatweel(work, i):
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
        out.extend(work[pos:n])
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
    if base is None:
        return Normalized("".join(out), tuple(starts), tuple(ends))
    starts, ends = _to_original(base, starts, ends, len(text))  # working-copy spans -> the caller's string
    return Normalized("".join(out), tuple(starts), tuple(ends), monotonic=False)


def _to_original(
    base: tuple[list[int], list[int]], starts: list[int], ends: list[int], n_original: int
) -> tuple[list[int], list[int]]:
    """Compose spans into the working copy with the working copy's map (empty spans stay empty)."""
    bs, be = base
    n = len(bs)
    # e == s + 1: one character; e > s + 1: a letter with folded marks (in a changed sequence the working
    # characters' spans need not be in order, hence min / max); e == s: an inserted space, an empty span
    new_starts = [bs[s] if e == s + 1 else min(bs[s:e]) if e > s else bs[s] if s < n else n_original
                  for s, e in zip(starts, ends)]
    new_ends = [be[s] if e == s + 1 else max(be[s:e]) if e > s else bs[s] if s < n else n_original
                for s, e in zip(starts, ends)]
    return new_starts, new_ends


def _lone_tatweel(text: str, i: int) -> bool:
    """A tatweel not attached to a letter on either side is used as a dash (ANERcorp does this)."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return not (before.isalpha() or before == TATWEEL or before in TASHKEEL) and not (
        after.isalpha() or after == TATWEEL
    )


@lru_cache(maxsize=8)
def _needs_work_re(cfg: NormalizationConfig) -> re.Pattern[str]:
    """Characters that ``normalize`` changes, deletes or maps (besides whitespace and punctuation, and
    besides NFC: callers check that with ``unicodedata.is_normalized``)."""
    chars = "".join(_char_table(cfg))
    # presentation forms: always the full path (conservative); lone surrogates become U+FFFD
    return re.compile(f"[{re.escape(chars)}\ufb50-\ufdff\ufe70-\ufefc\ud800-\udfff]")


_NON_WORD = re.compile(r"[^\w\s]")
_WORD_OR_PUNCT = re.compile(r"\w+|[^\w\s]")
_NON_SPACE = re.compile(r"\S+")


def _plain_words(text: str, cfg: NormalizationConfig) -> Words | None:
    """Fast path of :func:`pretokenize` for text that normalisation leaves as it is (most news text).

    Applies when the text is in NFC, no character needs mapping/deleting and every non-word, non-space
    character is punctuation or a symbol; the words are then exactly the ``\\w+`` runs and single punctuation
    characters (or the whitespace-separated runs without ``space_punctuation``), at their original offsets.
    Returns None otherwise.
    """
    if _needs_work_re(cfg).search(text) or not unicodedata.is_normalized("NFC", text):
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
    nfc = unicodedata.is_normalized
    return tuple(w if plain.fullmatch(w) and nfc("NFC", w) else (normalize(w, cfg).text or "-") for w in words)


@lru_cache(maxsize=8)
def _plain_word_re(cfg: NormalizationConfig) -> re.Pattern[str]:
    """A word that normalisation leaves unchanged: word characters only, none of them mapped or deleted."""
    chars = "".join(_char_table(cfg))
    return re.compile(f"[^\\W{re.escape(chars)}\ufb50-\ufdff\ufe70-\ufefc]+")
