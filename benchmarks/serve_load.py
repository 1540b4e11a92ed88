"""Load test of ``tagger serve``: throughput and latency with micro-batching on and off, next to offline
``Tagger.predict`` on the same texts and model, in one run.

Loopback only, bounded in time (``--seconds`` per mode) and requests (``--max-requests`` per mode); it ends by
itself. For each mode it starts ``tagger serve MODEL`` as a subprocess on a free port, waits for ``/ready``, lets
``--clients`` concurrent ``httpx.AsyncClient`` clients send one text per request (ANERcorp test sentences,
``../shared/data/splits/anercorp/test.conll``, tokens joined; the seed corpus sentences when ../shared is absent),
stops the server with SIGTERM and reports texts/s, p50/p95/p99 latency and errors (which must be 0). Then the same
texts go through ``Tagger.predict`` in this process, ``--offline-batch`` texts per call, for ``--seconds``, and
once more one text per call: ``offline / offline-batch-1`` is the most that batching can gain on this machine
and model, whatever the server does.

The load generator (``--client raw``, default) is a minimal asyncio HTTP/1.1 keep-alive client: on a small machine
it shares the CPU with the server, and ``httpx`` (``--client httpx``) costs several times more CPU per request.

    python benchmarks/serve_load.py runs/quickstart --seconds 60 --clients 32
    python benchmarks/serve_load.py runs/quickstart --seconds 5 --out benchmarks/results/serve_load.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANERCORP = ROOT.parent / "shared" / "data" / "splits" / "anercorp" / "test.conll"


def load_texts() -> tuple[list[str], str]:
    sys.path.insert(0, str(ROOT))
    from tagger.data.io import read_conll, read_jsonl

    if ANERCORP.is_file():
        return [d.text for d in read_conll(ANERCORP) if d.text.strip()], str(ANERCORP)
    texts = []
    for doc in read_jsonl(ROOT / "seeds" / "test.jsonl"):
        texts += [s.strip() for s in re.split(r"(?<=[.!؟?])\s+|\n+", doc.text) if len(s.strip()) > 20]
    return texts, "seeds/test.jsonl (sentences)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator shares the CPU with the server
    on a small machine, and httpx costs several times more CPU per request than the server's own work."""

    def __init__(self, url: str) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: dict) -> int:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
            await self.close()
            raise ValueError("chunked response: not read by this client")  # counted as an error, reconnects
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        await self.reader.readexactly(int(length.group(1)) if length else 0)
        if re.search(rb"(?im)^connection:\s*close", head):
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class HttpxClient:
    """``RawClient``'s interface over one shared ``httpx.AsyncClient`` (``--client httpx``)."""

    def __init__(self, http, url: str) -> None:
        self.http, self.url = http, url

    async def post(self, path: str, payload: dict) -> int:
        return (await self.http.post(self.url + path, json=payload)).status_code

    async def close(self) -> None:  # the shared client is closed once, at the end
        pass


