"""Command line: ``tagger train | predict | eval | quickstart | export | suggest | import-annotations | serve | adapt``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tagger.errors import ConfigError, TaggerError

log = logging.getLogger("tagger")


PREDICT_HELP = """\
Tag texts with a trained model and write one JSON object per text (JSONL).

inputs:
  .json / .jsonl files are JSON lines: one {"text": ..., "id": ...} object per line (blank lines skipped).
  Other files hold one text per line; lines split on \\n only (a \\r\\n ending loses its \\r). Stdin ('-') is
  read as JSON lines when its first non-blank line starts with '{', else as text lines. Inputs must be UTF-8
  (a BOM is ignored); convert others first, e.g. iconv -f cp1256 -t utf-8 IN > OUT.

output records:
  {"id"?, "text", "entities": [{"text", "label", "start", "end", "score"}], "topics"?, "topic_scores"?}
  "id" is copied from a JSON input record that has one (first key); text lines get no id. A summary line
  (texts, entities, topics, speed) goes to stderr; stdout only ever carries JSONL.

writing -o FILE:
  Results go to FILE.partial, renamed over FILE when every input is tagged: on an error FILE is left as it
  was. FILE.resume.json records the model and inputs so that --resume can check it continues the same run.
  After Ctrl-C or a kill, run the same command with --resume to finish.
