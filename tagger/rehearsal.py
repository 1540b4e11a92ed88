"""Training on new labels without forgetting the old ones: rehearsal targets and replay.

Continuing a model (``init_from``) on documents annotated only for a NEW label would train every kept label
towards "absent" on them. With ``rehearsal`` the kept labels of those documents get the OLD model's outputs as
targets instead. Which documents: with ``rehearsal: true`` every training document; by default (``null``), when
labels are added, the documents of each training file that carries none of the kept labels (no document of it
lists a kept topic, or a kept entity type, for that output) -- a file annotated for every label keeps its own
targets; ``false`` turns it off. The targets:

* topics -- the old model's scores as soft targets for the kept labels (a kept label the user did list stays 1);
  the new labels are what the user annotated (listed: 1, else 0);
* NER -- the old model's predicted spans of kept types are added to the user's spans; a user span wins wherever
  the two overlap, and new types come from the user only.

``replay: [FILE, ...]`` mixes ``replay_ratio`` x (number of new documents) documents of the old training data in
(sampled under ``seed``): their kept labels are their own gold labels and, for topics, the new labels are not
trained on them (they were never annotated for them). For NER a replayed sentence cannot leave a type out of its
softmax, so the new type counts as absent there: replay NER data that does not contain the new type, or none.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tagger.schema import Document, Span

if TYPE_CHECKING:
    from tagger.config import TrainConfig
    from tagger.model import TaggerBlock
    from tagger.tasks import LabelSets, Task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelChange:
    """Per output: the labels kept from the old model and the labels added."""

    kept: dict[str, list[str]]
    new: dict[str, list[str]]

    @property
    def adds_labels(self) -> bool:
        return any(self.new.values())


def label_change(task: Task, base: TaggerBlock, labels: LabelSets) -> LabelChange:
    old = task.labels_of(base)
    return LabelChange(
        kept={k: [x for x in v if x in old.get(k, ())] for k, v in labels.items()},
        new={k: [x for x in v if x not in old.get(k, ())] for k, v in labels.items()},
    )


def enabled(cfg: TrainConfig, change: LabelChange) -> bool:
    return cfg.rehearsal if cfg.rehearsal is not None else change.adds_labels


def prepare(cfg: TrainConfig, task: Task, base: TaggerBlock | None, labels: LabelSets, docs: list[Document],
            annotated: list[set[str]]) -> tuple[list[Document], list[set[str]]]:
    """The training documents with rehearsal targets, plus the replayed ones; unchanged without ``init_from``
    or with rehearsal off (and no replay)."""
    if base is None:
        return docs, annotated
    change = label_change(task, base, labels)
    if enabled(cfg, change):
        which = [set(a) for a in annotated] if cfg.rehearsal else _new_label_only(docs, annotated, change)
        if any(which):
            docs = rehearse(cfg.init_from, docs, which, change)
            logger.info("rehearsal: on %d of %d documents the kept labels %s take %s's outputs as targets (new: %s)",
                        sum(bool(w) for w in which), len(docs), _flat(change.kept), cfg.init_from, _flat(change.new))
        else:
            logger.info("rehearsal: every training file carries the kept labels %s; their own targets stay",
                        _flat(change.kept))
    if cfg.replay:
        extra, extra_annotated = replay(cfg, task, change, n_new=len(docs))
        docs, annotated = [*docs, *extra], [*annotated, *extra_annotated]
    return docs, annotated


def rehearse(old_model: str, docs: Sequence[Document], annotated: Sequence[set[str]], change: LabelChange) -> list[Document]:
    """``docs`` with the old model's outputs as targets for the kept labels (see the module docstring)."""
    from tagger.predict import Tagger

    old = Tagger.from_pretrained(old_model)
    preds = old.predict_documents(list(docs))
    out = []
    for doc, pred, ann in zip(docs, preds, annotated):
        new = replace(doc)
        if change.kept.get("topics") and "topics" in ann and pred.topics is not None:
            have = set(doc.topics or ())
            targets = {lab: 1.0 if lab in have else float(pred.topics.scores[lab]) for lab in change.kept["topics"]}
            targets.update({lab: float(lab in have) for lab in change.new.get("topics", [])})
            new.topic_targets = targets
        if change.kept.get("ner") and "ner" in ann:
            new.entities = merge_spans(doc.entities, [Span(e.start, e.end, e.label) for e in pred.entities
                                                      if e.label in change.kept["ner"]])
        out.append(new)
    return out


def _new_label_only(docs: Sequence[Document], annotated: Sequence[set[str]], change: LabelChange) -> list[set[str]]:
    """Per document, the outputs to rehearse: those whose file lists none of the output's kept labels."""
    carries: dict[tuple[str, str], bool] = {}
    for doc in docs:
        for out in ("topics", "ner"):
            kept = set(change.kept.get(out, ()))
            found = bool(kept & set(doc.topics or ())) if out == "topics" else any(s.label in kept for s in doc.entities)
            key = (_file_of(doc), out)
            carries[key] = carries.get(key, False) or found
    return [{out for out in a if not carries.get((_file_of(d), out), False)} for d, a in zip(docs, annotated)]


def _file_of(doc: Document) -> str:
    head, _, tail = doc.source.rpartition(":")
    return head if tail.isdigit() else doc.source


def merge_spans(user: Sequence[Span], model: Sequence[Span]) -> list[Span]:
    """The user's spans plus the model's spans that overlap none of them, sorted."""
    kept = [s for s in model if not any(s.start < u.end and u.start < s.end for u in user)]
    return sorted([*user, *kept], key=lambda s: (s.start, s.end))


def replay(cfg: TrainConfig, task: Task, change: LabelChange, n_new: int) -> tuple[list[Document], list[set[str]]]:
    """``replay_ratio * n_new`` documents of the ``replay`` files (all when fewer), sampled under ``seed``; the
    new topic labels are not trained on them."""
    from tagger.examples import read_all

    docs, annotated = read_all(cfg.replay or [], cfg, task)
    k = min(len(docs), max(1, round(cfg.replay_ratio * n_new)))
    chosen = sorted(random.Random(cfg.seed).sample(range(len(docs)), k))
    out = []
    for i in chosen:
        doc = docs[i]
        if change.kept.get("topics") and "topics" in annotated[i]:
            have = set(doc.topics or ())
            doc = replace(doc, topic_targets={lab: float(lab in have) for lab in change.kept["topics"]})
        out.append(doc)
    logger.info("replay: %d of %d documents from %s (the new topic labels are not trained on them)",
                len(out), len(docs), cfg.replay)
    return out, [annotated[i] for i in chosen]


def _flat(sets: dict[str, list[str]]) -> list[str]:
    return [x for v in sets.values() for x in v]
