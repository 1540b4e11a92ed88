"""Training throughput: our recipe (length-grouped batches, dynamic padding) vs plain Trainer runs, same data.

Systems (same encoder, data, epochs, batch size, learning rate, seed):

* ``plain-padded``  -- the common notebook recipe: ``tokenizer(..., padding="max_length", truncation=True)``
  with ``max_length`` = our window size, random batches, ``default_data_collator``;
* ``plain-dynamic`` -- transformers' ``run_ner`` default: dynamic padding (``DataCollatorForTokenClassification``),
  random batches;
* ``ours``          -- ``tagger.trainer.train`` (length-grouped sampling, padding to the longest window of a batch).

Systems run one after another in this process; on a machine shared with other programs use ``--threads 1``
(several OpenMP threads competing with other processes for few cores slow small ops down many-fold).
Throughput is training sentences x epochs / wall seconds of the whole training call (data preparation, model
load, training and saving; no dev evaluation inside). Dev F1 (strict, word level) is measured afterwards on the
same dev sentences: the plain runs with first-sub-token argmax (their natural decoding), ours through ``Tagger``.

    python benchmarks/train_speed.py --train-sentences 800 --dev-sentences 300 --epochs 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SYSTEMS = ("plain-padded", "plain-dynamic", "ours")


def write_conll(path: Path, docs) -> None:
    from tagger.align import entities_to_tags

    with path.open("w", encoding="utf-8") as fh:
        for d in docs:
            tags = entities_to_tags(d.words, d.entities)
            fh.write("".join(f"{d.text[s:e]}\t{t}\n" for (s, e), t in zip(d.words, tags)) + "\n")


def words_and_tags(docs) -> list[tuple[list[str], list[str]]]:
    from tagger.align import entities_to_tags

    return [([d.text[s:e] for s, e in d.words], entities_to_tags(d.words, d.entities)) for d in docs]


def train_plain(encoder: Path, data, tags: list[str], args: argparse.Namespace, padded: bool, out: Path) -> None:
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
        default_data_collator,
    )

    from tagger.trainer import _warmup_args  # warmup_ratio (4.x) / fractional warmup_steps (5.x)

    tok = AutoTokenizer.from_pretrained(encoder)
    index = {t: i for i, t in enumerate(tags)}
    enc = tok([w for w, _ in data], is_split_into_words=True, truncation=True, max_length=args.max_length,
              padding="max_length" if padded else False)
    rows = []
    for i, (_, word_tags) in enumerate(data):
        labels, prev = [], None
        for w in enc.word_ids(i):
            labels.append(-100 if w is None or w == prev else index[word_tags[w]])
            prev = w
        row = {"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i], "labels": labels}
        rows.append(row)
    model = AutoModelForTokenClassification.from_pretrained(
        encoder, num_labels=len(tags), id2label=dict(enumerate(tags)), label2id=index)
    targs = TrainingArguments(
        output_dir=str(out / "work"), num_train_epochs=args.epochs, per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate, weight_decay=0.01, **_warmup_args(TrainingArguments, 0.1), seed=args.seed, data_seed=args.seed,
        save_strategy="no", eval_strategy="no", logging_steps=50, report_to="none", disable_tqdm=True,
        use_cpu=True,
    )
    collator = default_data_collator if padded else DataCollatorForTokenClassification(tok)
    Trainer(model=model, args=targs, train_dataset=rows, data_collator=collator).train()
    model.save_pretrained(out / "model")
    tok.save_pretrained(out / "model")


def eval_plain(model_dir: Path, data, max_length: int) -> float:
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from tagger.metrics import ner_metrics

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForTokenClassification.from_pretrained(model_dir).eval()
    id2label = model.config.id2label
    gold, pred = [], []
    with torch.inference_mode():
        for i in range(0, len(data), 32):
            chunk = data[i : i + 32]
            enc = tok([w for w, _ in chunk], is_split_into_words=True, truncation=True, max_length=max_length,
                      padding=True, return_tensors="pt")
            best = model(**enc).logits.argmax(-1)
            for r, (words, tags) in enumerate(chunk):
                out, prev = ["O"] * len(words), None
                for k, w in enumerate(enc.word_ids(r)):
                    if w is not None and w != prev:
                        out[w] = id2label[int(best[r, k])]
                    prev = w
                gold.append(tags)
                pred.append(out)
    return ner_metrics(gold, pred)["strict"]["f1"]


def run(args: argparse.Namespace) -> list[dict]:
    from tagger.config import Task
    from tagger.data.io import read_conll
    from tagger.examples import evaluate_model, ner_tags
    from tagger.predict import Tagger
    from tagger.trainer import train

    splits = args.shared / "data" / "splits" / "anercorp"
    encoder = args.shared / "models" / "arabic-mini-bert"
    train_docs = read_conll(splits / "train.conll")[: args.train_sentences]
    dev_docs = read_conll(splits / "dev.conll")[: args.dev_sentences]
    tags = ner_tags(sorted({s.label for d in train_docs for s in d.entities}))
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        train_file = tmp / "train.conll"
        write_conll(train_file, train_docs)
        for system in args.systems:
            out = tmp / system
            print(f"  training {system} on {len(train_docs)} sentences ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            if system == "ours":
                train({"task": "ner", "model": str(encoder), "train": str(train_file), "output_dir": str(out / "model"),
                       "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                       "seed": args.seed, "max_length": args.max_length, "early_stopping_patience": None})
                seconds = time.perf_counter() - started
                metrics, _ = evaluate_model(Tagger.from_pretrained(out / "model"), dev_docs, Task.NER)
                f1 = metrics["f1"]
            else:
                train_plain(encoder, words_and_tags(train_docs), tags, args, system == "plain-padded", out)
                seconds = time.perf_counter() - started
                f1 = eval_plain(out / "model", words_and_tags(dev_docs), args.max_length)
            rows.append({"system": system, "sentences": len(train_docs), "epochs": args.epochs, "seconds": seconds,
                         "sentences_per_s": len(train_docs) * args.epochs / seconds, "dev_strict_f1": f1})
    base = {r["system"]: r["sentences_per_s"] for r in rows}
    for r in rows:
        r["vs_plain_padded"] = r["sentences_per_s"] / base["plain-padded"] if "plain-padded" in base else None
        r["vs_plain_dynamic"] = r["sentences_per_s"] / base["plain-dynamic"] if "plain-dynamic" in base else None
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--train-sentences", type=int, default=800)
    p.add_argument("--dev-sentences", type=int, default=300)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--max-length", type=int, default=256, help="window size (ours) = padding length (plain-padded)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--shared", type=Path, default=SHARED)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default torch's)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    sys.path.insert(0, str(REPO))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    load = round(os.getloadavg()[0], 2)
    print(f"# training benchmark, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}, {os.cpu_count()} CPUs, "
          f"torch threads {torch.get_num_threads()}, load average {load}\n", flush=True)
    rows = run(args)
    print("| system | train sentences x epochs | seconds | sentences/s | × plain-padded | × plain-dynamic | dev strict F1 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = [f"{r[k]:.2f}" if r[k] else "-" for k in ("vs_plain_padded", "vs_plain_dynamic")]
        print(f"| {r['system']} | {r['sentences']} x {r['epochs']:g} | {r['seconds']:.0f} | {r['sentences_per_s']:.2f} | "
              f"{ratio[0]} | {ratio[1]} | {100 * r['dev_strict_f1']:.2f} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
