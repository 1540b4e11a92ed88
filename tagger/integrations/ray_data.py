"""Batch tagging on Ray Data (extra ``[ray]``): :class:`TaggerPredictor` and :func:`tag_ray_dataset`.

``ds.map_batches(TaggerPredictor, fn_constructor_kwargs={"model_dir": ...}, compute=ActorPoolStrategy(size=N))``
starts N actors; each loads the model once in ``__init__`` and tags one batch of texts per ``__call__``:

* CPU workers: onnxruntime when the model directory (or each part of a bundle) holds ``model.onnx`` (export it
  with ``tagger export --onnx DIR --quantize int8``), else torch fp32; ``threads`` sets onnxruntime's intra-op
  threads and ``torch.set_num_threads`` in the worker (give the actor as many CPUs: ``num_cpus=threads``);
* GPU workers (``num_gpus=1``): torch on ``cuda`` with bf16 autocast (``precision="bf16"``).

Columns added for the text column: ``{prefix}entities`` (a JSON string per row: ``[{text, label, start, end,
score}]``, offsets into the text, as :meth:`tagger.schema.Prediction.to_dict`) for a model with an NER head;
``{prefix}topics`` (list of labels) and ``{prefix}topic_scores`` (a struct, one float per label) for one with a
topic head. Entities are JSON so that every Arrow block has the same schema, empty rows included.
``ray`` is imported only when a function runs; this module imports without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from tagger.errors import DataError

__all__ = ["INSTALL_HINT", "TaggerPredictor", "import_ray", "load_worker_tagger", "tag_ray_dataset"]

INSTALL_HINT = "pip install 'arabic-tagger[ray]'"


def import_ray() -> Any:
    """The ``ray`` module (with ``ray.data``), or a DataError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise DataError(f"Ray Data needs the `ray[data]` package: {INSTALL_HINT}") from None
    return ray


def load_worker_tagger(model_dir: str | os.PathLike, *, device: str | None = None, precision: str = "auto",
                       threads: int | None = None, batch_size: int = 64) -> Any:
    """:meth:`Tagger.from_pretrained` for one worker, with ``threads`` CPU threads (torch and onnxruntime)."""
    from tagger.predict import Tagger

    if threads:
        import torch

        torch.set_num_threads(threads)
    return Tagger.from_pretrained(Path(model_dir), device=device, precision=precision, threads=threads,
                                  batch_size=batch_size)


class TaggerPredictor:
    """A Ray Data class-based UDF: ``ds.map_batches(TaggerPredictor, fn_constructor_kwargs={...}, ...)``.

    ``model_dir``: a model directory or a bundle with ``ner/``/``topics/`` (on a cluster: a path every node can
    read). ``device``: None = ``cuda`` when Ray gave this worker a GPU, else ``cpu``. ``precision``: ``auto`` =
    bf16 on CUDA, fp32 on CPU (torch only). ``threads``: CPU threads of this worker (default 1). ``batch_size``:
    windows per forward pass (:class:`~tagger.predict.Tagger`; Ray's ``batch_size`` is the rows per call).
    """

    def __init__(self, model_dir: str | os.PathLike, *, text_column: str = "text", device: str | None = None,
                 precision: str = "auto", threads: int | None = 1, batch_size: int = 64,
                 thresholds: dict[str, float] | None = None, prefix: str = "") -> None:
        if device is None:
            device = "cuda" if _worker_has_gpu() else "cpu"
        self.text_column, self.thresholds, self.prefix = text_column, thresholds, prefix
        self.tagger = load_worker_tagger(model_dir, device=device, precision=precision, threads=threads,
                                         batch_size=batch_size)
        self.columns = output_columns(self.tagger, prefix)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        if self.text_column not in batch:
            raise DataError(f"no column {self.text_column!r} in the batch (columns: {sorted(batch)}); "
                            "pass text_column=")
        clash = sorted(set(self.columns) & set(batch))
        if clash:
            raise DataError(f"the dataset already has column(s) {clash}; pass prefix='pred_' (or remove them)")
        texts = []
        for i, text in enumerate(batch[self.text_column]):
            if text is not None and not isinstance(text, str):
                raise DataError(f"batch row {i}, column {self.text_column!r}: expected a text, got "
                                f"{type(text).__name__}")
            texts.append(str(text) if text else "")  # np.str_ -> str
        preds = self.tagger.predict(texts, thresholds=self.thresholds)
        return {**batch, **prediction_columns(self.tagger, preds, self.prefix)}


def output_columns(tagger: Any, prefix: str = "") -> list[str]:
    """The names of the columns :class:`TaggerPredictor` adds for ``tagger``."""
    return ([f"{prefix}entities"] if tagger.has_ner else []) + \
        ([f"{prefix}topics", f"{prefix}topic_scores"] if tagger.has_topics else [])


def prediction_columns(tagger: Any, preds: list, prefix: str = "") -> dict[str, np.ndarray]:
    """``Tagger.predict`` results as batch columns (object arrays that Ray Data turns into Arrow columns)."""
    out: dict[str, np.ndarray] = {}
    if tagger.has_ner:
        out[f"{prefix}entities"] = _objects([json.dumps(p.to_dict()["entities"], ensure_ascii=False) for p in preds])
    if tagger.has_topics:
        labels = tagger.topic_labels
        out[f"{prefix}topics"] = _objects([list(p.topics.labels) if p.topics else [] for p in preds])
        out[f"{prefix}topic_scores"] = _objects([{x: float(p.topics.scores[x]) if p.topics else 0.0 for x in labels}
                                                 for p in preds])
    return out


def tag_ray_dataset(ds: Any, model_dir: str | os.PathLike, *, text_column: str = "text", batch_size: int = 64,
                    concurrency: int = 1, num_gpus: float = 0, threads: int = 1, **predictor_kwargs: Any) -> Any:
    """``ds`` (a ``ray.data.Dataset``) with the prediction columns of :class:`TaggerPredictor` added (lazily).

    ``concurrency`` actors, each with the model loaded once: ``num_gpus`` GPUs per actor (then torch bf16 on
    CUDA) or ``threads`` CPUs (onnxruntime int8 when the directory holds ``model.onnx``). ``batch_size``: rows
    per call. Other keyword arguments (``thresholds``, ``prefix``, ``precision``, ``device``) go to the predictor.
    """
    ray = import_ray()
    gpu = num_gpus > 0
    kwargs = {"model_dir": str(model_dir), "text_column": text_column, "threads": threads,
              "precision": "bf16" if gpu else "auto", **predictor_kwargs}
    return ds.map_batches(TaggerPredictor, fn_constructor_kwargs=kwargs, batch_size=batch_size,
                          compute=ray.data.ActorPoolStrategy(size=concurrency),
                          num_gpus=num_gpus or None, num_cpus=1 if gpu else threads, batch_format="numpy")


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # one object per row (``out[:] = values`` would broadcast equal lists)
        out[i] = value
    return out


def _worker_has_gpu() -> bool:
    try:
        import ray

        if ray.is_initialized():
            return bool(ray.get_gpu_ids())
    except ImportError:
        pass
    import torch

    return torch.cuda.is_available()
