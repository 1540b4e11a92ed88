"""Joint NER + topics model vs the two separate models, trained on the same data with the same schedule.

One run trains three models on the mini encoder (``../shared/models/arabic-mini-bert``):

* ``ner``    -- task ner on ANERcorp train + the seed corpus' entities (seeds/train.jsonl);
* ``topics`` -- task topics on the topic training set (a deterministic subset of data/silver/topics-train-st.jsonl,
  ``--topic-docs``; it includes the seed corpus' topics) + seeds/train.jsonl;
* ``joint``  -- task joint on all of it (each document counts for the tasks its file is annotated for),
  for the same number of epochs, so it takes as many optimiser steps as the two others together.

and reports, from this one run:

* ANERcorp test strict F1 (the library's scorer, ``tagger.tasks.ner.score_entities``);
* topic gold-dev micro-F1 with the saved thresholds (tuned on gold dev: optimistic) and cross-fitted (5 folds,
  10 repeats; see benchmarks/topics_dev.py);
* CPU throughput for "entities + topics" on the same texts (gold-dev documents, one thread): the two-model bundle
  (two forward passes per window) vs the joint model (one), torch fp32 and ONNX int8.

The schedule is short so that one run fits the 2-core CPU (``--epochs 1``, ``max_length 128``): the figures
compare the three models with each other, not with the full recipes. Needs ../shared and the silver set
(``python training/build_topic_silver.py --self-train``).

    OMP_NUM_THREADS=2 python benchmarks/joint.py --out benchmarks/results/joint_cpu.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from topics_dev import crossfit_row  # noqa: E402

from benchmarks._paths import ANER, ENCODER, GOLD_DEV, SILVER  # noqa: E402
from benchmarks._paths import SEED_TRAIN as SEEDS  # noqa: E402
from tagger.data.io import read_documents  # noqa: E402

LABELS = ["5G", "cybersecurity", "e-government", "space"]


def topic_subset(n: int, out: Path, seed: int) -> Path:
    lines = [line for line in SILVER.read_text(encoding="utf-8").splitlines() if line.strip()]
    if n and n < len(lines):
        lines = sorted(random.Random(seed).sample(lines, n), key=lines.index)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def configs(args: argparse.Namespace, topics_file: Path) -> dict[str, dict]:
    common = {
        "model": str(args.encoder), "epochs": args.epochs, "learning_rate": 1e-4, "head_learning_rate": 1e-3,
        "batch_size": 16, "max_length": args.max_length, "stride": 32, "seed": args.seed, "label_smoothing": 0.0,
        "evaluations_per_epoch": 1, "early_stopping_patience": None, "overwrite": True,
    }
    ner_train = [str(ANER / "train.conll"), str(SEEDS)]
    topic_train = [str(topics_file), str(SEEDS)]
    run = args.work
    return {
        "ner": {**common, "task": "ner", "train": ner_train, "dev": [str(ANER / "dev.conll")], "output_dir": str(run / "ner")},
        "topics": {**common, "task": "topics", "train": topic_train, "dev": [str(GOLD_DEV)], "labels": LABELS,
                   "output_dir": str(run / "topics")},
        "joint": {**common, "task": "joint", "train": [str(ANER / "train.conll"), str(topics_file), str(SEEDS)],
                  "dev": [str(ANER / "dev.conll"), str(GOLD_DEV)], "topic_labels": LABELS,
                  "output_dir": str(run / "joint")},
    }


def throughput(tagger, texts: list[str], repeats: int) -> float:
    tagger.predict(texts[:8])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        tagger.predict(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", type=Path, default=ENCODER)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-joint")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--topic-docs", type=int, default=1200, help="silver documents used (0: all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--speed-texts", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-train", action="store_true", help="reuse the models in --work")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    for path, hint in ((ANER / "train.conll", "../shared is missing"), (SILVER, "run training/build_topic_silver.py --self-train")):
        if not path.is_file():
            print(f"joint benchmark: {path} not found: {hint}", file=sys.stderr)
            return 2

    import torch

    from tagger import Tagger
    from tagger.metrics import binarize
    from tagger.tasks import get_task
    from tagger.trainer import train

    topics_file = topic_subset(args.topic_docs, args.work / "topics-train.jsonl", args.seed)
    cfgs = configs(args, topics_file)
    result: dict = {"schedule": {k: v for k, v in cfgs["joint"].items() if k not in ("train", "dev", "output_dir")},
                    "topic_docs": args.topic_docs, "train_seconds": {}, "rows": {}}
    for name, cfg in cfgs.items():
        if args.skip_train:
            continue
        start = time.perf_counter()
        train(cfg)
        result["train_seconds"][name] = round(time.perf_counter() - start, 1)
        print(f"trained {name} in {result['train_seconds'][name]:.0f} s", flush=True)

    test_docs = read_documents(ANER / "test.conll")
    dev_docs = read_documents(GOLD_DEV)
    gold = binarize([d.topics or [] for d in dev_docs], LABELS)
    models = {name: Tagger.from_pretrained(cfgs[name]["output_dir"]) for name in cfgs}
    for name, tagger in models.items():
        row: dict = {}
        if tagger.ner:
            ner, _ = get_task("ner").evaluate(Tagger(ner=tagger.ner), test_docs)
            row["anercorp_test_strict_f1"] = ner["f1"]
            row["anercorp_test_per_type"] = {k: round(v["f1"], 4) for k, v in ner["ner"]["per_type"].items()}
        if tagger.topics:
            only = Tagger(topics=tagger.topics)
            topics, _ = get_task("topics").evaluate(only, dev_docs)
            row["gold_dev_micro_f1_saved_thresholds"] = topics["topics"]["micro_f1"]
            scores = only._topic_scores(dev_docs)
            row["gold_dev_micro_f1_crossfit"] = crossfit_row("x", gold, scores, LABELS, 5, 10)["micro_f1"]
        result["rows"][name] = row
        print(name, json.dumps(row), flush=True)

    # throughput: entities + topics for the same texts, one thread
    torch.set_num_threads(1)
    texts = [d.text for d in dev_docs[: args.speed_texts]]
    bundle = Tagger(ner=models["ner"].ner, topics=models["topics"].topics)
    speed = {"torch fp32 two models": throughput(bundle, texts, args.repeats),
             "torch fp32 joint": throughput(models["joint"], texts, args.repeats)}
    try:
        from tagger.export import export_onnx

        onnx = {}
        for name in cfgs:
            out = args.work / f"{name}-int8"
            export_onnx(cfgs[name]["output_dir"], out, quantize="int8", overwrite=True)
            onnx[name] = Tagger.from_pretrained(out, threads=1)
        speed["onnx int8 two models"] = throughput(Tagger(ner=onnx["ner"].ner, topics=onnx["topics"].topics), texts, args.repeats)
        speed["onnx int8 joint"] = throughput(onnx["joint"], texts, args.repeats)
        int8_test, _ = get_task("ner").evaluate(Tagger(ner=onnx["joint"].ner), test_docs)
        result["rows"]["joint onnx int8"] = {"anercorp_test_strict_f1": int8_test["f1"]}
    except ImportError as err:
        print(f"ONNX rows skipped: {err}", file=sys.stderr)
    result["texts_per_second_one_thread"] = {k: round(v, 2) for k, v in speed.items()}
    result["speedup_joint_vs_two_models"] = {
        "torch fp32": round(speed["torch fp32 joint"] / speed["torch fp32 two models"], 2),
        **({"onnx int8": round(speed["onnx int8 joint"] / speed["onnx int8 two models"], 2)} if "onnx int8 joint" in speed else {}),
    }
    result["speed_texts"] = f"first {len(texts)} gold-dev documents"
    result["machine"] = f"{torch.get_num_threads()} thread(s) for speed; torch {torch.__version__}"
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
