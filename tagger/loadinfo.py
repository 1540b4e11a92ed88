"""What transformers' ``output_loading_info`` means for this library: expected new heads vs real problems.

One interpretation, used by :func:`tagger.model.load_trained_model` (a saved directory: every missing or unused
weight is a problem) and by :func:`tagger.console.report_loading` (a base encoder: its new head is expected).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# parts of a checkpoint that fine-tuning replaces: task heads and the pooler (missing), pretraining heads (unused)
HEAD_PARTS = frozenset({
    "classifier", "pre_classifier", "score", "pooler", "cls", "lm_head", "vocab_transform", "vocab_layer_norm",
    "vocab_projector", "discriminator_predictions", "generator_predictions", "generator_lm_head", "qa_outputs",
})


@dataclass(frozen=True)
class LoadingProblems:
    """What is wrong with a load, from transformers' ``output_loading_info`` (sorted key names)."""

    missing: list[str]  # the model's weights that the checkpoint lacks: initialised at random
    unexpected: list[str]  # checkpoint weights the model does not use
    mismatched: list[tuple[Any, ...]]  # (key, checkpoint shape, model shape)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.mismatched)


def loading_problems(info: dict[str, Any], expect_new_head: bool) -> tuple[list[str], LoadingProblems]:
    """``(expected_new, problems)`` of a ``from_pretrained(..., output_loading_info=True)`` load.

    ``expect_new_head``: a base encoder loaded for fine-tuning, whose new task head (and pooler) are missing from
    the checkpoint and whose pretraining heads are unused: those are ``expected_new`` (missing head weights) or
    dropped (unused head weights), not problems. Without it (a model directory this library saved) every missing
    or unused weight is a problem.
    """
    missing = set(info.get("missing_keys") or ())
    unexpected = set(info.get("unexpected_keys") or ())
    new: set[str] = set()
    if expect_new_head:
        new = {key for key in missing if _is_head(key)}
        missing -= new
        unexpected = {key for key in unexpected if not _is_head(key)}
    mismatched = [tuple(item) for item in info.get("mismatched_keys") or ()]
    return sorted(new), LoadingProblems(sorted(missing), sorted(unexpected), mismatched)


def _is_head(key: str) -> bool:
    return any(part in HEAD_PARTS for part in key.split("."))
