"""Files for annotating our documents in Label Studio (or Doccano), pre-annotated with a model's predictions.

:func:`write_tasks` writes three files into one folder:

* ``labeling_config.xml``: the Label Studio labelling config (:func:`labeling_config`): the text shown right to
  left with its whitespace kept, one ``Labels`` control named ``label`` for entity spans, one multiple-choice
  ``Choices`` control named ``topics``. The importer reads results by these names and types.
* ``tasks.json``: a JSON list of Label Studio tasks ``{"data": {"text", "doc_id", ...}, "predictions":
  [{"model_version", "score"?, "result": [...]}]}``. Entity spans are ``labels`` results with ``value: {"start",
  "end", "text", "labels": [L]}`` in code points (what Label Studio's backend documents for Text), each with the
  model's ``score``; topics are one ``choices`` result. The prediction ``score`` is the lowest region score, so
  sorting tasks by it in Label Studio puts the least certain first.
* ``doccano.jsonl``: the same pre-annotations for Doccano, one JSON object per line. With entity and topic
  labels it is the "intent detection and slot filling" project format ``{"text", "entities": [[start, end, L],
  ...], "cats": [...], "doc_id"}`` (the format Doccano's importer and exporter use for that project type); with
  entity labels only, the sequence-labelling format ``{"text", "label": [[start, end, L], ...], "doc_id"}``;
  with topic labels only, the text-classification format ``{"text", "label": [...], "doc_id"}``. Doccano keeps
  unknown keys such as ``doc_id`` as metadata and exports them again.

Pre-annotations come from ``predictions`` (:class:`tagger.schema.Prediction`, one per record), or when that is
None from the records' own ``entities`` / ``topics`` (re-annotating existing data, e.g. to add a label). Files are
written atomically and an existing one is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from tagger.annotate.formats import check_output, write_atomic
from tagger.errors import ConfigError, DataError, OutputError
from tagger.schema import Prediction

TEXT = "text"  # the Text object's name, and the task data key it shows
LABELS = "label"  # the Labels control: entity spans
TOPICS = "topics"  # the Choices control: topics
FILES = {"tasks": "tasks.json", "labeling_config": "labeling_config.xml", "doccano": "doccano.jsonl"}
_RESERVED = frozenset({"id", "text", "entities", "topics", "labels", "label", "cats", "doc_id"})


@dataclass
class _Doc:
    """One task: our id, the text, other data fields, and the pre-annotations (with scores when predicted)."""

    id: str
    text: str
    data: dict[str, Any]
    entities: list[tuple[int, int, str, float | None]] = field(default_factory=list)
    topics: list[tuple[str, float | None]] | None = None
    annotated: bool = False  # has pre-annotations (possibly none found)


def _check_labels(labels: Sequence[str], what: str) -> list[str]:
    out = list(labels)
    bad = [x for x in out if not isinstance(x, str) or not x.strip()]
    if bad:
        raise ConfigError(f"{what}: every label must be a non-empty string, got {bad!r}")
    dup = sorted({x for x in out if out.count(x) > 1})
    if dup:
        raise ConfigError(f"{what}: labels {dup} are listed twice")
    return out


def labeling_config(entity_labels: Sequence[str], topic_labels: Sequence[str]) -> str:
    """A Label Studio labelling config for NER spans (``label``) and multi-label topics (``topics``).

    Either list may be empty (an NER-only or topics-only project), not both. The text is shown right to left
    (``direction: rtl``) with ``white-space: pre-wrap``, so line breaks and runs of spaces are shown as they are
    and Label Studio counts offsets on the exact text.
    """
    entities = _check_labels(entity_labels, "entity_labels")
    topics = _check_labels(topic_labels, "topic_labels")
    if not entities and not topics:
        raise ConfigError("labeling_config needs entity labels, topic labels or both")
    lines = ["<View>", "  <Style>.htx-text { white-space: pre-wrap; }</Style>"]
    if entities:
        lines.append(f'  <Labels name="{LABELS}" toName="{TEXT}">')
        lines += [f"    <Label value={quoteattr(label)}/>" for label in entities]
        lines.append("  </Labels>")
    lines += ['  <View style="direction: rtl; text-align: right">',
              f'    <Text name="{TEXT}" value="${TEXT}"/>', "  </View>"]
    if topics:
        lines.append(f'  <Choices name="{TOPICS}" toName="{TEXT}" choice="multiple" showInline="true">')
        lines += [f"    <Choice value={quoteattr(label)}/>" for label in topics]
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def _stable_id(text: str, used: set[str]) -> str:
    base = "doc-" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    out, n = base, 1
    while out in used:
        n += 1
        out = f"{base}-{n}"
    return out


def _documents(records: Sequence[Any], predictions: Sequence[Prediction | None] | None,
               entity_labels: list[str], topic_labels: list[str]) -> list[_Doc]:
    if predictions is not None and len(predictions) != len(records):
        raise DataError(f"{len(predictions)} predictions for {len(records)} records; give one per record (or None)")
    docs: list[_Doc] = []
    used = {str(r["id"]) for r in records if isinstance(r, Mapping) and r.get("id") is not None}
    for k, record in enumerate(records):
        if not isinstance(record, Mapping) or not isinstance(record.get("text"), str):
            raise DataError(f"record {k}: expected an object with a \"text\" string, got {type(record).__name__}")
        text = record["text"]
        if record.get("id") is not None:
            doc_id = str(record["id"])
        else:
            doc_id = _stable_id(text, used)
            used.add(doc_id)
        data = {key: value for key, value in record.items() if key not in _RESERVED}
        doc = _Doc(doc_id, text, data)
        if predictions is not None:
            _from_prediction(doc, predictions[k], k)
        else:
            _from_record(doc, record, k)
        _keep_labels(doc, entity_labels, topic_labels, k)
        docs.append(doc)
    return docs


def _from_prediction(doc: _Doc, pred: Prediction | None, k: int) -> None:
    if pred is None:
        return
    doc.annotated = True
    if pred.text != doc.text:
        raise DataError(f"record {k} ({doc.id}): its prediction is for another text ({pred.text[:40]!r}...); "
                        "give predictions in the order of the records")
    for e in pred.entities:
        if not 0 <= e.start < e.end <= len(doc.text) or doc.text[e.start:e.end] != e.text:
            raise DataError(f"record {k} ({doc.id}): predicted entity {e.label} {e.text!r} [{e.start}, {e.end}) is "
                            "not that text's span; predictions must come from Tagger.predict on the same text")
        doc.entities.append((e.start, e.end, e.label, float(e.score)))
    if pred.topics is not None:
        doc.topics = [(t, float(pred.topics.scores[t]) if t in pred.topics.scores else None)
                      for t in pred.topics.labels]


def _from_record(doc: _Doc, record: Mapping[str, Any], k: int) -> None:
    doc.annotated = any(key in record for key in ("entities", "topics", "labels"))
    for n, ent in enumerate(record.get("entities") or []):
        try:
            start, end, label = ent["start"], ent["end"], ent["label"]
        except (KeyError, TypeError):
            raise DataError(f"record {k} ({doc.id}): entity {n} needs start, end and label, got {ent!r}") from None
        if type(start) is not int or type(end) is not int or not 0 <= start < end <= len(doc.text):
            raise DataError(f"record {k} ({doc.id}): entity {n} [{start}, {end}) is not a span of the text")
        doc.entities.append((start, end, str(label), None))
    topics = record.get("topics", record.get("labels"))
    if isinstance(topics, list):
        doc.topics = [(str(t), None) for t in topics]


def _keep_labels(doc: _Doc, entity_labels: list[str], topic_labels: list[str], k: int) -> None:
    """Drop a part the project does not annotate; a label outside the project's set is an error."""
    if not entity_labels:
        doc.entities = []
    for _, _, label, _ in doc.entities:
        if label not in entity_labels:
            raise ConfigError(f"record {k} ({doc.id}): entity label {label!r} is not in entity_labels "
                              f"{entity_labels}; add it to the labels or leave the entity out")
    if not topic_labels:
        doc.topics = None
    for label, _ in doc.topics or ():
        if label not in topic_labels:
            raise ConfigError(f"record {k} ({doc.id}): topic {label!r} is not in topic_labels {topic_labels}; add "
                              "it to the labels or leave it out")
    doc.entities.sort()


