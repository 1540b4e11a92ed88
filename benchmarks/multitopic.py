"""Multi-topic documents: do models keep a topic that only one paragraph carries? One run, ours next to TF-IDF.

Composed test sets (:mod:`tagger.data.multitopic`: real single-topic texts joined into documents on 2-4 topics, each
text used once, gold = the union of the parts' topics):

* ``heldout``  parts never trained on by the topic recipe nor the quickstart model: the silver holdout of
               ``build_topic_silver.py`` (pool documents, rule labels) and ``seeds/test.jsonl`` (the project's
               own corpus, hand labels);
* ``pool``     parts from the hand-labelled pool documents (``training/annotations``, real labels). These are
               in the topic recipe's training set, so for ``topics-mini`` this row measures dilution (is a
               known paragraph still found inside a longer document?), not generalisation; for the
               quickstart model (trained on seeds only) it is held out.

Also scored: the single-topic gold dev set (precision must not drop) and the seed article (gold: all four).

Scoring modes of our model: ``whole`` windows only (``passage_length 0``), and ``passages-P``: passages of P
sub-tokens pooled with the windows by max (the ``passage_length`` setting). Thresholds: the model's saved ones for
its own mode; for another mode they are re-tuned on gold dev with that mode's scores, which is what training
with that setting does. The peer is TF-IDF char n-grams + LR trained on the same silver set, thresholds tuned on
gold dev the same way.

Variants of the seeds-only model (paragraph parts, passages, paragraph-lead views): ``benchmarks/multitopic_variants.py``.

Usage: ``python benchmarks/multitopic.py --model runs/topics-mini [--passages 0 64 128] [--json OUT]``
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

from benchmarks._paths import GOLD_DEV as DEFAULT_DEV  # noqa: E402
from benchmarks._paths import HOLDOUT as DEFAULT_HOLDOUT  # noqa: E402
from benchmarks._paths import SEEDS_DIR as SEEDS  # noqa: E402
from benchmarks._paths import SILVER as DEFAULT_SILVER  # noqa: E402
from tagger.data.multitopic import compose_documents, single_topic_paragraphs  # noqa: E402
from tagger.data.weak import DEFAULT_LABELS  # noqa: E402


def read_jsonl(path: Path, hint: str) -> list[dict]:
    if not path.is_file():
        raise SystemExit(f"multitopic: {path} not found: {hint}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def composed_sets(silver: list[dict], holdout: list[dict], seeds_test: list[dict], n: int, seed: int) -> dict[str, list[dict]]:
    held_topics, held_fill = single_topic_paragraphs(holdout, "silver-holdout")
    seed_topics, seed_fill = single_topic_paragraphs(seeds_test, "seeds/test")
    for t, ps in seed_topics.items():
        held_topics.setdefault(t, []).extend(ps)
    hand = [r for r in silver if str(r.get("source", "")).startswith("hand:")]
    pool_topics, pool_fill = single_topic_paragraphs(hand, "hand-labelled pool")
    return {
        "heldout": compose_documents(held_topics, held_fill + seed_fill, n=n, seed=seed),
        "pool": compose_documents(pool_topics, pool_fill, n=n, seed=seed),
    }


def gold_sets(records: list[dict], labels: tuple[str, ...]) -> list[set[str]]:
    return [set(r.get("topics") or []) & set(labels) for r in records]


def metrics(gold: list[set[str]], scores: np.ndarray, labels: tuple[str, ...], thresholds: dict[str, float]) -> dict:
    """The library's topic scorer (:func:`tagger.metrics.topic_metrics`), reduced to the columns printed here."""
    from tagger.metrics import topic_metrics

    m = topic_metrics(gold, scores, labels, thresholds)
    return {"micro_f1": m["micro_f1"], "precision": m["micro_precision"], "recall": m["micro_recall"],
            **{f"recall_{lab}": m["per_label"][lab]["recall"] for lab in labels}}


def score_all(score_fn, sets: dict[str, list[dict]], dev: list[dict], article: str) -> dict[str, np.ndarray]:
    """``score_fn(texts) -> [n, labels]`` on gold dev, every composed set and the seed article (once each)."""
    out = {"gold-dev": score_fn([r["text"] for r in dev]), "seed_article": score_fn([article])}
    out.update({name: score_fn([d["text"] for d in docs]) for name, docs in sets.items()})
    return out


