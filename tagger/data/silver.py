"""Build the silver topic-training set from unlabelled real news with :class:`tagger.data.weak.WeakLabeler`.

Reads (from ``<shared>/data/external``; it is not part of the repository):

* ANT v2.1 technology + economy of Alarabia, France24 and SkyNews only (BBC and CNN are reserved for testing),
* ANT v1.1 (Jawhara FM) technology + economy,
* SaudiNewsNet, every source except aawsat, alriyadh, okaz and sabq (reserved for testing),

cuts each article like the gold dev set (title, newline, first ~900 characters of the whitespace-collapsed body),
drops every document of the gold dev set (by id and by text), labels the rest with the weak rules and selects a
balanced, seeded silver set plus a small silver holdout (not gold: for sanity checks only).

Positives are capped per label; negatives are hard ones (a negative pattern or weak evidence only) plus random
ones, about ``neg_ratio`` times the positives in total. Documents the rules are unsure about are left out. Hand
labels of pool documents (ids, text keys and topics, no article text; see ``training/annotations/README.md``) are
joined with the texts read here and replace the rules' labels for those documents; the project's seed corpus is
appended. Labels beyond the four of the guidelines come from the weak rules for seeds and hand-labelled documents.

Self-training on top of this set is in :mod:`tagger.data.silver_selftrain`; ``training/build_topic_silver.py``
is the thin command-line wrapper. Nothing derived from SaudiNewsNet (CC BY-NC-SA) may be shipped: write under
the git-ignored ``data/``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.data.io import iter_jsonl
from tagger.data.weak import DEFAULT_LABELS, WeakLabel, WeakLabeler
from tagger.errors import DataError, TaggerError

__all__ = [
    "ANT_RESERVED", "ANT_V2_SOURCES", "BODY_CHARS", "CATEGORIES", "SNN_RESERVED", "AnnotationError",
    "PoolAnnotation", "RawDoc", "Record", "SharedDataMissingError", "SilverConfig", "SilverSet", "annotated_records",
    "build_silver", "cut", "dedupe", "dev_exclusions", "output_paths", "read_annotations", "read_ant",
    "read_corpora", "read_seeds", "select", "summary_lines", "text_key", "write_jsonl"
]

ANT_V2_SOURCES: tuple[str, ...] = ("Alarabia", "France24", "SkyNews")
ANT_RESERVED: frozenset[str] = frozenset({"BBC", "CNN"})
SNN_RESERVED: frozenset[str] = frozenset({"aawsat", "alriyadh", "okaz", "sabq"})
CATEGORIES: tuple[str, ...] = ("technology", "economy")
BODY_CHARS = 900

Record = dict[str, Any]


class SharedDataMissingError(TaggerError, FileNotFoundError):
    """The external corpora under ../shared are not available."""


class AnnotationError(DataError):
    """A hand-annotation line is malformed or does not match a pool document; the message names file:line."""


@dataclass
class RawDoc:
    """One pool document: its corpus id, the cut text (title, newline, body) and ``corpus:outlet[/category]``."""

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
        raise DataError(f"{path}: no <{name}> element; expected ANT TREC-like XML")
    return m.group(1).strip()


def read_ant(folder: Path, label: str) -> list[RawDoc]:
    """Every ``*.txt`` ANT document of ``folder`` (sorted by name), cut, with ``label`` as its source."""
    docs = []
    for path in sorted(folder.glob("*.txt")):
        raw = path.read_text(encoding="utf-8", errors="replace")
        docno = _ant_field(raw, "DOCNO", path)
        docs.append(RawDoc(docno, cut(_ant_field(raw, "TITLE", path), _ant_field(raw, "TEXT", path)), label))
    return docs


def read_corpora(shared: Path) -> list[RawDoc]:
    """The whole pool from ``shared/data/external``; the outlets reserved for testing are never read."""
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


def text_key(text: str) -> str:
    """SHA-1 (hex) of the first 300 characters of the whitespace-collapsed body: the identity of a document."""
    body = text.partition("\n")[2]
    return hashlib.sha1(" ".join(body.split())[:300].encode("utf-8")).hexdigest()


def dev_exclusions(shared: Path) -> tuple[set[str], set[str]]:
    """Ids and :func:`text_key` keys of the gold dev documents (empty when the dev set is absent)."""
    dev = shared / "data" / "gold" / "topics-dev.jsonl"
    ids: set[str] = set()
    keys: set[str] = set()
    if dev.is_file():
        for line in dev.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                ids.add(rec["id"])
                keys.add(text_key(rec["text"]))
    return ids, keys


def dedupe(docs: list[RawDoc], drop_ids: set[str], drop_keys: set[str]) -> tuple[list[RawDoc], Counter]:
    """Drop gold-dev documents, bodies under 80 characters and duplicate texts; also the drops per reason."""
    seen: set[str] = set(drop_keys)
    out: list[RawDoc] = []
    dropped: Counter = Counter()
    for d in docs:
        k = text_key(d.text)
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
    """One hand label of a pool document: id, :func:`text_key` prefix, topics and its line in the file."""

    id: str
    key: str
    topics: tuple[str, ...]
    line: int


def read_annotations(path: Path) -> dict[str, PoolAnnotation]:
    """Hand labels of pool documents: ``{"id", "key", "topics", "note"}`` per line, texts not included.

    ``key`` is the first 12 hex digits of :func:`text_key` of the document text, so a changed corpus is noticed.
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
) -> tuple[list[Record], set[str]]:
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
        if not text_key(d.text).startswith(a.key):
            raise AnnotationError(f"{path}:{a.line}: the text of {a.id!r} changed since it was annotated (key {a.key})")
        topics = [t for t in a.topics if t in labels] + [t for t in labeler.label(d.text).labels if t in extra]
        out.append({"id": d.id, "text": d.text, "topics": topics, "source": f"hand:{d.source}"})
    return out, {r["id"] for r in out}


