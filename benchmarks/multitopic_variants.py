"""Seeds-only topic models on multi-topic documents: plain scoring vs paragraph-lead views, one run per model.

For each model: thresholds tuned on ``seeds/dev.jsonl`` (what the quickstart does) with that scoring mode's
scores, then micro-F1 / precision / recall on the composed held-out set of :mod:`benchmarks.multitopic`, on
``seeds/test.jsonl`` and on the first ``--gold-dev`` gold dev documents, and the seed article's topics.

``views``: every paragraph (a line) is also scored in the lead position (that paragraph, then the others in
order), and the document's score is the max over its views: a news model attends to the lead, so a topic that
one later paragraph or sub-headline carries gets the lead's attention once. This is an experiment, not a library
feature (see training/README.md, "Second round").

    python benchmarks/multitopic_variants.py runs/qs/topics-mix runs/mt/para-7
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._paths import GOLD_DEV, HOLDOUT, SILVER  # noqa: E402
from benchmarks._paths import SEEDS_DIR as SEEDS  # noqa: E402
from benchmarks.multitopic import composed_sets, read_jsonl  # noqa: E402

LABELS = ("5G", "cybersecurity", "e-government", "space")


def gold(records: list[dict]) -> list[set[str]]:
    return [set(r.get("topics") or []) & set(LABELS) for r in records]


def view_scores(tagger, records: list[dict]) -> np.ndarray:
    texts, owner = [], []
    for i, rec in enumerate(records):
        paras = [p for p in re.split(r"\n+", rec["text"]) if p.strip()]
        texts.append(rec["text"])
        owner.append(i)
        for k in range(1, len(paras)):
            texts.append("\n\n".join([paras[k], *paras[:k], *paras[k + 1:]]))
            owner.append(i)
    out = np.zeros((len(records), len(LABELS)))
    for row, i in zip(tagger.topic_scores(texts), owner):
        out[i] = np.maximum(out[i], row)
    return out


def main(argv: list[str] | None = None) -> int:
    from tagger.decode import tune_thresholds
    from tagger.metrics import topic_metrics
    from tagger.predict import Tagger

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--gold-dev", type=int, default=200, help="how many gold dev documents (first N)")
    args = p.parse_args(argv)
    dev, test = read_jsonl(SEEDS / "dev.jsonl", "seeds"), read_jsonl(SEEDS / "test.jsonl", "seeds")
    gold_dev = read_jsonl(GOLD_DEV, "../shared")[: args.gold_dev]
    held = composed_sets(read_jsonl(SILVER, "build_topic_silver.py"), read_jsonl(HOLDOUT, "build_topic_silver.py"),
                         test, 200, 0)["heldout"]
    article = [{"text": (SEEDS / "seed_article.txt").read_text(encoding="utf-8"), "topics": list(LABELS)}]
    for run in args.models:
        tagger = Tagger.from_pretrained(run)
        for mode in ("plain", "views"):
            def score(recs, mode=mode, tagger=tagger):
                return tagger.topic_scores([r["text"] for r in recs]) if mode == "plain" else view_scores(tagger, recs)
            thr = tune_thresholds(gold(dev), score(dev), LABELS)
            cells = []
            for name, recs in (("composed held-out", held), ("seeds test", test), ("gold dev", gold_dev)):
                m = topic_metrics(gold(recs), score(recs), LABELS, thr)
                cells.append(f"{name} {m['micro_f1']:.3f}/P{m['micro_precision']:.2f}/R{m['micro_recall']:.2f}")
            a = score(article)[0]
            found = [lab for j, lab in enumerate(LABELS) if a[j] >= thr[lab]]
            print(f"{run} {mode}: " + "; ".join(cells) + f"; seed article {len(found)}/4 {found} "
                  f"scores {np.round(a, 2).tolist()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
