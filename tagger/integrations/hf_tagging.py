"""Tagging a Hugging Face dataset: :func:`tag_dataset` (re-exported by :mod:`tagger.integrations.hf_datasets`).

The predictions are added as columns by ``Dataset.map(batched=True)``: the model is loaded once (the caller's
:class:`~tagger.predict.Tagger`), each batch of texts goes through :meth:`Tagger.predict`, and only that batch's
predictions are held in Python (``map`` writes each batch to the dataset's cache file). ``datasets`` is imported
only when a function runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from tagger.errors import DataError

__all__ = ["INSTALL_HINT", "import_datasets", "tag_dataset"]

INSTALL_HINT = "pip install 'arabic-tagger[datasets]'"


def import_datasets() -> Any:
    """The ``datasets`` module, or a DataError saying how to install it."""
    try:
        import datasets
    except ImportError:
        raise DataError(f"Hugging Face datasets need the `datasets` package: {INSTALL_HINT}") from None
    return datasets


def tag_dataset(tagger: Any, data: Any, text_column: str = "text", batch_size: int = 256, *,
                thresholds: dict[str, float] | None = None, prefix: str = "", num_proc: int | None = None,
                **map_kwargs: Any) -> Any:
    """``data`` with the predictions of ``tagger`` for its ``text_column`` in new columns.

    ``{prefix}entities`` (list of ``{text, label, start, end, score}``, offsets into the text) for a model with an
    NER head; ``{prefix}topics`` (labels at or above their thresholds) and ``{prefix}topic_scores`` (a score per
    label) for one with a topic head. A ``Dataset`` goes through ``Dataset.map(batched=True)`` (results written
    to a new cache file next to an on-disk dataset, or kept in memory for an in-memory one; ``cache_file_name=``
    and other ``map`` arguments pass through); a ``DatasetDict`` split by split; an ``IterableDataset`` lazily.
    ``batch_size`` rows go to :meth:`Tagger.predict` at a time. A missing text (None) gets empty predictions.

    ``num_proc`` (default 1): worker processes of ``map``, each receiving a pickled copy of the model. Keep 1 on
    a GPU (CUDA cannot be used in forked processes) and usually on CPU too (torch already uses every core; with
    several processes set ``OMP_NUM_THREADS`` to cores / ``num_proc``).
    """
    datasets = import_datasets()
    if isinstance(data, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        return type(data)({split: tag_dataset(tagger, part, text_column, batch_size, thresholds=thresholds,
                                              prefix=prefix, num_proc=num_proc, **map_kwargs)
                           for split, part in data.items()})
    present = list(data.column_names or []) if hasattr(data, "column_names") else []
    if present and text_column not in present:
        raise DataError(f"no column {text_column!r} in the dataset (columns: {present}); pass text_column=")
    out = _output_features(datasets, tagger, prefix)
    clash = sorted(set(out) & set(present))
    if clash:
        raise DataError(f"the dataset already has column(s) {clash}; pass prefix='pred_' (or remove them)")
    features = datasets.Features({**data.features, **out}) if getattr(data, "features", None) else None
    fn = _TagBatch(tagger, text_column, thresholds, prefix)
    kwargs = {"batched": True, "batch_size": batch_size, "with_indices": True, "features": features, **map_kwargs}
    if isinstance(data, datasets.IterableDataset):
        return data.map(fn, **kwargs)
    kwargs.setdefault("desc", "tagging")
    kwargs.setdefault("new_fingerprint", uuid.uuid4().hex)  # never hash (pickle) the model to fingerprint the map
    return data.map(fn, num_proc=num_proc, **kwargs)


def _output_features(datasets: Any, tagger: Any, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if tagger.has_ner:
        entity = {"text": datasets.Value("string"), "label": datasets.Value("string"), "start": datasets.Value("int64"),
                  "end": datasets.Value("int64"), "score": datasets.Value("float64")}
        out[f"{prefix}entities"] = datasets.List(entity)
    if tagger.has_topics:
        out[f"{prefix}topics"] = datasets.List(datasets.Value("string"))
        out[f"{prefix}topic_scores"] = {label: datasets.Value("float64") for label in tagger.topic_labels}
    return out


class _TagBatch:
    """The ``map`` function: one batch of texts through :meth:`Tagger.predict`, predictions as columns."""

    def __init__(self, tagger: Any, text_column: str, thresholds: dict[str, float] | None, prefix: str) -> None:
        self.tagger, self.text_column, self.thresholds, self.prefix = tagger, text_column, thresholds, prefix

    def __call__(self, batch: Mapping[str, list], indices: list[int]) -> dict[str, list]:
        texts = batch[self.text_column]
        for i, text in zip(indices, texts):
            if text is not None and not isinstance(text, str):
                raise DataError(f"row {i}, column {self.text_column!r}: expected a text, got {type(text).__name__}")
        preds = self.tagger.predict(["" if t is None else t for t in texts], thresholds=self.thresholds)
        p, out = self.prefix, {}
        if self.tagger.has_ner:
            out[f"{p}entities"] = [[{"text": e.text, "label": e.label, "start": e.start, "end": e.end,
                                     "score": float(e.score)} for e in pred.entities] for pred in preds]
        if self.tagger.has_topics:
            labels = self.tagger.topic_labels
            out[f"{p}topics"] = [list(pred.topics.labels) if pred.topics else [] for pred in preds]
            out[f"{p}topic_scores"] = [{x: float(pred.topics.scores[x]) if pred.topics else 0.0 for x in labels}
                                       for pred in preds]
        return out
