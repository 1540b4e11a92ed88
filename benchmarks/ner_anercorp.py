"""NER benchmark on the canonical ANERcorp split (issue 2): our recipe vs. peers, in one run.

Systems (any subset via ``--systems``):

* ``crf``   -- the library's CRF baseline (:class:`tagger.baselines.CrfNerBaseline`, sklearn-crfsuite with
  word/affix/clitic features on normalised words; the same one ``tagger eval --baselines`` reports).
* ``plain`` -- a re-implementation of transformers' ``run_ner`` recipe on the same encoder: words pre-split,
  first sub-token labelled, truncation at 256, ``Trainer`` with lr 5e-5, batch 16, 3 epochs, seed 42, no
  normalisation, argmax decoding.
* ``ours``  -- ``tagger.trainer.train`` on ``--ours-config``, evaluated through ``tagger.predict.Tagger``.

Every system is scored on ``anercorp/test.conll`` and ``aqmar/test.conll`` (out of domain) against the same
word-level gold tags with seqeval in both modes: ``strict`` (IOB2 scheme, an I-X without B-X is no entity) and
``default`` (conlleval-compatible). Target of issue 2: ours strict micro-F1 on ANERcorp test >= plain + 3.

Needs ``../shared`` (data and the mini encoder); it is not part of the repository::

    python benchmarks/ner_anercorp.py --systems crf,plain,ours
    python benchmarks/ner_anercorp.py --systems crf,plain --max-train-sentences 200   # smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ("crf", "plain", "ours")
ENTITY_TYPES = ("PER", "ORG", "LOC", "MISC")
AQMAR_TYPES = ("PER", "ORG", "LOC")  # AQMAR's MISC is a different concept: compared separately
TARGET_MARGIN = 3.0  # points of strict micro-F1 (issue 2)
MAX_LENGTH = 256

Sentence = tuple[list[str], list[str]]  # (words, IOB2 tags)


class BenchmarkError(Exception):
    """Base class for errors raised by this benchmark."""


class MissingDataError(BenchmarkError):
    """A file or directory the benchmark needs (from ../shared) is absent."""


class ConllFormatError(BenchmarkError):
    """A CoNLL line is not ``token<TAB>tag``."""


class AlignmentError(BenchmarkError):
    """A system returned a different number of word tags than the gold sentence has."""


@dataclass(frozen=True)
class Paths:
    shared: Path
    model: Path
    train: Path
    dev: Path
    anercorp_test: Path
    aqmar_test: Path

    @classmethod
    def from_shared(cls, shared: Path) -> Paths:
        splits = shared / "data" / "splits"
        paths = cls(
            shared=shared,
            model=shared / "models" / "arabic-mini-bert",
            train=splits / "anercorp" / "train.conll",
            dev=splits / "anercorp" / "dev.conll",
            anercorp_test=splits / "anercorp" / "test.conll",
            aqmar_test=splits / "aqmar" / "test.conll",
        )
        for name in ("model", "train", "dev", "anercorp_test", "aqmar_test"):
            path = getattr(paths, name)
            if not path.exists():
                raise MissingDataError(
                    f"{name}: {path} does not exist. This benchmark needs the shared data and models "
                    f"(../shared next to the repository); pass --shared PATH to point at them."
                )
        return paths


# --------------------------------------------------------------------------- data + scoring


def read_conll_sentences(path: Path) -> list[Sentence]:
    """Read ``token<TAB>tag`` lines, blank line between sentences."""
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    sentences.append((words, tags))
                    words, tags = [], []
                continue
            token, sep, tag = line.rpartition("\t")
            if not sep or not tag:
                raise ConllFormatError(f"{path}:{lineno}: expected 'token<TAB>tag', got {line!r}")
            words.append(token)
            tags.append(tag)
    if words:
        sentences.append((words, tags))
    return sentences


def write_conll(path: Path, sentences: list[Sentence]) -> None:
    lines = ["".join(f"{w}\t{t}\n" for w, t in zip(words, tags, strict=True)) for words, tags in sentences]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _drop_types(tags: list[list[str]], keep: Sequence[str]) -> list[list[str]]:
    return [[t if t == "O" or t[2:] in keep else "O" for t in sent] for sent in tags]


def score(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """Micro P/R/F1 in strict (IOB2) and default mode, per-type F1 and PER/ORG/LOC strict F1, all in percent:
    the library's one NER scorer (:func:`tagger.metrics.ner_metrics`, seqeval underneath)."""
    from tagger.metrics import MetricsError, ner_metrics

    try:
        full = ner_metrics(gold, pred)
        three = ner_metrics(_drop_types(gold, AQMAR_TYPES), _drop_types(pred, AQMAR_TYPES))
    except MetricsError as err:
        raise AlignmentError(str(err)) from err

    def pct(x: float) -> float:
        return round(100.0 * float(x), 2)

    def prf(m: dict) -> dict:
        return {"precision": pct(m["precision"]), "recall": pct(m["recall"]), "f1": pct(m["f1"])}

    return {
        "strict": prf(full["strict"]),
        "default": prf(full["default"]),
        "strict_per_type_f1": {t: pct(full["per_type"][t]["f1"]) if t in full["per_type"] else None for t in ENTITY_TYPES},
        "default_per_type_f1": {t: pct(full["per_type_default"][t]["f1"]) if t in full["per_type_default"] else None
                                for t in ENTITY_TYPES},
        "strict_f1_per_org_loc": pct(three["strict"]["f1"]),
        "gold_entities": int(full["strict"]["support"]),
    }


