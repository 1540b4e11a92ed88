"""Reader for the seed corpus markup (``seeds/src/*.txt``): inline ``[[surface|LABEL]]`` entities.

A file holds documents, each opened by a header line and a topics line::

    ### doc: a-001
    topics: 5G, e-government
    أعلنت [[هيئة تنظيم الاتصالات|ORG]] في [[الإمارات|LOC]] ...

The brackets are removed and every entity becomes a :class:`~tagger.schema.Span` with character offsets into
the plain text (end exclusive). Everything outside the brackets is kept verbatim; leading and trailing blank
lines of a document's text are dropped. Problems raise :class:`MarkupError` naming ``file:line``; a file that is
not UTF-8 (or cannot be opened) raises :class:`~tagger.errors.DataError` with the message every data file gets
(:mod:`tagger.textfile`: line, byte offset, likely encoding, ``iconv`` command).
:func:`check_spans` applies the corpus span policy (clitics outside, ``ال`` inside, word boundaries; the clitic
rules are in :mod:`tagger.arabic`).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from tagger.arabic import is_proclitic_prefix, starts_with_clitic
from tagger.errors import DataError, TaggerError
from tagger.schema import DEFAULT_TOPICS, ENTITY_LABELS, Document, Span
from tagger.textfile import read_text

__all__ = ["MarkupError", "check_spans", "parse_markup", "read_markup"]

HEADER_RE = re.compile(r"^### doc:(.*)$")
ID_RE = re.compile(r"^[a-z]+-\d{3}$")
TOPICS_PREFIX = "topics:"
OPEN, CLOSE, SEP = "[[", "]]", "|"
TATWEEL = "\u0640"

# Punctuation that may not open or close a span (symbols inside brand names, like e&, are fine).
EDGE_PUNCTUATION = frozenset(".,;:!?،؛؟\"'«»“”‘’()[]{}-–—…/")


class MarkupError(TaggerError, ValueError):
    """A seed markup file (or string) is malformed; the message names ``source:line`` and the fix."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        super().__init__(f"{source}:{line}: {problem}")


def parse_markup(text: str, source: str = "<string>", first_line: int = 1) -> tuple[str, list[Span]]:
    """Strip ``[[surface|LABEL]]`` markup from ``text``; return the plain text and its entity spans.

    ``first_line`` is the line number of ``text``'s first line inside ``source`` (for error messages).
    An entity may not cross a line break, contain another ``[[``, be empty or start/end with whitespace.
    """
    out: list[str] = []
    spans: list[Span] = []
    pos = 0  # length of the plain text produced so far
    for lineno, line in enumerate(text.split("\n"), start=first_line):
        if lineno > first_line:
            out.append("\n")
            pos += 1
        i = 0
        while i < len(line):
            opening = line.find(OPEN, i)
            closing = line.find(CLOSE, i)
            if closing != -1 and (opening == -1 or closing < opening):
                raise MarkupError(source, lineno, f"']]' without an opening '[[' at column {closing + 1}")
            if opening == -1:
                out.append(line[i:])
                pos += len(line) - i
                break
            out.append(line[i:opening])
            pos += opening - i
            end = line.find(CLOSE, opening + 2)
            if end == -1:
                raise MarkupError(
                    source, lineno,
                    f"unclosed '[[' at column {opening + 1}: close it with '|LABEL]]' on the same line",
                )
            inner = line[opening + 2:end]
            if OPEN in inner:
                raise MarkupError(
                    source, lineno,
                    f"nested brackets at column {opening + 1}: entities cannot contain another '[['",
                )
            surface, sep, label = inner.rpartition(SEP)
            if not sep:
                raise MarkupError(
                    source, lineno, f"entity {inner!r} at column {opening + 1} has no '|LABEL' part",
                )
            if label not in ENTITY_LABELS:
                raise MarkupError(
                    source, lineno,
                    f"unknown label {label!r} in entity at column {opening + 1}; "
                    f"use one of {', '.join(ENTITY_LABELS)}",
                )
            if not surface.strip():
                raise MarkupError(source, lineno, f"empty span at column {opening + 1}: write the surface text")
            if surface != surface.strip():
                raise MarkupError(
                    source, lineno,
                    f"span {surface!r} at column {opening + 1} starts or ends with whitespace; "
                    "move the space outside the brackets",
                )
            if SEP in surface:
                raise MarkupError(source, lineno, f"span {surface!r} contains '|'; one '|LABEL' per entity")
            spans.append(Span(pos, pos + len(surface), label))
            out.append(surface)
            pos += len(surface)
            i = end + 2
    return "".join(out), spans


def _parse_topics(line: str, source: str, lineno: int) -> list[str]:
    if not line.startswith(TOPICS_PREFIX):
        raise MarkupError(source, lineno, f"expected a 'topics:' line after the header, got {line[:40]!r}")
    labels = [t.strip() for t in line[len(TOPICS_PREFIX):].split(",")]
    if labels == [""]:
        return []
    for label in labels:
        if label not in DEFAULT_TOPICS:
            raise MarkupError(
                source, lineno,
                f"unknown topic {label!r}; use comma-separated labels from {', '.join(DEFAULT_TOPICS)}",
            )
    if len(set(labels)) != len(labels):
        raise MarkupError(source, lineno, f"a topic is repeated in {labels}")
    return sorted(labels)


