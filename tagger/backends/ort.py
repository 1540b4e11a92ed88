"""The onnxruntime backend: a runner over ``model.onnx`` written by ``tagger export --onnx``.

A single-task graph has one output, ``logits``; a joint graph has one per head (``ner_logits``,
``topics_logits``). Predictions go through exactly the same windows, merging and decoding code as torch.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tagger.backends.base import CPU_BATCH_TOKENS, GPU_BATCH_TOKENS, Head, Outputs, heads_of, saved_lexical
from tagger.errors import ModelLoadError
from tagger.model import load_tokenizer, read_block

ONNX_FILE = "model.onnx"
OUTPUT_SUFFIX = "_logits"


class OnnxRunner:
    """``(input_ids, attention_mask) -> logits`` with an onnxruntime session (the ``Runner`` signature)."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None, device: str | None = None) -> None:
        ort = import_ort()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        providers = ["CPUExecutionProvider"]
        if device and device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self.path = Path(path)
        self.session = ort.InferenceSession(str(self.path), options, providers=providers)
        self.max_batch_tokens = GPU_BATCH_TOKENS if self.session.get_providers()[0] != "CPUExecutionProvider" \
            else CPU_BATCH_TOKENS
        self.input_names = [i.name for i in self.session.get_inputs()]
        missing = {"input_ids", "attention_mask"} - set(self.input_names)
        if missing:
            raise ModelLoadError(f"{self.path}: ONNX graph lacks input(s) {sorted(missing)}; re-export it with `tagger export`")
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> Outputs:
        feed = {"input_ids": np.ascontiguousarray(ids, dtype=np.int64),
                "attention_mask": np.ascontiguousarray(mask, dtype=np.int64)}
        if "token_type_ids" in self.input_names:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        results = self.session.run(self.output_names, feed)
        if self.output_names == ["logits"]:
            return np.asarray(results[0], dtype=np.float32)
        return {name.removesuffix(OUTPUT_SUFFIX): np.asarray(r, dtype=np.float32)
                for name, r in zip(self.output_names, results)}


def onnx_heads(model_dir: str | os.PathLike, device: str | None = None, threads: int | None = None) -> dict[str, Head]:
    """The heads of an exported directory (``model_dir/model.onnx``; tokenizer and settings from the dir)."""
    model_dir = Path(model_dir)
    block = read_block(model_dir)
    return heads_of(block, load_tokenizer(str(model_dir)), OnnxRunner(model_dir / ONNX_FILE, threads=threads, device=device),
                    saved_lexical(model_dir, block))


def onnx_head(model_dir: str | os.PathLike, device: str | None = None, threads: int | None = None) -> Head:
    """The one head of an exported single-task directory (see :func:`onnx_heads`)."""
    heads = onnx_heads(model_dir, device, threads)
    if len(heads) != 1:
        raise ModelLoadError(f"{model_dir}: a joint model has heads {sorted(heads)}; use onnx_heads")
    return next(iter(heads.values()))


def import_ort():
    try:
        import onnxruntime
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ModelLoadError(
            "this model directory holds model.onnx but onnxruntime is not installed; "
            "`pip install arabic-tagger[onnx]` (or onnxruntime)"
        ) from err
    return onnxruntime