# --------------------------------------------------------------------------- CRF baseline


def run_crf(train: list[Sentence], tests: dict[str, list[Sentence]], **_: object) -> tuple[dict, dict]:
    """The library's CRF baseline (:class:`tagger.baselines.CrfNerBaseline`, the one ``tagger eval --baselines``
    reports), on the words normalised as the transformer sees them (default normalisation settings)."""
    from tagger.baselines import CrfNerBaseline
    from tagger.text import normalize_words

    crf = CrfNerBaseline()
    start = time.perf_counter()
    crf.fit([normalize_words(w) for w, _ in train], [t for _, t in train])
    train_s = time.perf_counter() - start
    preds = {name: crf.predict([normalize_words(w) for w, _ in sents]) for name, sents in tests.items()}
    params = {"algorithm": "lbfgs", "c1": crf.c1, "c2": crf.c2, "max_iterations": crf.max_iterations,
              "all_possible_transitions": True}
    return preds, {
        "train_seconds": round(train_s, 1), "params": params, "implementation": "tagger.baselines.CrfNerBaseline",
        "features": "normalised word, clitic split (proclitics, stem, enclitic), shape, length, al- article, "
        "prefix/suffix 1-3, stem affixes 2-3; window +-2 (word, stem, proclitics, shape, suffix-2); bigrams at +-1"}


# --------------------------------------------------------------------------- plain run_ner recipe


