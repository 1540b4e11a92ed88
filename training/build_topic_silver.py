"""Build the silver topic-training set from unlabelled real news with :class:`tagger.data.weak.WeakLabeler`.

Reads (from ``../shared/data/external`` by default; it must exist, it is not part of the repository):

* ANT v2.1 technology + economy of Alarabia, France24 and SkyNews only (BBC and CNN are reserved for testing),
* ANT v1.1 (Jawhara FM) technology + economy,
* SaudiNewsNet, every source except aawsat, alriyadh, okaz and sabq (reserved for testing),

cuts each article like the gold dev set (title, newline, first ~900 characters of the whitespace-collapsed body),
drops every document of the gold dev set (by id and by text), labels the rest with the weak rules and writes a
balanced, seeded silver set::

    data/silver/topics-train.jsonl     {"id", "text", "topics", "source"}
    data/silver/topics-holdout.jsonl   same, a small silver holdout (not gold: for sanity checks only)

Hand labels of pool documents (``training/annotations/pool-topics.jsonl``: ids, text keys and topics, no article
text; see ``training/annotations/README.md``) are joined with the texts read here; those documents enter the train
set with their hand labels instead of the rules' (``--no-annotations`` leaves them out).

Positives are capped per label; negatives are hard ones (a negative pattern or weak evidence only) plus random
ones, about ``--neg-ratio`` times the positives in total. Documents the rules are unsure about are left out.
``seeds/train.jsonl`` (the project's own corpus) is appended when it exists. ``data/`` must stay git-ignored:
SaudiNewsNet is CC BY-NC-SA and nothing derived from it may be shipped.

New labels (issue 3, "retraining on new labels"): ``--labels`` picks the label set (default the four of
``shared/data/gold/GUIDELINES.md``); any label with a :class:`tagger.data.weak.LabelPatterns` entry may be added, e.g.
``digital-economy``. The seeds are annotated for the four default labels only, so for an added label their
labels come from the same weak rules. ``--out`` is a folder (``topics-train.jsonl`` + ``topics-holdout.jsonl``)
or a ``.jsonl`` file for the train set (the holdout goes next to it as ``<stem>-holdout.jsonl``)::

    python training/build_topic_silver.py --labels 5G cybersecurity e-government space digital-economy \
        --out data/silver/topics-train-de.jsonl

Self-training (``--self-train``, off by default; the rule silver set above is unchanged by it): the rule set
alone is thin on real-news positives, so one round of self-training adds confident ones from the same pool:

1. fit :class:`tagger.baselines.TfidfTopicBaseline` on the rule silver train set (seeds included);
2. score every pool document that is in neither the train set, the holdout nor the seeds (same reading and
   filtering: the reserved outlets are never read, gold-dev documents are dropped);
3. a document becomes a positive for each label with score >= ``--st-cut`` (0.9) unless the weak rules veto
   the label (``title_veto``) or one of its negative patterns matched; it is skipped as ambiguous if any label
   is vetoed/masked yet confident, or scores in [``--st-ambiguous`` (0.5), cut). The highest-scoring ones are
   taken (ties by id), at most ``--st-cap`` (300) per label;
4. confident negatives (every label < ``--st-neg-cut`` (0.05), not abstained by the rules) are sampled with
   ``--seed``, ``--st-neg-ratio`` (1.5) times the added positives;
5. the train set plus the additions is written to ``--st-out`` (default ``<train stem>-st.jsonl`` next to the
   train file, i.e. ``data/silver/topics-train-st.jsonl``); ``--st-review FILE`` also writes every added
   document with its scores, for reading. The cut was chosen by reading samples of the additions, never on dev::

    python training/build_topic_silver.py --self-train --st-review /tmp/st-review.jsonl

Usage: ``python training/build_topic_silver.py [--shared DIR] [--out DIR|FILE.jsonl] [--labels ...] [--seed 13]
[--annotations FILE | --no-annotations]
[--self-train [--st-cut 0.9] [--st-cap 300] [--st-neg-cut 0.05] [--st-neg-ratio 1.5] [--st-out FILE]]``
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow `python training/build_topic_silver.py` from a checkout
    sys.path.insert(0, str(ROOT))

from tagger.data.io import iter_jsonl  # noqa: E402
from tagger.data.weak import DEFAULT_LABELS, WeakLabel, WeakLabeler, normalize_for_match  # noqa: E402

DEFAULT_SHARED = ROOT.parent / "shared"
DEFAULT_ANNOTATIONS = ROOT / "training" / "annotations" / "pool-topics.jsonl"
ANT_V2_SOURCES: tuple[str, ...] = ("Alarabia", "France24", "SkyNews")
ANT_RESERVED: frozenset[str] = frozenset({"BBC", "CNN"})
SNN_RESERVED: frozenset[str] = frozenset({"aawsat", "alriyadh", "okaz", "sabq"})
CATEGORIES: tuple[str, ...] = ("technology", "economy")
BODY_CHARS = 900


class SharedDataMissingError(FileNotFoundError):
    """The external corpora under ../shared are not available."""


class AnnotationError(ValueError):
    """A hand-annotation line is malformed or does not match a pool document; the message names file:line."""


@dataclass
class RawDoc:
    id: str
    text: str
    source: str


def cut(title: str, body: str, limit: int = BODY_CHARS) -> str:
    """Title + newline + the first ~``limit`` characters of the body, whitespace collapsed, cut at a space."""
    title = " ".join(title.split())
    body = " ".join(body.split())
    if len(body) > limit:
        space = body.rfind(" ", 0, limit)
        body = body[: space if space > limit // 2 else limit]
    return f"{title}\n{body}"


_FIELD = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("DOCNO", "TITLE", "TEXT", "SRC")}


def _ant_field(raw: str, name: str, path: Path) -> str:
    m = _FIELD[name].search(raw)
    if m is None:
        raise ValueError(f"{path}: no <{name}> element; expected ANT TREC-like XML")
    return m.group(1).strip()


def read_ant(folder: Path, label: str) -> list[RawDoc]:
    docs = []
    for path in sorted(folder.glob("*.txt")):
        raw = path.read_text(encoding="utf-8", errors="replace")
        docno = _ant_field(raw, "DOCNO", path)
        docs.append(RawDoc(docno, cut(_ant_field(raw, "TITLE", path), _ant_field(raw, "TEXT", path)), label))
    return docs


def read_corpora(shared: Path) -> list[RawDoc]:
    ext = shared / "data" / "external"
    if not ext.is_dir():
        raise SharedDataMissingError(
            f"{ext} not found: this recipe needs the shared external corpora (ANT, SaudiNewsNet); "
            "pass --shared DIR pointing at the folder that contains data/external"
        )
    docs: list[RawDoc] = []
    for src in ANT_V2_SOURCES:
        assert src not in ANT_RESERVED, f"ANT source {src} is reserved for testing"
        for cat in CATEGORIES:
            folder = ext / "ant-corpus-v2.1-multisource" / src / cat
            if folder.is_dir():
                docs += read_ant(folder, f"ant:{src.lower()}/{cat}")
    for cat in CATEGORIES:
        docs += read_ant(ext / "ant-corpus-v1.1" / cat, f"ant:jawharafm/{cat}")
    snn = ext / "saudinewsnet" / "saudinewsnet.jsonl.gz"
    if not snn.is_file():
        raise SharedDataMissingError(f"{snn} not found (SaudiNewsNet); see shared/data/README.md")
    with gzip.open(snn, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["source"] in SNN_RESERVED:
                continue
            assert rec["source"] not in SNN_RESERVED, f"SaudiNewsNet source {rec['source']} is reserved"
            docs.append(RawDoc(rec["id"], cut(rec.get("title") or "", rec.get("content") or ""), f"snn:{rec['source']}"))
    for d in docs:  # belt and braces: no reserved outlet may slip through
        outlet = d.source.split(":", 1)[1].split("/", 1)[0]
        assert outlet not in {s.lower() for s in ANT_RESERVED} | SNN_RESERVED, f"reserved outlet in {d.id}"
    return docs


def _key(text: str) -> str:
    body = text.partition("\n")[2]
    return hashlib.sha1(" ".join(body.split())[:300].encode("utf-8")).hexdigest()


def dev_exclusions(shared: Path) -> tuple[set[str], set[str]]:
    dev = shared / "data" / "gold" / "topics-dev.jsonl"
    ids: set[str] = set()
    keys: set[str] = set()
    if dev.is_file():
        for line in dev.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                ids.add(rec["id"])
                keys.add(_key(rec["text"]))
    return ids, keys


def dedupe(docs: list[RawDoc], drop_ids: set[str], drop_keys: set[str]) -> tuple[list[RawDoc], Counter]:
    seen: set[str] = set(drop_keys)
    out: list[RawDoc] = []
    dropped: Counter = Counter()
    for d in docs:
        k = _key(d.text)
        if d.id in drop_ids or k in drop_keys:
            dropped["gold-dev"] += 1
        elif len(d.text.partition("\n")[2]) < 80:
            dropped["too-short"] += 1
        elif k in seen:
            dropped["duplicate"] += 1
        else:
            seen.add(k)
            out.append(d)
    return out, dropped


def select(
    docs: list[RawDoc], weak: list[WeakLabel], labels: tuple[str, ...], cap: int, neg_ratio: float,
    hard_share: float, rng: random.Random,
) -> list[tuple[RawDoc, tuple[str, ...], str]]:
    """Pick capped positives per label, then hard and random negatives; returns (doc, labels, kind)."""
    chosen: dict[int, str] = {}
    for label in labels:
        pos = [i for i, w in enumerate(weak) if label in w.labels and not w.abstain]
        rng.shuffle(pos)
        have = sum(1 for i in chosen if label in weak[i].labels)
        for i in pos:
            if have >= cap:
                break
            if i not in chosen:
                chosen[i] = "positive"
                have += 1
    n_neg = int(round(neg_ratio * len(chosen)))
    hard = [i for i, w in enumerate(weak) if not w.labels and not w.abstain and (w.negatives or w.evidence)]
    easy = [i for i, w in enumerate(weak) if not w.labels and not w.abstain and not (w.negatives or w.evidence)]
    rng.shuffle(hard)
    rng.shuffle(easy)
    n_hard = min(len(hard), int(n_neg * hard_share))
    for i in hard[:n_hard]:
        chosen[i] = "hard-negative"
    for i in easy[: n_neg - n_hard]:
        chosen[i] = "negative"
    order = sorted(chosen)
    rng.shuffle(order)
    return [(docs[i], weak[i].labels, chosen[i]) for i in order]


@dataclass(frozen=True)
class PoolAnnotation:
    id: str
    key: str
    topics: tuple[str, ...]
    line: int


def read_annotations(path: Path) -> dict[str, PoolAnnotation]:
    """Hand labels of pool documents: ``{"id", "key", "topics", "note"}`` per line, texts not included.

    ``key`` is the first 12 hex digits of :func:`_key` of the document text, so a changed corpus is noticed.
    Labels must be among the four of the guidelines (the documents were read for those four only).
    """
    out: dict[str, PoolAnnotation] = {}
    for where, n, rec in iter_jsonl(path, AnnotationError):
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not isinstance(rec.get("key"), str):
            raise AnnotationError(f'{where}: expected {{"id": str, "key": str, "topics": [...], "note": str}}')
        topics = rec.get("topics")
        if not isinstance(topics, list) or any(t not in DEFAULT_LABELS for t in topics):
            raise AnnotationError(f"{where}: topics must be a list of labels from {list(DEFAULT_LABELS)}, got {topics!r}")
        if rec["id"] in out:
            raise AnnotationError(f"{where}: id {rec['id']!r} already annotated on line {out[rec['id']].line}")
        out[rec["id"]] = PoolAnnotation(rec["id"], rec["key"], tuple(dict.fromkeys(topics)), n)
    return out


def annotated_records(
    docs: list[RawDoc], annotations: dict[str, PoolAnnotation], path: Path, labels: tuple[str, ...],
    labeler: WeakLabeler,
) -> tuple[list[dict], set[str]]:
    """Training records of the hand-annotated pool documents and their ids (to keep them out of the rule silver).

    Every annotation must match a readable pool document (not a reserved outlet, not a gold-dev duplicate) whose
    text still has the recorded key. Labels beyond the default four come from the weak rules, as for the seeds.
    """
    by_id = {d.id: d for d in docs}
    extra = [lab for lab in labels if lab not in DEFAULT_LABELS]
    out = []
    for a in sorted(annotations.values(), key=lambda a: a.line):
        d = by_id.get(a.id)
        if d is None:
            raise AnnotationError(
                f"{path}:{a.line}: id {a.id!r} is not among the readable pool documents (reserved outlet, gold-dev "
                "document, duplicate or too short?); remove the line or fix the id"
            )
        if not _key(d.text).startswith(a.key):
            raise AnnotationError(f"{path}:{a.line}: the text of {a.id!r} changed since it was annotated (key {a.key})")
        topics = [t for t in a.topics if t in labels] + [t for t in labeler.label(d.text).labels if t in extra]
        out.append({"id": d.id, "text": d.text, "topics": topics, "source": f"hand:{d.source}"})
    return out, {r["id"] for r in out}


def read_seeds(path: Path, labels: tuple[str, ...] = DEFAULT_LABELS, labeler: WeakLabeler | None = None) -> list[dict]:
    """The project's seed corpus; labels outside the default four are filled in by ``labeler`` (weak rules)."""
    if not path.is_file():
        return []
    extra = [lab for lab in labels if lab not in DEFAULT_LABELS]
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec.get("topics") is None:
            continue
        topics = [t for t in rec["topics"] if t in labels]
        if extra and labeler is not None:
            topics += [t for t in labeler.label(rec["text"]).labels if t in extra]
        out.append({"id": rec.get("id") or f"seed-{n}", "text": rec["text"], "topics": topics,
                    "source": f"seeds:{path.name}"})
    return out


