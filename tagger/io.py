"""Readers, writers and validators for CoNLL, JSONL and CSV data.

Every error names the file and line and says what to do. Repairs (I-X without B-X) are counted and warned
about, never done silently.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from tagger.config import NormalizationConfig
from tagger.decode import tag_spans
from tagger.errors import DataError
from tagger.markup import is_proclitic_prefix, starts_with_clitic
from tagger.schema import ENTITY_LABELS, Document, Span
from tagger.text import pretokenize

logger = logging.getLogger(__name__)

_TAG_RE = re.compile(r"^(O|([BIES])-(\S+))$")


def read_documents(path: str | Path, cfg: NormalizationConfig | None = None) -> list[Document]:
    """Read a data file by extension: ``.conll``/``.txt``/``.bio`` (CoNLL), ``.jsonl``, ``.csv``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return read_jsonl(path, cfg)
    if suffix == ".csv":
        return read_csv(path)
    return read_conll(path)


# ---------------------------------------------------------------------------------------------- CoNLL
def read_conll(path: str | Path) -> list[Document]:
    """CoNLL: ``token<TAB or space>tag`` per line, blank line between sentences; IOB2/BIO/IOBES tags.

    Returns one :class:`Document` per sentence with ``text = " ".join(tokens)``, the tokens as ``words`` and
    the entities as character spans (tags converted to IOB2; I-X without B-X repaired to B-X, counted, warned).
    """
    path = Path(path)
    docs: list[Document] = []
    tokens: list[str] = []
    tags: list[str] = []
    first_line = 0
    repairs = 0
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip() or line.startswith("-DOCSTART-"):
                if tokens:
                    doc, fixed = _conll_doc(tokens, tags, f"{path}:{first_line}", len(docs))
                    docs.append(doc)
                    repairs += fixed
                    tokens, tags = [], []
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            parts = [p for p in parts if p != ""]
            if len(parts) < 2:
                raise DataError(
                    f"{path}:{lineno}: expected 'token<TAB>tag', got {line!r}; put the tag after a tab or space"
                )
            token, tag = parts[0].strip(), parts[-1].strip()
            if not _TAG_RE.match(tag):
                raise DataError(
                    f"{path}:{lineno}: bad tag {tag!r} for token {token!r}; tags are O, B-X, I-X (IOB2/BIO) or "
                    "E-X, S-X (IOBES)"
                )
            if not token:
                raise DataError(f"{path}:{lineno}: empty token; remove the line or give the token")
            if not tokens:
                first_line = lineno
            tokens.append(token)
            tags.append(tag)
    if tokens:
        doc, fixed = _conll_doc(tokens, tags, f"{path}:{first_line}", len(docs))
        docs.append(doc)
        repairs += fixed
    if repairs:
        logger.warning("%s: repaired %d I-X tag(s) not preceded by B-X/I-X (made B-X)", path, repairs)
    if not docs:
        raise DataError(f"{path}: no sentences found; expected CoNLL 'token<TAB>tag' lines")
    return docs


def to_iob2(tags: list[str]) -> tuple[list[str], int]:
    """Convert BIO/IOB1/IOBES tags to IOB2; returns the tags and how many I-X were repaired to B-X."""
    out: list[str] = []
    repaired = 0
    prev = "O"
    for tag in tags:
        if tag == "O":
            out.append(tag)
            prev = tag
            continue
        prefix, label = tag[0], tag[2:]
        if prefix == "S":
            prefix = "B"
        elif prefix == "E":
            prefix = "I"
        if prefix == "I" and prev[2:] != label:
            prefix = "B"
            repaired += 1
        new = f"{prefix}-{label}"
        out.append(new)
        prev = new
    return out, repaired


def _conll_doc(tokens: list[str], tags: list[str], source: str, index: int) -> tuple[Document, int]:
    iob2, fixed = to_iob2(tags)
    words: list[tuple[int, int]] = []
    pos = 0
    for tok in tokens:
        words.append((pos, pos + len(tok)))
        pos += len(tok) + 1
    text = " ".join(tokens)
    spans = [Span(words[s][0], words[e - 1][1], label) for s, e, label in tag_spans(iob2)]
    return Document(text=text, entities=spans, id=f"{Path(source).name}#{index}", words=words, source=source), fixed