def read_seeds(path: Path, labels: tuple[str, ...] = DEFAULT_LABELS, labeler: WeakLabeler | None = None) -> list[Record]:
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


def output_paths(out: Path) -> tuple[Path, Path]:
    """(train, holdout) paths for ``--out``: a folder, or a ``.jsonl`` train file."""
    if out.suffix == ".jsonl":
        return out, out.with_name(f"{out.stem}-holdout.jsonl")
    return out / "topics-train.jsonl", out / "topics-holdout.jsonl"


def write_jsonl(path: Path, records: list[Record]) -> None:
    """One JSON object per line, UTF-8 (Arabic unescaped); the parent folder is created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class SilverConfig:
    """Selection settings of :func:`build_silver` (the defaults are the command line's)."""

    labels: tuple[str, ...] = DEFAULT_LABELS
    cap: int = 1500  # max rule positives per label
    neg_ratio: float = 2.5  # negatives per positive document
    hard_share: float = 0.4  # share of the negatives that are hard negatives
    holdout: float = 0.1  # share of the selected rule silver kept as the silver holdout
    seed: int = 13


@dataclass
class SilverSet:
    """What :func:`build_silver` made: the records to write, and the pool for reports and self-training."""

    train: list[Record]  # rule silver (after the holdout), then the seeds, then the hand-annotated documents
    holdout: list[Record]
    picked: list[tuple[RawDoc, tuple[str, ...], str]]  # the rule selection: (doc, labels, kind)
    seeds: list[Record]
    hand: list[Record]
    pool: list[RawDoc]  # the read, deduplicated pool without the hand-annotated documents
    weak: list[WeakLabel]  # the rules' output for each document of ``pool``
    labeler: WeakLabeler


def build_silver(
    shared: Path, seeds: Path, annotations: Path | None, cfg: SilverConfig | None = None,
    dump: Path | None = None, log: Callable[[str], None] = lambda _: None,
) -> SilverSet:
    """Read, label and select the silver set (see the module docstring); nothing is written but ``dump``.

    ``annotations`` is the hand-label file (None: none; a path that is not a file is an :class:`AnnotationError`);
    ``seeds`` the seed corpus (skipped when absent); ``dump`` also writes every document with some rule
    output, for review. Progress lines go to ``log``.
    """
    t0 = time.perf_counter()
    cfg = cfg or SilverConfig()
    labels = tuple(cfg.labels)
    raw = read_corpora(shared)
    drop_ids, drop_keys = dev_exclusions(shared)
    docs, dropped = dedupe(raw, drop_ids, drop_keys)
    labeler = WeakLabeler(labels)
    weak = labeler.label_many(d.text for d in docs)
    log(f"read {len(raw)} documents, kept {len(docs)} (dropped: {dict(dropped)}) in {time.perf_counter() - t0:.1f}s")
    if dump is not None:
        write_jsonl(dump, [
            {"id": d.id, "source": d.source, "topics": list(w.labels), "abstain": w.abstain,
             "evidence": w.evidence, "negatives": w.negatives, "text": d.text}
            for d, w in zip(docs, weak) if w.labels or w.abstain or w.evidence or w.negatives
        ])
    hand: list[Record] = []
    if annotations is not None:
        if not annotations.is_file():
            raise AnnotationError(f"--annotations {annotations}: file not found")
        hand, hand_ids = annotated_records(docs, read_annotations(annotations), annotations, labels, labeler)
        keep = [i for i, d in enumerate(docs) if d.id not in hand_ids]
        docs, weak = [docs[i] for i in keep], [weak[i] for i in keep]
        log(f"hand-annotated pool documents: {len(hand)} from {annotations}, per label "
            f"{dict(sorted(Counter(t for r in hand for t in r['topics']).items()))}")
    rng = random.Random(cfg.seed)
    picked = select(docs, weak, labels, cfg.cap, cfg.neg_ratio, cfg.hard_share, rng)
    records = [{"id": d.id, "text": d.text, "topics": list(lab), "source": d.source} for d, lab, _ in picked]
    n_hold = int(len(records) * cfg.holdout)
    holdout, train = records[:n_hold], records[n_hold:]
    seed_records = read_seeds(seeds, labels, labeler)
    train += seed_records + hand
    return SilverSet(train, holdout, picked, seed_records, hand, docs, weak, labeler)


def summary_lines(silver: SilverSet) -> list[str]:
    """The report of a built set: candidates per label, the selection, and the train set per source."""
    labels, weak, train = silver.labeler.labels, silver.weak, silver.train
    kinds = Counter(kind for _, _, kind in silver.picked)
    candidates = {lab: sum(1 for w in weak if lab in w.labels) for lab in labels}
    lines = [
        f"candidates: positive for a label {sum(1 for w in weak if w.labels)}, abstained "
        f"{sum(1 for w in weak if w.abstain)}",
        f"all candidates per label: {candidates}",
        f"selected {len(silver.picked)}: {dict(kinds)}; seeds appended: {len(silver.seeds)}; hand-annotated "
        f"appended: {len(silver.hand)}",
    ]
    for name, recs in (("train", train), ("holdout", silver.holdout)):
        per_label = Counter(t for r in recs for t in r["topics"])
        lines.append(f"{name}: {len(recs)} docs, no label {sum(1 for r in recs if not r['topics'])}, "
                     f"per label {dict(sorted(per_label.items()))}")
    per_source = Counter(r["source"] for r in train)
    pos_source = Counter(r["source"] for r in train if r["topics"])
    lines.append("train per source (all / positive / " + " / ".join(labels) + "):")
    for src, n in sorted(per_source.items(), key=lambda kv: -kv[1]):
        per = [sum(1 for r in train if r["source"] == src and lab in r["topics"]) for lab in labels]
        lines.append(f"  {src:28s} {n:6d} {pos_source[src]:6d}  " + " ".join(f"{c:5d}" for c in per))
    return lines
