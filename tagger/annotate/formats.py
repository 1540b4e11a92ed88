"""Reading annotation-tool exports into one shape, and writing files atomically without replacing the user's.

Formats read (see :func:`read_export`):

* **Label Studio JSON** (the "JSON" export): a list of tasks ``{"id", "data": {"text", "doc_id"?}, "annotations":
  [{"id", "completed_by", "was_cancelled", "created_at", "updated_at", "result": [...]}]}``. ``labels`` results
  (``value: {"start", "end", "text"?, "labels": [L]}``) are entity spans; ``choices`` results are topics (those
  named ``topics`` when there are any, else all). Versions before 1.0 called annotations ``completions``.
* **Label Studio JSON-MIN**: one object per annotation, the task data at the top level plus ``annotator``,
  ``annotation_id``, ``created_at``, ``updated_at`` and one key per control: ``label`` (a list of span values) and
  ``topics`` (one choice as a string, several as ``{"choices": [...]}``); objects of one task share its ``id``.
* **Doccano JSONL** (or a JSON list): ``{"id"?, "text", "entities": [[start, end, L], ...], "cats": [...]}`` (intent
  detection and slot filling), ``"label": [[start, end, L], ...]`` (sequence labelling) or ``"label": [...]``
  (text classification); spans may also be objects ``{"start_offset", "end_offset", "label"}``. A record with
  none of these keys has no annotation. Doccano stores no span text, so its spans are checked against word
  boundaries instead (:mod:`tagger.annotate.spans`).

Every file is read as UTF-8 (a BOM is fine); bytes that are not, or text that is not JSON, are a
:class:`~tagger.errors.DataError` naming the file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tagger.annotate.spans import ToolSpan
from tagger.config_types import value_kind
from tagger.data.io import iter_jsonl
from tagger.errors import DataError, OutputError
from tagger.textfile import read_text

FORMATS = ("auto", "labelstudio", "doccano")
_MIN_META = frozenset({"id", "text", "doc_id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time",
                       "agreement", "draft_id", "predictions"})


@dataclass
class Annotation:
    """One annotator's work on one task, as the export stored it (spans not yet checked against the text)."""

    id: Any = None
    annotator: Any = None
    cancelled: bool = False
    order: tuple[float, float, int] = (0.0, 0.0, 0)  # (updated/created time, numeric id, position): max = latest
    spans: list[ToolSpan] = field(default_factory=list)
    topics: list[str] | None = None  # None: no choices result at all
    problem: str | None = None  # malformed result: why


@dataclass
class Task:
    """One document of the export: its text, our id (``doc_id``) when it has one, and its annotations."""

    id: Any  # the tool's task id (or file:line)
    where: str  # for messages: "EXPORT: task 12" or "EXPORT:3"
    text: Any
    doc_id: str | None
    annotations: list[Annotation] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- reading
def read_export(path: str | Path, fmt: str = "auto") -> tuple[str, list[Task]]:
    """``(format, tasks)`` of an export; ``fmt`` is ``auto``, ``labelstudio`` or ``doccano``.

    ``auto``: a file whose JSON is a list is Label Studio JSON / JSON-MIN (or a Doccano JSON list, told by its
    keys); anything else is read as JSON lines (Doccano). The format returned is ``labelstudio``,
    ``labelstudio-min`` or ``doccano``.
    """
    if fmt not in FORMATS:
        raise DataError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    text = read_text(path, DataError)
    if not text.strip():
        raise DataError(f"{path}: the file is empty; export the project again")
    if not text.lstrip().startswith("["):
        if fmt == "labelstudio":
            raise DataError(f"{path}: a Label Studio export is a JSON list [...]; this looks like JSON lines "
                            "(Doccano): pass --format doccano, or export the Label Studio project as JSON")
        return "doccano", [_doccano_task(rec, where) for where, _, rec in iter_jsonl(path)]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}:{err.colno}: not valid JSON ({err.msg}); export the project again "
                        "or fix the file") from None
    items = [item for item in data if item is not None]  # the text starts with "[": a JSON list
    bad = next((k for k, item in enumerate(items) if not isinstance(item, dict)), None)
    if bad is not None:
        raise DataError(f"{path}: item {bad} of the list is {value_kind(items[bad])}, expected a task object {{...}}")
    kind = fmt if fmt != "auto" else _detect(items)
    if kind == "doccano":
        return "doccano", [_doccano_task(item, f"{path}: item {k}") for k, item in enumerate(items)]
    if any("annotations" in it or "completions" in it or "data" in it for it in items) or not items:
        return "labelstudio", [_ls_task(item, k, path) for k, item in enumerate(items)]
    if all("text" in it for it in items):
        return "labelstudio-min", _min_tasks(items, path)
    raise DataError(f"{path}: not a Label Studio export (tasks need \"data\" and \"annotations\", or JSON-MIN "
                    "objects \"text\" and \"annotation_id\")")


