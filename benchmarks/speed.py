"""Prediction speed, memory and accuracy: transformers pipelines vs our torch / ONNX fp32 / ONNX int8 paths.

One run compares every system on the same model and the same texts:

* ``pipeline``     -- ``pipeline("token-classification", aggregation_strategy="simple")`` (NER) or
  ``pipeline("text-classification", top_k=None, truncation=True)`` (topics), called the default way
  (its ``batch_size`` default of 1);
* ``pipeline-b32`` -- the same pipeline with ``batch_size=32``;
* ``torch``        -- ``Tagger`` on the saved model, default precision (fp32 on CPU; bf16 autocast on CUDA);
* ``torch-bf16``   -- (CPU) ``Tagger.from_pretrained(..., precision="bf16")``: bf16 autocast on CPU (AMX);
* ``torch-fp32``   -- (CUDA) ``Tagger`` with ``precision="fp32"``;
* ``onnx``         -- ``tagger export --onnx`` fp32 through onnxruntime;
* ``onnx-int8``    -- ``tagger export --onnx --quantize int8`` (dynamic int8) through onnxruntime.

Texts: NER models get the sentences of ``anercorp/test.conll`` joined back to text (gold: its tags, scored with
strict seqeval-style F1 at word level); topic models get ``gold/topics-dev.jsonl`` (scored with micro-F1 at the
model's thresholds; the pipeline's sigmoid scores are thresholded the same way). Each system runs in its own
process (so peak RSS is its own) on the same texts, sent as requests of ``--request-size`` texts, round-robin
over the systems (so that load from other programs hits all alike); latency is per request. ``tokens/s`` counts the model tokenizer's sub-tokens of the raw texts (no special tokens).

Models (``--models``, comma-separated ``TASK=DIR`` or a built-in name):
  ``arabert-shape-ner`` / ``arabert-shape-topics`` -- randomly initialised BERT with AraBERT v0.2's exact shape
  (12 layers, hidden 768, 12 heads, intermediate 3072, vocab 64000, 512 positions; the mini encoder's tokenizer),
  so timings carry over to AraBERT (accuracy of a random model is meaningless and marked so);
  ``mini-ner`` / ``mini-topics`` -- the pretrained mini encoder with an untrained head.

Examples::

    python benchmarks/speed.py --models ner=runs/anercorp-mini,topics=runs/topics-mini
    python benchmarks/speed.py --models arabert-shape-ner --ner-texts 300
    python benchmarks/speed.py --device cuda --models ner=runs/anercorp-mini,arabert-shape-ner   # GPU: bf16 vs pipeline
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CPU_SYSTEMS = ("pipeline", "pipeline-b32", "torch", "torch-bf16", "onnx", "onnx-int8")
CUDA_SYSTEMS = ("pipeline", "pipeline-b32", "torch-fp32", "torch")
BUILTIN = ("arabert-shape-ner", "arabert-shape-topics", "mini-ner", "mini-topics")
NER_TYPES = ["LOC", "MISC", "ORG", "PER"]
TOPIC_LABELS = ["5G", "cybersecurity", "e-government", "space"]


class BenchmarkError(Exception):
    """A model, data file or system the benchmark needs is missing or failed."""


@dataclass
class ModelSpec:
    name: str
    task: str
    path: Path
    random: bool  # accuracy is meaningless


# ------------------------------------------------------------------------------------------------ models
def _builtin_model(name: str, work: Path) -> ModelSpec:
    task = "ner" if name.endswith("-ner") else "topics"
    out = work / name
    if not (out / "config.json").is_file():
        _build_builtin(name, task, out)
    return ModelSpec(name, task, out, random=True)


def _build_builtin(name: str, task: str, out: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, BertConfig

    from tagger.examples import ner_tags
    from tagger.model import TaggerBlock, load_tokenizer, save_model_dir

    encoder = SHARED / "models" / "arabic-mini-bert"
    if not encoder.is_dir():
        raise BenchmarkError(f"{encoder}: the mini encoder (for its tokenizer) is missing; pass --shared")
    tokenizer = load_tokenizer(str(encoder))
    names = ner_tags(NER_TYPES) if task == "ner" else TOPIC_LABELS
    kwargs: dict[str, Any] = {"num_labels": len(names), "id2label": dict(enumerate(names)),
                              "label2id": {x: i for i, x in enumerate(names)}}
    if task == "topics":
        kwargs["problem_type"] = "multi_label_classification"
    torch.manual_seed(0)
    if name.startswith("arabert-shape"):
        config = BertConfig(vocab_size=64000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                            intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2, **kwargs)
        cls = AutoModelForTokenClassification if task == "ner" else AutoModelForSequenceClassification
        model = cls.from_config(config)
        tokenizer.model_max_length = 512
        max_length = 512
    else:
        from tagger.model import load_model

        model = load_model(str(encoder), task, names if task == "topics" else NER_TYPES, names if task == "ner" else None)
        max_length = 256
    block = TaggerBlock(task=task, labels=names, max_length=max_length, stride=32, base_model=name,
                        thresholds={x: 0.5 for x in names} if task == "topics" else {})
    save_model_dir(out, model, tokenizer, block)


def parse_models(text: str, work: Path) -> list[ModelSpec]:
    from tagger.model import read_block

    specs = []
    for item in [x.strip() for x in text.split(",") if x.strip()]:
        if item in BUILTIN:
            specs.append(_builtin_model(item, work))
            continue
        task, sep, path = item.partition("=")
        if not sep or task not in ("ner", "topics"):
            raise BenchmarkError(f"--models: {item!r} is neither TASK=DIR (task ner|topics) nor one of {BUILTIN}")
        block = read_block(path)
        if block.task != task:
            raise BenchmarkError(f"--models: {path} holds a {block.task!r} model, not {task!r}")
        specs.append(ModelSpec(Path(path).name, task, Path(path), random=False))
    return specs


def onnx_dir(spec: ModelSpec, quantize: str | None, work: Path) -> Path:
    """Export once per (model, quantisation); reused while the model directory is unchanged."""
    from tagger.export import export_onnx

    stamp = int((spec.path / "model.safetensors").stat().st_mtime)
    out = work / "onnx" / f"{spec.name}-{stamp}-{quantize or 'fp32'}"
    if not (out / "model.onnx").is_file():
        print(f"  exporting {spec.name} to ONNX ({quantize or 'fp32'}) ...", file=sys.stderr, flush=True)
        export_onnx(spec.path, out, quantize=quantize)
    return out


# ------------------------------------------------------------------------------------------------ texts
def load_texts(task: str, limit: int | None, shared: Path) -> tuple[list[str], list[Any], list[list[tuple[int, int]]]]:
    """Texts, gold (tag lists or label sets) and word spans (NER) -- the first ``limit`` of the file."""
    from tagger.align import entities_to_tags
    from tagger.data.io import read_conll, read_jsonl

    if task == "ner":
        path = shared / "data" / "splits" / "anercorp" / "test.conll"
        if not path.is_file():
            raise BenchmarkError(f"{path}: missing; pass --shared")
        docs = read_conll(path)[:limit]
        return [d.text for d in docs], [entities_to_tags(d.words, d.entities) for d in docs], [d.words for d in docs]
    path = shared / "data" / "gold" / "topics-dev.jsonl"
    if not path.is_file():
        raise BenchmarkError(f"{path}: missing; pass --shared")
    docs = read_jsonl(path)[:limit]
    return [d.text for d in docs], [set(d.topics or []) for d in docs], []


# ------------------------------------------------------------------------------------------------ worker
def _make_predictor(system: str, task: str, model: Path, onnx: Path | None, device: str, threads: int):
    import torch

    torch.set_num_threads(threads)
    if system.startswith("pipeline"):
        from transformers import pipeline

        dev = 0 if device == "cuda" else -1
        bs = 32 if system.endswith("b32") else 1
        if task == "ner":
            nlp = pipeline("token-classification", model=str(model), aggregation_strategy="simple", device=dev)
            return lambda texts: [[(e["start"], e["end"], e["entity_group"]) for e in out]
                                  for out in nlp(texts, batch_size=bs)]
        nlp = pipeline("text-classification", model=str(model), top_k=None, device=dev)
        return lambda texts: [{d["label"]: float(d["score"]) for d in out}
                              for out in nlp(texts, batch_size=bs, truncation=True, function_to_apply="sigmoid")]
    from tagger.predict import Tagger

    if system.startswith("onnx"):
        from tagger.export import onnx_head

        head = onnx_head(onnx, threads=threads)
        tagger = Tagger(**{task: head})
    else:
        precision = {"torch-fp32": "fp32", "torch-bf16": "bf16"}.get(system, "auto")
        tagger = Tagger.from_pretrained(model, device=device, precision=precision)
    if task == "ner":
        return lambda texts: [[(e.start, e.end, e.label) for e in p.entities] for p in tagger.predict(texts)]
    return lambda texts: [dict(p.topics.scores) for p in tagger.predict(texts)]


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it does not inherit the parent's at fork)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(conn, job: dict) -> None:
    """Worker process: load one system, then time each request the parent sends, until it sends None."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    sys.path.insert(0, str(REPO))
    started = time.perf_counter()
    predict = _make_predictor(job["system"], job["task"], Path(job["model"]),
                              Path(job["onnx"]) if job["onnx"] else None, job["device"], job["threads"])
    predict(job["warmup"])  # warm-up (not timed)
    cuda = job["device"] == "cuda"
    if cuda:
        import torch

        torch.cuda.reset_peak_memory_stats()
    conn.send({"load_s": time.perf_counter() - started})
    while (texts := conn.recv()) is not None:
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = predict(texts)
        conn.send((time.perf_counter() - t0, out))
    final = {"peak_rss_mb": peak_rss_mb()}
    if cuda:
        final.update(peak_gpu_mb=torch.cuda.max_memory_allocated() / 2**20, gpu=torch.cuda.get_device_name())
    conn.send(final)


