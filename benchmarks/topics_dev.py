"""Topic classification on the gold dev set (../shared/data/gold/topics-dev.jsonl): rules, TF-IDF+LR, our model.

Rows printed (micro-F1, macro-F1, per-label F1, sklearn metrics):

* ``rules``            the weak rules of :mod:`tagger.weak` applied directly (no training);
* ``tfidf@0.5``        TF-IDF char n-grams + LR trained on the SILVER train set, thresholds 0.5;
* ``tfidf@dev-tuned``  the same scores with per-label thresholds tuned ON DEV (optimistic: tuned on the data
                       it is scored on);
* ``model``            a model dir trained by ``tagger train`` (``--model DIR``), with its saved thresholds, and
                       ``model@dev-tuned`` with thresholds re-tuned on dev (optimistic as above).

The dev set is never used for training. Build the silver set first: ``python training/build_topic_silver.py``.
Usage: ``python benchmarks/topics_dev.py [--silver data/silver/topics-train.jsonl] [--model runs/topics]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tagger.baselines import RuleTopicBaseline, TfidfTopicBaseline  # noqa: E402
from tagger.weak import DEFAULT_LABELS  # noqa: E402

DEFAULT_DEV = ROOT.parent / "shared" / "data" / "gold" / "topics-dev.jsonl"
DEFAULT_SILVER = ROOT / "data" / "silver" / "topics-train.jsonl"


class BenchmarkDataError(FileNotFoundError):
    """A data file the benchmark needs is missing."""


def read_jsonl(path: Path, what: str, hint: str) -> list[dict]:
    if not path.is_file():
        raise BenchmarkDataError(f"{what} not found at {path}: {hint}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tune(gold: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per-label threshold maximising F1 (midpoint between neighbouring scores)."""
    from sklearn.metrics import f1_score

    out = np.full(scores.shape[1], 0.5)
    for j in range(scores.shape[1]):
        cands = np.unique(scores[:, j])
        mids = np.concatenate([(cands[:-1] + cands[1:]) / 2, [0.5]])
        f1s = [f1_score(gold[:, j], scores[:, j] >= t, zero_division=0) for t in mids]
        out[j] = mids[int(np.argmax(f1s))]
    return out


def row(name: str, gold: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> dict:
    from sklearn.metrics import f1_score

    per = f1_score(gold, pred, average=None, zero_division=0)
    return {
        "name": name,
        "micro_f1": float(f1_score(gold, pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(gold, pred, average="macro", zero_division=0)),
        **{lab: float(per[j]) for j, lab in enumerate(labels)},
    }


def print_table(rows: list[dict], labels: Sequence[str]) -> None:
    head = ["system", "micro-F1", "macro-F1", *labels]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["name"], f"{r['micro_f1']:.3f}", f"{r['macro_f1']:.3f}", *(f"{r[lab]:.3f}" for lab in labels)]
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    p.add_argument("--silver", type=Path, default=DEFAULT_SILVER)
    p.add_argument("--model", type=Path, default=None, help="a topic model dir saved by tagger train")
    p.add_argument("--labels", nargs="+", default=list(DEFAULT_LABELS))
    p.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = p.parse_args(argv)
    labels = tuple(args.labels)

    dev = read_jsonl(args.dev, "gold dev set", "it lives in ../shared/data/gold; pass --dev PATH")
    texts = [r["text"] for r in dev]
    gold = np.array([[lab in r["topics"] for lab in labels] for r in dev], dtype=int)
    print(f"dev: {len(dev)} docs, positives per label " + ", ".join(f"{lab} {int(gold[:, j].sum())}"
                                                                   for j, lab in enumerate(labels)))
    rows = []
    t0 = time.perf_counter()
    rules = RuleTopicBaseline(labels).scores(texts)
    rows.append(row("rules", gold, rules >= 0.5, labels))
    print(f"rules: {time.perf_counter() - t0:.1f}s")

    silver = read_jsonl(args.silver, "silver train set", "run python training/build_topic_silver.py first")
    t0 = time.perf_counter()
    tfidf = TfidfTopicBaseline().fit([r["text"] for r in silver], [r["topics"] for r in silver], labels)
    scores = tfidf.scores(texts)
    print(f"tfidf: trained on {len(silver)} silver docs in {time.perf_counter() - t0:.1f}s")
    rows.append(row("tfidf@0.5", gold, scores >= 0.5, labels))
    thr = tune(gold, scores)
    rows.append(row("tfidf@dev-tuned", gold, scores >= thr, labels))
    print("tfidf dev-tuned thresholds: " + ", ".join(f"{lab} {t:.3f}" for lab, t in zip(labels, thr)))

    if args.model is None:
        print("model: skipped (pass --model DIR, a topic model trained by tagger train)")
    else:
        from tagger.predict import Tagger

        tagger = Tagger.from_pretrained(str(args.model))
        order = [list(tagger.topic_labels).index(lab) for lab in labels]
        mscores = np.asarray(tagger.topic_scores(texts))[:, order]
        saved = np.array([tagger.thresholds.get(lab, 0.5) for lab in labels])
        rows.append(row("model", gold, mscores >= saved, labels))
        rows.append(row("model@dev-tuned", gold, mscores >= tune(gold, mscores), labels))

    print_table(rows, labels)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
