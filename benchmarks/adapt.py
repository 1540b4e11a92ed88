"""`tagger adapt` (domain-adaptive MLM pre-training): its effect on both tasks, adapted vs not, same recipes.

Steps (each prints what it did; the fine-tuning runs are plain ``tagger train`` commands, so they can run side by
side on a small machine)::

    python benchmarks/adapt.py corpus                    # -> data/adapt/pool.jsonl (git-ignored)
    tagger adapt ../shared/models/arabic-mini-bert --corpus data/adapt/pool.jsonl --out runs/adapted-mini \\
        --max-steps 800 --threads 1
    tagger train CONFIG --set model=runs/adapted-mini --set seed=S --set output_dir=...   # and the same with
                                                                                         # the plain encoder
    python benchmarks/adapt.py compare --base RUN... --adapted RUN... [--json OUT]

The corpus is the pool the project may train on: ANT (Alarabia, France24, SkyNews, JawharaFM) and SaudiNewsNet
without the outlets reserved for held-out testing (ANT BBC/CNN; SaudiNewsNet aawsat/alriyadh/okaz/sabq), minus
the gold topic dev documents and the silver holdout (:mod:`tagger.data.silver`), so no test or dev text is seen
by the adapted encoder.

``compare`` scores every run with the same scorers: an NER model on ANERcorp test and AQMAR (strict IOB2
micro-F1, :mod:`benchmarks.ner_anercorp`), a topic model on gold dev (saved thresholds, and thresholds
cross-fitted on dev, :mod:`benchmarks.topics_dev`) and on the composed multi-topic held-out set
(:mod:`benchmarks.multitopic`, saved thresholds); it prints mean and spread per group.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._paths import ANER, GOLD_DEV, HOLDOUT, SEEDS_DIR, SHARED, SILVER  # noqa: E402

POOL = ROOT / "data" / "adapt" / "pool.jsonl"


def build_corpus(out: Path) -> None:
    from tagger.data.io import write_jsonl
    from tagger.data.silver import dedupe, dev_exclusions, read_corpora

    ids, keys = dev_exclusions(SHARED)
    if not HOLDOUT.is_file():
        raise SystemExit(f"{HOLDOUT} not found: build it first (python training/build_topic_silver.py --self-train), "
                         "so that its documents are kept out of the adaptation corpus")
    ids |= {json.loads(line)["id"] for line in HOLDOUT.read_text(encoding="utf-8").splitlines() if line.strip()}
    docs, dropped = dedupe(read_corpora(SHARED), ids, keys)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(out, [{"id": d.id, "text": d.text, "source": d.source} for d in docs])
    chars = sum(len(d.text) for d in docs)
    print(f"wrote {out}: {len(docs)} documents, {chars / 1e6:.1f}M characters; dropped {dict(dropped)}")


def _ner_scores(run: Path) -> dict[str, float]:
    from benchmarks.ner_anercorp import read_conll_sentences, score, tagger_word_tags

    files = {"anercorp": ANER / "test.conll",
             "aqmar": SHARED / "data" / "splits" / "aqmar" / "test.conll"}
    tests = {name: read_conll_sentences(path) for name, path in files.items()}
    preds = tagger_word_tags(run, tests, files)
    out: dict[str, float] = {}
    for name, sents in tests.items():
        s = score([tags for _, tags in sents], preds[name])
        if name == "anercorp":
            out["anercorp_strict_f1"] = s["strict"]["f1"]
            out.update({f"anercorp_{t}": v for t, v in s["strict_per_type_f1"].items() if v is not None})
        else:  # AQMAR's MISC is another concept: PER/ORG/LOC only
            out["aqmar_per_org_loc_f1"] = s["strict_f1_per_org_loc"]
            out.update({f"aqmar_{t}": s["strict_per_type_f1"][t] for t in ("PER", "ORG", "LOC")})
    return out


def _topic_scores(run: Path) -> dict[str, float]:
    from benchmarks.multitopic import composed_sets, gold_sets, metrics, read_jsonl
    from benchmarks.topics_dev import crossfit
    from tagger.predict import Tagger

    tagger = Tagger.from_pretrained(run)
    labels = tuple(tagger.topic_labels)
    dev = read_jsonl(GOLD_DEV, "gold dev")
    silver = read_jsonl(SILVER, "the silver set")
    sets = composed_sets(silver, read_jsonl(HOLDOUT, "the silver holdout"), read_jsonl(SEEDS_DIR / "test.jsonl", "seeds"),
                         200, 0)
    out = {}
    dev_scores = tagger.topic_scores([r["text"] for r in dev])
    gold = gold_sets(dev, labels)
    out["dev_micro_f1_saved"] = metrics(gold, dev_scores, labels, tagger.thresholds)["micro_f1"]
    y = np.array([[lab in g for lab in labels] for g in gold], dtype=bool)
    pred = crossfit(y, dev_scores)
    tp, fp, fn = (pred & y).sum(), (pred & ~y).sum(), (~pred & y).sum()
    out["dev_micro_f1_crossfit"] = float(2 * tp / max(1, 2 * tp + fp + fn))
    held = sets["heldout"]
    m = metrics(gold_sets(held, labels), tagger.topic_scores([r["text"] for r in held]), labels, tagger.thresholds)
    out["composed_micro_f1"], out["composed_recall"] = m["micro_f1"], m["recall"]
    return out


def compare(groups: dict[str, list[Path]]) -> dict:
    from tagger.predict import Tagger

    results: dict[str, dict] = {}
    for group, runs in groups.items():
        rows = []
        for run in runs:
            tagger = Tagger.from_pretrained(run)
            row = {"run": str(run)}
            if tagger.has_ner:
                row.update(_ner_scores(run))
            if tagger.has_topics:
                row.update(_topic_scores(run))
            rows.append(row)
            print(f"{group:8s} {run}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items() if k != "run"), flush=True)
        keys = [k for k in rows[0] if k != "run" and all(k in r for r in rows)]
        summary = {k: (statistics.mean(r[k] for r in rows), statistics.pstdev(r[k] for r in rows)) for k in keys}
        results[group] = {"runs": rows, "mean_sd": summary}
    keys = [k for k in next(iter(results.values()))["mean_sd"] if all(k in r["mean_sd"] for r in results.values())]
    print("\n| metric | " + " | ".join(f"{g} (n={len(groups[g])}) mean ± sd" for g in results) + " |")
    print("|---|" + "---|" * len(results))
    for k in keys:
        print(f"| {k} | " + " | ".join(f"{results[g]['mean_sd'][k][0]:.4f} ± {results[g]['mean_sd'][k][1]:.4f}"
                                       for g in results) + " |")
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus", help="write the adaptation corpus (allowed pool, no dev / holdout / reserved text)")
    c.add_argument("--out", default=str(POOL))
    m = sub.add_parser("compare", help="score fine-tuned runs from the plain and the adapted encoder")
    m.add_argument("--base", nargs="+", required=True, help="runs fine-tuned from the plain encoder")
    m.add_argument("--adapted", nargs="+", required=True, help="the same recipes from the adapted encoder")
    m.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if args.command == "corpus":
        build_corpus(Path(args.out))
        return 0
    results = compare({"base": [Path(r) for r in args.base], "adapted": [Path(r) for r in args.adapted]})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
