"""Import annotations made in Label Studio or Doccano as our JSONL records, every span verified against its text.

Contract of :func:`import_annotations`:

* One record per imported annotation: ``{"id", "text", "entities": [{"start", "end", "label"}], "topics"?,
  "annotator", "source_task"}``. ``id`` is the task's ``doc_id`` (ours, written by
  :func:`tagger.annotate.labelstudio.write_tasks`) or ``task-<tool id>``; ``text`` is the task's ``text``, never
  changed; offsets are code points into it. The records read back with :func:`tagger.data.io.read_jsonl`.
* Spans are put on the text by :mod:`tagger.annotate.spans`: verified against the tool's copy of their text,
  repaired where the tool counted differently (UTF-16 offsets, CRLF/LF, NFC/NFD, edge whitespace; each repair is
  counted in :attr:`ImportResult.repairs`), then checked on word boundaries, in range and not overlapping. A span
  that fails is a :class:`~tagger.errors.DataError` naming the task, the annotation and the span; with
  ``on_error="skip"`` the annotation is listed in :attr:`ImportResult.skipped` instead.
* Tasks without annotations, or whose annotations were all cancelled (skipped in the tool), are listed as skipped,
  never imported as empty documents. ``annotations`` picks among the rest: ``latest`` (by ``updated_at``, then
  ``created_at``, then id), ``all`` (one record each; ids get ``#<annotation id>``) or ``annotator:<id>`` (the
  latest by that annotator: a user id or email).
* ``topics``: records carry ``"topics"`` (``[]`` when none was chosen, a valid negative) when the export has a
  choices result anywhere (Doccano: a ``cats`` key), so an NER-only project does not claim "no topic"; pass
  ``topics=True`` / ``False`` to decide.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagger.annotate.formats import Annotation, Task, check_output, read_export, write_atomic
from tagger.annotate.spans import FixedSpan, Resolver
from tagger.config_types import value_kind
from tagger.data.io import read_jsonl
from tagger.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

ON_ERROR = ("fail", "skip")


@dataclass(frozen=True)
class SkippedTask:
    """A task (or one annotation of it) that was not imported, and why."""

    task: Any  # the tool's task id (or file:line for Doccano JSONL)
    kind: str  # "no annotation", "cancelled", "other annotator", "invalid"
    reason: str
    annotation: Any = None


@dataclass
class ImportResult:
    """The imported records, what was skipped and why, and how many spans each repair fixed."""

    records: list[dict[str, Any]]
    skipped: list[SkippedTask] = field(default_factory=list)
    repairs: dict[str, int] = field(default_factory=dict)
    format: str = ""

    @property
    def n_entities(self) -> int:
        return sum(len(r["entities"]) for r in self.records)

    @property
    def n_topics(self) -> int:
        """Topic labels assigned, summed over the records."""
        return sum(len(r.get("topics") or ()) for r in self.records)

    def summary(self) -> str:
        """One line: ``imported N documents, M entities, K topics; S skipped: ...; repaired spans: ...``."""
        line = f"imported {len(self.records)} documents, {self.n_entities} entities, {self.n_topics} topics"
        if self.skipped:
            kinds = Counter(s.kind for s in self.skipped)
            line += f"; {len(self.skipped)} skipped: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common())
        if self.repairs:
            line += "; repaired spans: " + ", ".join(f"{k} {n}" for k, n in sorted(self.repairs.items()))
        return line


def parse_policy(annotations: str) -> tuple[str, str | None]:
    """``("latest" | "all" | "annotator", annotator id or None)``; anything else is a :class:`ConfigError`."""
    if annotations in ("latest", "all"):
        return annotations, None
    if annotations.startswith("annotator:") and annotations[len("annotator:"):].strip():
        return "annotator", annotations[len("annotator:"):].strip()
    raise ConfigError(f"annotations={annotations!r}: use latest, all or annotator:<id> (a user id or email)")


def import_annotations(
    path: str | Path,
    *,
    fmt: str = "auto",
    annotations: str = "latest",
    on_error: str = "fail",
    topics: bool | None = None,
) -> ImportResult:
    """Read a Label Studio (JSON, JSON-MIN) or Doccano (JSONL) export; see the module docstring for the rules."""
    policy, who = parse_policy(annotations)
    if on_error not in ON_ERROR:
        raise ConfigError(f"on_error={on_error!r}: use fail or skip")
    kind, tasks = read_export(path, fmt)
    if topics is None:
        topics = any(a.topics is not None for t in tasks for a in t.annotations)
    result = ImportResult(records=[], format=kind)
    repairs: Counter[str] = Counter()
    seen: dict[str, Any] = {}
    for task in tasks:
        chosen, skip = _choose(task, policy, who)
        if skip is not None:
            result.skipped.append(skip)
            continue
        for n, ann in enumerate(chosen):
            suffix = None if len(chosen) == 1 else str(ann.id if ann.id is not None else n)
            try:
                record, fixed = _record(task, ann, suffix, topics)
            except DataError as err:
                if on_error == "fail":
                    raise
                result.skipped.append(SkippedTask(task.id, "invalid", str(err), ann.id))
                continue
            if record["id"] in seen and seen[record["id"]] != task.id:
                logger.warning("%s: document %s is also task %s (imported twice into the tool?); both are kept",
                               task.where, record["id"], seen[record["id"]])
            seen[record["id"]] = task.id
            result.records.append(record)
            repairs.update(name for span in fixed for name in span.repairs)
    result.repairs = dict(repairs)
    return result


def _choose(task: Task, policy: str, who: str | None) -> tuple[list[Annotation], SkippedTask | None]:
    if not task.annotations:
        return [], SkippedTask(task.id, "no annotation", f"{task.where}: not annotated")
    live = [a for a in task.annotations if not a.cancelled]
    if not live:
        return [], SkippedTask(task.id, "cancelled", f"{task.where}: every annotation ({len(task.annotations)}) was "
                                                     "cancelled or skipped by its annotator")
    if policy == "annotator":
        mine = [a for a in live if str(a.annotator) == who]
        if not mine:
            others = sorted({str(a.annotator) for a in live})
            return [], SkippedTask(task.id, "other annotator",
                                   f"{task.where}: no annotation by annotator {who} (annotated by {', '.join(others)})")
        live = mine
    if policy == "all":
        return live, None
    return [max(live, key=lambda a: a.order)], None


def _record(task: Task, ann: Annotation, suffix: str | None, topics: bool) -> tuple[dict[str, Any], list[FixedSpan]]:
    where = task.where if ann.id is None else f"{task.where}, annotation {ann.id}"
    text = task.text
    if not isinstance(text, str):
        raise DataError(f"{task.where}: the task has no \"text\" (got {value_kind(text)}); the labelling config must "
                        "show the task's \"text\" field")
    if ann.problem:
        raise DataError(f"{where}: {ann.problem}")
    resolver = Resolver(text)
    fixed: list[FixedSpan] = []
    for span in ann.spans:
        if span.text is None:
            continue
        region = f" (region {span.region})" if span.region else ""
        got = resolver.resolve(span)
        if isinstance(got, str):
            raise DataError(f"{where}: entity {span.label} [{span.start}, {span.end}){region}: {got}")
        problem = resolver.boundary(got.start, got.end, got.label)
        if problem:
            note = f" (after repair: {'+'.join(got.repairs)})" if got.repairs else ""
            raise DataError(f"{where}: entity {got.label} {text[got.start:got.end]!r} [{got.start}, {got.end})"
                            f"{region}{note} {problem}; fix the span in the tool and export again")
        fixed.append(got)
    loose = resolver.resolve_unanchored([s for s in ann.spans if s.text is None])
    if isinstance(loose, str):
        raise DataError(f"{where}: {loose}")
    fixed += loose
    unique = {(s.start, s.end, s.label): s for s in fixed}  # the same span twice counts once
    fixed = [unique[key] for key in sorted(unique)]
    for prev, cur in zip(fixed, fixed[1:]):
        if cur.start < prev.end:
            raise DataError(f"{where}: entities {prev.label} {text[prev.start:prev.end]!r} [{prev.start}, {prev.end}) "
                            f"and {cur.label} {text[cur.start:cur.end]!r} [{cur.start}, {cur.end}) overlap; spans must "
                            "not overlap: keep one in the tool")
    doc_id = task.doc_id if task.doc_id is not None else f"task-{task.id}"
    if suffix is not None:
        doc_id = f"{doc_id}#{suffix}"
    record: dict[str, Any] = {"id": doc_id, "text": text,
                              "entities": [{"start": s.start, "end": s.end, "label": s.label} for s in fixed]}
    if topics:
        record["topics"] = list(ann.topics or [])
    record["annotator"] = ann.annotator
    record["source_task"] = task.id
    return record, fixed


# ---------------------------------------------------------------------------------------------- writing
def write_records(path: str | Path, records: list[dict[str, Any]], *, overwrite: bool = False,
                  source: str | Path | None = None) -> None:
    """Write ``records`` as JSONL atomically; they are read back with ``read_jsonl`` before the rename.

    Refuses (:class:`~tagger.errors.OutputError`) to replace ``source``, a folder, or an existing file unless
    ``overwrite``.
    """
    path = Path(path)
    check_output(path, overwrite=overwrite, inputs=(Path(source),) if source is not None else ())
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)

    def check(tmp: Path) -> None:
        try:
            read_jsonl(tmp)
        except DataError as err:  # pragma: no cover - the importer checks what read_jsonl checks
            raise DataError(f"{path}: the imported records do not read back ({err}); nothing was written") from None

    write_atomic(path, body, check)


def import_to_file(export: str | Path, out: str | Path, *, fmt: str = "auto", annotations: str = "latest",
                   on_error: str = "fail", overwrite: bool = False) -> ImportResult:
    """:func:`import_annotations` of ``export`` written to ``out`` (checked before anything is read)."""
    export, out = Path(export), Path(out)
    check_output(out, overwrite=overwrite, inputs=(export,))
    result = import_annotations(export, fmt=fmt, annotations=annotations, on_error=on_error)
    for skip in result.skipped:
        logger.debug("skipped %s", skip.reason)
    if not result.records:
        raise DataError(f"{export}: nothing to import ({result.summary()}); annotate and submit tasks in the tool, "
                        "then export again")
    write_records(out, result.records, overwrite=overwrite, source=export)
    return result
