"""Tag a folder of parquet / JSONL files with Ray Data and write parquet; prints texts/s (issue 19, part 3).

Each actor loads the model once (``tagger.integrations.ray_data.TaggerPredictor``): onnxruntime on CPU actors when
the model directory holds ``model.onnx`` (``tagger export --onnx OUT --quantize int8``), torch bf16 on GPU actors.
Output: one parquet dataset under ``--out`` with the input columns plus ``entities`` (JSON string per row),
``topics`` and ``topic_scores`` (for a topic model).

Local (this machine's CPUs)::

    python benchmarks/ray_tag.py MODEL_DIR INPUT_DIR --out tagged/ --concurrency 2 --threads 1

A cluster (the same paths readable on every node, e.g. a shared filesystem or s3://)::

    ray start --head --port=6379                      # on the head node
    ray start --address=HEAD_IP:6379                  # on every worker node
    python benchmarks/ray_tag.py MODEL_DIR s3://bucket/corpus/ --out s3://bucket/tagged/ \\
        --address auto --concurrency 8 --num-gpus 1     # on the head node: 8 GPU actors

Leave Ray CPUs for the read and write tasks: ``concurrency * threads`` below the cluster's CPUs (on a 2-core
machine ``--num-cpus 3 --concurrency 2 --threads 1``), else the actors hold every CPU and the reads never start.
The time printed covers the whole run (actor start-up and model loads included, reading and writing too).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tagger.integrations.ray_data import import_ray, tag_ray_dataset  # noqa: E402

JSON_SUFFIXES = (".jsonl", ".json")


def read_input(ray, source: str, fmt: str):
    """A Ray dataset over ``source`` (a directory, a file or a URI): parquet or JSON lines."""
    if fmt == "auto":
        if source.endswith(JSON_SUFFIXES):
            fmt = "json"
        elif Path(source).is_dir():
            names = [p.suffix for p in Path(source).iterdir() if p.is_file()]
            fmt = "json" if any(s in JSON_SUFFIXES for s in names) and ".parquet" not in names else "parquet"
        else:
            fmt = "parquet"
    if fmt == "json":
        return ray.data.read_json(source, file_extensions=["jsonl", "json"])
    return ray.data.read_parquet(source)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model directory or bundle (ner/, topics/), readable on every node")
    p.add_argument("input", help="a parquet / JSONL file or a folder of them (local path or URI)")
    p.add_argument("--out", required=True, help="output folder for the parquet files")
    p.add_argument("--format", choices=["auto", "parquet", "json"], default="auto")
    p.add_argument("--text-column", default="text")
    p.add_argument("--batch-size", type=int, default=64, help="rows per predictor call (default 64)")
    p.add_argument("--concurrency", type=int, default=1, help="actors, each with its own model copy (default 1)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (and Ray CPUs) per CPU actor (default 1)")
    p.add_argument("--num-gpus", type=float, default=0, help="GPUs per actor (0 = CPU actors)")
    p.add_argument("--address", default=None, help="'auto' to join a running cluster (default: a local Ray)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all)")
    args = p.parse_args(argv)

    if args.num_cpus and not args.num_gpus and args.concurrency * args.threads >= args.num_cpus:
        p.error(f"--concurrency x --threads = {args.concurrency * args.threads} leaves none of --num-cpus "
                f"{args.num_cpus} for reading and writing; raise --num-cpus or lower them")
    ray = import_ray()
    start = time.perf_counter()
    if args.address:
        ray.init(address=args.address)
    else:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    ready = time.perf_counter()
    ds = read_input(ray, args.input, args.format)
    tagged = tag_ray_dataset(ds, args.model, text_column=args.text_column, batch_size=args.batch_size,
                             concurrency=args.concurrency, num_gpus=args.num_gpus, threads=args.threads)
    tagged.write_parquet(args.out)
    done = time.perf_counter()
    n = ray.data.read_parquet(args.out).count()  # parquet metadata only
    print(f"tagged {n} texts in {done - ready:.1f} s (Ray start-up {ready - start:.1f} s not counted): "
          f"{n / (done - ready):.1f} texts/s; concurrency={args.concurrency} threads={args.threads} "
          f"num_gpus={args.num_gpus} batch_size={args.batch_size} -> {args.out}")
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
