"""``tagger predict``: check everything, load the model, stream the inputs through it in chunks, write JSONL.

Order (each step may raise a :class:`~tagger.errors.TaggerError`, and none destroys anything):
output plan (``-o`` is not an input, not a directory...) -> inputs checked (exist, readable, UTF-8) -> missing
output directory created -> ``OUT.lock`` taken (another run writing ``OUT``: refused) -> resume point and sidecar
checked -> model loaded -> tagging, ``--chunk-size`` texts read, tagged and written per step -> results made final
-> lock released -> a one-line summary on stderr.

Each output line is the input record's ``"id"`` (JSON inputs that have one; first) followed by
:meth:`tagger.schema.Prediction.to_dict`. Stdout receives only JSONL; messages go to stderr.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tagger.predict_cli.inputs import InputRecord, check_inputs, iter_records
from tagger.predict_cli.output import (
    AppendSink,
    DirectSink,
    OutputPlan,
    ReplaceSink,
    Sink,
    output_lock,
    plan_output,
    prepare_output,
)
from tagger.predict_cli.resume import ResumePoint, prepare_resume, run_identity, skip_done, write_sidecar
from tagger.schema import Prediction

if TYPE_CHECKING:
    from tagger.predict import Tagger


@dataclass(frozen=True)
class PredictOptions:
    """The ``tagger predict`` arguments (see ``tagger predict --help``)."""

    model: str
    files: Sequence[str] = ("-",)
    output: str = "-"
    batch_size: int = 64
    chunk_size: int = 512
    resume: bool = False
    device: str | None = None
    precision: str = "auto"
    threads: int | None = None


@dataclass
class Stats:
    """Counts for the summary line."""

    texts: int = 0
    entities: int = 0
    with_topics: int = 0
    topic_labels: int = 0
    started: float = field(default_factory=time.perf_counter)

    def add(self, preds: Iterable[Prediction]) -> None:
        for pred in preds:
            self.texts += 1
            self.entities += len(pred.entities)
            labels = pred.topics.labels if pred.topics is not None else ()
            self.with_topics += bool(labels)
            self.topic_labels += len(labels)


def run_predict(opts: PredictOptions) -> int:
    """Tag ``opts.files`` into ``opts.output``; returns the exit status (0)."""
    plan = plan_output(opts.output, opts.files, opts.resume)
    inputs = check_inputs(opts.files)
    identity = run_identity(opts.model, inputs)
    prepare_output(plan)  # a new directory: nothing there to resume or to refuse
    with output_lock(plan):
        point, vouched = prepare_resume(plan, identity) if opts.resume else (None, False)
        tagger = _load(opts)
        sink = _sink(plan, point, None if vouched else (lambda: write_sidecar(plan.sidecar, identity)))
        records = iter_records(inputs)
        if point is not None:
            records = skip_done(records, point)
        stats = Stats()
        try:
            _tag(tagger, records, sink, opts.chunk_size, stats, initial=point.done if point else 0)
            sink.commit()
        except KeyboardInterrupt:
            sink.abort(interrupted=True)
            raise
        except BaseException:
            sink.abort(interrupted=False)
            raise
    print(summary(stats, sink.destination, point.done if point else 0, tagger.has_ner, tagger.has_topics),
          file=sys.stderr)
    return 0


def _load(opts: PredictOptions) -> Tagger:
    from tagger.predict import Tagger

    if opts.threads:
        import torch

        torch.set_num_threads(opts.threads)
    return Tagger.from_pretrained(opts.model, device=opts.device, batch_size=opts.batch_size, precision=opts.precision)


def _sink(plan: OutputPlan, point: ResumePoint | None, sidecar: Callable[[], None] | None) -> Sink:
    if plan.target is None:
        return Sink()
    if plan.direct:
        return DirectSink(plan.target)
    if point is None:
        return ReplaceSink(plan, sidecar)
    return AppendSink(point.path or plan.target, point.end, plan.target, sidecar)


def _tag(tagger: Tagger, records: Iterable[InputRecord], sink: Sink, chunk_size: int, stats: Stats, initial: int) -> None:
    from tqdm import tqdm

    bar = tqdm(desc="tagging", unit="text", initial=initial, disable=None, file=sys.stderr)
    chunk: list[InputRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= chunk_size:
            _flush(tagger, chunk, sink, stats)
            bar.update(len(chunk))
            chunk.clear()
    if chunk:
        _flush(tagger, chunk, sink, stats)
        bar.update(len(chunk))
    bar.close()


def _flush(tagger: Tagger, chunk: Sequence[InputRecord], sink: Sink, stats: Stats) -> None:
    preds = tagger.predict([record.text for record in chunk])
    sink.write([result_line(record, pred) for record, pred in zip(chunk, preds)])
    stats.add(preds)


def result_line(record: InputRecord, pred: Prediction) -> str:
    """One JSONL output line: ``{"id"?, "text", "entities", "topics"?, "topic_scores"?}``."""
    out: dict[str, Any] = {"id": record.id} if record.has_id else {}
    out.update(pred.to_dict())
    return json.dumps(out, ensure_ascii=False) + "\n"


def summary(stats: Stats, destination: str, skipped: int, has_ner: bool, has_topics: bool) -> str:
    """``tagger predict: 23 texts -> out.jsonl; 31 entities; 9 documents with topic labels (14 labels); ...``."""
    seconds = time.perf_counter() - stats.started
    parts = [f"tagger predict: {stats.texts} texts -> {destination}"
             + (f" ({skipped} already there, skipped)" if skipped else "")]
    if has_ner:
        parts.append(f"{stats.entities} entities")
    if has_topics:
        parts.append(f"{stats.with_topics} documents with topic labels ({stats.topic_labels} labels)")
    parts.append(f"{seconds:.1f} s, {stats.texts / max(seconds, 1e-9):.1f} texts/s")
    return "; ".join(parts)
