"""``lexical_blend`` on trained topic models: the head alone vs the head blended with a TF-IDF char n-gram + LR
model fitted on the model's own training file (:mod:`tagger.lexical`), on every set this project measures topics on.

For each ``--model`` (e.g. one per seed of a recipe) and each weight ``--blend W`` (0 = the head alone):

* the lexical model is fitted on ``--train`` (the file the models were trained on) and attached to the loaded
  model, so scores come from the library's own inference path (``Tagger.topic_scores``);
* thresholds are re-tuned on ``--dev`` (the dev file the recipe tunes on) with the library's tuning, exactly what
  ``tagger train`` does at the end of a run with ``lexical_blend: W``. W = 0 keeps the model's saved thresholds.
  Only the checkpoint differs from a real blended run: it was selected on the head's own dev scores;
* rows: ``--test`` (micro-F1 at those thresholds), composed multi-topic held-out documents
  (``benchmarks/multitopic.py``'s ``heldout`` set: silver holdout + seeds test paragraphs, 2-4 topics each), gold dev
  from other outlets (at those thresholds, and with thresholds cross-fitted on gold dev itself: 5 folds x
  ``--repeats``), and the seed article (topics found, of its 4).

With ``--subheading-words 0 15`` each blend is measured without and with the sub-heading rule (``subheading_words``).

Usage (the quickstart recipe, three seeds):
``python benchmarks/lexical_blend.py --model runs/qs/s42 runs/qs/s7 runs/qs/s13 --blend 0 0.3 0.5 --json OUT``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._paths import GOLD_DEV, HOLDOUT, SEEDS_DIR, SILVER  # noqa: E402
from benchmarks.multitopic import composed_sets, read_jsonl  # noqa: E402
from benchmarks.topics_dev import crossfit_row  # noqa: E402


def micro_f1(gold: list[set[str]], scores: np.ndarray, labels: tuple[str, ...], thr: dict[str, float]) -> float:
    from tagger.metrics import topic_metrics

    return float(topic_metrics(gold, scores, labels, thr)["micro_f1"])


def crossfit_f1(gold: list[set[str]], scores: np.ndarray, labels: tuple[str, ...], repeats: int) -> float:
    """Micro-F1 with each document thresholded by values tuned on the other 4 of 5 folds (mean of ``repeats``):
    ``topics_dev.py``'s cross-fitted row."""
    y = np.array([[lab in g for lab in labels] for g in gold], dtype=int)
    return float(crossfit_row("crossfit", y, scores, labels, 5, repeats)["micro_f1"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, nargs="+", required=True, help="topic model dirs (e.g. one per seed)")
    p.add_argument("--blend", type=float, nargs="+", default=[0.0, 0.5], help="lexical weights (0: the head alone)")
    p.add_argument("--train", type=Path, default=SEEDS_DIR / "train.jsonl", help="the models' training file")
    p.add_argument("--dev", type=Path, default=SEEDS_DIR / "dev.jsonl", help="the dev file thresholds are tuned on")
    p.add_argument("--test", type=Path, default=SEEDS_DIR / "test.jsonl")
    p.add_argument("--gold-dev", type=Path, default=GOLD_DEV)
    p.add_argument("--subheading-words", type=int, nargs="+", default=[0],
                   help="sub-heading rule(s) to measure with each blend > 0 (subheading_words; 0: off)")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--paragraph-words", type=int, default=None,
                   help="the lexical model's paragraph pooling (lines of at least N words; 0: whole texts only)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

    from tagger import Tagger
    from tagger.decode import tune_thresholds
    from tagger.lexical import LexicalTopicModel

    hint = "run python training/build_topic_silver.py --self-train first"
    train, dev, test = (read_jsonl(f, "pass the models' files") for f in (args.train, args.dev, args.test))
    gold_dev = read_jsonl(args.gold_dev, "the gold dev set lives in ../shared/data/gold")
    heldout = composed_sets(read_jsonl(SILVER, hint), read_jsonl(HOLDOUT, hint), read_jsonl(SEEDS_DIR / "test.jsonl", ""),
                            200, 0)["heldout"]
    article = (SEEDS_DIR / "seed_article.txt").read_text(encoding="utf-8")
    sets = {"dev": dev, "test": test, "composed": heldout, "gold_dev": gold_dev}
    rows = []
    lexical: dict[tuple[str, ...], LexicalTopicModel] = {}
    for path in args.model:
        tagger = Tagger.from_pretrained(path)
        assert tagger.topics is not None
        labels = tuple(tagger.topic_labels)
        if labels not in lexical:
            t0 = time.perf_counter()
            lexical[labels] = LexicalTopicModel.fit([r["text"] for r in train], [r.get("topics") or [] for r in train], labels)
            print(f"lexical model fitted on {len(train)} documents of {args.train} in {time.perf_counter() - t0:.1f}s")
            if args.paragraph_words is not None:
                lexical[labels].paragraph_words = args.paragraph_words
        gold = {k: [set(r.get("topics") or []) & set(labels) for r in v] for k, v in sets.items()}
        for w, sub in [(b, s) for b in args.blend for s in (args.subheading_words if b else [0])]:
            tagger.topics.lexical = lexical[labels] if w else None
            tagger.topics.block.lexical_blend = w
            tagger.topics.block.subheading_words = sub
            scores = {k: tagger.topic_scores([r["text"] for r in v]) for k, v in sets.items()}
            thr = tune_thresholds(gold["dev"], scores["dev"], labels) if w else tagger.thresholds
            art = tagger.topic_scores([article])[0]
            r = {"model": str(path), "blend": w, "subheading_words": sub, "thresholds": thr,
                 "test": micro_f1(gold["test"], scores["test"], labels, thr),
                 "composed": micro_f1(gold["composed"], scores["composed"], labels, thr),
                 "gold_dev": micro_f1(gold["gold_dev"], scores["gold_dev"], labels, thr),
                 "gold_dev_crossfit": crossfit_f1(gold["gold_dev"], scores["gold_dev"], labels, args.repeats),
                 "article": [lab for j, lab in enumerate(labels) if art[j] >= thr[lab]],
                 "article_scores": dict(zip(labels, map(float, art)))}
            rows.append(r)
            print(f"{path} blend {w:g} subheading_words {sub}: test {r['test']:.3f}  composed {r['composed']:.3f}  "
                  f"gold dev {r['gold_dev']:.3f} "
                  f"(cross-fitted {r['gold_dev_crossfit']:.3f})  article {len(r['article'])}/4 {r['article']}", flush=True)
    print("\n| blend | subheading_words | models | test | composed held-out | gold dev | gold dev cross-fitted | seed article |")
    print("|---|---|---|---|---|---|---|---|")
    for w, sub in dict.fromkeys((r["blend"], r["subheading_words"]) for r in rows):
        mine = [r for r in rows if (r["blend"], r["subheading_words"]) == (w, sub)]

        def cell(key: str, mine: list[dict] = mine) -> str:
            vals = [r[key] for r in mine]
            return f"{np.mean(vals):.3f} ± {np.std(vals):.3f} ({' / '.join(f'{v:.3f}' for v in vals)})"

        arts = " / ".join(f"{len(r['article'])}/4" for r in mine)
        print(f"| {w:g} | {sub} | {len(mine)} | {cell('test')} | {cell('composed')} | {cell('gold_dev')} | "
              f"{cell('gold_dev_crossfit')} | {arts} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