def _task(doc: _Doc, model_version: str) -> dict[str, Any]:
    task: dict[str, Any] = {"data": {TEXT: doc.text, "doc_id": doc.id, **doc.data}}
    result: list[dict[str, Any]] = []
    scores: list[float] = []
    for n, (start, end, label, score) in enumerate(doc.entities):
        region: dict[str, Any] = {"id": f"ent{n}", "from_name": LABELS, "to_name": TEXT, "type": "labels",
                                  "value": {"start": start, "end": end, "text": doc.text[start:end], "labels": [label]}}
        if score is not None:
            region["score"] = round(score, 6)
            scores.append(score)
        result.append(region)
    if doc.topics:
        result.append({"id": "topics", "from_name": TOPICS, "to_name": TEXT, "type": "choices",
                       "value": {"choices": [label for label, _ in doc.topics]}})
        scores += [s for _, s in doc.topics if s is not None]
    if doc.annotated:
        prediction: dict[str, Any] = {"model_version": model_version, "result": result}
        if scores:
            prediction["score"] = round(min(scores), 6)
        task["predictions"] = [prediction]
    return task


def _doccano(doc: _Doc, entity_labels: list[str], topic_labels: list[str]) -> dict[str, Any]:
    spans = [[start, end, label] for start, end, label, _ in doc.entities]
    cats = [label for label, _ in doc.topics or ()]
    line: dict[str, Any] = {"text": doc.text}
    if entity_labels and topic_labels:
        line.update(entities=spans, cats=cats)
    else:
        line["label"] = spans if entity_labels else cats
    line["doc_id"] = doc.id
    line.update(doc.data)
    return line