def run_systems(spec: ModelSpec, texts: list[str], args: argparse.Namespace, work: Path) -> dict[str, dict]:
    """All systems in their own processes, fed the same requests round-robin (rotating who goes first), so
    that load from other programs on a shared machine hits every system alike."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    size = args.request_size
    procs: dict[str, tuple] = {}
    results: dict[str, dict] = {}
    try:
        for system in args.systems:
            onnx = onnx_dir(spec, "int8" if system == "onnx-int8" else None, work) if system.startswith("onnx") else None
            job = {"system": system, "task": spec.task, "model": str(spec.path), "onnx": str(onnx) if onnx else None,
                   "device": args.device, "threads": args.threads, "warmup": texts[:size]}
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=serve, args=(child, job), daemon=True)
            proc.start()
            print(f"  {spec.name}: loading {system} ...", file=sys.stderr, flush=True)
            if not parent.poll(900):
                raise BenchmarkError(f"{system} on {spec.name}: no answer after 15 minutes of loading")
            results[system] = {**parent.recv(), "latencies": [], "outputs": []}
            procs[system] = (proc, parent)
        requests = [texts[i : i + size] for i in range(0, len(texts), size)]
        print(f"  {spec.name}: {len(requests)} requests x {len(procs)} systems ...", file=sys.stderr, flush=True)
        for k, request in enumerate(requests):
            names = list(procs)
            for system in names[k % len(names):] + names[: k % len(names)]:
                proc, conn = procs[system]
                conn.send(request)
                seconds, out = conn.recv()
                results[system]["latencies"].append(seconds)
                results[system]["outputs"].extend(out)
        for system, (_proc, conn) in procs.items():
            conn.send(None)
            results[system].update(conn.recv())
    except EOFError as err:
        raise BenchmarkError(f"a worker of {spec.name} died (see its traceback above)") from err
    finally:
        for proc, _ in procs.values():
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
    return results


# ------------------------------------------------------------------------------------------------ scoring
def score(task: str, outputs: list, gold: list, words: list, spec: ModelSpec) -> float:
    import numpy as np

    if task == "ner":
        from tagger.align import entities_to_tags
        from tagger.metrics import ner_metrics
        from tagger.schema import Span

        pred = [entities_to_tags(w, [Span(s, e, lab) for s, e, lab in spans]) for w, spans in zip(words, outputs)]
        return ner_metrics(gold, pred)["strict"]["f1"]
    from tagger.metrics import topic_metrics
    from tagger.model import read_block

    block = read_block(spec.path)
    labels = list(block.labels)
    scores = np.array([[row.get(lab, 0.0) for lab in labels] for row in outputs])
    return topic_metrics([g & set(labels) for g in gold], scores, labels, block.thresholds)["micro_f1"]


def n_subtokens(spec: ModelSpec, texts: list[str]) -> int:
    from tagger.model import load_tokenizer

    tok = load_tokenizer(str(spec.path))
    return sum(len(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"])


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.array(values), q)) if values else float("nan")


def run_model(spec: ModelSpec, args: argparse.Namespace, work: Path) -> list[dict]:
    limit = args.ner_texts if spec.task == "ner" else args.topic_texts
    texts, gold, words = load_texts(spec.task, limit, args.shared)
    tokens = n_subtokens(spec, texts)
    results = run_systems(spec, texts, args, work)
    rows = []
    for system in args.systems:
        res = results[system]
        total = sum(res["latencies"])
        rows.append({
            "model": spec.name, "task": spec.task, "system": system, "texts": len(texts), "tokens": tokens,
            "seconds": total, "texts_per_s": len(texts) / total, "tokens_per_s": tokens / total,
            "p50_ms": 1000 * percentile(res["latencies"], 50), "p95_ms": 1000 * percentile(res["latencies"], 95),
            "peak_rss_mb": res["peak_rss_mb"], "peak_gpu_mb": res.get("peak_gpu_mb"), "gpu": res.get("gpu"),
            "load_s": res["load_s"], "f1": score(spec.task, res["outputs"], gold, words, spec),
            "random_model": spec.random,
        })
    base = next((r for r in rows if r["system"] == "pipeline"), None)
    for r in rows:
        r["speedup"] = r["texts_per_s"] / base["texts_per_s"] if base else None
        r["f1_delta_points"] = 100 * (r["f1"] - base["f1"]) if base else None
    return rows


# ------------------------------------------------------------------------------------------------ output
def table(rows: list[dict]) -> str:
    if not rows:
        return ""
    metric = "strict F1" if rows[0]["task"] == "ner" else "topic micro-F1"
    gpu = any(r["peak_gpu_mb"] is not None for r in rows)
    head = ["system", "texts/s", "tokens/s", "p50 ms/req", "p95 ms/req", "peak RSS MiB"]
    head += ["peak GPU MiB"] if gpu else []
    head += [metric + (" (random model)" if rows[0]["random_model"] else ""), "× pipeline", "Δ F1 pts"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["system"], f"{r['texts_per_s']:.1f}", f"{r['tokens_per_s']:.0f}", f"{r['p50_ms']:.0f}",
                 f"{r['p95_ms']:.0f}", f"{r['peak_rss_mb']:.0f}"]
        cells += [f"{r['peak_gpu_mb']:.0f}"] if gpu else []
        cells += [f"{100 * r['f1']:.2f}", f"{r['speedup']:.2f}" if r["speedup"] else "-",
                  f"{r['f1_delta_points']:+.2f}" if r["f1_delta_points"] is not None else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> dict:
    import torch

    info = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "python": platform.python_version(),
            "platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
            "load_avg_1m": round(os.getloadavg()[0], 2)}
    try:
        import onnxruntime
        import transformers

        info.update(transformers=transformers.__version__, onnxruntime=onnxruntime.__version__)
    except ImportError:
        pass
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
        info["cpu"] = cpu
    except (OSError, StopIteration):
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="mini-ner", help="comma-separated TASK=DIR or built-in names " + ", ".join(BUILTIN))
    p.add_argument("--systems", default=None, help=f"comma-separated; default CPU {CPU_SYSTEMS}, CUDA {CUDA_SYSTEMS}")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--ner-texts", type=int, default=None, help="first N test sentences (default all)")
    p.add_argument("--topic-texts", type=int, default=None, help="first N topic dev documents (default all)")
    p.add_argument("--request-size", type=int, default=64, help="texts per predict call (latency is per call)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch and onnxruntime (default all cores)")
    p.add_argument("--shared", type=Path, default=SHARED, help="the shared data/models directory")
    p.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "tagger-bench",
                   help="where built-in models and ONNX exports are cached")
    p.add_argument("--json", type=Path, default=None, help="also write all rows as JSON here")
    args = p.parse_args(argv)
    args.threads = args.threads or len(os.sched_getaffinity(0))
    default = CUDA_SYSTEMS if args.device == "cuda" else CPU_SYSTEMS
    args.systems = [s.strip() for s in args.systems.split(",")] if args.systems else list(default)
    unknown = sorted(set(args.systems) - set(CPU_SYSTEMS) - set(CUDA_SYSTEMS))
    if unknown:
        raise BenchmarkError(f"--systems: unknown {unknown}; choose from {sorted(set(CPU_SYSTEMS + CUDA_SYSTEMS))}")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO))
    info = machine()
    print(f"# prediction benchmark, {info['date']}, device {args.device}, threads {args.threads}, "
          f"load average {info['load_avg_1m']}\n", flush=True)
    all_rows = []
    for spec in parse_models(args.models, args.work_dir):
        rows = run_model(spec, args, args.work_dir)
        all_rows.extend(rows)
        print(f"## {spec.name} ({spec.task}, {rows[0]['texts']} texts, {rows[0]['tokens']} sub-tokens, "
              f"request size {args.request_size})\n\n{table(rows)}\n", flush=True)
    info["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    print("machine: " + json.dumps(info, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
                                         "rows": all_rows}, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