# ---------------------------------------------------------------------------------------------- JSONL
def iter_jsonl(path: str | Path, error: type[Exception] = DataError) -> Iterator[tuple[str, int, Any]]:
    """``(where, line number, record)`` for each non-blank line; a bad line raises ``error`` naming ``file:line``."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        yield from iter_jsonl_lines(fh, str(path), error)


def iter_jsonl_lines(lines: Iterable[str], name: str, error: type[Exception] = DataError) -> Iterator[tuple[str, int, Any]]:
    """:func:`iter_jsonl` over lines already open (a file object, stdin), named ``name`` in errors."""
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as err:
            raise error(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
        yield where, lineno, record


def read_jsonl(path: str | Path, cfg: NormalizationConfig | None = None) -> list[Document]:
    """JSONL records ``{"text", "entities": [{"start","end","label"}], "topics": [...], "id"?}``."""
    docs = [document_from_record(record, where, cfg) for where, _, record in iter_jsonl(path)]
    if not docs:
        raise DataError(f"{path}: no records found; expected one JSON object per line")
    return docs


def document_from_record(record: Any, where: str, cfg: NormalizationConfig | None = None) -> Document:
    """Build and check one :class:`Document` from a JSON object (``where`` is ``file:line`` for errors)."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str):
        raise DataError(f"{where}: missing or non-string \"text\"; every record needs the document text")
    topics = record.get("topics", record.get("labels"))
    if topics is not None and (not isinstance(topics, list) or not all(isinstance(t, str) and t for t in topics)):
        raise DataError(f"{where}: \"topics\" must be a list of label strings, got {topics!r}")
    raw_entities = record.get("entities", [])
    if not isinstance(raw_entities, list):
        raise DataError(f"{where}: \"entities\" must be a list of {{start, end, label}} objects")
    spans: list[Span] = []
    for k, ent in enumerate(raw_entities):
        try:
            start, end, label = int(ent["start"]), int(ent["end"]), ent["label"]
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{where}: entity {k} must have integer start/end and a label, got {ent!r}") from None
        if not isinstance(label, str) or not label:
            raise DataError(f"{where}: entity {k} has no label string")
        if not 0 <= start < end <= len(text):
            raise DataError(
                f"{where}: entity {k} span [{start}, {end}) is out of range for a text of {len(text)} characters"
            )
        spans.append(Span(start, end, label))
    spans.sort(key=lambda s: (s.start, s.end))
    words = None
    if spans:
        words = list(pretokenize(text, cfg).spans)
        for k, span in enumerate(spans):
            if k and span.start < spans[k - 1].end:
                raise DataError(f"{where}: entities {spans[k - 1]} and {span} overlap; spans must not overlap")
            problem = boundary_problem(text, words, span)
            if problem:
                raise DataError(f"{where}: entity {text[span.start:span.end]!r} {span}: {problem}")
    doc_id = record.get("id")
    return Document(
        text=text,
        entities=spans,
        topics=list(topics) if topics is not None else None,
        id=str(doc_id) if doc_id is not None else where,
        source=where,
    )


def boundary_problem(text: str, words: list[tuple[int, int]], span: Span) -> str | None:
    """Why ``span`` is not on word boundaries, or None.

    Policy: a span starts at a word start, or after a proclitic (و/ف then ب/ك/ل) glued to the word; it ends at
    a word end. Anything else cuts through a word.
    """
    starts_ok = end_ok = False
    for ws, we in words:
        if ws <= span.start < we:
            starts_ok = span.start == ws or is_proclitic_prefix(text[ws:span.start])
        if ws < span.end <= we:
            end_ok = span.end == we
    if not starts_ok:
        return "starts inside a word (only a glued proclitic و/ف/ب/ك/ل may precede it); move the start"
    if not end_ok:
        return "ends inside a word; move the end to the end of the word"
    return None


def validate_document(
    doc: Document,
    entity_labels: Collection[str] | None = ENTITY_LABELS,
    topic_labels: Collection[str] | None = None,
) -> list[str]:
    """Quality-gate problems of one document (empty list = valid). Used for the seed corpus."""
    problems: list[str] = []
    text = doc.text
    prev_end = -1
    for span in sorted(doc.entities, key=lambda s: (s.start, s.end)):
        where = f"{doc.source} entity [{span.start}, {span.end})"
        if not 0 <= span.start < span.end <= len(text):
            problems.append(f"{where}: out of range (text has {len(text)} characters)")
            continue
        surface = text[span.start : span.end]
        if span.start < prev_end:
            problems.append(f"{where} {surface!r}: overlaps the previous entity")
        prev_end = max(prev_end, span.end)
        if surface != surface.strip():
            problems.append(f"{where} {surface!r}: leading or trailing whitespace")
        if starts_with_clitic(surface):
            problems.append(f"{where} {surface!r}: starts with a proclitic; the clitic goes outside the span")
        if surface[:1] in "،,.:;!?\"'«»()" or surface[-1:] in "،,.:;!?\"'«»()":
            problems.append(f"{where} {surface!r}: punctuation at the span edge")
        if entity_labels is not None and span.label not in entity_labels:
            problems.append(f"{where}: label {span.label!r} not in {sorted(entity_labels)}")
    if topic_labels is not None and doc.topics:
        for topic in doc.topics:
            if topic not in topic_labels:
                problems.append(f"{doc.source}: topic {topic!r} not in {sorted(topic_labels)}")
    return problems


def check_topic_labels(docs: Iterable[Document], labels: Collection[str]) -> None:
    """Raise :class:`DataError` naming ``file:line`` for the first topic outside ``labels``."""
    for doc in docs:
        for topic in doc.topics or ():
            if topic not in labels:
                raise DataError(
                    f"{doc.source}: unknown topic label {topic!r}; the label set is {sorted(labels)} "
                    "(add it to `labels` in the config or fix the record)"
                )


# ---------------------------------------------------------------------------------------------- CSV
def read_csv(path: str | Path) -> list[Document]:
    """CSV with a header ``text,labels``; labels are ``|``-separated (empty = no topic)."""
    path = Path(path)
    docs: list[Document] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise DataError(f"{path}:1: CSV needs a header with a 'text' column (and 'labels')")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            text = row.get("text")
            if text is None:
                raise DataError(f"{where}: missing text")
            labels = [x.strip() for x in (row.get("labels") or "").split("|") if x.strip()]
            docs.append(Document(text=text, topics=labels, id=where, source=where))
    return docs


# ---------------------------------------------------------------------------------------------- writing
def document_to_record(doc: Document) -> dict[str, Any]:
    record: dict[str, Any] = {"id": doc.id, "text": doc.text}
    record["entities"] = [{"start": s.start, "end": s.end, "label": s.label} for s in doc.entities]
    if doc.topics is not None:
        record["topics"] = list(doc.topics)
    return record


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    with Path(path).open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