async def drive(url: str, texts: list[str], clients: int, seconds: float, max_requests: int,
                kind: str = "raw") -> dict:
    """``clients`` concurrent clients, one text per request, until ``seconds`` or ``max_requests``."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    sent = 0
    deadline = time.monotonic() + seconds
    shared = None
    if kind == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        shared = httpx.AsyncClient(timeout=120, limits=limits)
        failures: tuple[type[BaseException], ...] = (httpx.HTTPError,)
    else:
        failures = (OSError, asyncio.IncompleteReadError, ValueError)

    async def client(k: int) -> None:
        nonlocal sent
        http, i = (HttpxClient(shared, url) if shared is not None else RawClient(url)), k
        try:
            while time.monotonic() < deadline and sent < max_requests:
                sent += 1
                started = time.perf_counter()
                try:
                    status = await http.post("/v1/tag", {"texts": [texts[i % len(texts)]]})
                    if status == 200:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors[str(status)] = errors.get(str(status), 0) + 1
                except failures as err:
                    errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                    await http.close()
                i += clients
        finally:
            await http.close()

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(k) for k in range(clients)))
    finally:
        if shared is not None:
            await shared.aclose()
    wall = time.perf_counter() - started
    return summary(latencies, errors, wall)


def summary(latencies: list[float], errors: dict[str, int], wall: float) -> dict:
    return {"requests": len(latencies) + sum(errors.values()), "texts_per_s": round(len(latencies) / wall, 2),
            "p50_ms": round(1000 * percentile(latencies, 50), 1), "p95_ms": round(1000 * percentile(latencies, 95), 1),
            "p99_ms": round(1000 * percentile(latencies, 99), 1), "errors": sum(errors.values()),
            "error_kinds": errors, "seconds": round(wall, 2)}


def run_mode(args: argparse.Namespace, texts: list[str], batching: bool) -> dict:
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "tagger.cli", "serve", args.model, "--host", "127.0.0.1", "--port", str(port),
           "--max-wait-ms", str(args.max_wait_ms), "--max-batch-texts", str(args.max_batch_texts)]
    if not batching:
        cmd.append("--no-batching")
    if args.device:
        cmd += ["--device", args.device]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"tagger serve exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("tagger serve did not become ready within 300 s")
            time.sleep(0.2)
        asyncio.run(drive(url, texts[:8], min(args.clients, 8), 1.0, 64, args.client))  # warm-up, not counted
        result = asyncio.run(drive(url, texts, args.clients, args.seconds, args.max_requests, args.client))
        metrics = httpx.get(url + "/metrics", timeout=10).text
        batches = re.search(r"^tagger_batch_requests_count (\S+)", metrics, re.M)
        requests = re.search(r"^tagger_batch_requests_sum (\S+)", metrics, re.M)
        if batches and requests and float(batches.group(1)):
            result["mean_requests_per_batch"] = round(float(requests.group(1)) / float(batches.group(1)), 2)
        return result
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_offline(args: argparse.Namespace, texts: list[str], batch: int | None = None) -> dict:
    sys.path.insert(0, str(ROOT))
    import torch

    from tagger import Tagger

    if args.threads:
        torch.set_num_threads(args.threads)
    tagger = Tagger.from_pretrained(args.model, device=args.device)
    batch = batch or args.offline_batch
    tagger.predict(texts[:batch])  # warm-up
    done, pos = 0, 0
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds and done < args.max_requests:
        chunk = [texts[(pos + j) % len(texts)] for j in range(batch)]
        tagger.predict(chunk)
        done += len(chunk)
        pos += len(chunk)
    wall = time.perf_counter() - started
    return {"texts": done, "texts_per_s": round(done / wall, 2), "batch": batch, "seconds": round(wall, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model directory or bundle (ner/ + topics/)")
    p.add_argument("--seconds", type=float, default=60.0, help="load per mode, and the offline run (60)")
    p.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    p.add_argument("--client", choices=["raw", "httpx"], default="raw",
                   help="load generator: a minimal asyncio HTTP/1.1 client (raw, default) or httpx.AsyncClient")
    p.add_argument("--max-requests", type=int, default=200_000, help="bound per mode")
    p.add_argument("--max-wait-ms", type=float, default=5.0)
    p.add_argument("--max-batch-texts", type=int, default=64)
    p.add_argument("--offline-batch", type=int, default=64, help="texts per Tagger.predict call offline (64)")
    p.add_argument("--threads", type=int, default=None, help="torch threads for the server and offline")
    p.add_argument("--device", default=None)
    p.add_argument("--out", default=None, help="also write the results as JSON here")
    args = p.parse_args(argv)
    texts, source = load_texts()
    print(f"texts: {len(texts)} from {source}; {args.clients} clients, {args.seconds:g} s per mode", flush=True)
    report: dict = {"model": args.model, "texts_source": source, "n_texts": len(texts), "clients": args.clients,
                    "client": args.client, "seconds": args.seconds, "max_wait_ms": args.max_wait_ms, "max_batch_texts": args.max_batch_texts,
                    "threads": args.threads, "device": args.device or "auto"}
    for name, batching in (("serve-batching", True), ("serve-no-batching", False)):
        report[name] = run_mode(args, texts, batching)
        print(f"{name:18s} {json.dumps(report[name])}", flush=True)
    report["offline"] = run_offline(args, texts)
    print(f"{'offline':18s} {json.dumps(report['offline'])}", flush=True)
    # the ceiling of batching on this machine: the same model, one text per call, no server at all
    report["offline-batch-1"] = run_offline(args, texts, batch=1)
    print(f"{'offline-batch-1':18s} {json.dumps(report['offline-batch-1'])}", flush=True)
    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 3) if b else None

    off = report["offline"]["texts_per_s"]
    report["ratios"] = {
        "batching_vs_offline": ratio(report["serve-batching"]["texts_per_s"], off),
        "batching_vs_no_batching": ratio(report["serve-batching"]["texts_per_s"], report["serve-no-batching"]["texts_per_s"]),
        "offline_vs_offline_batch_1": ratio(off, report["offline-batch-1"]["texts_per_s"]),
    }
    print(f"{'ratios':18s} {json.dumps(report['ratios'])}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    errors = report["serve-batching"]["errors"] + report["serve-no-batching"]["errors"]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