def evaluate(name: str, scores: dict[str, np.ndarray], thresholds, sets: dict[str, list[dict]], dev: list[dict],
             labels: tuple[str, ...]) -> dict:
    """One row; ``thresholds`` a label -> threshold mapping, or None = tuned on gold dev (the library's tuning)."""
    from tagger.decode import tune_thresholds

    dev_gold = gold_sets(dev, labels)
    thr = tune_thresholds(dev_gold, scores["gold-dev"], labels) if thresholds is None else thresholds
    out: dict = {"name": name, "thresholds": dict(thr)}
    out["gold-dev"] = metrics(dev_gold, scores["gold-dev"], labels, thr)
    for set_name, docs in sets.items():
        out[set_name] = metrics(gold_sets(docs, labels), scores[set_name], labels, thr)
    art = scores["seed_article"][0]
    out["seed_article"] = [lab for j, lab in enumerate(labels) if art[j] >= thr[lab]]
    out["seed_article_scores"] = dict(zip(labels, map(float, art)))
    return out


def print_rows(rows: list[dict], sets: dict[str, list[dict]], labels: tuple[str, ...]) -> None:
    head = ["system", *(f"{s} F1 / P / R" for s in sets), "gold dev F1 / P", "seed article"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["name"]]
        cells += [f"{r[s]['micro_f1']:.3f} / {r[s]['precision']:.3f} / {r[s]['recall']:.3f}" for s in sets]
        cells.append(f"{r['gold-dev']['micro_f1']:.3f} / {r['gold-dev']['precision']:.3f}")
        cells.append(f"{len(r['seed_article'])}/4 " + ",".join(r["seed_article"]))
        print("| " + " | ".join(cells) + " |")
    print("\nrecall per label on the composed sets:")
    for r in rows:
        print(f"  {r['name']:34s} " + "  ".join(
            f"{s}: " + " ".join(f"{lab} {r[s]['recall_' + lab]:.2f}" for lab in labels) for s in sets))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, nargs="*", default=[], help="topic model dir(s) or bundles")
    p.add_argument("--passages", type=int, nargs="+", default=[0, 64, 128], help="passage lengths (0 = whole windows)")
    p.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    p.add_argument("--silver", type=Path, default=DEFAULT_SILVER)
    p.add_argument("--holdout", type=Path, default=DEFAULT_HOLDOUT)
    p.add_argument("--n", type=int, default=200, help="composed documents per set (at most)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--write-sets", type=Path, default=None, help="write the composed sets as JSONL into this folder")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    labels = tuple(DEFAULT_LABELS)
    hint = "run python training/build_topic_silver.py --self-train first"
    silver = read_jsonl(args.silver, hint)
    sets = composed_sets(silver, read_jsonl(args.holdout, hint), read_jsonl(SEEDS / "test.jsonl", "seeds/"), args.n, args.seed)
    dev = read_jsonl(args.dev, "the gold dev set lives in ../shared/data/gold; pass --dev")
    article = (SEEDS / "seed_article.txt").read_text(encoding="utf-8")
    for name, docs in sets.items():
        per = {lab: sum(lab in d["topics"] for d in docs) for lab in labels}
        print(f"composed set {name}: {len(docs)} documents, topics per document "
              f"{np.mean([len(d['topics']) for d in docs]):.2f}, per label {per}")
        if args.write_sets:
            args.write_sets.mkdir(parents=True, exist_ok=True)
            with (args.write_sets / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)

    rows = []
    t0 = time.perf_counter()
    from tagger.baselines import TfidfTopicBaseline

    tfidf = TfidfTopicBaseline().fit([r["text"] for r in silver], [r["topics"] for r in silver], labels)
    rows.append(evaluate("tfidf+LR (same silver), dev-tuned", score_all(tfidf.scores, sets, dev, article), None, sets,
                         dev, labels))
    print(f"tfidf: {time.perf_counter() - t0:.1f}s")

    from tagger.predict import Tagger

    for path in args.model:
        tagger = Tagger.from_pretrained(str(path))
        block = tagger.topics.block
        own = block.passage_length
        order = [tagger.topic_labels.index(lab) for lab in labels]
        saved = {lab: tagger.thresholds.get(lab, 0.5) for lab in labels}
        for plen in args.passages:
            block.passage_length = plen
            t0 = time.perf_counter()
            mode = "whole" if plen == 0 else f"passages-{plen}"
            def score(texts: list[str], tagger=tagger, order=order) -> np.ndarray:
                return tagger.topic_scores(texts)[:, order]

            scores = score_all(score, sets, dev, article)
            if plen == own:
                rows.append(evaluate(f"{path.name} {mode} (saved thr)", scores, saved, sets, dev, labels))
            rows.append(evaluate(f"{path.name} {mode} (dev-tuned)", scores, None, sets, dev, labels))
            print(f"{path.name} {mode}: {time.perf_counter() - t0:.1f}s")
        block.passage_length = own
    print_rows(rows, sets, labels)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