def run_plain(train: list[Sentence], tests: dict[str, list[Sentence]], paths: Paths, workdir: Path,
              **_: object) -> tuple[dict, dict]:
    """transformers' run_ner recipe: first sub-token labelled, Trainer defaults, argmax decoding."""
    import numpy as np
    import torch
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    hparams = {"learning_rate": 5e-5, "per_device_train_batch_size": 16, "num_train_epochs": 3, "seed": 42,
               "max_length": MAX_LENGTH, "label_all_tokens": False}
    set_seed(hparams["seed"])
    labels = sorted({tag for _, tags in train for tag in tags})
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(paths.model)

    def encode(sentences: list[Sentence], with_labels: bool) -> tuple[list[dict], list[list[int | None]]]:
        enc = tokenizer([w for w, _ in sentences], is_split_into_words=True, truncation=True,
                        max_length=MAX_LENGTH)
        features, word_ids = [], []
        for i, (_, tags) in enumerate(sentences):
            ids = enc.word_ids(i)
            feature = {key: enc[key][i] for key in enc}
            if with_labels:
                previous = None
                label_ids = []
                for wid in ids:
                    label_ids.append(-100 if wid is None or wid == previous else label2id[tags[wid]])
                    previous = wid
                feature["labels"] = label_ids
            features.append(feature)
            word_ids.append(ids)
        return features, word_ids

    train_features, _ = encode(train, with_labels=True)
    model = AutoModelForTokenClassification.from_pretrained(
        paths.model, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id)
    args = TrainingArguments(
        output_dir=str(workdir / "plain"), learning_rate=hparams["learning_rate"],
        per_device_train_batch_size=hparams["per_device_train_batch_size"],
        num_train_epochs=hparams["num_train_epochs"], seed=hparams["seed"], save_strategy="no",
        eval_strategy="no", report_to="none", logging_steps=50, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=train_features,
                      data_collator=DataCollatorForTokenClassification(tokenizer), processing_class=tokenizer)
    start = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - start

    preds: dict[str, list[list[str]]] = {}
    truncated: dict[str, int] = {}
    for name, sents in tests.items():
        features, word_ids = encode(sents, with_labels=False)
        logits = trainer.predict(features).predictions
        argmax = np.argmax(logits, axis=-1)
        out, cut = [], 0
        for i, (words, _) in enumerate(sents):
            tags = ["O"] * len(words)  # words cut by truncation (or with no sub-token) stay O
            seen: set[int] = set()
            for pos, wid in enumerate(word_ids[i]):
                if wid is not None and wid not in seen:
                    seen.add(wid)
                    tags[wid] = labels[int(argmax[i, pos])]
            cut += sum(1 for w in range(len(words)) if w not in seen)
            out.append(tags)
        preds[name], truncated[name] = out, cut
    return preds, {"train_seconds": round(train_s, 1), "hyperparameters": hparams, "labels": labels,
                   "train_steps": trainer.state.global_step, "device": str(trainer.args.device),
                   "torch_threads": torch.get_num_threads(),
                   "words_without_prediction": truncated,
                   "final_train_loss": next((h["train_loss"] for h in reversed(trainer.state.log_history)
                                             if "train_loss" in h), None)}


# --------------------------------------------------------------------------- ours (tagger library)


def ours_overrides(config: Path, paths: Paths, train_file: Path | None, workdir: Path) -> list[str]:
    """``key=value`` overrides that point the recipe's ANERcorp/encoder paths at ``--shared``.

    Entries that name the canonical files (``.../data/splits/anercorp/{train,dev}.conll``,
    ``.../models/arabic-mini-bert``) are replaced by the ``--shared`` ones (so all systems read the same
    files); any other training file of the recipe is kept. A smoke run (``train_file``) trains on the
    truncated file and writes its model under ``workdir``.
    """
    from tagger.config import TrainConfig

    cfg = TrainConfig.from_file(config)
    canonical = {"data/splits/anercorp/train.conll": train_file or paths.train,
                 "data/splits/anercorp/dev.conll": paths.dev, "models/arabic-mini-bert": paths.model}

    def swap(value: str) -> str:
        norm = value.replace("\\", "/").rstrip("/")
        return next((str(new) for tail, new in canonical.items() if norm.endswith(tail)), value)

    overrides = [f"train={','.join(swap(t) for t in cfg.train)}", f"model={swap(cfg.model)}"]
    if cfg.dev is not None:
        overrides.append(f"dev={swap(cfg.dev)}")
    if train_file is not None:
        overrides.append(f"output_dir={workdir / 'ours'}")
    elif not Path(cfg.output_dir).is_absolute():
        overrides.append(f"output_dir={REPO_ROOT / cfg.output_dir}")  # the recipe runs from the repo root
    return overrides