def _detect(items: list[dict]) -> str:
    for item in items:
        if any(k in item for k in ("annotations", "completions", "data", "annotation_id", "annotator")):
            return "labelstudio"
        if "text" in item and any(k in item for k in ("entities", "cats", "label")):
            return "doccano"
    return "labelstudio"


def _order(ann: dict, position: int) -> tuple[float, float, int]:
    when = ann.get("updated_at") or ann.get("created_at")
    stamp = float("-inf")
    if isinstance(when, str):
        try:
            moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
            stamp = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
        except ValueError:
            pass
    number = ann.get("id", ann.get("annotation_id"))
    numeric = float(number) if isinstance(number, (int, float)) and not isinstance(number, bool) else (
        float(number) if isinstance(number, str) and number.isdigit() else float("-inf"))
    return stamp, numeric, position


def _annotator(value: Any) -> Any:
    if isinstance(value, dict):  # some versions export the user object
        return value.get("email") or value.get("id")
    return value


def _ls_task(item: dict, k: int, path: Path) -> Task:
    tid = item.get("id", f"#{k}")
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    doc_id = data.get("doc_id")
    task = Task(tid, f"{path}: task {tid}", data.get("text"), None if doc_id is None else str(doc_id))
    anns = item.get("annotations", item.get("completions")) or []
    if not isinstance(anns, list):
        anns = [None]
    for n, ann in enumerate(anns):
        if not isinstance(ann, dict):
            task.annotations.append(Annotation(problem=f"annotation {n} is {value_kind(ann)}, expected an object"))
            continue
        out = Annotation(ann.get("id"), _annotator(ann.get("completed_by")),
                         bool(ann.get("was_cancelled") or ann.get("skipped")), _order(ann, n))
        result = ann.get("result", [])
        if not isinstance(result, list):
            out.problem = f"annotation {out.id}: \"result\" is {value_kind(result)}, expected a list"
        else:
            _ls_results(result, out)
        task.annotations.append(out)
    return task


def _ls_results(result: list, out: Annotation) -> None:
    """Spans from ``labels`` results, topics from ``choices`` results (named ``topics`` when any is)."""
    choices: list[tuple[Any, list]] = []
    for n, item in enumerate(result):
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(value, dict):
            continue  # relations and other results without a value
        kind = item.get("type")
        if kind == "labels" or (kind is None and "labels" in value):
            problem = _add_span(out, value, "start", "end", value.get("labels"), item.get("id"), f"result {n}")
            if problem:
                out.problem = problem
                return
        elif kind == "choices" or (kind is None and "choices" in value):
            picked = value.get("choices")
            if not isinstance(picked, list) or not all(isinstance(c, str) and c for c in picked):
                out.problem = f"result {n}: choices must be a list of label strings, got {picked!r}"
                return
            choices.append((item.get("from_name"), picked))
    if choices:
        named = [c for name, c in choices if name == "topics"]
        out.topics = _unique([c for group in (named or [c for _, c in choices]) for c in group])