def vetoed(labeler: WeakLabeler, text: str, label: str) -> bool:
    """Whether a ``title_veto`` pattern of ``label`` matches the title (the rules never assign it then)."""
    title = normalize_for_match(text).partition("\n")[0]
    return any(True for p in labeler.patterns[label].compiled("title_veto") for _ in p.finditer(title))


@dataclass
class SelfTrainConfig:
    cut: float = 0.9
    cap: int = 300
    ambiguous: float = 0.5
    neg_cut: float = 0.05
    neg_ratio: float = 1.5


def self_train(
    train: list[dict], pool: list[RawDoc], pool_weak: list[WeakLabel], labeler: WeakLabeler,
    labels: tuple[str, ...], cfg: SelfTrainConfig, rng: random.Random,
) -> tuple[list[dict], list[dict]]:
    """One round of self-training: (added records, review rows with scores). See the module docstring."""
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
    print(f"self-train: scored {len(pool)} pool docs; >= {cfg.cut} per label {above}; eligible "
          f"{len(topics)}; negatives available {len(negs)}")
    return added, review


def output_paths(out: Path) -> tuple[Path, Path]:
    """(train, holdout) paths for ``--out``: a folder, or a ``.jsonl`` train file."""
    if out.suffix == ".jsonl":
        return out, out.with_name(f"{out.stem}-holdout.jsonl")
    return out / "topics-train.jsonl", out / "topics-holdout.jsonl"


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder containing data/external")
    p.add_argument("--out", type=Path, default=ROOT / "data" / "silver",
                   help="output folder, or a .jsonl path for the train set (keep it under data/: git-ignored)")
    p.add_argument("--seeds", type=Path, default=ROOT / "seeds" / "train.jsonl", help="project seed corpus")
    p.add_argument("--labels", nargs="+", default=list(DEFAULT_LABELS),
                   help="label set; labels beyond the default four are weak-labelled (e.g. digital-economy)")
    p.add_argument("--cap", type=int, default=1500, help="max silver positives per label")
    p.add_argument("--neg-ratio", type=float, default=2.5, help="negatives per positive document")
    p.add_argument("--hard-share", type=float, default=0.4, help="share of negatives that are hard negatives")
    p.add_argument("--holdout", type=float, default=0.1, help="share kept as a silver holdout")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--annotations", type=Path, default=DEFAULT_ANNOTATIONS,
                   help="hand labels of pool documents (ids + labels, no text), added to the train set with their "
                        "labels in place of the rules' (default training/annotations/pool-topics.jsonl)")
    p.add_argument("--no-annotations", dest="annotations", action="store_const", const=None,
                   help="rule silver + seeds only")
    p.add_argument("--dump", type=Path, default=None, help="also write every labelled candidate here (review)")
    st = p.add_argument_group("self-training (off by default; see the module docstring)")
    st.add_argument("--self-train", action="store_true",
                    help="also write <train>-st.jsonl: rule silver + confident TF-IDF+LR additions from the pool")
    st.add_argument("--st-cut", type=float, default=0.9, help="min score for an added positive")
    st.add_argument("--st-cap", type=int, default=300, help="max added positives per label")
    st.add_argument("--st-ambiguous", type=float, default=0.5,
                    help="skip a document with any label scoring in [this, --st-cut)")
    st.add_argument("--st-neg-cut", type=float, default=0.05, help="max score (every label) of an added negative")
    st.add_argument("--st-neg-ratio", type=float, default=1.5, help="added negatives per added positive")
    st.add_argument("--st-out", type=Path, default=None, help="self-trained set (default <train stem>-st.jsonl)")
    st.add_argument("--st-review", type=Path, default=None, help="also write the added positives with scores")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    labels = tuple(args.labels)
    raw = read_corpora(args.shared)
    drop_ids, drop_keys = dev_exclusions(args.shared)
    docs, dropped = dedupe(raw, drop_ids, drop_keys)
    labeler = WeakLabeler(labels)
    weak = labeler.label_many(d.text for d in docs)
    print(f"read {len(raw)} documents, kept {len(docs)} (dropped: {dict(dropped)}) in {time.perf_counter() - t0:.1f}s")
    if args.dump is not None:
        write_jsonl(args.dump, [
            {"id": d.id, "source": d.source, "topics": list(w.labels), "abstain": w.abstain,
             "evidence": w.evidence, "negatives": w.negatives, "text": d.text}
            for d, w in zip(docs, weak) if w.labels or w.abstain or w.evidence or w.negatives
        ])
    hand: list[dict] = []
    if args.annotations is not None and args.annotations.is_file():
        hand, hand_ids = annotated_records(docs, read_annotations(args.annotations), args.annotations, labels, labeler)
        keep = [i for i, d in enumerate(docs) if d.id not in hand_ids]
        docs, weak = [docs[i] for i in keep], [weak[i] for i in keep]
        print(f"hand-annotated pool documents: {len(hand)} from {args.annotations}, per label "
              f"{dict(sorted(Counter(t for r in hand for t in r['topics']).items()))}")
    elif args.annotations is not None and args.annotations != DEFAULT_ANNOTATIONS:
        raise AnnotationError(f"--annotations {args.annotations}: file not found")
    rng = random.Random(args.seed)
    picked = select(docs, weak, labels, args.cap, args.neg_ratio, args.hard_share, rng)
    records = [{"id": d.id, "text": d.text, "topics": list(lab), "source": d.source} for d, lab, _ in picked]
    n_hold = int(len(records) * args.holdout)
    holdout, train = records[:n_hold], records[n_hold:]
    seeds = read_seeds(args.seeds, labels, labeler)
    train += seeds + hand
    train_path, holdout_path = output_paths(args.out)
    write_jsonl(train_path, train)
    write_jsonl(holdout_path, holdout)

    kinds = Counter(kind for _, _, kind in picked)
    print(f"candidates: positive for a label {sum(1 for w in weak if w.labels)}, abstained "
          f"{sum(1 for w in weak if w.abstain)}")
    print("all candidates per label:", {lab: sum(1 for w in weak if lab in w.labels) for lab in labels})
    print(f"selected {len(picked)}: {dict(kinds)}; seeds appended: {len(seeds)}; hand-annotated appended: {len(hand)}")
    for name, recs in (("train", train), ("holdout", holdout)):
        per_label = Counter(t for r in recs for t in r["topics"])
        print(f"{name}: {len(recs)} docs, no label {sum(1 for r in recs if not r['topics'])}, "
              f"per label {dict(sorted(per_label.items()))}")
    per_source = Counter(r["source"] for r in train)
    pos_source = Counter(r["source"] for r in train if r["topics"])
    print("train per source (all / positive / " + " / ".join(labels) + "):")
    for src, n in sorted(per_source.items(), key=lambda kv: -kv[1]):
        per = [sum(1 for r in train if r["source"] == src and lab in r["topics"]) for lab in labels]
        print(f"  {src:28s} {n:6d} {pos_source[src]:6d}  " + " ".join(f"{c:5d}" for c in per))
    print(f"wrote {train_path} and {holdout_path} in {time.perf_counter() - t0:.1f}s")
    if args.self_train:
        used = {_key(r["text"]) for r in train + holdout}
        pool = [(d, w) for d, w in zip(docs, weak) if _key(d.text) not in used]
        cfg = SelfTrainConfig(args.st_cut, args.st_cap, args.st_ambiguous, args.st_neg_cut, args.st_neg_ratio)
        added, review = self_train(train, [d for d, _ in pool], [w for _, w in pool], labeler, labels, cfg,
                                   random.Random(args.seed))
        st_path = args.st_out or train_path.with_name(f"{train_path.stem}-st.jsonl")
        write_jsonl(st_path, train + added)
        if args.st_review is not None:
            write_jsonl(args.st_review, review)
        per_label = Counter(t for r in added for t in r["topics"])
        total = Counter(t for r in train + added for t in r["topics"])
        print(f"self-train added {len(added)} docs: positives {sum(1 for r in added if r['topics'])}, negatives "
              f"{sum(1 for r in added if not r['topics'])}; added per label {dict(sorted(per_label.items()))}")
        print(f"self-train set: {len(train) + len(added)} docs, per label {dict(sorted(total.items()))}")
        print(f"wrote {st_path} in {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
