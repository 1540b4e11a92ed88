"""Joint NER + topics: one encoder, a token head and a document head, one forward pass per window.

Trains from mixed sources: a document counts for NER when its file is annotated for entities (a CoNLL file, or a
JSONL/CSV file where some document has entities) and for topics when it has a ``topics`` field; the other task's
loss is masked for it. Losses are weighted by ``ner_loss_weight`` and ``topics_loss_weight``. Windows, topic
thresholds (tuned on the topic-annotated dev documents) and model selection (the mean of NER strict F1 and topic
micro-F1 on dev) are those of the single tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tagger.align import EncodedDoc, Window
from tagger.schema import Document
from tagger.tasks.base import LabelSets, LossState, Task
from tagger.tasks.ner import NerTask, entity_types, ner_view, score_entities, token_loss, token_targets
from tagger.tasks.topics import (
    TopicsTask,
    composed,
    multilabel_loss,
    positive_weights,
    score_topics,
    threshold_card,
    topic_targets,
)

if TYPE_CHECKING:
    from tagger.config import TrainConfig
    from tagger.model import TaggerBlock

logger = logging.getLogger(__name__)


class JointTask(Task):
    name = "joint"
    outputs = ("ner", "topics")
    token_outputs = ("ner",)
    metric = "mean of strict_f1 and micro_f1"
    head_modules = ("topic_head", "token_model.classifier")

    def __init__(self) -> None:
        self.ner, self.topics = NerTask(), TopicsTask()

    def seen_labels(self, docs: Sequence[Document]) -> LabelSets:
        return {**self.ner.seen_labels(docs), **self.topics.seen_labels(docs)}

    def head_labels(self, labels: LabelSets) -> LabelSets:
        return {**self.ner.head_labels(labels), **self.topics.head_labels(labels)}

    def labels_of(self, block: TaggerBlock) -> LabelSets:
        return {"ner": entity_types(block.labels), "topics": list(block.topic_labels)}

    def configured_labels(self, cfg: TrainConfig) -> LabelSets | None:
        if cfg.labels is None and cfg.topic_labels is None:
            return None
        return {k: list(v) for k, v in (("ner", cfg.labels), ("topics", cfg.topic_labels)) if v is not None}

    def new_model(self, encoder: str, names: LabelSets, missing: set[str]) -> Any:
        from tagger.tasks.joint_model import JointModel

        inner: set[str] = set()
        token_model = self.ner.new_model(encoder, names, inner)
        missing.update(f"token_model.{k}" for k in inner)
        return JointModel(token_model, len(names["topics"]))

    def saved_parts(self, model: Any) -> tuple[Any, dict[str, dict[str, Any]]]:
        from tagger.tasks.joint_model import TOPIC_HEAD_FILE

        return model.token_model, {TOPIC_HEAD_FILE: model.topic_head_state()}

    def load_model(self, model_dir: Any, **kwargs: Any) -> Any:
        from tagger.model import read_block
        from tagger.tasks.joint_model import JointModel, load_topic_head

        block = read_block(model_dir)
        model = JointModel(self.ner.load_model(model_dir, **kwargs), len(block.topic_labels))
        load_topic_head(model, model_dir)
        return model.eval()

    def remap_heads(self, model: Any, old: LabelSets, new: LabelSets, seed: int) -> set[str]:
        from tagger.model import remap_classifier
        from tagger.tasks.ner import set_label_maps

        remap_classifier(model.token_model, "classifier", old["ner"], new["ner"], seed)
        set_label_maps(model.config, new["ner"])
        remap_classifier(model.topic_head, "3", old["topics"], new["topics"], seed)
        return {"token_model.classifier.weight", "token_model.classifier.bias", "topic_head.3.weight", "topic_head.3.bias"}

    # ------------------------------------------------------------------ training data
    def annotations(self, path: str, docs: Sequence[Document]) -> list[set[str]]:
        has_entities = any(d.entities or d.words is not None for d in docs)  # CoNLL documents carry their words
        out = [({"ner"} if has_entities else set()) | ({"topics"} if d.topics is not None else set()) for d in docs]
        n_topics = sum("topics" in a for a in out)
        logger.info("%s: %s for entities, %d of %d documents for topics", path,
                    "annotated" if has_entities else "not annotated", n_topics, len(docs))
        return out

    def document_targets(self, doc: Document, enc: EncodedDoc, names: LabelSets, annotated: set[str]) -> Any:
        vec, mask = topic_targets(doc, names["topics"])
        if "topics" not in annotated:
            mask = [0.0] * len(mask)
        return self.ner.document_targets(doc, enc, names, annotated), (vec, mask)

    def window_targets(self, targets: Any, window: Window) -> dict[str, Any]:
        tokens, (vec, mask) = targets
        return {**self.ner.window_targets(tokens, window), "topic_labels": vec, "topic_mask": mask}

    def extra_examples(self, encoded: Sequence[EncodedDoc], targets: Sequence[Any], cfg: TrainConfig,
                       max_length: int, cls_id: int, sep_id: int) -> list[dict[str, Any]]:
        mixed = composed(encoded, [t[1] for t in targets], cfg, max_length, cls_id, sep_id)  # fully topic-labelled
        return [{"input_ids": ex["input_ids"], "labels": [-100] * len(ex["input_ids"]), "topic_labels": ex["labels"],
                 "topic_mask": [1.0] * len(ex["labels"])} for ex in mixed]

    def collate(self, batch: list[dict[str, Any]], length: int) -> dict[str, Any]:
        import torch

        return {"labels": token_targets([ex["labels"] for ex in batch], length),
                "topic_labels": torch.tensor([ex["topic_labels"] for ex in batch], dtype=torch.float),
                "topic_mask": torch.tensor([ex["topic_mask"] for ex in batch], dtype=torch.float)}

    def loss_state(self, cfg: TrainConfig, examples: Sequence[dict[str, Any]]) -> LossState:
        return LossState(cfg, positive_weights(cfg, [ex["topic_labels"] for ex in examples if any(ex["topic_mask"])]))

    def loss(self, model: Any, inputs: dict[str, Any], state: LossState) -> tuple[Any, Any]:
        labels, topics, mask = inputs.pop("labels"), inputs.pop("topic_labels"), inputs.pop("topic_mask")
        outputs = model(**inputs)
        cfg = state.cfg
        loss = cfg.ner_loss_weight * token_loss(outputs.logits["ner"], labels, cfg.label_smoothing) \
            + cfg.topics_loss_weight * multilabel_loss(outputs.logits["topics"], topics, mask, state)
        return loss, outputs

    # ------------------------------------------------------------------ inference and scoring
    def views(self, block: TaggerBlock) -> dict[str, TaggerBlock]:
        return {"ner": ner_view(block), "topics": topics_view(block)}

    def evaluate(self, tagger: Any, docs: Sequence[Document], tune: bool = False,
                 annotated: Sequence[set[str]] | None = None) -> tuple[dict, dict[str, float]]:
        annotated = annotated if annotated is not None else [{"ner", "topics"} for _ in docs]
        ner_docs = [d for d, a in zip(docs, annotated) if "ner" in a]
        topic_docs = [d for d, a in zip(docs, annotated) if "topics" in a]
        metrics: dict[str, Any] = {}
        thresholds: dict[str, float] = dict(tagger.thresholds)
        parts = []
        if ner_docs:
            metrics["ner"] = score_entities(tagger, ner_docs)
            parts.append(metrics["ner"]["strict"]["f1"])
        if topic_docs:
            metrics["topics"], thresholds = score_topics(tagger, topic_docs, tune)
            parts.append(metrics["topics"]["micro_f1"])
        metrics["f1"] = sum(parts) / len(parts) if parts else 0.0
        return metrics, thresholds

    def model_card_lines(self, block: TaggerBlock) -> list[str]:
        return [*self.ner.model_card_lines(block), "Topic labels: " + ", ".join(f"`{x}`" for x in block.topic_labels),
                "", *threshold_card(block)]


def topics_view(block: TaggerBlock) -> TaggerBlock:
    """The topic part of a joint block as a single-task block."""
    return replace(block, task="topics", labels=list(block.topic_labels), topic_labels=[])