def build_tasks(records: Sequence[Any], predictions: Sequence[Prediction | None] | None = None, *,
                entity_labels: Sequence[str], topic_labels: Sequence[str], model_version: str = ""
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(Label Studio tasks, Doccano lines)`` for ``records``, as :func:`write_tasks` writes them."""
    entities = _check_labels(entity_labels, "entity_labels")
    topics = _check_labels(topic_labels, "topic_labels")
    if not entities and not topics:
        raise ConfigError("give entity labels, topic labels or both")
    docs = _documents(records, predictions, entities, topics)
    version = model_version or ("predictions" if predictions is not None else "existing labels")
    return [_task(d, version) for d in docs], [_doccano(d, entities, topics) for d in docs]


def write_tasks(
    out_dir: str | Path,
    records: Sequence[Any],
    predictions: Sequence[Prediction | None] | None = None,
    *,
    entity_labels: Sequence[str],
    topic_labels: Sequence[str],
    model_version: str = "",
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write ``tasks.json``, ``labeling_config.xml`` and ``doccano.jsonl`` into ``out_dir``; return their paths.

    ``records``: mappings with ``"text"`` and ``"id"`` (a missing id becomes ``doc-<sha1 of the text>``, stable
    across runs); other keys except ``entities``/``topics`` are copied into the task data. ``predictions``: one
    :class:`~tagger.schema.Prediction` (or None) per record, entities with code-point offsets into the text; when
    None, the records' own ``entities``/``topics`` are the pre-annotations. Labels outside ``entity_labels`` /
    ``topic_labels`` are a :class:`~tagger.errors.ConfigError`. An existing file among the three is an
    :class:`~tagger.errors.OutputError` unless ``overwrite``; every file is written through a temporary file.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file; give a folder for the annotation files")
    paths = {key: out / name for key, name in FILES.items()}
    for path in paths.values():
        check_output(path, overwrite=overwrite)
    config = labeling_config(entity_labels, topic_labels)
    tasks, lines = build_tasks(records, predictions, entity_labels=entity_labels, topic_labels=topic_labels,
                               model_version=model_version)
    write_atomic(paths["labeling_config"], config)
    write_atomic(paths["tasks"], json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
    write_atomic(paths["doccano"], "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return paths
