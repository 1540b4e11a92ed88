"""Put an annotation tool's spans back onto our text: verify each one, repair known offset drifts, or say why not.

Our offsets are Python code points into the document text, end exclusive (:mod:`tagger.schema`). A tool can
count differently, and every difference shifts spans silently:

* **UTF-16 code units** (``utf16``): JavaScript string offsets; every character outside the Basic Multilingual
  Plane (emoji, some symbols) counts twice, so spans after it drift right.
* **Line breaks** (``crlf`` / ``lf-crlf``): the tool counted on the text with ``\\r\\n`` turned into ``\\n`` (or the
  reverse), so every line break before a span shifts it.
* **Unicode normalisation** (``nfc`` / ``nfd``): the tool counted on the NFC or NFD form (Arabic with tashkeel:
  ``ا`` + U+0653 MADDA is ``آ`` in NFC), so spans after a changed character drift.
* **Whitespace** (``trim``): a selection that includes spaces at its edges is trimmed.
* **The tool's copy of the span text** (``text-form``): the offsets fit our text but the stored span text differs
  in normalisation or line breaks only.

Contract: a span the tool stored with its text (Label Studio's ``value.text``) is accepted only where the text at
the repaired position is that text: first exactly, trying the text forms in the order above (as stored, line
breaks, then NFC / NFD, each in code points then UTF-16), then equal after NFC / line-break / edge-whitespace
folding (``text-form``); the first fit wins and its repairs are recorded (``trim`` when edge spaces were cut). Spans stored without text (Doccano) cannot be
checked that way: an annotation's spans are taken as they are when they all lie on word boundaries, else under the
first single offset convention (same order) that puts all of them on word boundaries. Whatever is returned lies
in range of OUR text, is trimmed, and has its repairs named; nothing is moved silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tagger.data.io import boundary_problem
from tagger.schema import Span
from tagger.text import pretokenize

_LONE_LF = re.compile(r"(?<!\r)\n")


@dataclass(frozen=True)
class ToolSpan:
    """A span as the tool stored it: offsets in the tool's convention, the label, and its copy of the text."""

    start: int
    end: int
    label: str
    text: str | None = None  # the tool's copy of the covered text (Label Studio ``value.text``); None: not stored
    region: str | None = None  # the tool's region id, for messages


@dataclass(frozen=True)
class FixedSpan:
    """A span on OUR text (code points, end exclusive) and the repairs that put it there (empty: as stored)."""

    start: int
    end: int
    label: str
    repairs: tuple[str, ...] = ()


@dataclass(frozen=True)
class View:
    """A form of the base text a tool may have counted on; ``starts[i]:ends[i]`` is the base span behind char i.

    ``starts``/``ends`` are None for the base text itself. A span on the view maps back only when both of its
    edges fall between groups of characters (never inside a ``\\r\\n`` pair or a composed character).
    """

    name: tuple[str, ...]
    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def to_base(self, a: int, b: int) -> tuple[int, int] | None:
        if self.starts is None or self.ends is None:
            return a, b
        starts, ends = self.starts, self.ends
        if a > 0 and starts[a] < ends[a - 1]:
            return None
        if b < len(starts) and starts[b] < ends[b - 1]:
            return None
        return starts[a], ends[b - 1]


def _identity_map(n: int, offset: int = 0) -> tuple[list[int], list[int]]:
    return list(range(offset, offset + n)), list(range(offset + 1, offset + n + 1))


def _newline_view(text: str, to_lf: bool) -> tuple[str, list[int], list[int]]:
    """``text`` with CRLF -> LF (``to_lf``) or lone LF -> CRLF, and the base span behind each character."""
    pattern = re.compile("\r\n") if to_lf else _LONE_LF
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        pieces.append(text[pos : m.start()])
        s, e = _identity_map(m.start() - pos, pos)
        starts += s
        ends += e
        new = "\n" if to_lf else "\r\n"
        pieces.append(new)
        starts += [m.start()] * len(new)
        ends += [m.end()] * len(new)
        pos = m.end()
    pieces.append(text[pos:])
    s, e = _identity_map(len(text) - pos, pos)
    return "".join(pieces), starts + s, ends + e


