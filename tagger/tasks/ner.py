"""Named-entity recognition: a token head over IOB2 tags, Viterbi decoding under IOB2 constraints, strict F1.

Decoding maps every entity to offsets in the caller's original string; with ``clitic_policy: strip`` a glued
proclitic (و، ب، ل، ال...) stays outside the span, with ``trim_titles`` a leading title (السيد، الدكتور...) stays
outside a person, and with ``entity_consistency`` unmarked repeats of a predicted name are tagged too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tagger.align import EncodedDoc, Window, entities_to_tags, word_labels
from tagger.arabic import CLITIC_OR_CHANGED, clitic_length, leading_titles
from tagger.consistency import propagate_entities
from tagger.decode import log_softmax, merge_windows, tag_spans, viterbi_iob2_many
from tagger.errors import DataError
from tagger.schema import Document, Entity
from tagger.tasks.base import LabelSets, LossState, Task
from tagger.text import normalize

if TYPE_CHECKING:
    from tagger.model import TaggerBlock


def ner_tags(types: Sequence[str]) -> list[str]:
    """``O`` and the B-/I- tags of ``types``, in this order (the head's label order)."""
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]


def entity_types(tags: Sequence[str]) -> list[str]:
    """The entity types of a tag list, in head order."""
    return [t[2:] for t in tags if t.startswith("B-")]


class NerTask(Task):
    name = "ner"
    outputs = ("ner",)
    token_outputs = ("ner",)
    metric = "strict_f1"

    def seen_labels(self, docs: Sequence[Document]) -> LabelSets:
        return {"ner": sorted({s.label for d in docs for s in d.entities})}

    def head_labels(self, labels: LabelSets) -> LabelSets:
        return {"ner": ner_tags(labels["ner"])}

    def labels_of(self, block: TaggerBlock) -> LabelSets:
        return {"ner": entity_types(block.labels)}

    def new_model(self, encoder: str, names: LabelSets, missing: set[str]) -> Any:
        from transformers import AutoModelForTokenClassification

        from tagger.model import load_encoder_with_head

        return load_encoder_with_head(AutoModelForTokenClassification, encoder, names["ner"], missing)

    def load_model(self, model_dir: Any, **kwargs: Any) -> Any:
        from transformers import AutoModelForTokenClassification

        from tagger.model import load_trained_model

        return load_trained_model(model_dir, AutoModelForTokenClassification, **kwargs)

    def remap_heads(self, model: Any, old: LabelSets, new: LabelSets, seed: int) -> set[str]:
        from tagger.model import remap_classifier

        remap_classifier(model, "classifier", old["ner"], new["ner"], seed)
        set_label_maps(model.config, new["ner"])
        return {"classifier.weight", "classifier.bias"}

    # ------------------------------------------------------------------ training data
    def document_targets(self, doc: Document, enc: EncodedDoc, names: LabelSets, annotated: set[str]) -> Any:
        tags = names["ner"]
        if "ner" not in annotated:
            return [-100] * len(enc.input_ids)
        word_tags = entities_to_tags(enc.word_spans, doc.entities)
        index = {x: i for i, x in enumerate(tags)}
        unknown = {t for t in word_tags if t not in index}
        if unknown:
            raise DataError(f"{doc.source}: tag(s) {sorted(unknown)} not in the label set {tags}")
        return word_labels(enc, word_tags, index)

    def window_targets(self, targets: Any, window: Window) -> dict[str, Any]:
        return {"labels": [-100, *targets[window.start : window.end], -100]}

    def collate(self, batch: list[dict[str, Any]], length: int) -> dict[str, Any]:
        return {"labels": token_targets([ex["labels"] for ex in batch], length)}

    def loss(self, model: Any, inputs: dict[str, Any], state: LossState) -> tuple[Any, Any]:
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        return token_loss(outputs.logits, labels, state.cfg.label_smoothing), outputs

    # ------------------------------------------------------------------ inference and scoring
    def views(self, block: TaggerBlock) -> dict[str, TaggerBlock]:
        return {"ner": block}

    def evaluate(self, tagger: Any, docs: Sequence[Document], tune: bool = False,
                 annotated: Sequence[set[str]] | None = None) -> tuple[dict, dict[str, float]]:
        metrics = score_entities(tagger, docs)
        return {"ner": metrics, "f1": metrics["strict"]["f1"]}, {}

    def model_card_lines(self, block: TaggerBlock) -> list[str]:
        return [f"Tag scheme {block.scheme}; clitic policy `{block.clitic_policy}`.", ""]


def set_label_maps(config: Any, names: Sequence[str]) -> None:
    """``num_labels``, ``id2label`` and ``label2id`` of a transformers config for ``names``."""
    config.num_labels = len(names)
    config.id2label = dict(enumerate(names))
    config.label2id = {x: i for i, x in enumerate(names)}