def _strip_blank_edges(lines: list[str], first: int) -> tuple[list[str], int]:
    """Drop leading/trailing blank lines; return the kept lines and the line number of the first one."""
    while lines and not lines[0].strip():
        lines = lines[1:]
        first += 1
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines, first


def read_markup(path: str | Path) -> list[Document]:
    """Read one markup file into documents; ``Document.source`` is ``path:line`` of each header.

    The file is UTF-8 (a BOM is dropped); another encoding is a :class:`~tagger.errors.DataError`.
    """
    path = Path(path)
    src = str(path)
    lines = read_text(path, DataError).split("\n")
    lines = [ln.removesuffix("\r") for ln in lines]
    headers = [i for i, ln in enumerate(lines) if ln.startswith("###")]
    for i in range(headers[0] if headers else len(lines)):
        if lines[i].strip():
            raise MarkupError(src, i + 1, "text before the first '### doc: <id>' header")
    docs: list[Document] = []
    seen: dict[str, int] = {}
    for k, h in enumerate(headers):
        match = HEADER_RE.match(lines[h])
        if not match:
            raise MarkupError(src, h + 1, f"malformed header {lines[h]!r}; write '### doc: <id>'")
        doc_id = match.group(1).strip()
        if not ID_RE.match(doc_id):
            raise MarkupError(src, h + 1, f"bad document id {doc_id!r}; ids look like 'a-001'")
        if doc_id in seen:
            raise MarkupError(src, h + 1, f"duplicate id {doc_id!r} (first at line {seen[doc_id]})")
        seen[doc_id] = h + 1
        stop = headers[k + 1] if k + 1 < len(headers) else len(lines)
        if h + 1 >= stop:
            raise MarkupError(src, h + 1, f"document {doc_id!r} has no 'topics:' line and no text")
        topics = _parse_topics(lines[h + 1], src, h + 2)
        body, first = _strip_blank_edges(lines[h + 2:stop], h + 3)
        if not body:
            raise MarkupError(src, h + 1, f"document {doc_id!r} has no text")
        text, spans = parse_markup("\n".join(body), source=src, first_line=first)
        docs.append(Document(text=text, entities=spans, topics=topics, id=doc_id, source=f"{src}:{h + 1}"))
    return docs


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") or ch == TATWEEL


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) == "Mn"


def check_spans(text: str, spans: list[Span], entity_labels: tuple[str, ...] = ENTITY_LABELS) -> list[str]:
    """Problems with ``spans`` under the corpus policy (empty list = valid).

    Checks: offsets in range, sorted and not overlapping, known labels, no whitespace or punctuation at a
    span edge, no glued proclitic (و/ف/ب/ل + ال, لل) inside a span, nothing but proclitics glued in front
    of a span, and no letters glued after it (a span never cuts a word).
    """
    problems: list[str] = []
    prev_end = -1
    for k, span in enumerate(spans):
        where = f"entity {k} [{span.start}:{span.end}]"
        if not (0 <= span.start < span.end <= len(text)):
            problems.append(f"{where}: offsets out of range for a text of {len(text)} characters")
            continue
        if span.start < prev_end:
            problems.append(f"{where}: overlaps or precedes the previous entity (ends at {prev_end})")
        prev_end = max(prev_end, span.end)
        if span.label not in entity_labels:
            problems.append(f"{where}: unknown label {span.label!r}; expected one of {list(entity_labels)}")
        surface = text[span.start:span.end]
        first, last = surface[0], surface[-1]
        if first.isspace() or last.isspace():
            problems.append(f"{where}: span {surface!r} starts or ends with whitespace")
        if first in EDGE_PUNCTUATION or last in EDGE_PUNCTUATION:
            problems.append(f"{where}: span {surface!r} starts or ends with punctuation")
        if starts_with_clitic(surface):
            problems.append(f"{where}: span {surface!r} starts with a clitic; put و/ب/ف/ك/ل outside the span")
        if _is_mark(first):
            problems.append(f"{where}: span {surface!r} starts with a diacritic; start it at the letter")
        w = span.start
        while w > 0 and (_is_letter(text[w - 1]) or _is_mark(text[w - 1])):
            w -= 1
        if not is_proclitic_prefix(text[w:span.start]):
            problems.append(
                f"{where}: span {surface!r} starts inside the word {text[w:span.end]!r}; "
                "only proclitics و/ف/ب/ل/ك may stay outside"
            )
        if span.end < len(text) and _is_letter(text[span.end]):
            problems.append(f"{where}: span {surface!r} ends inside a word (followed by {text[span.end]!r})")
        elif span.end < len(text) and _is_mark(text[span.end]):
            problems.append(f"{where}: span {surface!r} leaves its last letter's diacritic outside; extend it")
    return problems
