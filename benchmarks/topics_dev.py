"""Topic classification on the gold dev set (../shared/data/gold/topics-dev.jsonl): rules, TF-IDF+LR, our model.

Rows printed (micro-F1, macro-F1, per-label F1, sklearn metrics):

* ``rules``            the weak rules of :mod:`tagger.data.weak` applied directly (no training);
* ``tfidf@0.5``        TF-IDF char n-grams + LR trained on the SILVER train set, thresholds 0.5;
* ``tfidf@dev-tuned``  the same scores with per-label thresholds tuned ON DEV (optimistic: tuned on the data
                       it is scored on);
* ``tfidf-on-dev@cv``   the peer of the developers' guide: the same TF-IDF + LR trained on the gold DEV documents
                       themselves (thresholds 0.5), scored out-of-fold by K-fold cross-validation (``--folds``,
                       averaged over ``--cv-repeats`` fold assignments). Its folds share the dev outlets, so it is
                       optimistic next to a test set from other outlets;
* ``model``            a model dir trained by ``tagger train`` (``--model DIR [DIR ...]``, e.g. one per seed),
                       with its saved thresholds, and ``model@dev-tuned`` with thresholds re-tuned on dev
                       (optimistic as above), and ``model@0.5`` with every threshold at 0.5 (calibration);
* ``...@dev-crossfit`` TF-IDF and each model with thresholds tuned by K-fold cross-fitting on dev: every
                       document is scored with thresholds tuned on the other folds, so no document is
                       thresholded with its own label (averaged over ``--repeats`` fold assignments). The
                       honest estimate of what tuned thresholds give on new documents (the model's
                       checkpoint was still selected on dev).
* ``model+lexW``       with ``--blend W``: each model's scores blended as ``lexical_blend: W`` blends them
                       (:mod:`tagger.lexical`: ``(1 - W) * model + W * TF-IDF+LR``), the lexical model fitted on
                       ``--silver`` (pass the set the models were trained on) and attached to the loaded model, so
                       the scores come from the library's own inference path (W = 0: the head alone). The
                       checkpoint was selected on the head's own dev scores, as a run with ``lexical_blend`` does.

The dev set is never used for training. Build the silver set first: ``python training/build_topic_silver.py``.
Usage: ``python benchmarks/topics_dev.py [--silver data/silver/topics-train.jsonl] [--model runs/topics ...]``
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
from tagger.data.weak import DEFAULT_LABELS  # noqa: E402

DEFAULT_DEV = ROOT.parent / "shared" / "data" / "gold" / "topics-dev.jsonl"
DEFAULT_SILVER = ROOT / "data" / "silver" / "topics-train.jsonl"


class BenchmarkDataError(FileNotFoundError):
    """A data file the benchmark needs is missing."""


def read_jsonl(path: Path, what: str, hint: str) -> list[dict]:
    if not path.is_file():
        raise BenchmarkDataError(f"{what} not found at {path}: {hint}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tune(gold: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per-label F1-maximising thresholds: the library's own tuning (``tagger.decode.tune_thresholds``), the one
    ``tagger train`` applies to the model; a label without positives keeps 0.5."""
    from tagger.decode import tune_thresholds

    names = [str(j) for j in range(scores.shape[1])]
    found = tune_thresholds([{str(j) for j in np.flatnonzero(g)} for g in gold], scores, names)
    return np.array([found[n] for n in names])


