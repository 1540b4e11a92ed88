"""Reading an unlabelled pool (and a few example texts) for :func:`tagger.suggest.suggest`.

Formats, by what the path is:

* a ``.json``/``.jsonl`` file: JSON lines, one ``{"text": ..., "id"?: ...}`` object per line (blank lines skipped);
* a ``.parquet`` file: a table with a ``text`` column (and optionally ``id``), read with ``datasets`` (or
  ``pyarrow`` when only that is installed);
* a directory: a Hugging Face ``datasets`` dataset saved with ``save_to_disk`` (a ``DatasetDict`` with one
  split, or with a ``train`` split, is read from that split);
* any other file: one document per line.

Text files go through the predict CLI's input reading (:mod:`tagger.predict_cli.inputs`), so a file that is not
UTF-8 is a :class:`~tagger.errors.DataError` naming ``file:line``. Whitespace-only documents are kept in the
pool (indices stay those of the file) but are never suggested. A record's id is its ``"id"`` (as a string), else
where it was read (``file:line``, or ``DIR#row`` for a dataset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.errors import DataError
from tagger.schema import Document

PARQUET_SUFFIXES = (".parquet", ".pq")
DATASETS_HINT = "pip install datasets"


@dataclass(frozen=True)
class PoolRecord:
    """One pool document: its id, its text and where it was read (``file:line``)."""

    id: str
    text: str
    where: str = ""


def read_pool(path: str | Path, what: str = "pool") -> list[PoolRecord]:
    """The records of a pool file or dataset directory (formats: module docstring); an empty one is an error."""
    path = Path(path)
    if path.is_dir():
        records = _dataset_records(_load_dataset_dir(path), str(path))
    elif path.suffix.lower() in PARQUET_SUFFIXES and path.is_file():
        records = _dataset_records(_load_parquet(path), str(path))
    else:
        from tagger.predict_cli.inputs import check_inputs, iter_records

        inputs = check_inputs([str(path)])
        records = [PoolRecord(str(r.id) if r.has_id and r.id is not None else r.where, r.text, r.where)
                   for r in iter_records(inputs)]
        if not inputs[0].json:  # text lines: a blank line separates nothing, it is no document
            records = [r for r in records if r.text.strip()]
    if not any(r.text.strip() for r in records):
        raise DataError(f"{path}: the {what} has no non-empty text; give a file with one document per line or "
                        "JSON lines with a \"text\"")
    return records


def as_records(items: Iterable[Any]) -> list[PoolRecord]:
    """Pool items given in Python as :class:`PoolRecord`: str (id = its index), a mapping with ``"text"`` (and
    ``"id"``), a :class:`~tagger.schema.Document` or a :class:`PoolRecord`."""
    if isinstance(items, (str, bytes)):
        raise TypeError("the pool must be a list of texts or records, got a single str")
    out: list[PoolRecord] = []
    for i, item in enumerate(items):
        if isinstance(item, PoolRecord):
            out.append(item)
        elif isinstance(item, str):
            out.append(PoolRecord(str(i), item, f"pool[{i}]"))
        elif isinstance(item, Document):
            out.append(PoolRecord(item.id if item.id is not None else str(i), item.text, item.source))
        elif isinstance(item, Mapping):
            text = item.get("text")
            if not isinstance(text, str):
                raise DataError(f"pool[{i}]: record has no string \"text\"")
            out.append(PoolRecord(str(item["id"]) if item.get("id") is not None else str(i), text, f"pool[{i}]"))
        else:
            raise TypeError(f"pool[{i}] is {type(item).__name__}; expected str, a mapping with \"text\" or a Document")
    return out


# ---------------------------------------------------------------------------------------------- datasets
def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        return None
    return datasets


def _load_dataset_dir(path: Path) -> Any:
    datasets = _datasets()
    if datasets is None:
        raise DataError(f"{path}: a directory is read as a Hugging Face dataset saved with save_to_disk, which needs "
                        f"the `datasets` package: {DATASETS_HINT}")
    try:
        data = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as err:
        raise DataError(f"{path}: not a dataset saved with datasets' save_to_disk ({_first_line(err)})") from None
    if isinstance(data, datasets.DatasetDict):
        splits = list(data)
        if "train" in data:
            return data["train"]
        if len(splits) == 1:
            return data[splits[0]]
        raise DataError(f"{path}: a dataset with splits {splits} and none named 'train'; save the split to rank "
                        "on its own (dataset[SPLIT].save_to_disk(DIR))")
    return data


def _load_parquet(path: Path) -> Any:
    datasets = _datasets()
    if datasets is not None:
        try:
            return datasets.Dataset.from_parquet(str(path))
        except Exception as err:  # pyarrow raises its own classes for a damaged file
            raise DataError(f"{path}: cannot read it as parquet ({_first_line(err)})") from None
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{path}: reading parquet needs the `datasets` package: {DATASETS_HINT}") from None
    try:
        return pq.read_table(str(path)).to_pylist()
    except Exception as err:
        raise DataError(f"{path}: cannot read it as parquet ({_first_line(err)})") from None


def _dataset_records(data: Any, name: str) -> list[PoolRecord]:
    """Records of a ``datasets.Dataset`` (or a list of row dicts) with a ``text`` column."""
    columns = list(getattr(data, "column_names", None) or (data[0].keys() if len(data) else []))
    if "text" not in columns:
        raise DataError(f"{name}: no 'text' column (columns: {columns}); rename the column that holds the documents")
    texts = data["text"] if hasattr(data, "column_names") else [row.get("text") for row in data]
    ids = (data["id"] if hasattr(data, "column_names") else [row.get("id") for row in data]) if "id" in columns \
        else [None] * len(texts)
    out = []
    for i, (text, doc_id) in enumerate(zip(texts, ids)):
        where = f"{name}#{i}"
        if not isinstance(text, str):
            if text is None:
                text = ""
            else:
                raise DataError(f"{where}: 'text' is {type(text).__name__}, expected a string")
        out.append(PoolRecord(str(doc_id) if doc_id is not None else where, text, where))
    return out


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
