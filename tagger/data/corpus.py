"""Build the project's seed corpus: read the markup sources, validate, split and describe them.

Everything here is deterministic (no RNG state, no time, no dict-order surprises): building twice from the same
sources gives byte-identical files. ``training/build_seeds.py`` is the thin command-line wrapper.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from pathlib import Path

from tagger.errors import TaggerError
from tagger.data.io import validate_document
from tagger.data.markup import check_spans, read_markup
from tagger.schema import DEFAULT_TOPICS, ENTITY_LABELS, Document

__all__ = [
    "LENGTH_BINS",
    "SPLITS",
    "STATS_END",
    "STATS_START",
    "CorpusError",
    "document_record",
    "load_sources",
    "render_jsonl",
    "render_stats",
    "replace_section",
    "split_documents",
    "topic_key",
    "validate_corpus",
]

SPLITS: tuple[str, ...] = ("train", "dev", "test")
# Systematic sampling over documents ordered by stratum: in every run of 10, one goes to dev, one to test.
SPLIT_PATTERN: tuple[str, ...] = ("train",) * 4 + ("dev",) + ("train",) * 4 + ("test",)
STATS_START, STATS_END = "<!-- stats:start -->", "<!-- stats:end -->"
LONG_DOC_WORDS = 450
LENGTH_BINS: tuple[tuple[int, int | None], ...] = (
    (1, 50), (51, 100), (101, 150), (151, 250), (251, 450), (451, 650), (651, None),
)


class CorpusError(TaggerError, ValueError):
    """The seed corpus sources are invalid; the message lists every problem as ``path:line: ...``."""


def topic_key(doc: Document) -> str:
    """The stratum of a document: its sorted topic labels joined by ``+`` (``""`` for no topic)."""
    return "+".join(sorted(doc.topics or []))


def load_sources(src_dir: str | Path) -> list[Document]:
    """Read every ``*.txt`` markup file of ``src_dir`` (sorted by name); ids must be unique across files."""
    files = sorted(Path(src_dir).glob("*.txt"))
    if not files:
        raise CorpusError(f"{src_dir}: no *.txt markup files found")
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for path in files:
        for doc in read_markup(path):
            assert doc.id is not None
            if doc.id in seen:
                raise CorpusError(f"{doc.source}: duplicate id {doc.id!r} (first at {seen[doc.id]})")
            seen[doc.id] = doc.source
            docs.append(doc)
    return sorted(docs, key=lambda d: d.id or "")


def validate_corpus(docs: list[Document]) -> None:
    """Raise :class:`CorpusError` listing every problem of every document (``path:line``).

    The library's quality gate (:func:`tagger.data.io.validate_document`: range, overlap, edge whitespace or
    punctuation, clitic inside a span, labels and topics from the schema) plus the markup's word-boundary
    policy (:func:`tagger.data.markup.check_spans`).
    """
    problems: list[str] = []
    for doc in docs:
        found = validate_document(doc, ENTITY_LABELS, DEFAULT_TOPICS)
        found += [f"{doc.source}: {p}" for p in check_spans(doc.text, doc.entities, ENTITY_LABELS)]
        problems += [f"{p} [{doc.id}]" for p in dict.fromkeys(found)]
    if problems:
        raise CorpusError(f"{len(problems)} problem(s) in the seed sources:\n" + "\n".join(problems))


def _order(doc_id: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{doc_id}".encode()).hexdigest()


def split_documents(
    docs: list[Document], pinned: dict[str, str] | None = None, salt: str = "seeds-v1"
) -> dict[str, list[Document]]:
    """Split by document, stratified by :func:`topic_key`, about 80/10/10; ``pinned`` maps id -> split.

    Documents are ordered by (stratum, sha256(salt:id)) and dealt out with :data:`SPLIT_PATTERN`, so every
    stratum is spread over the splits in proportion. Each split is returned sorted by id.
    """
    pinned = pinned or {}
    out: dict[str, list[Document]] = {name: [] for name in SPLITS}
    free = []
    for doc in docs:
        if doc.id in pinned:
            if pinned[doc.id] not in out:
                raise ValueError(f"pinned split {pinned[doc.id]!r} for {doc.id!r}; use one of {SPLITS}")
            out[pinned[doc.id]].append(doc)
        else:
            free.append(doc)
    free.sort(key=lambda d: (topic_key(d), _order(d.id or "", salt)))
    for i, doc in enumerate(free):
        out[SPLIT_PATTERN[i % len(SPLIT_PATTERN)]].append(doc)
    return {name: sorted(split, key=lambda d: d.id or "") for name, split in out.items()}


def document_record(doc: Document) -> dict:
    """The JSONL record of a document, keys in the fixed order id, text, entities, topics."""
    return {
        "id": doc.id,
        "text": doc.text,
        "entities": [{"start": s.start, "end": s.end, "label": s.label} for s in doc.entities],
        "topics": list(doc.topics or []),
    }


def render_jsonl(docs: list[Document]) -> str:
    """One JSON object per line (UTF-8, not ASCII-escaped), in the given order."""
    return "".join(json.dumps(document_record(d), ensure_ascii=False) + "\n" for d in docs)


def _words(doc: Document) -> int:
    return len(doc.text.split())


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def render_stats(docs: list[Document], splits: dict[str, list[Document]]) -> str:
    """The Markdown statistics section of ``seeds/README.md`` (between the stats markers)."""
    labels = Counter(s.label for d in docs for s in d.entities)
    distinct = {lab: len({d.text[s.start:s.end] for d in docs for s in d.entities if s.label == lab})
                for lab in ENTITY_LABELS}
    topics = Counter(t for d in docs for t in d.topics or [])
    n_topics = Counter(min(len(d.topics or []), 3) for d in docs)
    lengths = [_words(d) for d in docs]
    out = [
        "Generated by `python training/build_seeds.py` — do not edit by hand.",
        "",
        f"- Documents: {len(docs)} (including the seed article `seed-000`)",
        f"- Whitespace tokens: {sum(lengths)} (per document: min {min(lengths)}, "
        + f"median {statistics.median(lengths):g}, max {max(lengths)})",
        f"- Characters: {sum(len(d.text) for d in docs)}",
        f"- Entities: {sum(labels.values())}",
        f"- Documents longer than {LONG_DOC_WORDS} words: {sum(n > LONG_DOC_WORDS for n in lengths)}",
        "",
        "Entities per type:",
        "",
        *_table(["label", "mentions", "distinct surfaces"], [[lab, labels[lab], distinct[lab]]
                                                              for lab in ENTITY_LABELS]),
        "Documents per topic label (a document may carry several):",
        "",
        *_table(["topic", "documents"], [[t, topics[t]] for t in DEFAULT_TOPICS]),
        "Documents by number of topic labels:",
        "",
        *_table(["labels", "documents"], [["0", n_topics[0]], ["1", n_topics[1]], ["2", n_topics[2]],
                                          ["3+", n_topics[3]]]),
        "Length histogram (whitespace tokens per document):",
        "",
    ]
    rows = []
    for low, high in LENGTH_BINS:
        count = sum(low <= n and (high is None or n <= high) for n in lengths)
        rows.append([f"{low}–{high}" if high is not None else f"{low}+", count])
    out += _table(["words", "documents"], rows)
    out += ["Splits (by document, stratified by topic set; `seed-000` is in test):", ""]
    rows = []
    for name in SPLITS:
        part = splits[name]
        t = Counter(x for d in part for x in d.topics or [])
        rows.append([name, len(part), sum(_words(d) for d in part), sum(len(d.entities) for d in part),
                     *[t[x] for x in DEFAULT_TOPICS], sum(not d.topics for d in part)])
    out += _table(["split", "documents", "tokens", "entities", *DEFAULT_TOPICS, "no topic"], rows)
    return "\n".join(out).rstrip("\n") + "\n"


def replace_section(text: str, body: str, start: str = STATS_START, end: str = STATS_END) -> str:
    """Replace what lies between the ``start`` and ``end`` marker lines of ``text`` with ``body``."""
    i, j = text.find(start), text.find(end)
    if i == -1 or j == -1 or j < i:
        raise CorpusError(f"markers {start!r} and {end!r} not found (in that order); add them to the README")
    return text[: i + len(start)] + "\n" + body + text[j:]
