"""What every backend gives the :class:`~tagger.predict.Tagger`: a :class:`Head` (settings, tokenizer, runner).

A runner maps ``(input_ids [B, T] int64, attention_mask [B, T] int64)`` to the model's outputs as float32 numpy
arrays: one array for a single-task model (``[B, T, tags]`` for NER, ``[B, labels]`` for topics), or a mapping
from output name to array for a model with several heads (joint: ``{"ner": ..., "topics": ...}``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.decode import allowed_transitions
from tagger.lexical import LexicalTopicModel
from tagger.model import TaggerBlock

Outputs = np.ndarray | Mapping[str, np.ndarray]
Runner = Callable[[np.ndarray, np.ndarray], Outputs]

CPU_BATCH_TOKENS = 512
GPU_BATCH_TOKENS = 16384


@dataclass
class Head:
    """One output of a model (NER or topics) with its tokenizer, settings and runner.

    ``block`` is the single-task view of the model's settings (:meth:`tagger.tasks.Task.views`); the heads of
    one joint model share its runner, and :attr:`output` says which of the runner's outputs is this head's.
    """

    block: TaggerBlock
    tokenizer: object
    runner: Runner
    output: str = ""
    lexical: LexicalTopicModel | None = None  # topics with ``lexical_blend``: blended into the document scores

    def __post_init__(self) -> None:
        self.output = self.output or self.block.task
        self.norm = self.block.norm
        self.vocab = frozenset(self.tokenizer.get_vocab())
        self.tags = list(self.block.labels)
        self.allowed = allowed_transitions(self.tags) if self.output == "ner" else None


def heads_of(block: TaggerBlock, tokenizer: object, runner: Runner,
             lexical: LexicalTopicModel | None = None) -> dict[str, Head]:
    """The heads of one loaded model, by output name (one for a single task, two for joint), sharing ``runner``;
    ``lexical`` goes to the head whose settings blend it (``lexical_blend``)."""
    from tagger.tasks import get_task

    return {name: Head(view, tokenizer, runner, name, lexical if view.lexical_blend else None)
            for name, view in get_task(block.task).views(block).items()}


def saved_lexical(model_dir: Path, block: TaggerBlock) -> LexicalTopicModel | None:
    """The lexical topic model saved with a model that blends one (``lexical_blend``), else None."""
    if not block.lexical_blend:
        return None
    return LexicalTopicModel.load(model_dir, block.labels)


def select(outputs: Outputs, name: str) -> np.ndarray:
    """The output ``name`` of a runner's result (a single array is the only output)."""
    return outputs[name] if isinstance(outputs, Mapping) else outputs