def _add_span(out: Annotation, value: dict, skey: str, ekey: str, labels: Any, region: Any, where: str) -> str | None:
    start, end = value.get(skey), value.get(ekey)
    if type(start) is not int or type(end) is not int:
        return f"{where}: span offsets must be integers, got {skey}={start!r}, {ekey}={end!r}"
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str) or not labels[0]:
        return (f"{where}: span [{start}, {end}) needs exactly one label, got {labels!r}; a span with several "
                "labels is ambiguous, keep one")
    text = value.get("text")
    out.spans.append(ToolSpan(start, end, labels[0], text if isinstance(text, str) else None,
                              None if region is None else str(region)))
    return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _min_tasks(items: list[dict], path: Path) -> list[Task]:
    """JSON-MIN: one object per annotation; objects with the same ``id`` are one task's annotations."""
    tasks: dict[Any, Task] = {}
    for k, item in enumerate(items):
        tid = item.get("id", f"#{k}")
        key = json.dumps(tid)
        if key not in tasks:
            doc_id = item.get("doc_id")
            tasks[key] = Task(tid, f"{path}: task {tid}", item.get("text"), None if doc_id is None else str(doc_id))
        task = tasks[key]
        has_labels = any(name == "topics" or isinstance(value, (list, dict))
                         for name, value in item.items() if name not in _MIN_META)
        if item.get("annotation_id") is None and not has_labels:
            continue  # a task exported without annotations
        out = Annotation(item.get("annotation_id"), _annotator(item.get("annotator")), False, _order(item, k))
        topics: list[str] = []
        seen_choices = False
        for name, value in item.items():
            if name in _MIN_META:
                continue
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, dict) and "start" in v and "end" in v:
                    problem = _add_span(out, v, "start", "end", v.get("labels"), None, f"item {k} {name!r}")
                    if problem:
                        out.problem = problem
                elif isinstance(v, dict) and isinstance(v.get("choices"), list):
                    topics += [c for c in v["choices"] if isinstance(c, str)]
                    seen_choices = True
                elif name == "topics" and isinstance(v, str):
                    topics.append(v)
                    seen_choices = True
        out.topics = _unique(topics) if seen_choices else None
        task.annotations.append(out)
    return list(tasks.values())


def _doccano_task(record: dict, where: str) -> Task:
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    doc_id = record.get("doc_id", meta.get("doc_id"))
    tid = record.get("id", where)
    task = Task(tid, where, record.get("text"), None if doc_id is None else str(doc_id))
    spans_raw = record.get("entities")
    cats = record.get("cats")
    label = record.get("label", record.get("labels"))
    if isinstance(label, list) and label and all(isinstance(x, str) for x in label):
        cats = label if cats is None else cats  # text classification: "label" holds the categories
    elif spans_raw is None:
        spans_raw = label
    if spans_raw is None and cats is None and "label" not in record and "labels" not in record:
        return task  # nothing annotated
    out = Annotation(None, record.get("annotator", record.get("user")))
    for n, sp in enumerate(spans_raw or []):
        if isinstance(sp, list) and len(sp) == 3:
            problem = _add_span(out, {"start": sp[0], "end": sp[1]}, "start", "end", sp[2], None, f"span {n}")
        elif isinstance(sp, dict):
            problem = _add_span(out, sp, "start_offset", "end_offset", sp.get("label"), sp.get("id"), f"span {n}")
        else:
            problem = f"span {n} is {sp!r}; expected [start, end, label] or {{start_offset, end_offset, label}}"
        if problem:
            out.problem = problem
            break
    if cats is not None:
        if not isinstance(cats, list) or not all(isinstance(c, str) and c for c in cats):
            out.problem = out.problem or f"\"cats\" must be a list of label strings, got {cats!r}"
        else:
            out.topics = _unique(cats)
    task.annotations.append(out)
    return task


# ---------------------------------------------------------------------------------------------- writing
def check_output(path: Path, *, overwrite: bool, inputs: tuple[Path, ...] = ()) -> None:
    """Raise :class:`OutputError` when writing ``path`` would replace an input, a folder or (unless
    ``overwrite``) an existing file."""
    for source in inputs:
        if path.resolve() == source.resolve() or (path.exists() and source.exists() and path.samefile(source)):
            raise OutputError(f"{path}: is the input {source}; write the output to another file")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: exists; choose another name or pass --overwrite (overwrite=True) to replace it")


def write_atomic(path: Path, text: str, check: Callable[[Path], None] | None = None) -> None:
    """Write ``text`` (UTF-8, newlines as given) to a temporary file next to ``path``, run ``check`` on it, then
    rename it over ``path``: a reader never sees a half-written file, and on an error ``path`` is unchanged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("x", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