def token_targets(rows: Sequence[Sequence[int]], length: int) -> Any:
    """``[B, length]`` long tensor of token targets, -100 (ignored) in the padding."""
    import torch

    out = torch.full((len(rows), length), -100, dtype=torch.long)
    for r, row in enumerate(rows):
        out[r, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def token_loss(logits: Any, labels: Any, smoothing: float) -> Any:
    """Mean token cross-entropy over the labelled positions (label smoothing ``smoothing``); zero (with a
    gradient path) when the batch has no labelled token, as a joint batch of topic-only documents does."""
    import torch

    flat = labels.reshape(-1)
    if not bool((flat != -100).any()):
        return logits.sum() * 0.0
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(), flat, ignore_index=-100, label_smoothing=smoothing
    )


def score_entities(tagger: Any, docs: Sequence[Document]) -> dict:
    """Strict and default (conlleval) entity metrics of ``tagger`` on ``docs``, scored on the words of the
    documents (their own CoNLL tokens, or the tagger's pre-tokenisation): the one NER scorer."""
    from tagger.align import document_words
    from tagger.metrics import ner_metrics

    preds = tagger.predict_documents(docs)
    gold, pred = [], []
    for doc, p in zip(docs, preds):
        words = document_words(doc, tagger.ner.norm)[0]
        gold.append(entities_to_tags(words, doc.entities))
        pred.append(entities_to_tags(words, p.entities))
    return ner_metrics(gold, pred)


# ---------------------------------------------------------------------------------------------- decoding
def decode_entities(
    head: Any, docs: Sequence[Document], encoded: Sequence[EncodedDoc], windows: Sequence[Window],
    outputs: Sequence[np.ndarray],
) -> list[tuple[Entity, ...]]:
    """Entities of every document from its windows' token logits (``outputs[j]``: ``[tokens, tags]``)."""
    by_doc: dict[int, list[int]] = {}
    for j, w in enumerate(windows):
        by_doc.setdefault(w.doc, []).append(j)
    tagged = [i for i in range(len(docs)) if by_doc.get(i)]
    word_logits = [
        merge_windows(
            len(encoded[i].word_spans), encoded[i].first_subtoken,
            [(windows[j].start, windows[j].end) for j in by_doc[i]], [outputs[j] for j in by_doc[i]],
        )
        for i in tagged
    ]
    # log-softmax is row-wise: one call over all words of all documents, then Viterbi for all at once
    logps = np.split(log_softmax(np.concatenate(word_logits)), np.cumsum([len(x) for x in word_logits])[:-1]) \
        if word_logits else []
    paths = viterbi_iob2_many(logps, head.tags, head.allowed)
    results: list[tuple[Entity, ...]] = [()] * len(docs)
    for i, logp, path in zip(tagged, logps, paths):
        results[i] = _entities(head, docs[i].text, encoded[i], logp, path)
        if head.block.entity_consistency:
            results[i] = propagate_entities(docs[i].text, encoded[i].word_spans, results[i], head.norm)
    return results


def _entities(head: Any, text: str, enc: EncodedDoc, logp: np.ndarray, path: list[int]) -> tuple[Entity, ...]:
    tags = [head.tags[k] for k in path]
    chosen = logp[np.arange(len(path)), path]
    entities = []
    for first, end, label in tag_spans(tags):
        if label == "PER" and head.block.trim_titles:
            first += leading_titles([normalize(text[s:e], head.norm).text for s, e in enc.word_spans[first:end]])
        start = enc.word_spans[first][0]
        stop = enc.word_spans[end - 1][1]
        if head.block.clitic_policy == "strip":
            start = _skip_clitic(text, start, enc.word_spans[first][1], head)
            if start >= stop:
                continue
        score = float(np.exp(np.mean(chosen[first:end])))
        entities.append(Entity(text[start:stop], label, start, stop, score))
    return tuple(entities)


def _skip_clitic(text: str, start: int, word_end: int, head: Any) -> int:
    """Move an entity start past a glued proclitic (see :func:`tagger.arabic.clitic_length`)."""
    ch = text[start]
    if ch.isalpha() and ch not in CLITIC_OR_CHANGED and not ("\ufb50" <= ch <= "\ufefc"):
        return start  # normalisation keeps this first letter and no proclitic starts with it
    norm = normalize(text[start:word_end], head.norm)
    n = clitic_length(norm.text, head.vocab)
    return start + norm.starts[n] if 0 < n < len(norm.text) else start


def ner_view(block: TaggerBlock) -> TaggerBlock:
    """The NER part of a (joint) block as a single-task block."""
    return replace(block, task="ner", topic_labels=[], thresholds={})
