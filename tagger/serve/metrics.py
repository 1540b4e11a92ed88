"""Prometheus text-format metrics of ``tagger serve``, written here (no client library needed).

Counters and histograms are updated from the event loop only (the request middleware and the batcher), so they
need no lock. :meth:`Metrics.render` writes the exposition format 0.0.4 that Prometheus scrapes.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Sequence

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Histogram:
    """Cumulative-bucket histogram (``le`` upper bounds, ``+Inf`` implied), with ``_sum`` and ``_count``."""

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        self.name, self.help, self.buckets = name, help_text, tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        running = 0
        for bound, n in zip((*self.buckets, float("inf")), self.counts):
            running += n
            le = "+Inf" if bound == float("inf") else _num(bound)
            out.append(f'{self.name}_bucket{{le="{le}"}} {running}')
        out += [f"{self.name}_sum {_num(self.sum)}", f"{self.name}_count {self.count}"]
        return out


class Metrics:
    """What ``GET /metrics`` reports. ``queue_depth`` is read from the batcher when rendering."""

    def __init__(self, queue_depth: Callable[[], int] = lambda: 0) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()  # (method, path, status) -> count
        self.errors: Counter[str] = Counter()  # kind -> count
        self.texts = 0
        self.latency = Histogram("tagger_request_duration_seconds", "Time from request to response, seconds.",
                                 LATENCY_BUCKETS)
        self.batch_texts = Histogram("tagger_batch_texts", "Texts per model call (one forward pass).", SIZE_BUCKETS)
        self.batch_requests = Histogram("tagger_batch_requests", "Requests merged into one model call.", SIZE_BUCKETS)
        self.queue_depth = queue_depth

    def request(self, method: str, path: str, status: int, seconds: float) -> None:
        self.requests[(method, path, status)] += 1
        if path == "/v1/tag":
            self.latency.observe(seconds)
        if status >= 400:
            self.errors["client" if status < 500 else "server"] += 1

    def batch(self, n_texts: int, n_requests: int) -> None:
        self.batch_texts.observe(n_texts)
        self.batch_requests.observe(n_requests)
        self.texts += n_texts

    def render(self) -> str:
        lines = ["# HELP tagger_requests_total HTTP requests answered, by method, path and status.",
                 "# TYPE tagger_requests_total counter"]
        for (method, path, status), n in sorted(self.requests.items()):
            lines.append(f'tagger_requests_total{{method="{method}",path="{_esc(path)}",status="{status}"}} {n}')
        lines += ["# HELP tagger_errors_total Requests answered with an error status (client: 4xx, server: 5xx).",
                  "# TYPE tagger_errors_total counter"]
        for kind in ("client", "server"):
            lines.append(f'tagger_errors_total{{kind="{kind}"}} {self.errors[kind]}')
        lines += ["# HELP tagger_texts_total Texts tagged.", "# TYPE tagger_texts_total counter",
                  f"tagger_texts_total {self.texts}"]
        lines += self.latency.lines() + self.batch_texts.lines() + self.batch_requests.lines()
        lines += ["# HELP tagger_queue_depth Texts waiting for the model.", "# TYPE tagger_queue_depth gauge",
                  f"tagger_queue_depth {self.queue_depth()}"]
        return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
