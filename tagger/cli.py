"""Command line: ``tagger train | predict | eval | quickstart | export``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from tagger.errors import ConfigError, DataError, TaggerError
from tagger.io import iter_jsonl_lines

log = logging.getLogger("tagger")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tagger", description="Arabic NER and topic tagging with AraBERT-like encoders")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="fine-tune a model from a YAML/JSON config")
    t.add_argument("config", help="training config (see training/configs/)")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (repeatable), e.g. --set epochs=2 --set model=path/to/encoder")

    pr = sub.add_parser("predict", help="tag text lines or JSONL records; writes JSONL")
    pr.add_argument("model", help="model directory (or a bundle with ner/ and topics/)")
    pr.add_argument("files", nargs="*", default=["-"], help="input files ('-' = stdin); .jsonl uses the 'text' field")
    pr.add_argument("-o", "--output", default="-", help="output JSONL file ('-' = stdout)")
    pr.add_argument("--batch-size", type=int, default=64)
    pr.add_argument("--chunk-size", type=int, default=512, help="texts read, tagged and written per step")
    pr.add_argument("--resume", action="store_true", help="skip input lines already present in --output")
    pr.add_argument("--device", default=None)
    pr.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                    help="auto: bf16 autocast on CUDA, fp32 on CPU; bf16 also on CPU (AMX)")
    pr.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's)")

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

    x = sub.add_parser("export", help="export a model directory to ONNX (optionally int8-quantised)")
    x.add_argument("model")
    x.add_argument("--onnx", required=True, dest="out", help="output directory")
    x.add_argument("--quantize", choices=["int8"], default=None)
    x.add_argument("--dev", default=None, help="dev file for the parity check's strict F1 / micro-F1")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _COMMANDS[args.command](args)
    except TaggerError as err:
        print(f"tagger {args.command}: error: {err}", file=sys.stderr)
        return 2


# ---------------------------------------------------------------------------------------------- train
def _train(args: argparse.Namespace) -> int:
    from tagger.train import train

    result = train(args.config, args.overrides)
    print(json.dumps({"output_dir": str(result.output_dir), **result.metrics}, ensure_ascii=False, indent=2))
    return 0


# ---------------------------------------------------------------------------------------------- predict
def _read_inputs(files: list[str], skip: int) -> Iterator[tuple[int, str]]:
    n = 0
    for name in files:
        fh = sys.stdin if name == "-" else open(name, encoding="utf-8")  # noqa: SIM115
        try:
            if name.endswith(".jsonl"):
                texts = (_record_text(record, where) for where, _, record in iter_jsonl_lines(fh, name))
            else:
                texts = (line.rstrip("\n") for line in fh)
            for text in texts:
                n += 1
                if n > skip:
                    yield n, text
        finally:
            if fh is not sys.stdin:
                fh.close()


def _record_text(record, where: str) -> str:
    text = record.get("text") if isinstance(record, dict) else None
    if not isinstance(text, str):
        raise DataError(f"{where}: record has no string \"text\"")
    return text


def _complete_lines(path: Path) -> int:
    """Count the complete lines of ``path`` and cut off a partial last line (a write that was interrupted)."""
    count = end = pos = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            count += block.count(b"\n")
            k = block.rfind(b"\n")
            if k >= 0:
                end = pos + k + 1
            pos += len(block)
    if end < pos:
        log.warning("%s: dropping an incomplete last line (%d bytes) before resuming", path, pos - end)
        with open(path, "r+b") as fh:
            fh.truncate(end)
    return count


def _predict(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tagger.predict import Tagger

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    tagger = Tagger.from_pretrained(args.model, device=args.device, batch_size=args.batch_size, precision=args.precision)
    done = 0
    if args.resume and args.output != "-" and Path(args.output).is_file():
        done = _complete_lines(Path(args.output))
    out = sys.stdout if args.output == "-" else open(args.output, "a" if args.resume else "w", encoding="utf-8")  # noqa: SIM115
    try:
        chunk: list[str] = []
        bar = tqdm(desc="tagging", unit="text", initial=done, disable=None, file=sys.stderr)

        def flush() -> None:
            for pred in tagger.predict(chunk):
                out.write(json.dumps(pred.to_dict(), ensure_ascii=False) + "\n")
            out.flush()
            bar.update(len(chunk))
            chunk.clear()

        for _, text in _read_inputs(args.files, done):
            chunk.append(text)
            if len(chunk) >= args.chunk_size:
                flush()
        if chunk:
            flush()
        bar.close()
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


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

    return run_quickstart(model=args.model, out=args.out, seeds=args.seeds, overrides=args.overrides)


def _export(args: argparse.Namespace) -> int:
    from tagger.export import export_onnx

    report = export_onnx(args.model, args.out, quantize=args.quantize, dev=args.dev)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


_COMMANDS = {"train": _train, "predict": _predict, "eval": _eval, "quickstart": _quickstart, "export": _export}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