def tagger_word_tags(model_dir: Path, tests: dict[str, list[Sentence]], test_files: dict[str, Path]
                     ) -> dict[str, list[list[str]]]:
    """Word-level IOB2 tags from a saved model: ``Tagger.predict_documents`` -> ``entities_to_tags``."""
    from tagger.align import entities_to_tags
    from tagger.data.io import read_conll
    from tagger.predict import Tagger
    from tagger.schema import Span

    tagger = Tagger.from_pretrained(model_dir)
    preds: dict[str, list[list[str]]] = {}
    for name, sents in tests.items():
        docs = read_conll(test_files[name])
        if len(docs) != len(sents):
            raise AlignmentError(f"{test_files[name]}: tagger.data.io.read_conll gave {len(docs)} documents, "
                                 f"the benchmark reader {len(sents)} sentences")
        out = []
        for i, (doc, pred) in enumerate(zip(docs, tagger.predict_documents(docs), strict=True)):
            if doc.words is None or len(doc.words) != len(sents[i][0]):
                raise AlignmentError(f"{doc.source}: document {i} has "
                                     f"{None if doc.words is None else len(doc.words)} words, "
                                     f"the CoNLL sentence {len(sents[i][0])}")
            spans = [Span(e.start, e.end, e.label) for e in pred.entities]
            out.append(list(entities_to_tags(doc.words, spans)))
        preds[name] = out
    return preds


def run_ours(train: list[Sentence], tests: dict[str, list[Sentence]], paths: Paths, workdir: Path,
             config: Path, train_file: Path | None, test_files: dict[str, Path], **_: object
             ) -> tuple[dict, dict]:
    from tagger.trainer import train as tagger_train

    overrides = ours_overrides(config, paths, train_file, workdir)
    start = time.perf_counter()
    result = tagger_train(str(config), overrides)
    train_s = time.perf_counter() - start
    preds = tagger_word_tags(Path(result.output_dir), tests, test_files)
    return preds, {"train_seconds": round(train_s, 1), "config": str(config), "overrides": overrides,
                   "output_dir": str(result.output_dir), "train_metrics": result.metrics}