def _normal_view(text: str, form: str) -> tuple[str, list[int], list[int]] | None:
    """``text`` in ``form`` (NFC/NFD) with each character mapped to the segment it came from; None if unneeded.

    A segment is a character of combining class 0 and the marks after it; each is normalised on its own. When
    that does not give the normal form of the whole text (rare: Hangul jamo), there is no map (None).
    """
    if unicodedata.is_normalized(form, text):
        return None
    bounds = [i for i, ch in enumerate(text) if i == 0 or not unicodedata.combining(ch)] + [len(text)]
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for a, b in zip(bounds, bounds[1:]):
        piece = text[a:b]
        norm = unicodedata.normalize(form, piece)
        pieces.append(norm)
        if norm == piece:
            s, e = _identity_map(b - a, a)
            starts += s
            ends += e
        else:
            starts += [a] * len(norm)
            ends += [b] * len(norm)
    out = "".join(pieces)
    if out != unicodedata.normalize(form, text):
        return None
    return out, starts, ends


def _compose(base: View, name: str, text: str, starts: list[int], ends: list[int]) -> View:
    if base.starts is None or base.ends is None:
        return View(base.name + (name,), text, tuple(starts), tuple(ends))
    bs, be = base.starts, base.ends
    return View(base.name + (name,), text, tuple(bs[i] for i in starts), tuple(be[j - 1] for j in ends))


def views_of(text: str) -> list[View]:
    """The base text, then the forms a tool may have counted on, in the order repairs are tried."""
    base = View((), text)
    lines = [base]
    if "\r\n" in text:
        lines.append(_compose(base, "crlf", *_newline_view(text, to_lf=True)))
    if _LONE_LF.search(text):
        lines.append(_compose(base, "lf-crlf", *_newline_view(text, to_lf=False)))
    out = list(lines)
    for form in ("NFC", "NFD"):
        for view in lines:
            mapped = _normal_view(view.text, form)
            if mapped is not None:
                out.append(_compose(view, form.lower(), *mapped))
    return out


def _utf16_table(text: str) -> list[int] | None:
    """Code-unit offset -> code-point offset (-1 inside a surrogate pair); None when the two agree everywhere."""
    if all(ord(ch) <= 0xFFFF for ch in text):
        return None
    table: list[int] = []
    for i, ch in enumerate(text):
        table.append(i)
        if ord(ch) > 0xFFFF:
            table.append(-1)
    table.append(len(text))
    return table


def utf16_offset(text: str, index: int) -> int:
    """The UTF-16 code-unit offset of code-point ``index`` in ``text`` (what JavaScript's ``String`` counts)."""
    return len(text[:index].encode("utf-16-le")) // 2


def _canon(s: str) -> str:
    return unicodedata.normalize("NFC", s.replace("\r\n", "\n")).strip()