def crossfit(gold: np.ndarray, scores: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Predictions where each document's thresholds were tuned on the other ``folds - 1`` folds only."""
    if folds < 2 or folds > len(gold):
        raise ValueError(f"folds must be in [2, {len(gold)}], got {folds}")
    order = np.random.default_rng(seed).permutation(len(gold))
    pred = np.zeros_like(gold, dtype=bool)
    for part in np.array_split(order, folds):
        rest = np.setdiff1d(order, part)
        pred[part] = scores[part] >= tune(gold[rest], scores[rest])
    return pred


def dev_cv_scores(texts: Sequence[str], topics: Sequence[Sequence[str]], labels: Sequence[str], folds: int = 5,
                  seed: int = 0) -> np.ndarray:
    """Out-of-fold TF-IDF scores: each document scored by a model trained on the other folds of the same set."""
    from sklearn.model_selection import KFold

    scores = np.zeros((len(texts), len(labels)))
    for train_idx, test_idx in KFold(folds, shuffle=True, random_state=seed).split(texts):
        model = TfidfTopicBaseline().fit([texts[i] for i in train_idx], [topics[i] for i in train_idx], labels)
        scores[test_idx] = model.scores([texts[i] for i in test_idx])
    return scores


def row(name: str, gold: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> dict:
    from sklearn.metrics import f1_score

    per = f1_score(gold, pred, average=None, zero_division=0)
    return {
        "name": name,
        "micro_f1": float(f1_score(gold, pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(gold, pred, average="macro", zero_division=0)),
        **{lab: float(per[j]) for j, lab in enumerate(labels)},
    }


def mean_row(name: str, found: list[dict], labels: Sequence[str], show_sd: bool = True) -> dict:
    keys = ["micro_f1", "macro_f1", *labels]
    sd = float(np.std([r["micro_f1"] for r in found]))
    return {"name": f"{name} (micro sd {sd:.3f})" if show_sd else name,
            **{k: float(np.mean([r[k] for r in found])) for k in keys}, "std_micro_f1": sd}


def crossfit_row(name: str, gold: np.ndarray, scores: np.ndarray, labels: Sequence[str], folds: int, repeats: int) -> dict:
    """Cross-fitted metrics averaged over ``repeats`` random fold assignments (one assignment swings ~±0.01)."""
    found = [row(name, gold, crossfit(gold, scores, folds, seed), labels) for seed in range(repeats)]
    return mean_row(name, found, labels, show_sd=False)


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
    p.add_argument("--model", type=Path, nargs="+", default=None,
                   help="topic model dir(s) saved by tagger train (several: e.g. one per seed; a mean row is added)")
    p.add_argument("--folds", type=int, default=5, help="folds for the cross-fitted threshold rows")
    p.add_argument("--repeats", type=int, default=10, help="random fold assignments averaged in those rows")
    p.add_argument("--cv-repeats", type=int, default=3, help="fold assignments averaged in the tfidf-on-dev@cv row")
    p.add_argument("--labels", nargs="+", default=list(DEFAULT_LABELS))
    p.add_argument("--blend", type=float, nargs="*", default=[],
                   help="lexical_blend weights to add to each --model (a TF-IDF+LR fitted on --silver)")
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
    rows.append(crossfit_row("tfidf@dev-crossfit", gold, scores, labels, args.folds, args.repeats))
    print("tfidf dev-tuned thresholds: " + ", ".join(f"{lab} {t:.3f}" for lab, t in zip(labels, thr)))
    t0 = time.perf_counter()
    found = [row("tfidf-on-dev@cv", gold, dev_cv_scores(texts, [r["topics"] for r in dev], labels, args.folds, seed) >= 0.5,
                 labels) for seed in range(args.cv_repeats)]
    rows.append(mean_row("tfidf-on-dev@cv", found, labels, show_sd=False))
    print(f"tfidf-on-dev@cv: {args.folds}-fold x {args.cv_repeats} in {time.perf_counter() - t0:.1f}s")

    if args.model is None:
        print("model: skipped (pass --model DIR, a topic model trained by tagger train)")
    else:
        from tagger.lexical import LexicalTopicModel
        from tagger.predict import Tagger

        lexical: dict[tuple[str, ...], LexicalTopicModel] = {}  # by the head's label order
        runs: dict[str, list[dict]] = {"model": [], "model@0.5": [], "model@dev-tuned": [], "model@dev-crossfit": []}
        for w in args.blend:
            runs.update({f"model+lex{w:g}@{kind}": [] for kind in ("0.5", "dev-tuned", "dev-crossfit")})
        for path in args.model:
            tagger = Tagger.from_pretrained(str(path))
            order = [list(tagger.topic_labels).index(lab) for lab in labels]
            mscores = np.asarray(tagger.topic_scores(texts))[:, order]
            saved = np.array([tagger.thresholds.get(lab, 0.5) for lab in labels])
            tag = "" if len(args.model) == 1 else f" [{path.name}]"
            runs["model"].append(row("model" + tag, gold, mscores >= saved, labels))
            runs["model@0.5"].append(row("model@0.5" + tag, gold, mscores >= 0.5, labels))
            runs["model@dev-tuned"].append(row("model@dev-tuned" + tag, gold, mscores >= tune(gold, mscores), labels))
            runs["model@dev-crossfit"].append(
                crossfit_row("model@dev-crossfit" + tag, gold, mscores, labels, args.folds, args.repeats))
            for w in args.blend:
                assert tagger.topics is not None
                key = tuple(tagger.topic_labels)
                if key not in lexical:
                    lexical[key] = LexicalTopicModel.fit([r["text"] for r in silver], [r["topics"] for r in silver], key)
                tagger.topics.lexical = lexical[key]
                tagger.topics.block.lexical_blend = w
                bscores = np.asarray(tagger.topic_scores(texts))[:, order]
                name = f"model+lex{w:g}"
                runs[f"{name}@0.5"].append(row(f"{name}@0.5" + tag, gold, bscores >= 0.5, labels))
                runs[f"{name}@dev-tuned"].append(row(f"{name}@dev-tuned" + tag, gold, bscores >= tune(gold, bscores), labels))
                runs[f"{name}@dev-crossfit"].append(
                    crossfit_row(f"{name}@dev-crossfit" + tag, gold, bscores, labels, args.folds, args.repeats))
        for kind, found in runs.items():
            rows.extend(found)
            if len(found) > 1:
                rows.append(mean_row(f"{kind} mean of {len(found)}", found, labels))

    print_table(rows, labels)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
