"""Backends: run a saved model (:mod:`~tagger.backends.pytorch`, :mod:`~tagger.backends.ort` for
onnxruntime) behind one runner signature (:mod:`~tagger.backends.base`). ``export`` only writes models; it
never runs them for :class:`~tagger.predict.Tagger`.

A new backend is a module with a runner class and a ``*_heads(model_dir, ...)`` loader, picked in
:func:`load_heads`.
"""

from __future__ import annotations

from pathlib import Path

from tagger.backends.base import CPU_BATCH_TOKENS, GPU_BATCH_TOKENS, Head, Runner, heads_of, select

__all__ = ["CPU_BATCH_TOKENS", "GPU_BATCH_TOKENS", "Head", "Runner", "heads_of", "load_heads", "select"]


def load_heads(model_dir: Path, device: str | None = None, precision: str = "auto",
               threads: int | None = None) -> dict[str, Head]:
    """The heads of a model directory, by output name: onnxruntime when ``model.onnx`` is there (``threads``:
    its intra-op threads; default onnxruntime's), else torch (whose threads are process-wide: ``torch.set_num_threads``)."""
    if (model_dir / "model.onnx").is_file():
        from tagger.backends.ort import onnx_heads  # optional backend (onnxruntime)

        return onnx_heads(model_dir, device=device, threads=threads)
    from tagger.backends.pytorch import torch_heads

    return torch_heads(model_dir, device, precision)
