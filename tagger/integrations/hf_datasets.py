"""Hugging Face ``datasets`` in and out: train from a dataset, tag a dataset (extra ``[datasets]``).

``datasets`` is imported only inside the functions that need it, so this module imports without it.

In: :func:`to_documents` turns the rows of a ``Dataset`` (or one split of a ``DatasetDict``) into validated
:class:`~tagger.schema.Document` objects; training uses it for every ``train``/``dev`` item that is a dataset
object, a parquet/arrow file or a ``save_to_disk`` directory (JSONL, CoNLL and CSV keep their own readers). A
column mapping (``columns=`` here, ``columns:`` in a training config) names the dataset's columns for

* ``text`` (default ``text``) with ``entities`` (default ``entities``): character spans ``[{start, end, label}]``,
  checked like JSONL (in range, no overlap, on word boundaries);
* or ``tokens`` (default ``tokens``) with ``tags`` (default ``tags``, else ``ner_tags``): IOB2/BIO/IOBES strings or
  ``ClassLabel`` integers (named through the dataset's features); the text is the tokens joined by spaces;
* ``topics`` (default ``topics``, else ``labels``): a list of label strings, ``ClassLabel`` integers (a list, or
  one per row), or a multi-hot list of 0/1 in the order of the configured topic labels (``labels``);
* ``id`` (default ``id``).

Every error is a :class:`~tagger.errors.DataError` naming the split (or path), the row index and the column.

Out: :func:`tag_dataset` (also :meth:`tagger.predict.Tagger.tag_dataset`) adds ``entities``, ``topics`` and
``topic_scores`` columns with ``Dataset.map(batched=True)``: one model, loaded once, and only one batch of
predictions in Python at a time (``map`` writes each batch to the dataset's cache file).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tagger.config import COLUMN_KEYS, NormalizationConfig
from tagger.data.io import document_from_record, read_documents, to_iob2
from tagger.decode import tag_spans
from tagger.errors import DataError
from tagger.integrations.hf_tagging import import_datasets, tag_dataset
from tagger.schema import Document, Span

__all__ = ["COLUMN_KEYS", "DATASET_SUFFIXES", "data_sources", "is_dataset", "is_dataset_path", "load",
           "read_source", "tag_dataset", "to_documents"]

logger = logging.getLogger(__name__)

DATASET_SUFFIXES = (".parquet", ".pq", ".arrow")
_TAG_RE = re.compile(r"^(O|([BIES])-(\S+))$")
_SPLITS = {"train": ("train",), "dev": ("validation", "dev", "valid")}


# ---------------------------------------------------------------------------------------------- what a source is
def is_dataset(obj: Any) -> bool:
    """True for a ``datasets`` ``Dataset``, ``DatasetDict`` or ``IterableDataset`` (never imports ``datasets``)."""
    datasets = sys.modules.get("datasets")
    return datasets is not None and isinstance(
        obj, (datasets.Dataset, datasets.DatasetDict, datasets.IterableDataset, datasets.IterableDatasetDict))


def is_dataset_path(path: Any) -> bool:
    """True for a path that :func:`load` reads: a directory, or a ``.parquet``/``.pq``/``.arrow`` file."""
    if not isinstance(path, (str, os.PathLike)):
        return False
    path = Path(path)
    return path.is_dir() or path.suffix.lower() in DATASET_SUFFIXES


def load(path: str | os.PathLike) -> Any:
    """A dataset from a ``save_to_disk`` directory, a parquet file or an arrow file (memory-mapped, not read)."""
    datasets, path = import_datasets(), Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        if path.is_dir():
            data = datasets.load_from_disk(str(path))
        elif path.suffix.lower() == ".arrow":
            data = datasets.Dataset.from_file(str(path))
        else:
            data = datasets.Dataset.from_parquet(str(path))
    except Exception as err:  # pyarrow and datasets raise their own classes for a damaged or foreign file
        lines = str(err).strip().splitlines()
        raise DataError(f"{path}: cannot read it as a dataset ({type(err).__name__}: {lines[0] if lines else ''}); "
                        "give a parquet/arrow file or a directory written by save_to_disk") from None
    return data


def _pick_split(data: Any, role: str, name: str) -> tuple[Any, str]:
    """The split of a ``DatasetDict`` used as ``role`` (train: ``train``; dev: ``validation``/``dev``; or the only
    one), and its name for messages."""
    if not isinstance(data, Mapping):
        return data, name
    splits = list(data)
    for split in _SPLITS.get(role, ()):
        if split in data:
            return data[split], f"{name}[{split}]" if name != role else split
    if len(splits) == 1:
        return data[splits[0]], f"{name}[{splits[0]}]" if name != role else splits[0]
    raise DataError(f"{name}: a DatasetDict with splits {splits} and none for {role} "
                    f"({' or '.join(_SPLITS.get(role, ()))}); pass the split itself, e.g. ds[{splits[0]!r}]")


def read_source(item: Any, columns: Mapping[str, str] | None = None, role: str = "train",
                normalization: NormalizationConfig | None = None,
                topic_labels: Sequence[str] | None = None) -> tuple[str, list[Document]]:
    """``(name, documents)`` of one training/dev item: a dataset object, a dataset path, or a data file."""
    if is_dataset(item):
        data, name = _pick_split(item, role, role)
    elif is_dataset_path(item):
        data, name = _pick_split(load(item), role, str(item))
    else:
        return str(item), read_documents(item, normalization)
    return name, to_documents(data, columns, name=name, normalization=normalization, topic_labels=topic_labels)


def data_sources(config: Any, overrides: list[str] | None, train_data: Any = None,
                 dev_data: Any = None) -> tuple[Any, list[str], dict[str, list[Any]]]:
    """Take dataset objects out of a training call: ``(config, overrides, {"train"/"dev": items})``.

    Items come from ``train_data``/``dev_data`` (they replace the config's ``train``/``dev``) or from the
    ``train``/``dev`` of a dict config that holds dataset objects. The config then names them by a description
    (``<Dataset: 12 rows>``), which is what the saved training config shows.
    """
    overrides = list(overrides or [])
    sources: dict[str, list[Any]] = {}
    for key, given in (("train", train_data), ("dev", dev_data)):
        if given is not None:
            items = list(given) if isinstance(given, (list, tuple)) else [given]
            sources[key] = items
            overrides.append(f"{key}={json.dumps([_describe(x) for x in items], ensure_ascii=False)}")
        elif isinstance(config, dict) and config.get(key) is not None:
            value = config[key]
            items = list(value) if isinstance(value, (list, tuple)) else [value]
            if any(is_dataset(x) for x in items):
                sources[key] = items
                config = {**config, key: [_describe(x) for x in items]}
    return config, overrides, sources


def _describe(item: Any) -> str:
    if not is_dataset(item):
        return os.fspath(item) if isinstance(item, (str, os.PathLike)) else repr(item)
    if isinstance(item, Mapping):
        return f"<{type(item).__name__}: " + ", ".join(f"{k} {_rows(v)}" for k, v in item.items()) + ">"
    return f"<{type(item).__name__}: {_rows(item)}>"


def _rows(data: Any) -> str:
    try:
        return f"{len(data)} rows"
    except TypeError:  # an IterableDataset has no length
        return "streamed"


# ---------------------------------------------------------------------------------------------- rows -> documents
def _names(feature: Any) -> list[str] | None:
    """The ``ClassLabel`` names of a feature, or of the feature a list feature holds; else None."""
    for f in (feature, getattr(feature, "feature", None)):
        if type(f).__name__ == "ClassLabel":
            return list(f.names)
    return None


def _column_plan(columns: Mapping[str, str] | None, present: list[str], name: str) -> dict[str, str | None]:
    """``{key: dataset column or None}`` for the keys of :data:`COLUMN_KEYS`; a mapped column must exist."""
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(COLUMN_KEYS))
    if unknown:
        raise DataError(f"{name}: unknown column mapping key(s) {unknown}; the keys are {list(COLUMN_KEYS)}")
    for key, col in columns.items():
        if col not in present:
            raise DataError(f"{name}: column {col!r} (mapped for {key!r}) is not in the dataset; its columns are "
                            f"{present}")
    fallbacks = {"tags": ("tags", "ner_tags"), "topics": ("topics", "labels")}
    plan: dict[str, str | None] = {}
    for key in COLUMN_KEYS:
        plan[key] = columns.get(key) or next((c for c in fallbacks.get(key, (key,)) if c in present), None)
    if "entities" in columns and ("tags" in columns or "tokens" in columns):
        raise DataError(f"{name}: map either 'entities' (character spans over 'text') or 'tokens' + 'tags', not both")
    use_tags = plan["tags"] is not None and ("tags" in columns or "tokens" in columns or plan["entities"] is None)
    if use_tags and plan["tokens"] is None:
        raise DataError(f"{name}: column {plan['tags']!r} holds tags but there is no tokens column; map it with "
                        "columns={'tokens': ...} (columns: " + str(present) + ")")
    if not use_tags:
        plan["tokens"] = plan["tags"] = None
        if plan["text"] is None:
            raise DataError(f"{name}: no 'text' column (columns: {present}); map the column that holds the documents "
                            "with columns={'text': ...}, or give 'tokens' + 'tags'")
    else:
        plan["text"] = plan["entities"] = None
    return plan


def to_documents(data: Any, columns: Mapping[str, str] | None = None, *, name: str = "train",
                 normalization: NormalizationConfig | None = None,
                 topic_labels: Sequence[str] | None = None) -> list[Document]:
    """Validated :class:`Document` objects from the rows of a dataset (the module docstring has the columns).

    ``name`` (the split or path) starts every error message, followed by the row index and the column;
    ``topic_labels`` name the positions of a multi-hot topic column.
    """
    data, name = _pick_split(data, "train", name)
    present = list(getattr(data, "column_names", None) or [])
    if not present and hasattr(data, "take"):  # a streamed dataset may not know its columns before a row is read
        present = list(next(iter(data.take(1)), {}))
    plan = _column_plan(columns, present, name)
    features = getattr(data, "features", None) or {}
    tag_names = _names(features.get(plan["tags"])) if plan["tags"] else None
    topic_names = _names(features.get(plan["topics"])) if plan["topics"] else None
    label_names = _span_label_names(features.get(plan["entities"])) if plan["entities"] else None
    used = [c for c in dict.fromkeys(plan.values()) if c is not None]
    rows = data.select_columns(used) if hasattr(data, "select_columns") else data
    docs: list[Document] = []
    repairs = 0
    for i, row in enumerate(rows):
        where = f"{name} row {i}"
        topics = _topics(row[plan["topics"]], topic_names, topic_labels, where, plan["topics"]) if plan["topics"] else None
        if plan["tags"]:
            doc, fixed = _tagged(row[plan["tokens"]], row[plan["tags"]], tag_names, where, plan)
            repairs += fixed
            doc.topics = topics
        else:
            text = row[plan["text"]]
            if not isinstance(text, str):
                raise DataError(f"{where}, column {plan['text']!r}: expected the document text, got {text!r}")
            entities = _spans(row[plan["entities"]], label_names) if plan["entities"] else []
            record = {"text": text, "entities": entities, "topics": topics}
            doc = document_from_record(record, f"{where}, column {plan['entities']!r}", normalization)
        doc_id = row[plan["id"]] if plan["id"] else None
        doc.id, doc.source = (str(doc_id) if doc_id is not None else where), where
        docs.append(doc)
    if not docs:
        raise DataError(f"{name}: the dataset has no rows")
    if repairs:
        logger.warning("%s: repaired %d I-X tag(s) not preceded by B-X/I-X (made B-X)", name, repairs)
    logger.info("%s: %d documents from columns %s", name, len(docs), {k: v for k, v in plan.items() if v})
    return docs


def _span_label_names(feature: Any) -> list[str] | None:
    inner = getattr(feature, "feature", feature)
    return _names(inner.get("label")) if isinstance(inner, Mapping) else None


def _spans(value: Any, label_names: list[str] | None) -> Any:
    """Entity spans as JSONL-style objects: a list of dicts, or the dict of lists a ``Sequence({...})`` gives."""
    if value is None:
        return []
    if isinstance(value, Mapping) and all(isinstance(v, list) for v in value.values()):
        keys = list(value)
        value = [dict(zip(keys, vals)) for vals in zip(*value.values())]
    if label_names and isinstance(value, list):
        value = [{**e, "label": label_names[e["label"]]} if isinstance(e, Mapping) and type(e.get("label")) is int
                 and 0 <= e["label"] < len(label_names) else e for e in value]
    return value


def _topics(value: Any, names: list[str] | None, configured: Sequence[str] | None, where: str,
            col: str) -> list[str] | None:
    """Topic labels of a row: label strings, ClassLabel integers, or a multi-hot list (``configured`` order)."""
    def fail(problem: str) -> DataError:
        return DataError(f"{where}, column {col!r}: {problem}, got {value!r}")

    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    elif type(value) is int and names:
        value = [value]
    if not isinstance(value, list):
        raise fail("expected a list of topic labels")
    if all(isinstance(v, str) and v for v in value):
        return list(value)
    if names and all(type(v) is int for v in value):
        if not all(0 <= v < len(names) for v in value):
            raise fail(f"a class index outside the {len(names)} ClassLabel names {names}")
        return [names[v] for v in value]
    if all(isinstance(v, (bool, int, float)) and v in (0, 1) for v in value):
        if not configured:
            raise fail("a multi-hot 0/1 list needs the topic label names in its order (`labels` in the config, "
                       "topic_labels= here), or cast the column to Sequence(ClassLabel(names=[...]))")
        if len(value) != len(configured):
            raise fail(f"a multi-hot list of {len(value)} values for the {len(configured)} labels {list(configured)}")
        return [label for label, v in zip(configured, value) if v]
    raise fail("expected label strings, ClassLabel integers or a multi-hot 0/1 list")


def _tagged(tokens: Any, tags: Any, tag_names: list[str] | None, where: str,
            plan: dict[str, str | None]) -> tuple[Document, int]:
    """A document from tokens + IOB tags (text = tokens joined by spaces, the tokens kept as its words)."""
    tcol, gcol = plan["tokens"], plan["tags"]
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise DataError(f"{where}, column {tcol!r}: expected a list of token strings, got {tokens!r}")
    if not isinstance(tags, list) or len(tags) != len(tokens):
        raise DataError(f"{where}, column {gcol!r}: expected one tag per token ({len(tokens)}), got {tags!r}")
    strings: list[str] = []
    for k, (token, tag) in enumerate(zip(tokens, tags)):
        if not token.strip():
            raise DataError(f"{where}, column {tcol!r}: token {k} is empty; remove it and its tag")
        if type(tag) is int:
            if not tag_names:
                raise DataError(f"{where}, column {gcol!r}: tag {k} is the integer {tag} and the column has no "
                                "ClassLabel names; cast it: ds.cast_column(COL, Sequence(ClassLabel(names=[...])))")
            if not 0 <= tag < len(tag_names):
                raise DataError(f"{where}, column {gcol!r}: tag {k} ({tag}) is outside the ClassLabel names {tag_names}")
            tag = tag_names[tag]
        if not isinstance(tag, str) or not _TAG_RE.match(tag):
            raise DataError(f"{where}, column {gcol!r}: bad tag {tag!r} for token {k} {token!r}; tags are O, B-X, I-X "
                            "(IOB2/BIO) or E-X, S-X (IOBES)")
        strings.append(tag)
    iob2, fixed = to_iob2(strings)
    words, pos = [], 0
    for token in tokens:
        words.append((pos, pos + len(token)))
        pos += len(token) + 1
    spans = [Span(words[s][0], words[e - 1][1], label) for s, e, label in tag_spans(iob2)]
    return Document(text=" ".join(tokens), entities=spans, words=words, source=where), fixed
