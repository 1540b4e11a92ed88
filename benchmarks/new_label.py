"""Adding a label to a trained model: plain ``init_from`` vs rehearsal vs retraining from scratch (one run).

Topics -- train on the topic training set without ``space`` (the "old" model), pick 60 documents of the allowed
pool with ``tagger.suggest`` (examples: seed-corpus space articles; terms; 20% random), "annotate" them for
``space`` only (their silver label stands in for the annotator), then add ``space``:

  (a) plain ``init_from`` on those 60 documents (``rehearsal: false``): the kept labels are trained towards
      "absent" on them;
  (b) ``init_from`` with rehearsal (the default when labels are added): the kept labels take the old model's
      scores as targets; (b+) also replays as many documents of the old training data;
  (c) retraining from scratch on the old training data with ``space`` plus the 60 documents.

NER -- train on ANERcorp with MISC removed, then add MISC from 300 training sentences annotated for MISC only,
the same ways; scored on ANERcorp test.

Reported: the new label's F1 and the kept labels' micro-F1 (topics: gold dev with the thresholds each model
saved, tuned on gold dev; NER: ANERcorp test strict). Short CPU schedules (stated in the output), one seed.

    OMP_NUM_THREADS=2 python benchmarks/new_label.py --out benchmarks/results/new_label_cpu.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._paths import ANER, ENCODER, GOLD_DEV, SILVER  # noqa: E402
from benchmarks._paths import SEED_TRAIN as SEEDS  # noqa: E402

OLD_TOPICS = ["5G", "cybersecurity", "e-government"]
SPACE_TERMS = ["الفضاء", "قمر صناعي", "مركبة فضائية", "وكالة الفضاء", "ناسا", "رائد فضاء", "صاروخ"]
KEPT_TYPES = ["LOC", "ORG", "PER"]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    from tagger.data.io import write_jsonl

    path.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(path, rows)
    return path


def _train(name: str, cfg: dict, seconds: dict) -> Path:
    from tagger.trainer import train

    start = time.perf_counter()
    out = train(cfg).output_dir
    seconds[name] = round(time.perf_counter() - start, 1)
    print(f"trained {name} in {seconds[name]:.0f} s", flush=True)
    return out


# ------------------------------------------------------------------------------------------------ topics
def topic_scores(model: Path, docs, kept: list[str], new: str) -> dict:
    from tagger import Tagger
    from tagger.metrics import topic_metrics

    tagger = Tagger.from_pretrained(model)
    scores = tagger._topic_scores(docs)
    labels = tagger.topic_labels
    gold = [set(d.topics or ()) for d in docs]
    row = {}
    cols = [labels.index(x) for x in kept]
    m = topic_metrics([g & set(kept) for g in gold], scores[:, cols], kept, tagger.thresholds)
    row["kept_micro_f1"] = round(m["micro_f1"], 4)
    row["kept_per_label_f1"] = {x: round(m["per_label"][x]["f1"], 4) for x in kept}
    if new in labels:
        j = labels.index(new)
        n = topic_metrics([g & {new} for g in gold], scores[:, [j]], [new], tagger.thresholds)
        row[f"{new}_f1"] = round(n["per_label"][new]["f1"], 4)
        row[f"{new}_precision"] = round(n["per_label"][new]["precision"], 4)
        row[f"{new}_recall"] = round(n["per_label"][new]["recall"], 4)
    return row


def run_topics(args, common: dict, seconds: dict) -> dict:
    from tagger.data.io import read_documents
    from tagger.suggest import suggest

    work = args.work / "topics"
    rows = _jsonl(SILVER)
    rng = random.Random(args.seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    old_idx, pool_idx = sorted(order[: args.topic_docs]), sorted(order[args.topic_docs :])
    old_rows = [rows[i] for i in old_idx]
    no_space = _write_jsonl(work / "old-no-space.jsonl",
                            [{**r, "topics": [t for t in r["topics"] if t != "space"]} for r in old_rows])
    with_space = _write_jsonl(work / "old-with-space.jsonl", old_rows)
    dev = [str(args.topic_dev)]
    old = _train("topics old (no space)", {**common, "task": "topics", "train": [str(no_space)], "dev": dev,
                                           "labels": OLD_TOPICS, "output_dir": str(work / "old"), "epochs": args.epochs}, seconds)

    examples = [r["text"] for r in _jsonl(SEEDS) if "space" in r.get("topics", [])][:5]
    pool = [{"id": rows[i]["id"], "text": rows[i]["text"]} for i in pool_idx]
    picked = suggest(old, pool, n=args.n_topic, label="space", examples=examples, terms=SPACE_TERMS,
                     random_share=0.2, seed=args.seed)
    by_id = {rows[i]["id"]: rows[i] for i in pool_idx}
    annotated = [{"id": s.id, "text": s.text, "topics": ["space"] if "space" in by_id[s.id]["topics"] else []}
                 for s in picked]
    new_file = _write_jsonl(work / "space-60.jsonl", annotated)
    full_new = _write_jsonl(work / "space-60-all-labels.jsonl", [by_id[s.id] for s in picked])
    positives = sum(bool(a["topics"]) for a in annotated)
    print(f"suggest picked {len(picked)} documents, {positives} about space", flush=True)

    add = {**common, "task": "topics", "init_from": str(old), "train": [str(new_file)], "dev": dev,
           "labels": [*OLD_TOPICS, "space"], "epochs": args.new_epochs, "learning_rate": args.new_lr,
           "batch_size": 8}
    models = {
        "old (no space)": old,
        "(a) plain init_from": _train("(a)", {**add, "rehearsal": False, "output_dir": str(work / "a")}, seconds),
        "(b) rehearsal": _train("(b)", {**add, "output_dir": str(work / "b")}, seconds),
        "(b+) rehearsal + replay": _train("(b+)", {**add, "replay": [str(no_space)], "replay_ratio": 1.0,
                                                  "output_dir": str(work / "b-replay")}, seconds),
        "(c) from scratch": _train("(c)", {**common, "task": "topics", "train": [str(with_space), str(full_new)],
                                           "dev": dev, "labels": [*OLD_TOPICS, "space"], "epochs": args.epochs,
                                           "output_dir": str(work / "c")}, seconds),
    }
    docs = read_documents(args.topic_dev)
    result = {"annotated_documents": len(annotated), "annotated_positives": positives,
              "rows": {name: topic_scores(path, docs, OLD_TOPICS, "space") for name, path in models.items()}}
    for name, row in result["rows"].items():
        print("topics", name, json.dumps(row), flush=True)
    return result


# ------------------------------------------------------------------------------------------------ NER
def _conll_without(src: Path, dst: Path, keep: set[str] | None = None, drop: set[str] | None = None,
                   sentences: list[int] | None = None) -> Path:
    """A CoNLL copy with entity types outside ``keep`` (or inside ``drop``) set to O (optionally only some
    sentences, by index)."""
    blocks = [b for b in src.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    if sentences is not None:
        blocks = [blocks[i] for i in sentences]
    out = []
    for block in blocks:
        lines = []
        for line in block.splitlines():
            word, _, tag = line.rpartition(" ") if " " in line else line.rpartition("\t")
            kind = tag[2:] if tag not in ("O", "") else ""
            if kind and ((keep is not None and kind not in keep) or (drop is not None and kind in drop)):
                tag = "O"
            lines.append(f"{word} {tag}")
        out.append("\n".join(lines))
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("\n\n".join(out) + "\n", encoding="utf-8")
    return dst


def ner_scores(model: Path, docs) -> dict:
    from tagger import Tagger
    from tagger.align import entities_to_tags
    from tagger.metrics import ner_metrics

    tagger = Tagger.from_pretrained(model)
    preds = tagger.predict_documents(docs)
    gold = [entities_to_tags(d.words, d.entities) for d in docs]
    pred = [entities_to_tags(d.words, p.entities) for d, p in zip(docs, preds)]

    def only(tags, types):
        return [[t if t == "O" or t[2:] in types else "O" for t in s] for s in tags]

    kept = ner_metrics(only(gold, KEPT_TYPES), only(pred, KEPT_TYPES))
    full = ner_metrics(gold, pred)
    return {"kept_micro_f1": round(kept["strict"]["f1"], 4),
            "kept_per_type_f1": {t: round(kept["per_type"].get(t, {}).get("f1", 0.0), 4) for t in KEPT_TYPES},
            "MISC_f1": round(full["per_type"].get("MISC", {}).get("f1", 0.0), 4),
            "all_strict_f1": round(full["strict"]["f1"], 4)}


def run_ner(args, common: dict, seconds: dict) -> dict:
    from tagger.data.io import read_documents

    work = args.work / "ner"
    train_src = ANER / "train.conll"
    n_sent = sum(1 for b in train_src.read_text(encoding="utf-8").split("\n\n") if b.strip())
    no_misc = _conll_without(train_src, work / "train-no-misc.conll", drop={"MISC"})
    dev_no_misc = _conll_without(ANER / "dev.conll", work / "dev-no-misc.conll", drop={"MISC"})
    pick = sorted(random.Random(args.seed).sample(range(n_sent), args.n_ner))
    misc_only = _conll_without(train_src, work / "misc-300.conll", keep={"MISC"}, sentences=pick)
    old = _train("ner old (no MISC)", {**common, "task": "ner", "train": [str(no_misc)], "dev": [str(dev_no_misc)],
                                       "output_dir": str(work / "old"), "epochs": args.epochs}, seconds)
    dev = [str(ANER / "dev.conll")]
    add = {**common, "task": "ner", "init_from": str(old), "train": [str(misc_only)], "dev": dev,
           "labels": [*KEPT_TYPES, "MISC"], "epochs": args.new_epochs, "learning_rate": args.new_lr, "batch_size": 8}
    models = {
        "old (no MISC)": old,
        "(a) plain init_from": _train("ner (a)", {**add, "rehearsal": False, "output_dir": str(work / "a")}, seconds),
        "(b) rehearsal": _train("ner (b)", {**add, "output_dir": str(work / "b")}, seconds),
        "(c) from scratch": _train("ner (c)", {**common, "task": "ner", "train": [str(train_src)], "dev": dev,
                                               "output_dir": str(work / "c"), "epochs": args.epochs}, seconds),
    }
    docs = read_documents(ANER / "test.conll")
    result = {"annotated_sentences": args.n_ner, "rows": {name: ner_scores(path, docs) for name, path in models.items()}}
    for name, row in result["rows"].items():
        print("ner", name, json.dumps(row), flush=True)
    return result


# ------------------------------------------------------------------------------------------------ digital-economy
DE_TERMS = ["الاقتصاد الرقمي", "التجارة الإلكترونية", "المدفوعات الرقمية", "التحول الرقمي", "الشركات الناشئة"]
DE_SILVER = ROOT / "data" / "silver" / "de"


def run_digital_economy(args, common: dict, seconds: dict) -> dict:
    """``topics-add-digital-economy`` through the new path: gold dev has no digital-economy annotation, so the
    threshold comes from cross-validation on the annotated documents (tagger.calibration)."""
    from tagger import Tagger
    from tagger.data.io import read_documents
    from tagger.metrics import topic_metrics
    from tagger.suggest import suggest

    old = args.work / "topics" / "c"
    train_rows, holdout = _jsonl(DE_SILVER / "topics-train.jsonl"), _jsonl(DE_SILVER / "topics-holdout.jsonl")
    pool = [{"id": r["id"], "text": r["text"]} for r in train_rows]
    picked = suggest(old, pool, n=args.n_topic, label="digital-economy", terms=DE_TERMS, random_share=0.2,
                     seed=args.seed)
    by_id = {r["id"]: r for r in train_rows}
    rows = [{"id": s.id, "text": s.text, "topics": ["digital-economy"] if "digital-economy" in by_id[s.id]["topics"] else []}
            for s in picked]
    work = args.work / "digital-economy"
    data = _write_jsonl(work / "de-60.jsonl", rows)
    out = _train("digital-economy (b)", {**common, "task": "topics", "init_from": str(old), "train": [str(data)],
                                         "dev": [str(args.topic_dev)], "labels": ["5G", "cybersecurity", "e-government",
                                                                                 "space", "digital-economy"],
                                         "epochs": args.new_epochs, "learning_rate": args.new_lr, "batch_size": 8,
                                         "calibration_folds": 3, "output_dir": str(work / "model")}, seconds)
    tagger = Tagger.from_pretrained(out)
    lab = "digital-economy"
    j = tagger.topic_labels.index(lab)
    threshold = tagger.thresholds[lab]
    dev_scores = tagger._topic_scores(read_documents(args.topic_dev))[:, j]
    hold = read_documents(DE_SILVER / "topics-holdout.jsonl")
    hold_scores = tagger._topic_scores(hold)[:, [j]]
    gold = [set(d.topics or ()) & {lab} for d in hold]
    at = {name: topic_metrics(gold, hold_scores, [lab], {lab: t})["per_label"][lab]
          for name, t in (("calibrated", threshold), ("0.5", 0.5))}
    support = json.loads((out / "config.json").read_text(encoding="utf-8"))["tagger"].get("threshold_support", {})
    result = {
        "annotated_documents": len(rows), "annotated_positives": sum(bool(r["topics"]) for r in rows),
        "threshold": round(threshold, 4), "threshold_support": support.get(lab),
        "gold_dev_documents_predicted": {"calibrated": int((dev_scores >= threshold).sum()), "0.5": int((dev_scores >= 0.5).sum())},
        "silver_holdout": {name: {k: round(v[k], 4) if isinstance(v[k], float) else v[k]
                                  for k in ("precision", "recall", "f1", "support", "predicted")} for name, v in at.items()},
        "silver_holdout_documents": len(holdout),
    }
    print("digital-economy", json.dumps(result), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", type=Path, default=ENCODER)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-new-label")
    parser.add_argument("--parts", nargs="+", default=["topics", "ner"], choices=["topics", "ner", "digital-economy"],
                        help="digital-economy needs the topics part's models (run it before, or in the same run) and "
                             "python training/build_topic_silver.py --labels 5G cybersecurity e-government space "
                             "digital-economy --out data/silver/de")
    parser.add_argument("--epochs", type=float, default=1.0, help="epochs of the old and from-scratch models")
    parser.add_argument("--new-epochs", type=float, default=5.0, help="epochs when adding the label (a, b)")
    parser.add_argument("--new-lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--topic-docs", type=int, default=800, help="silver documents of the old training set")
    parser.add_argument("--n-topic", type=int, default=60)
    parser.add_argument("--n-ner", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--topic-dev", type=Path, default=GOLD_DEV, help="topic dev set (model selection, thresholds, scores)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    for path, hint in ((ANER / "train.conll", "../shared is missing"),
                       (SILVER, "run training/build_topic_silver.py --self-train")):
        if not path.is_file():
            print(f"new-label benchmark: {path} not found: {hint}", file=sys.stderr)
            return 2
    common = {"model": str(args.encoder), "learning_rate": 1e-4, "head_learning_rate": 1e-3, "batch_size": 16,
              "max_length": args.max_length, "stride": 32, "seed": args.seed, "evaluations_per_epoch": 1,
              "early_stopping_patience": None, "overwrite": True}
    seconds: dict[str, float] = {}
    result: dict = {"schedule": {**{k: v for k, v in common.items() if k != "model"}, "epochs": args.epochs,
                                 "new_epochs": args.new_epochs, "new_learning_rate": args.new_lr,
                                 "topic_docs": args.topic_docs}}
    if "topics" in args.parts:
        result["topics"] = run_topics(args, common, seconds)
    if "ner" in args.parts:
        result["ner"] = run_ner(args, common, seconds)
    if "digital-economy" in args.parts:
        result["digital_economy"] = run_digital_economy(args, common, seconds)
    result["train_seconds"] = seconds
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
