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

from tagger.arabic import is_proclitic_prefix, starts_with_clitic
from tagger.config import NormalizationConfig
from tagger.config_types import value_kind
from tagger.decode import tag_spans
from tagger.errors import DataError
from tagger.schema import ENTITY_LABELS, Document, Span
from tagger.text import pretokenize
from tagger.textfile import open_text, strip_bom

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
    The file is UTF-8 (a BOM is skipped); another encoding is a :class:`DataError` naming the line.
    """
    path = Path(path)
    docs: list[Document] = []
    tokens: list[str] = []
    tags: list[str] = []
    first_line = 0
    repairs = 0
    with open_text(path, DataError) as fh:
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
def iter_jsonl(path: str | Path, error: type[Exception] = DataError) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """``(where, line number, record)`` for each non-blank line of a UTF-8 file (a BOM is skipped).

    A line that is not a JSON object, or a file that is not UTF-8, raises ``error`` naming ``file:line``.
    """
    path = Path(path)
    with open_text(path, error) as fh:
        yield from iter_jsonl_lines(fh, str(path), error)


def iter_jsonl_lines(
    lines: Iterable[str], name: str, error: type[Exception] = DataError
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """:func:`iter_jsonl` over lines already open (a file object, stdin), named ``name`` in errors.

    A byte-order mark at the start of the first line is ignored. Every record is a JSON object (``dict``).
    """
    for lineno, raw in enumerate(strip_bom(lines), 1):
        if not raw.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as err:
            raise error(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(record, dict):
            raise error(f"{where}: expected a JSON object {{...}} per line, got {value_kind(record)}")
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
        start, end, label = _entity_fields(ent, where, k)
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


def _entity_fields(ent: Any, where: str, k: int) -> tuple[int, int, str]:
    """``(start, end, label)`` of entity ``k``; offsets must be JSON integers (never rounded or parsed)."""
    if not isinstance(ent, dict):
        raise DataError(f"{where}: entity {k} must be an object {{\"start\", \"end\", \"label\"}}, got {ent!r}")
    missing = [key for key in ("start", "end", "label") if key not in ent]
    if missing:
        raise DataError(f"{where}: entity {k} lacks {missing}; every entity needs integer start/end and a label")
    for key in ("start", "end"):
        value = ent[key]
        if type(value) is not int:  # bool is an int subclass; floats (6.9, 1e20, NaN, Infinity) and strings are not
            raise DataError(
                f"{where}: entity {k}: \"{key}\" must be an integer character offset, got "
                f"{_json_repr(value)} ({value_kind(value)}); offsets are not rounded or converted, fix the record"
            )
    label = ent["label"]
    if not isinstance(label, str) or not label:
        raise DataError(f"{where}: entity {k} has no label string")
    return ent["start"], ent["end"], label


def _json_repr(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


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
    """CSV with a header ``text,labels``; labels are ``|``-separated (empty = no topic).

    UTF-8 with or without a BOM (Excel writes one). A row with more fields than the header, or a quoted field
    that is never closed, is a :class:`DataError` naming the line where the row starts.
    """
    path = Path(path)
    docs: list[Document] = []
    with open_text(path, DataError, newline="") as fh:
        for where, row in _csv_rows(fh, path):
            text = row.get("text")
            if text is None:
                raise DataError(f"{where}: missing text")
            labels = [x.strip() for x in (row.get("labels") or "").split("|") if x.strip()]
            docs.append(Document(text=text, topics=labels, id=where, source=where))
    return docs


def _csv_rows(lines: Iterable[str], path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``(file:line, {column: value})`` per data row; the line is where the row starts. Blank lines are skipped.

    The reader is strict, so a stray or unclosed quote is an error instead of a field that swallows the rest
    of the file.
    """
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            where, start = f"{path}:{start}", reader.line_num + 1
            if not row:
                continue
            if header is None:
                header = [name.strip() for name in row]
                if "text" not in header:
                    raise DataError(f"{where}: CSV needs a header with a 'text' column (and 'labels'), got {header}")
                continue
            if len(row) > len(header):
                raise DataError(
                    f"{where}: {len(row)} fields but the header has {len(header)} ({header}); "
                    "put a text that contains commas in double quotes"
                )
            yield where, dict(zip(header, row))
    except csv.Error as err:
        raise DataError(_csv_error(path, start, reader.line_num, err)) from None
    if header is None:
        raise DataError(f"{path}:1: CSV needs a header with a 'text' column (and 'labels')")


def _csv_error(path: Path, start: int, end: int, err: csv.Error) -> str:
    if "unexpected end of data" in str(err):
        return (
            f"{path}:{start}: a quoted field in the row starting on this line is never closed (the quote runs to "
            'the end of the file); add the closing ", and write a quote inside a field as ""'
        )
    return (
        f"{path}:{start}: malformed CSV row (lines {start}-{end}: {err}); check the quotes of this row: a field "
        'in quotes must end with " followed by a comma or the end of the line, and a quote inside it is written ""'
    )


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
