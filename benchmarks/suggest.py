"""Which similarity finds more documents of a new label: ``tagger suggest --method char`` vs ``--method encoder``.

The set-up of the issue ("retraining on new labels as a real workflow"): a new label, ``space``, is described
by 5 documents that have it (drawn from seeds/train.jsonl) and/or 4 seed terms. Two pools:

* ``silver``: the topic silver set (data/silver/topics-train-st.jsonl) without the seed corpus' training
  documents (the examples come from there, and the quickstart models were trained on them), exact duplicates
  removed, deterministically subsampled to ``--pool-size``; truth = its silver ``space`` label. The silver labels
  come from keyword rules plus a TF-IDF self-training step, i.e. from the same lexical evidence the ``char``
  method sees: on this pool the char figures are flattered;
* ``gold``: the hand-labelled gold topic dev set (../shared/data/gold/topics-dev.jsonl, 510 documents, 43
  ``space``), labels independent of any rule: the fair comparison (N = 20, 40: there are only 43 positives).

Reported, each the mean [min-max] over ``--draws`` draws of the 5 examples:

* precision@N of the pure ranking (no random share, no de-duplication) for the query ``examples``, ``terms``
  and ``examples+terms``, for
  * ``char``: char n-gram TF-IDF (the IDF is fitted once per draw on the pool and all of that draw's queries;
    the library fits it on the pool and the one query: a handful of documents' difference),
  * ``encoder:<dir>``: the encoder method (tagger.suggest.similarity: mean-pooled, centred, terms as one text),
    by default with the topic model of the quickstart bundle (``runs/quickstart/topics`` or ``runs/qs/topics``;
    it was fine-tuned on the seed corpus WITH ``space``, so for it ``space`` is not really new: an optimistic
    figure); ``--encoder DIR`` (repeatable) replaces the list, e.g. with ``runs/quickstart/ner`` (fine-tuned,
    never saw a topic) and ``../shared/models/arabic-mini-bert`` (not fine-tuned);
* the command's defaults (``--random-share 0.2 --dedup 0.9``, examples+terms): precision of the whole list
  (random documents included) and, in brackets, of its ranked part;
* the random baseline: the pool's rate of ``space`` (the expected precision of a random sample) and the mean
  precision of ``--draws`` seeded random samples.

    OMP_NUM_THREADS=1 python benchmarks/suggest.py [--pool-size 1500] [--draws 5] [--encoder DIR ...] [--out F.json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import vstack

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._paths import ENCODER, SILVER  # noqa: E402
from benchmarks._paths import GOLD_DEV as GOLD  # noqa: E402
from benchmarks._paths import SEED_TRAIN as SEEDS  # noqa: E402
from tagger.suggest import choose  # noqa: E402
from tagger.suggest.similarity import (  # noqa: E402
    centred_cosine,
    centroid_cosine,
    char_vectors,
    encoder_queries,
    load_encoder,
    normalized,
)

LABEL = "space"
TERMS = ["فضاء", "قمر صناعي", "مركبة فضائية", "ناسا"]
QUERIES = ("examples", "terms", "examples+terms")
POOL_NS = {"silver": (60, 100), "gold": (20, 40)}
DEFAULT_SHARE, DEFAULT_DEDUP = 0.2, 0.9


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_pools(pool_size: int, seed: int) -> tuple[dict[str, list[dict]], list[str]]:
    """({pool name: records with "text" and "positive"}, the seed corpus' ``space`` texts)."""
    seeds = read_jsonl(SEEDS)
    skip = {r["id"] for r in seeds} | {" ".join(r["text"].split()) for r in seeds}
    pools: dict[str, list[dict]] = {}
    for name, path in (("silver", SILVER), ("gold", GOLD)):
        if not path.is_file():
            continue
        pool, seen = [], set()
        for r in read_jsonl(path):
            key = " ".join(r["text"].split())
            if r["id"] in skip or key in skip or key in seen or not key:
                continue
            seen.add(key)
            pool.append({"text": r["text"], "positive": LABEL in (r.get("topics") or [])})
        if name == "silver" and pool_size and pool_size < len(pool):
            pool = [pool[i] for i in sorted(random.Random(seed).sample(range(len(pool)), pool_size))]
        pools[name] = pool
    return pools, [r["text"] for r in seeds if LABEL in (r.get("topics") or [])]


def ranking(scores: np.ndarray) -> np.ndarray:
    """Positions by decreasing score, ties by pool order (as tagger.suggest ranks)."""
    return np.lexsort((np.arange(len(scores)), -np.asarray(scores, dtype=np.float64)))


def precision(order: np.ndarray | list[int], truth: np.ndarray, n: int) -> float:
    top = list(order)[:n]
    return float(truth[top].mean()) if top else 0.0


def summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(float(np.mean(values)), 3), "min": round(float(np.min(values)), 3),
            "max": round(float(np.max(values)), 3)}


def char_rows(pool_norm: list[str], draws: list[list[str]], norm) -> dict[str, list[np.ndarray]]:
    """Char-method scores per query kind and draw (one TF-IDF fit per draw)."""
    rows: dict[str, list[np.ndarray]] = {q: [] for q in QUERIES}
    n = len(pool_norm)
    for examples in draws:
        matrix = char_vectors(pool_norm, normalized([*examples, *TERMS], norm))
        ex, terms = matrix[n : n + len(examples)], matrix[n + len(examples):]
        for q, queries in (("examples", ex), ("terms", terms), ("examples+terms", vstack([ex, terms]))):
            rows[q].append(centroid_cosine(matrix[:n], queries))
    return rows