# --------------------------------------------------------------------------- driver


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _machine() -> dict:
    import torch

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "cuda": torch.cuda.is_available(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("torch", "transformers", "seqeval", "sklearn-crfsuite", "python-crfsuite", "arabic-tagger"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # e.g. a package put on PYTHONPATH without its metadata
            module = sys.modules.get(pkg.replace("-", "_"))
            out[pkg] = getattr(module, "__version__", None) if module else None
    return out


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def format_table(systems: dict[str, dict]) -> str:
    head = (f"{'system':<7} {'train s':>8} | {'ANER strict P':>13} {'R':>5} {'F1':>5} {'dflt F1':>7} | "
            + " ".join(f"{t:>5}" for t in ENTITY_TYPES)
            + " | AQMAR " + " ".join(f"{t:>5}" for t in AQMAR_TYPES) + f" {'P/O/L':>5} {'all':>5}")
    lines = [head, "-" * len(head)]
    for name, res in systems.items():
        a, q = res["anercorp_test"], res["aqmar_test"]
        lines.append(
            f"{name:<7} {_fmt(res['train_seconds']):>8} | {_fmt(a['strict']['precision']):>13} "
            f"{_fmt(a['strict']['recall']):>5} {_fmt(a['strict']['f1']):>5} {_fmt(a['default']['f1']):>7} | "
            + " ".join(f"{_fmt(a['strict_per_type_f1'][t]):>5}" for t in ENTITY_TYPES)
            + " |       " + " ".join(f"{_fmt(q['strict_per_type_f1'][t]):>5}" for t in AQMAR_TYPES)
            + f" {_fmt(q['strict_f1_per_org_loc']):>5} {_fmt(q['strict']['f1']):>5}")
    lines.append("strict = seqeval mode='strict' scheme=IOB2 (micro); dflt = seqeval default (conlleval); "
                 "per-type and AQMAR columns are strict F1; P/O/L = micro over PER+ORG+LOC only.")
    return "\n".join(lines)


def _resolve(path: str) -> Path:
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p.resolve()
    return (REPO_ROOT / p).resolve()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"),
                        help="the shared folder holding data/splits and models/arabic-mini-bert")
    parser.add_argument("--systems", default="crf,plain,ours", help=f"comma-separated subset of {SYSTEMS}")
    parser.add_argument("--ours-config", default="training/configs/anercorp-mini.yaml",
                        help="TrainConfig YAML for our recipe (relative to the repository root)")
    parser.add_argument("--out", default="benchmarks/results/ner_anercorp.json", help="JSON results file")
    parser.add_argument("--max-train-sentences", type=int, default=None,
                        help="train on the first N training sentences only (smoke run; not comparable)")
    args = parser.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in args.systems if s not in SYSTEMS]
    if unknown or not args.systems:
        parser.error(f"--systems: unknown {unknown or 'empty list'}; choose from {', '.join(SYSTEMS)}")
    if args.max_train_sentences is not None and args.max_train_sentences < 1:
        parser.error("--max-train-sentences must be a positive integer")
    return args


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(argv)
    paths = Paths.from_shared(_resolve(args.shared))
    config = _resolve(args.ours_config)
    if "ours" in args.systems and not config.exists():
        raise MissingDataError(f"--ours-config: {config} does not exist")
    train = read_conll_sentences(paths.train)
    test_files = {"anercorp_test": paths.anercorp_test, "aqmar_test": paths.aqmar_test}
    tests = {name: read_conll_sentences(path) for name, path in test_files.items()}
    runners: dict[str, Callable[..., tuple[dict, dict]]] = {"crf": run_crf, "plain": run_plain,
                                                             "ours": run_ours}

    with tempfile.TemporaryDirectory(prefix="ner_anercorp_") as tmp:
        workdir = Path(tmp)
        train_file = None
        if args.max_train_sentences is not None:
            train = train[: args.max_train_sentences]
            train_file = workdir / "train.conll"
            write_conll(train_file, train)
        results: dict[str, dict] = {}
        for name in args.systems:
            print(f"[ner_anercorp] running {name} on {len(train)} training sentences", file=sys.stderr,
                  flush=True)
            preds, info = runners[name](train=train, tests=tests, paths=paths, workdir=workdir, config=config,
                                        train_file=train_file, test_files=test_files)
            scores = {test: score([t for _, t in tests[test]], preds[test]) for test in tests}
            results[name] = {**info, **scores}
            print(f"[ner_anercorp] {name}: train {info['train_seconds']} s, ANERcorp strict F1 "
                  f"{scores['anercorp_test']['strict']['f1']}", file=sys.stderr, flush=True)

    report: dict = {
        "benchmark": "ner_anercorp", "issue": 2,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": ["benchmarks/ner_anercorp.py", *(sys.argv[1:] if argv is None else argv)],
        "machine": _machine(), "versions": _versions(),
        "data": {"train": str(paths.train), "train_sentences": len(train),
                 "max_train_sentences": args.max_train_sentences,
                 **{name: {"path": str(path), "sentences": len(tests[name]), "sha256": _sha256(path)}
                    for name, path in test_files.items()}},
        "systems": results,
    }
    if "ours" in results and "plain" in results:
        f1 = {name: results[name]["anercorp_test"]["strict"]["f1"] for name in ("ours", "plain")}
        delta = f1["ours"] - f1["plain"]
        report["target"] = {"metric": "ANERcorp test strict micro-F1, ours - plain", "margin": TARGET_MARGIN,
                            "delta": round(delta, 2), "met": delta >= TARGET_MARGIN,
                            "full_data": args.max_train_sentences is None}
    out = _resolve(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(format_table(results))
    if "target" in report:
        t = report["target"]
        print(f"target (ours >= plain + {TARGET_MARGIN} strict F1): delta {t['delta']:+.2f} -> "
              f"{'MET' if t['met'] else 'NOT MET'}")
    print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
