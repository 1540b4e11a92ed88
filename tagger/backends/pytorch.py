"""The torch backend: a runner over a transformers (or joint) model under ``torch.inference_mode``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tagger import console
from tagger.backends.base import CPU_BATCH_TOKENS, GPU_BATCH_TOKENS, Head, Outputs, heads_of, saved_lexical
from tagger.model import load_tokenizer, read_block

PRECISIONS = ("auto", "fp32", "bf16")


class TorchRunner:
    """Runs a model under ``torch.inference_mode``.

    ``precision``: ``"auto"`` (default) = bf16 autocast on CUDA (fp16 where bf16 is unsupported), fp32 on CPU;
    ``"fp32"`` = never autocast; ``"bf16"`` = bf16 autocast on CPU too (fast on CPUs with AMX / AVX512-BF16,
    e.g. Xeon Sapphire Rapids; decisions can differ from fp32 in rare near-ties -- measure on your dev set).
    """

    def __init__(self, model, device: str | None = None, autocast: bool = True, precision: str = "auto") -> None:
        import torch

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.torch = torch
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.autocast = autocast and precision != "fp32" and (self.device.type == "cuda" or precision == "bf16")
        self.dtype = torch.bfloat16
        if self.device.type == "cuda" and precision == "auto" and not torch.cuda.is_bf16_supported():
            self.dtype = torch.float16
        # sub-tokens per forward pass: big batches keep a GPU busy; on CPU activations must stay cache-sized
        self.max_batch_tokens = GPU_BATCH_TOKENS if self.device.type == "cuda" else CPU_BATCH_TOKENS

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> Outputs:
        torch = self.torch
        with torch.inference_mode():
            input_ids = torch.from_numpy(ids).to(self.device)
            attention_mask = torch.from_numpy(mask).to(self.device)
            if self.autocast:
                with torch.autocast(self.device.type, dtype=self.dtype):
                    logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
            else:
                logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
            if isinstance(logits, Mapping):
                return {k: v.float().cpu().numpy() for k, v in logits.items()}
            return logits.float().cpu().numpy()


@console.quiet()  # no transformers loading bars
def torch_heads(model_dir: Path, device: str | None = None, precision: str = "auto") -> dict[str, Head]:
    """The heads of a saved model directory on torch (its task's model class: :meth:`tagger.tasks.Task.load_model`)."""
    from tagger.tasks import get_task

    block = read_block(model_dir)
    model = get_task(block.task).load_model(model_dir)
    return heads_of(block, load_tokenizer(str(model_dir)), TorchRunner(model, device, precision=precision),
                    saved_lexical(Path(model_dir), block))