class Resolver:
    """Resolves the spans of one text. Views, UTF-16 tables and word spans are computed on first need."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._views: list[View] | None = None
        self._tables: dict[tuple[str, ...], list[int] | None] = {}
        self._words: list[tuple[int, int]] | None = None

    # ------------------------------------------------------------------------------------------ helpers
    def views(self) -> list[View]:
        if self._views is None:
            self._views = views_of(self.text)
        return self._views

    def _candidates(self, views: Sequence[View]) -> Iterator[tuple[View, str]]:
        """``(view, unit)`` pairs in the order they are tried; UTF-16 only where it differs from code points."""
        for view in views:
            yield view, "cp"
            if view.name not in self._tables:
                self._tables[view.name] = _utf16_table(view.text)
            if self._tables[view.name] is not None:
                yield view, "utf16"

    def _place(self, view: View, unit: str, start: int, end: int) -> tuple[int, int] | None:
        """``(start, end)`` in ``unit`` on ``view`` as code points on the view, or None when it does not fit."""
        if unit == "utf16":
            table = self._tables[view.name]
            assert table is not None
            if not 0 <= start < end < len(table):
                return None
            start, end = table[start], table[end]
            if start < 0 or end < 0:
                return None
        if not 0 <= start < end <= len(view.text):
            return None
        return start, end

    def trim(self, start: int, end: int) -> tuple[int, int]:
        text = self.text
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end

    def boundary(self, start: int, end: int, label: str = "") -> str | None:
        """Why ``text[start:end]`` is not on word boundaries (the rule :func:`tagger.data.io.read_jsonl` applies)."""
        if self._words is None:
            self._words = list(pretokenize(self.text).spans)
        return boundary_problem(self.text, self._words, Span(start, end, label))

    # ------------------------------------------------------------------------------------------ resolving
    def resolve(self, span: ToolSpan) -> FixedSpan | str:
        """``span`` (which carries its text) on our text, or the reason no position matches its text."""
        assert span.text is not None
        want = span.text
        for loose in (False, True):
            for view, unit in self._candidates(self.views()):
                placed = self._place(view, unit, span.start, span.end)
                if placed is None:
                    continue
                got = view.text[placed[0] : placed[1]]
                if loose:
                    if not _canon(got) or _canon(got) != _canon(want):
                        continue
                elif got != want:
                    continue
                base = view.to_base(*placed)
                if base is None:
                    continue
                start, end = self.trim(*base)
                if start >= end:
                    continue
                trimmed = (start, end) != base
                repairs = list(view.name) + (["utf16"] if unit == "utf16" else []) + (["trim"] if trimmed else [])
                if loose and (got.strip() != want.strip() or (got != want and not trimmed)):
                    repairs.append("text-form")
                return FixedSpan(start, end, span.label, tuple(repairs))
        return self._why(span)

    def _why(self, span: ToolSpan) -> str:
        n = len(self.text)
        tried = "UTF-16 offsets, CRLF/LF line breaks, NFC/NFD, trimmed whitespace"
        if not 0 <= span.start < span.end <= n:
            return (f"[{span.start}, {span.end}) is out of range for a text of {n} characters, and no repair "
                    f"({tried}) puts the span text {span.text!r} there; fix or delete the span")
        return (f"the stored span text {span.text!r} is not the text at [{span.start}, {span.end}) "
                f"({self.text[span.start:span.end]!r}), and no repair ({tried}) finds it; the text was edited "
                "after the span was made, or the span belongs to another text: fix or delete the span")

    def resolve_unanchored(self, spans: Sequence[ToolSpan]) -> list[FixedSpan] | str:
        """Spans stored without their text: all as stored, or all under one repair, each on word boundaries.

        Returns the fixed spans, or why the first span that fails as stored fails.
        """
        if not spans:
            return []
        for view, unit in self._candidates(self.views()):
            fixed = self._all_on_words(view, unit, spans)
            if fixed is not None:
                return fixed
        for sp in spans:
            if not 0 <= sp.start < sp.end <= len(self.text):
                return (f"entity {sp.label} [{sp.start}, {sp.end}) is out of range for a text of {len(self.text)} "
                        "characters (no line-break, UTF-16 or normalisation repair fits either); fix the span")
            start, end = self.trim(sp.start, sp.end)
            problem = "is only whitespace" if start >= end else self.boundary(start, end, sp.label)
            if problem:
                return (f"entity {sp.label} {self.text[sp.start:sp.end]!r} [{sp.start}, {sp.end}) {problem} (no "
                        "line-break, UTF-16 or normalisation repair puts every span of the annotation on word "
                        "boundaries either); fix the span in the tool")
        return "the spans do not fit the text"  # pragma: no cover - one of the spans fails as stored

    def _all_on_words(self, view: View, unit: str, spans: Sequence[ToolSpan]) -> list[FixedSpan] | None:
        out: list[FixedSpan] = []
        for sp in spans:
            placed = self._place(view, unit, sp.start, sp.end)
            base = view.to_base(*placed) if placed is not None else None
            if base is None:
                return None
            start, end = self.trim(*base)
            if start >= end or self.boundary(start, end, sp.label):
                return None
            repairs = list(view.name) + (["utf16"] if unit == "utf16" else []) + (["trim"] if (start, end) != base else [])
            out.append(FixedSpan(start, end, sp.label, tuple(repairs)))
        return out