"""


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return number


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tagger", description="Arabic NER and topic tagging with AraBERT-like encoders")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging, and all of transformers' output (load reports, progress bars)")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="fine-tune a model from a YAML/JSON config")
    t.add_argument("config", help="training config (see training/configs/)")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (repeatable), e.g. --set epochs=2 --set model=path/to/encoder")

    pr = sub.add_parser("predict", help="tag text lines or JSONL records; writes JSONL",
                        description=PREDICT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    pr.add_argument("model", help="model directory (or a bundle with ner/ and topics/)")
    pr.add_argument("files", nargs="*", default=["-"],
                    help="UTF-8 input files ('-' = stdin): .json/.jsonl are JSON lines with a \"text\" (and \"id\"), "
                         "other files one text per line")
    pr.add_argument("-o", "--output", default="-",
                    help="output JSONL file ('-' = stdout); missing directories are created")
    pr.add_argument("--batch-size", type=_positive_int, default=64)
    pr.add_argument("--chunk-size", type=_positive_int, default=512, help="texts read, tagged and written per step")
    pr.add_argument("--resume", action="store_true",
                    help="continue an interrupted run into the same -o: checks that its results belong to these "
                         "inputs, skips them and appends the rest")
    pr.add_argument("--device", default=None)
    pr.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                    help="auto: bf16 autocast on CUDA, fp32 on CPU; bf16 also on CPU (AMX)")
    pr.add_argument("--threads", type=_positive_int, default=None, help="CPU threads for torch (default: torch's)")

    ev = sub.add_parser("eval", help="evaluate model(s) on a data file; writes metrics.json and reports")
    ev.add_argument("models", nargs="+", help="one or more model directories (compared side by side)")
    ev.add_argument("--data", required=True, help="CoNLL or JSONL evaluation data")
    ev.add_argument("--out", required=True, help="output directory")
    ev.add_argument("--baselines", action="store_true", help="also train CRF / TF-IDF baselines on --train")
    ev.add_argument("--train", default=None, help="training data for --baselines")
    ev.add_argument("--bootstrap", type=int, default=1000, help="bootstrap samples for confidence intervals")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--top-errors", type=int, default=20, help="most frequent NER errors listed with context")
    ev.add_argument("--examples", type=int, default=5, help="false positives/negatives shown per topic label")
    ev.add_argument("--batch-size", type=int, default=64, help="documents per prediction batch")
    ev.add_argument("--no-progress", action="store_true", help="no progress bars")

    q = sub.add_parser("quickstart", help="train on the bundled seed corpus, evaluate, tag the seed article")
    q.add_argument("--model", default=os.environ.get("TAGGER_MODEL", "aubmindlab/bert-base-arabertv02"),
                   help="encoder (hub id or local dir); default $TAGGER_MODEL or AraBERT v0.2 base")
    q.add_argument("--out", default="runs/quickstart", help="where the bundle (ner/, topics/) is written")
    q.add_argument("--seeds", default=None, help="seed corpus directory (default: the repository's seeds/)")
    q.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of both training configs")
    q.add_argument("--overwrite", action="store_true",
                   help="replace --out even when it is not a bundle this command wrote (never a folder holding the seeds)")

    x = sub.add_parser("export", help="export a model directory to ONNX (optionally int8-quantised)")
    x.add_argument("model")
    x.add_argument("--onnx", required=True, dest="out", help="output directory")
    x.add_argument("--quantize", choices=["int8"], default=None)
    x.add_argument("--dev", default=None, help="dev file for the parity check's strict F1 / micro-F1")
    x.add_argument("--overwrite", action="store_true", help="replace OUT even when it is not a model directory")
    so = sub.add_parser("soup", help="average the weights of models trained with one recipe (seeds) into one model")
    so.add_argument("models", nargs="+", help="two or more model directories (same encoder, labels and settings)")
    so.add_argument("--out", required=True, help="output model directory")
    so.add_argument("--dev", default=None, help="dev file: scores each model and the soup; tunes a topic soup's "
                    "thresholds (required for topics)")
    so.add_argument("--greedy", action="store_true", help="keep a model only if the soup's dev score does not fall "
                    "(best first; needs --dev)")
    so.add_argument("--overwrite", action="store_true", help="replace OUT even when it is not a model directory")
    sg = sub.add_parser("suggest", help="rank an unlabelled pool for annotation; writes Label Studio / doccano tasks",
                        description="Choose the pool documents to annotate next: with --label NEW, those most similar "
                                    "to its --examples / --terms; without, those the model is least sure about. A "
                                    "--random-share of random documents is mixed in, near-duplicates are dropped.")
    sg.add_argument("model", help="model directory or bundle (with --label, also a plain encoder directory)")
    sg.add_argument("--pool", required=True, help="unlabelled documents: JSONL ({\"text\", \"id\"?}), text lines, "
                                                  "parquet, or a saved `datasets` dataset directory")
    sg.add_argument("--label", default=None, help="a new label to find documents for")
    sg.add_argument("--examples", default=None, help="JSONL or text lines: a few texts that have the new label")
    sg.add_argument("--terms", nargs="+", default=None, metavar="TERM", help="seed terms of the new label")
    sg.add_argument("--entity", action="store_true", help="the new label is an entity type (default: a topic)")
    sg.add_argument("-n", type=int, required=True, help="how many documents to suggest")
    sg.add_argument("--out", required=True, help="output directory (tasks.json, labeling_config.xml, doccano.jsonl, "
                                                 "suggestions.jsonl)")
    sg.add_argument("--random-share", type=float, default=0.2, help="share of random pool documents (default 0.2)")
    sg.add_argument("--seed", type=int, default=0)
    sg.add_argument("--method", choices=["char", "encoder"], default=None,
                    help="similarity for --label: char n-gram TF-IDF (default) or the model's encoder")
    sg.add_argument("--dedup", type=float, default=0.9, help="drop a document whose char n-gram cosine with one "
                                                             "already chosen is at least this (default 0.9)")
    sg.add_argument("--overwrite", action="store_true", help="replace the files in --out")

    ia = sub.add_parser("import-annotations", help="Label Studio / Doccano export -> our JSONL, every span verified",
                        description="Read a Label Studio JSON (or JSON-MIN) or Doccano JSONL export and write our JSONL "
                                    "records. Spans are checked against the text and repaired where the tool counted "
                                    "differently (UTF-16 offsets, CRLF/LF, NFC/NFD, edge whitespace); tasks without a "
                                    "(non-cancelled) annotation are skipped. One summary line goes to stderr (-v lists "
                                    "the skipped tasks).")
    ia.add_argument("export", help="the export file")
    ia.add_argument("--out", required=True, help="output JSONL (never the export; an existing file needs --overwrite)")
    ia.add_argument("--format", dest="fmt", choices=["auto", "labelstudio", "doccano"], default="auto")
    ia.add_argument("--annotations", default="latest", metavar="latest|all|annotator:ID",
                    help="which annotation of a task: the latest (default), all of them, or the latest by one annotator")
    ia.add_argument("--on-error", choices=["fail", "skip"], default="fail",
                    help="a span that does not fit its text: stop (default) or skip that annotation and list it")
    ia.add_argument("--overwrite", action="store_true", help="replace an existing --out")

    ad = sub.add_parser("adapt", help="continue pre-training an encoder on your unlabelled domain text (masked LM)",
                        description="Domain-adaptive pre-training: masked-LM with whole-word masking on unlabelled "
                                    "in-domain text, normalised as fine-tuning normalises it. Prints the held-out "
                                    "masked-LM loss before and after. Interrupted? Run the same command again: it "
                                    "continues from the last checkpoint. Give OUT as `model:` in a training config.")
    ad.add_argument("encoder", help="the encoder to adapt (hub id or local directory)")
    ad.add_argument("--corpus", required=True, action="append", metavar="FILE|DIR",
                    help="unlabelled text (repeatable): JSON lines with a \"text\", text lines, parquet, or a `datasets` "
                         "directory saved with save_to_disk")
    ad.add_argument("--out", required=True, help="where the adapted encoder is written")
    ad.add_argument("--epochs", type=float, default=1.0)
    ad.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (overrides --epochs)")
    ad.add_argument("--batch-size", type=_positive_int, default=32)
    ad.add_argument("--learning-rate", type=float, default=5e-5)
    ad.add_argument("--max-length", type=_positive_int, default=128, help="sub-tokens per segment (128)")
    ad.add_argument("--mlm-probability", type=float, default=0.15)
    ad.add_argument("--eval-share", type=float, default=0.05, help="documents held out for the loss (0.05, at most 2000)")
    ad.add_argument("--seed", type=int, default=42)
    ad.add_argument("--save-steps", type=_positive_int, default=200, help="checkpoint every N steps (resume point)")
    ad.add_argument("--config", default=None, help="a training config whose `normalization:` block to use "
                                                   "(default: the training defaults)")
    ad.add_argument("--threads", type=_positive_int, default=None, help="CPU threads for torch")
    ad.add_argument("--overwrite", action="store_true", help="replace OUT even when it is not an adapted encoder")

    sv = sub.add_parser("serve", help="HTTP service: POST /v1/tag, /health, /ready, /metrics and a page at / "
                                      "(needs the [serve] extra)",
                        description="Serve a model over HTTP (FastAPI + uvicorn). The model is loaded before the port "
                                    "is bound. Concurrent requests are merged into one model call (micro-batching). "
                                    "SIGTERM / Ctrl-C: requests in flight finish, then it exits.")
    sv.add_argument("model", help="model directory (or a bundle with ner/ and topics/)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--max-wait-ms", type=float, default=5.0, help="how long a batch waits for more requests (5)")
    sv.add_argument("--max-batch-texts", type=_positive_int, default=64, help="texts per model call (64)")
    sv.add_argument("--max-texts", type=_positive_int, default=256, help="texts per request, else 413 (256)")
    sv.add_argument("--max-chars", type=_positive_int, default=100_000, help="characters per text, else 413 (100000)")
    sv.add_argument("--timeout-s", type=float, default=60.0, help="per request, queueing included, else 504 (60)")
    sv.add_argument("--no-batching", action="store_true", help="one request per model call")
    sv.add_argument("--device", default=None)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from tagger import console

    console.set_verbose(True if args.verbose else None)  # None: quiet unless TAGGER_VERBOSE=1
    try:
        return _COMMANDS[args.command](args)
    except TaggerError as err:
        print(f"tagger {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tagger {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `tagger predict ... | head`: the reader has gone; nothing left to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


# ---------------------------------------------------------------------------------------------- train
def _train(args: argparse.Namespace) -> int:
    from tagger.trainer import train

    result = train(args.config, args.overrides)
    best = result.metrics.get("best_dev_f1")
    print(f"saved {result.output_dir}" + (f"  (best dev F1 {best:.4f})" if best is not None else "  (no dev set)")
          + f"; all dev metrics: {result.output_dir / 'metrics.json'}")
    return 0


# ---------------------------------------------------------------------------------------------- predict
def _predict(args: argparse.Namespace) -> int:
    from tagger.predict_cli import PredictOptions, run_predict

    return run_predict(PredictOptions(
        model=args.model, files=args.files, output=args.output, batch_size=args.batch_size,
        chunk_size=args.chunk_size, resume=args.resume, device=args.device, precision=args.precision,
        threads=args.threads,
    ))


# ---------------------------------------------------------------------------------------------- eval
def _eval(args: argparse.Namespace) -> int:
    from tagger.report import run_eval

    if args.baselines and not args.train:
        raise ConfigError("--baselines needs --train FILE (the data the baselines are trained on)")
    result = run_eval(args.models, args.data, args.out, baselines=args.baselines, train=args.train,
                      n_bootstrap=args.bootstrap, seed=args.seed, top_k=args.top_errors, examples=args.examples,
                      batch_size=args.batch_size, progress=not args.no_progress)
    from tagger.report import headline

    print("\n".join(headline(result)))
    print(f"wrote {Path(args.out) / 'metrics.json'}, report.md, report.html")
    return 0


# ---------------------------------------------------------------------------------------------- quickstart
def _quickstart(args: argparse.Namespace) -> int:
    from tagger.quickstart import run_quickstart

    return run_quickstart(model=args.model, out=args.out, seeds=args.seeds, overrides=args.overrides,
                          overwrite=args.overwrite)


def _export(args: argparse.Namespace) -> int:
    from tagger.export import export_onnx

    report = export_onnx(args.model, args.out, quantize=args.quantize, dev=args.dev, overwrite=args.overwrite)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def _suggest(args: argparse.Namespace) -> int:
    from tagger.suggest import SuggestOptions, run_suggest

    return run_suggest(SuggestOptions(
        model=args.model, pool=args.pool, out=args.out, n=args.n, label=args.label, examples=args.examples,
        terms=args.terms, entity=args.entity, method=args.method, random_share=args.random_share, dedup=args.dedup,
        seed=args.seed, overwrite=args.overwrite,
    ))


def _import_annotations(args: argparse.Namespace) -> int:
    from tagger.annotate.importer import import_to_file

    result = import_to_file(args.export, args.out, fmt=args.fmt, annotations=args.annotations, on_error=args.on_error,
                            overwrite=args.overwrite)
    print(f"{result.summary()}; wrote {args.out}", file=sys.stderr)
    return 0


def _adapt(args: argparse.Namespace) -> int:
    from tagger.adapt import AdaptOptions, run_adapt

    result = run_adapt(AdaptOptions(
        encoder=args.encoder, corpus=args.corpus, out=args.out, epochs=args.epochs, max_steps=args.max_steps,
        batch_size=args.batch_size, learning_rate=args.learning_rate, max_length=args.max_length,
        mlm_probability=args.mlm_probability, eval_share=args.eval_share, seed=args.seed, save_steps=args.save_steps,
        config=args.config, threads=args.threads, overwrite=args.overwrite,
    ))
    print(result.summary())
    return 0


def _soup(args: argparse.Namespace) -> int:
    from tagger.soup import soup_models

    result = soup_models(args.models, args.out, dev=args.dev, greedy=args.greedy, overwrite=args.overwrite)
    print(result.summary())
    return 0


def _serve(args: argparse.Namespace) -> int:
    from tagger.serve import serve

    return serve(args.model, host=args.host, port=args.port, max_wait_ms=args.max_wait_ms,
                 max_batch_texts=args.max_batch_texts, max_texts=args.max_texts, max_chars=args.max_chars,
                 timeout_s=args.timeout_s, batching=not args.no_batching, device=args.device)


_COMMANDS = {"adapt": _adapt, "serve": _serve, "train": _train, "predict": _predict, "eval": _eval, "quickstart": _quickstart, "export": _export, "suggest": _suggest,
             "import-annotations": _import_annotations, "soup": _soup}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