def encoder_rows(encoder, pool_texts: list[str], draws: list[list[str]]) -> dict[str, list[np.ndarray]]:
    pool_emb = encoder.embed(pool_texts)
    terms = encoder.embed(encoder_queries([], TERMS))
    rows: dict[str, list[np.ndarray]] = {q: [] for q in QUERIES}
    for examples in draws:
        ex = encoder.embed(examples)
        for q, queries in (("examples", ex), ("terms", terms), ("examples+terms", np.vstack([ex, terms]))):
            rows[q].append(centred_cosine(pool_emb, queries))
    return rows


def evaluate(rows: dict[str, list[np.ndarray]], truth: np.ndarray, ns: tuple[int, ...], dedup_vectors,
             seed: int) -> dict:
    out: dict = {q: {f"p@{n}": summary([precision(ranking(s), truth, n) for s in rows[q]]) for n in ns}
                 for q in QUERIES}
    mixed = {}
    for n in ns:
        whole, ranked = [], []
        for k, s in enumerate(rows["examples+terms"]):
            picked = choose([int(p) for p in ranking(s)], n=n, random_share=DEFAULT_SHARE, seed=seed + k,
                            vectors=dedup_vectors, dedup=DEFAULT_DEDUP)
            whole.append(float(truth[[p for p, _ in picked]].mean()))
            ranked.append(float(truth[[p for p, why in picked if why == "ranked"]].mean()))
        mixed[f"p@{n}"] = {"all": summary(whole), "ranked": summary(ranked)}
    out["defaults"] = mixed
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pool-size", type=int, default=1500, help="silver pool documents (0: all)")
    ap.add_argument("--draws", type=int, default=5, help="draws of the 5 examples (and of the random samples)")
    ap.add_argument("--examples", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encoder", action="append", default=None, metavar="DIR",
                    help="encoder method model(s) (default: the quickstart topic model); 'none' for char only")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    if not SILVER.is_file() and not GOLD.is_file():
        print(f"neither {SILVER} nor {GOLD} is there: build the silver set with "
              "`python training/build_topic_silver.py --self-train`", file=sys.stderr)
        return 2

    pools, positives = load_pools(args.pool_size, args.seed)
    draws = [random.Random(args.seed + k).sample(positives, args.examples) for k in range(args.draws)]
    if args.encoder is None:
        found = [d for d in (ROOT / "runs" / "quickstart" / "topics", ROOT / "runs" / "qs" / "topics")
                 if (d / "config.json").is_file()]
        encoders = found[:1] or [ENCODER]
    else:
        encoders = [Path(d) for d in args.encoder if d != "none"]
    from tagger.model import read_block
    from tagger.savedir import is_model_dir

    tuned = [d for d in encoders if is_model_dir(d)]
    norm = read_block(tuned[0]).norm if tuned else None  # a model's normalisation (else the default)

    results: dict = {"label": LABEL, "terms": TERMS, "examples": args.examples, "draws": args.draws, "pools": {}}
    for name, pool in pools.items():
        truth = np.array([r["positive"] for r in pool])
        texts = [r["text"] for r in pool]
        ns = POOL_NS[name]
        print(f"{name} pool: {len(pool)} documents, {int(truth.sum())} {LABEL} (rate {truth.mean():.3f})", flush=True)
        t0 = time.perf_counter()
        pool_norm = normalized(texts, norm)
        dedup_vectors = char_vectors(pool_norm)
        entry: dict = {"documents": len(pool), "positives": int(truth.sum()), "methods": {}}
        entry["methods"]["char"] = evaluate(char_rows(pool_norm, draws, norm), truth, ns, dedup_vectors, args.seed)
        entry["methods"]["char"]["seconds"] = round(time.perf_counter() - t0, 1)
        for path in encoders:
            t0 = time.perf_counter()
            rows = encoder_rows(load_encoder(path, device="cpu"), texts, draws)
            key = f"encoder:{path.relative_to(ROOT) if path.is_absolute() and path.is_relative_to(ROOT) else path}"
            entry["methods"][key] = evaluate(rows, truth, ns, dedup_vectors, args.seed)
            entry["methods"][key]["seconds"] = round(time.perf_counter() - t0, 1)
        entry["random"] = {"expected": round(float(truth.mean()), 3), **{
            f"p@{n}": summary([precision(np.random.default_rng(args.seed + k).permutation(len(pool)), truth, n)
                               for k in range(args.draws)]) for n in ns}}
        results["pools"][name] = entry
        report(name, entry, ns, args.draws)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def report(name: str, entry: dict, ns: tuple[int, ...], draws: int) -> None:
    print(f"\n{name} pool: precision@N for the new label {LABEL!r}, mean [min-max] over {draws} draws of the examples")
    print(f"{'method':34s} {'query':16s} " + " ".join(f"{'P@' + str(n):>17s}" for n in ns) + "   time")
    for method, res in entry["methods"].items():
        for q in QUERIES:
            cells = " ".join(f"{res[q][f'p@{n}']['mean']:.3f} [{res[q][f'p@{n}']['min']:.2f}-{res[q][f'p@{n}']['max']:.2f}]"
                             for n in ns)
            print(f"{method:34s} {q:16s} {cells}   {res['seconds']}s")
        cells = " ".join(f"{res['defaults'][f'p@{n}']['all']['mean']:.3f} ({res['defaults'][f'p@{n}']['ranked']['mean']:.3f})    "
                         for n in ns)
        print(f"{method:34s} {'defaults':16s} {cells}  (examples+terms, 20% random, dedup 0.9; ranked part)")
    rand = entry["random"]
    print(f"{'random':34s} {'-':16s} " + " ".join(f"{rand[f'p@{n}']['mean']:.3f}            " for n in ns)
          + f"  (expected {rand['expected']:.3f})")


if __name__ == "__main__":
    sys.exit(main())
