"""The task interface: what a task (NER, topics, joint) tells the trainer, the tagger, the exporter and the reports.

A task is a small stateless object. Everything that used to be decided by ``if task == "ner"`` in every layer is
one method here, so a layer calls the interface and a new task is one new module (registered in
:mod:`tagger.tasks`):

* labels -- :meth:`Task.seen_labels` (from data), :meth:`Task.head_labels` (what the head emits, e.g. IOB2 tags),
  :meth:`Task.labels_of` (the label set of a saved model, for ``init_from``);
* model -- :meth:`Task.new_model` (an encoder with a fresh head), :meth:`Task.load_model` (a saved model),
  :meth:`Task.remap_heads` (``init_from`` with other labels: kept rows reused);
* data -- :meth:`Task.document_targets` and :meth:`Task.window_targets` (training targets on the inference
  windows), :meth:`Task.collate`, :meth:`Task.loss`;
* inference -- the runner outputs it reads (:attr:`Task.outputs`) and the views a :class:`~tagger.predict.Tagger`
  gets (:meth:`Task.views`);
* scoring -- :meth:`Task.evaluate`, the one scorer of the task, used by training (model selection), export
  (parity on dev) and the benchmarks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from tagger.align import EncodedDoc, Window
    from tagger.config import TrainConfig
    from tagger.model import TaggerBlock
    from tagger.schema import Document

# what a task's labels are, per head output: {"ner": [entity types]}, {"topics": [...]}, or both for joint
LabelSets = dict[str, list[str]]


@dataclass
class LossState:
    """What a loss needs besides the batch: the training config and per-run constants (BCE positive weights)."""

    cfg: TrainConfig
    pos_weight: Any = None  # torch tensor [n_topic_labels] or None


class Task(ABC):
    """One task: labels, model, training targets, loss, decoding views and its scorer."""

    name: ClassVar[str]
    outputs: ClassVar[tuple[str, ...]]  # the runner outputs it reads, each the name of a single-output task

    # ------------------------------------------------------------------ labels
    @abstractmethod
    def seen_labels(self, docs: Sequence[Document]) -> LabelSets:
        """The labels the documents carry (sorted), per output."""

    @abstractmethod
    def head_labels(self, labels: LabelSets) -> LabelSets:
        """What each head emits for ``labels`` (NER: ``O`` and B-/I- tags)."""

    @abstractmethod
    def labels_of(self, block: TaggerBlock) -> LabelSets:
        """The label sets of a saved model (NER: its entity types)."""

    def configured_labels(self, cfg: TrainConfig) -> LabelSets | None:
        """The label sets the config fixes (``labels``), or None to take them from the data."""
        return None if cfg.labels is None else {self.outputs[0]: list(cfg.labels)}

    # ------------------------------------------------------------------ model
    @abstractmethod
    def new_model(self, encoder: str, names: LabelSets, missing: set[str]) -> Any:
        """An encoder with fresh heads for ``names`` (head labels); ``missing`` gets the parameters the
        checkpoint did not have (those train at the head learning rate)."""

    @abstractmethod
    def load_model(self, model_dir: Any, **kwargs: Any) -> Any:
        """A model directory this library saved, checked (:func:`tagger.model.load_trained_model`)."""

    @abstractmethod
    def remap_heads(self, model: Any, old: LabelSets, new: LabelSets, seed: int) -> set[str]:
        """Re-map the heads of a loaded model from ``old`` to ``new`` head labels (kept rows reused, new rows
        initialised); returns the names of the re-created parameters."""

    def new_parameters(self, model: Any, missing: set[str]) -> set[str]:
        """Parameters trained at the head learning rate: the heads and what the checkpoint lacked."""
        return {n for n, _ in model.named_parameters()
                if n in missing or any(n == h or n.startswith(h + ".") for h in self.head_modules)}

    head_modules: ClassVar[tuple[str, ...]] = ("classifier",)

    def saved_parts(self, model: Any) -> tuple[Any, dict[str, dict[str, Any]]]:
        """``(transformers model saved with save_pretrained, {extra safetensors file: state dict})``."""
        return model, {}

    # ------------------------------------------------------------------ training data
    @abstractmethod
    def document_targets(self, doc: Document, enc: EncodedDoc, names: LabelSets, annotated: set[str]) -> Any:
        """The training targets of one document (``annotated``: the outputs its source is labelled for)."""

    @abstractmethod
    def window_targets(self, targets: Any, window: Window) -> dict[str, Any]:
        """The example fields of one window cut from a document with ``targets``."""

    def extra_examples(self, encoded: Sequence[EncodedDoc], targets: Sequence[Any], cfg: TrainConfig,
                       max_length: int, cls_id: int, sep_id: int) -> list[dict[str, Any]]:
        """Training examples beyond the documents' windows (topics: composed multi-topic windows)."""
        return []

    def annotations(self, path: str, docs: Sequence[Document]) -> list[set[str]]:
        """The outputs each document of the file ``path`` is labelled for (a single task: its own, always)."""
        return [set(self.outputs) for _ in docs]

    @abstractmethod
    def collate(self, batch: list[dict[str, Any]], length: int) -> dict[str, Any]:
        """Target tensors of a padded batch (``length``: the padded window length)."""

    def loss_state(self, cfg: TrainConfig, examples: Sequence[dict[str, Any]]) -> LossState:
        """Per-run loss constants computed once from the training examples."""
        return LossState(cfg)

    @abstractmethod
    def loss(self, model: Any, inputs: dict[str, Any], state: LossState) -> tuple[Any, Any]:
        """``(loss, outputs)`` of a batch; pops the target fields off ``inputs``."""

    # ------------------------------------------------------------------ inference and scoring
    @abstractmethod
    def views(self, block: TaggerBlock) -> dict[str, TaggerBlock]:
        """The single-output blocks a :class:`~tagger.predict.Tagger` decodes with, by output name."""

    token_outputs: ClassVar[tuple[str, ...]] = ()  # outputs with one row per sub-token (the rest: one per window)
    metric: ClassVar[str]  # what ``evaluate(...)["f1"]`` is, in words

    @abstractmethod
    def evaluate(self, tagger: Any, docs: Sequence[Document], tune: bool = False,
                 annotated: Sequence[set[str]] | None = None) -> tuple[dict, dict[str, float]]:
        """``(metrics, thresholds)`` through the real inference path; ``metrics["f1"]`` selects the model.
        ``tune``: tune topic thresholds on ``docs`` first (and return them). ``annotated``: the outputs each
        document is labelled for (:meth:`annotations`; default all)."""

    def model_card_lines(self, block: TaggerBlock) -> list[str]:
        """Task-specific lines of the model card."""
        return []
