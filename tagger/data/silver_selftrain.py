"""One round of self-training on top of the rule silver set of :mod:`tagger.data.silver` (``--self-train``).

The rule set alone is thin on real-news positives, so confident ones are added from the same pool:

1. fit :class:`tagger.baselines.TfidfTopicBaseline` on the rule silver train set (seeds included);
2. score every pool document that is in neither the train set, the holdout nor the seeds (same reading and
   filtering: the reserved outlets are never read, gold-dev documents are dropped), see :func:`self_train_pool`;
3. a document becomes a positive for each label with score >= ``cut`` (0.9) unless the weak rules veto the
   label (``title_veto``) or one of its negative patterns matched; it is skipped as ambiguous if any label is
   vetoed/masked yet confident, or scores in [``ambiguous`` (0.5), ``cut``). The highest-scoring ones are
   taken (ties by id), at most ``cap`` (300) per label;
4. confident negatives (every label < ``neg_cut`` (0.05), not abstained by the rules) are sampled with the
   given RNG, ``neg_ratio`` (1.5) times the added positives.

The rule silver set itself is unchanged; the caller writes the train set plus the additions. The cut was
chosen by reading samples of the additions, never on dev.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import numpy as np

from tagger.data.silver import RawDoc, Record, SilverSet, text_key
from tagger.data.weak import WeakLabel, WeakLabeler, normalize_for_match

__all__ = ["SelfTrainConfig", "SelfTrainResult", "self_train", "self_train_pool", "vetoed"]


def vetoed(labeler: WeakLabeler, text: str, label: str) -> bool:
    """Whether a ``title_veto`` pattern of ``label`` matches the title (the rules never assign it then)."""
    title = normalize_for_match(text).partition("\n")[0]
    return any(True for p in labeler.patterns[label].compiled("title_veto") for _ in p.finditer(title))


@dataclass
class SelfTrainConfig:
    """Thresholds and caps of :func:`self_train` (the command line's ``--st-*`` options)."""

    cut: float = 0.9  # min score of an added positive
    cap: int = 300  # max added positives per label
    ambiguous: float = 0.5  # skip a document with any label scoring in [ambiguous, cut)
    neg_cut: float = 0.05  # max score (every label) of an added negative
    neg_ratio: float = 1.5  # added negatives per added positive


@dataclass
class SelfTrainResult:
    """The additions of :func:`self_train`, the review rows (added positives with scores) and counts."""

    added: list[Record]
    review: list[Record]
    scored: int  # pool documents scored
    above: dict[str, int]  # per label, pool documents scoring >= the cut
    eligible: int  # documents that passed the rules' checks
    negatives_available: int
    cut: float

    def scoring_line(self) -> str:
        return (f"self-train: scored {self.scored} pool docs; >= {self.cut} per label {self.above}; eligible "
                f"{self.eligible}; negatives available {self.negatives_available}")

    def summary_lines(self, train: list[Record]) -> list[str]:
        """What was added, and the label counts of ``train`` plus the additions."""
        added = self.added
        per_label = Counter(t for r in added for t in r["topics"])
        total = Counter(t for r in train + added for t in r["topics"])
        return [
            f"self-train added {len(added)} docs: positives {sum(1 for r in added if r['topics'])}, negatives "
            f"{sum(1 for r in added if not r['topics'])}; added per label {dict(sorted(per_label.items()))}",
            f"self-train set: {len(train) + len(added)} docs, per label {dict(sorted(total.items()))}",
        ]


def self_train_pool(silver: SilverSet) -> tuple[list[RawDoc], list[WeakLabel]]:
    """The pool documents (and their rule output) whose text is in neither the train set nor the holdout."""
    used = {text_key(r["text"]) for r in silver.train + silver.holdout}
    pool = [(d, w) for d, w in zip(silver.pool, silver.weak) if text_key(d.text) not in used]
    return [d for d, _ in pool], [w for _, w in pool]


def self_train(
    train: list[Record], pool: list[RawDoc], pool_weak: list[WeakLabel], labeler: WeakLabeler,
    labels: tuple[str, ...], cfg: SelfTrainConfig, rng: random.Random,
) -> SelfTrainResult:
    """One round of self-training: the added records, review rows with scores, and counts (module docstring)."""
    from tagger.baselines import TfidfTopicBaseline

    model = TfidfTopicBaseline().fit([r["text"] for r in train], [r["topics"] for r in train], labels)
    scores = model.scores([d.text for d in pool]) if pool else np.zeros((0, len(labels)))
    topics: dict[int, tuple[str, ...]] = {}
    for i, (d, w) in enumerate(zip(pool, pool_weak)):
        if w.labels or not scores[i].max() >= cfg.cut:
            continue
        allowed = [lab not in w.negatives and not vetoed(labeler, d.text, lab) for lab in labels]
        confident = [s >= cfg.cut for s in scores[i]]
        if any(c and not a for c, a in zip(confident, allowed)):
            continue  # the rules rule out a label the classifier is sure of: leave the document out
        if any(cfg.ambiguous <= s < cfg.cut for s in scores[i]):
            continue  # another label is half-likely: neither a clean positive nor a clean negative for it
        topics[i] = tuple(lab for lab, c in zip(labels, confident) if c)
    chosen: dict[int, tuple[str, ...]] = {}
    for j, label in enumerate(labels):
        cands = sorted((i for i, t in topics.items() if label in t), key=lambda i: (-scores[i, j], pool[i].id))
        have = sum(1 for t in chosen.values() if label in t)
        for i in cands:
            if have >= cfg.cap:
                break
            if i not in chosen:
                chosen[i] = topics[i]
                have += 1
    negs = [i for i, w in enumerate(pool_weak)
            if not w.labels and not w.abstain and scores[i].max() < cfg.neg_cut]
    rng.shuffle(negs)
    neg_pick = sorted(negs[: int(round(cfg.neg_ratio * len(chosen)))])
    added = [{"id": pool[i].id, "text": pool[i].text, "topics": list(chosen[i]), "source": pool[i].source}
             for i in sorted(chosen)]
    added += [{"id": pool[i].id, "text": pool[i].text, "topics": [], "source": pool[i].source} for i in neg_pick]
    review = [{"id": pool[i].id, "source": pool[i].source, "topics": list(chosen[i]),
               "scores": {lab: round(float(scores[i, j]), 4) for j, lab in enumerate(labels)},
               "rule_abstain": pool_weak[i].abstain, "evidence": pool_weak[i].evidence, "text": pool[i].text}
              for i in sorted(chosen, key=lambda i: (-scores[i].max(), pool[i].id))]
    above = {lab: int((scores[:, j] >= cfg.cut).sum()) for j, lab in enumerate(labels)}
    return SelfTrainResult(added, review, len(pool), above, len(topics), len(negs), cfg.cut)
