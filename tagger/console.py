"""What a user sees while training and loading: one progress bar, one line per evaluation, an honest estimate.

By default (quiet) transformers' "Loading weights" / "Writing model shards" bars and its LOAD REPORT table are
suppressed while this library calls it; the load is summarised in plain words by :func:`report_loading` instead
(a new head is expected; encoder weights missing from or unused in the checkpoint are warned about). Verbose mode
(``tagger -v``, ``TAGGER_VERBOSE=1`` or :func:`set_verbose`) shows everything transformers prints. Nothing is
changed globally at import time: :func:`quiet` changes transformers' settings only for the duration of a call.
Hub download bars are kept: a first download can take minutes.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_verbose: bool | None = None
_lock = threading.Lock()
_depth = 0
_reported = 0  # open quiet(reported=True) blocks


def strip_ansi(text: str) -> str:
    """``text`` without terminal escape sequences (colours, bold, cursor moves)."""
    return _ANSI.sub("", text)


def set_verbose(flag: bool | None) -> None:
    """Show all library output (True), the quiet default (False), or follow ``TAGGER_VERBOSE`` (None)."""
    global _verbose
    _verbose = flag


def is_verbose() -> bool:
    if _verbose is not None:
        return _verbose
    return os.environ.get("TAGGER_VERBOSE", "").strip().lower() in ("1", "true", "yes", "on")


# transformers warnings that say nothing to a user of this library (quiet mode drops them)
_NOISE = ("mtime may not be reliable",)  # checkpoint rotation in our private work directory, on fast tiny runs


class _TransformersFilter(logging.Filter):
    """Strips ANSI codes from transformers' records; in quiet mode drops :data:`_NOISE` and the LOAD REPORT table
    of a load whose caller says it in words (:func:`report_loading`)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("transformers"):
            return True
        msg = record.getMessage()
        # a report of mismatched sizes or failed conversions precedes an error that refers to it: keep those
        if (not self.verbose and _reported > 0 and "LOAD REPORT" in msg and "MISMATCH" not in msg
                and "CONVERSION" not in msg):
            return False
        if not self.verbose and any(noise in msg for noise in _NOISE):
            return False
        if "\x1b[" in msg:
            record.msg, record.args = strip_ansi(msg), None
        return True


def _handlers() -> list[logging.Handler]:
    return list(logging.getLogger("transformers").handlers) + list(logging.getLogger().handlers)


def _hub_bar_states() -> dict[str, bool] | None:
    import importlib

    try:
        return importlib.import_module("huggingface_hub.utils.tqdm").progress_bar_states
    except (ImportError, AttributeError):
        return None


@contextmanager
def quiet(verbose: bool | None = None, *, reported: bool = False) -> Iterator[None]:
    """Within the block: no transformers progress bars (hub download bars stay), huggingface_hub logs errors only,
    no ANSI codes in transformers' log records — unless verbose (then only the ANSI codes go). ``reported``: the
    caller reports the load itself (:func:`report_loading`), so transformers' LOAD REPORT table is dropped.
    Re-entrant (the outermost block decides and restores everything on exit); also a decorator: ``@quiet()``."""
    global _depth, _reported
    with _lock:
        _depth += 1
        _reported += reported
        outer = _depth == 1
    try:
        if not outer:
            yield
            return
        with _quieted(is_verbose() if verbose is None else verbose):
            yield
    finally:
        with _lock:
            _depth -= 1
            _reported -= reported


@contextmanager
def _quieted(verbose: bool) -> Iterator[None]:
    from transformers.utils import logging as hf_logging

    filt = _TransformersFilter(verbose)
    handlers = _handlers()
    for h in handlers:
        h.addFilter(filt)
    hub_logger = logging.getLogger("huggingface_hub")
    hub_level = hub_logger.level
    bars_on = hf_logging.is_progress_bar_enabled()
    states = _hub_bar_states()
    saved = dict(states) if states is not None else {}
    try:
        if not verbose:
            hub_logger.setLevel(logging.ERROR)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hf_logging.disable_progress_bar()
            _restore(states, saved)  # transformers' switch also turns hub bars off: keep download bars as they were
        yield
    finally:
        if not verbose:
            if bars_on:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    hf_logging.enable_progress_bar()
            _restore(states, saved)
            hub_logger.setLevel(hub_level)
        for h in handlers:
            h.removeFilter(filt)


def _restore(states: dict[str, bool] | None, saved: dict[str, bool]) -> None:
    if states is not None:
        states.clear()
        states.update(saved)


# ------------------------------------------------------------------------------------------------ loading
def _some(keys: Iterable[str], n: int = 5) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def report_loading(info: dict[str, Any], source: str, expect_new_head: bool) -> None:
    """Say in words what transformers' LOAD REPORT says in a table, warning only about what matters.

    ``expect_new_head``: loading a base encoder for fine-tuning, where a new head (and pooler) is expected. What
    counts as a problem is decided by :func:`tagger.loadinfo.loading_problems`; this only prints it.
    """
    from tagger.loadinfo import loading_problems

    new, problems = loading_problems(info, expect_new_head)
    if new:
        what = "classification head and pooler" if any("pooler" in k for k in new) else "classification head"
        logger.info("new %s initialised (expected when fine-tuning a base encoder)", what)
    if problems.missing:
        logger.warning("%s: %d weight(s) not in the checkpoint, initialised at random: %s; is this the encoder "
                       "you meant?", source, len(problems.missing), _some(problems.missing))
    if problems.unexpected:
        logger.warning("%s: %d checkpoint weight(s) not used by the model: %s", source, len(problems.unexpected),
                       _some(problems.unexpected))
    for key, *shapes in problems.mismatched:
        logger.warning("%s: %s has shape %s in the checkpoint but %s in the model", source, key, *shapes[:2])


# ------------------------------------------------------------------------------------------------ training
WARMUP_STEPS = 3  # optimiser steps timed (after the first, which pays for warm-up) before the estimate


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m:02d} min"


def _secs(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 1 else f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}"


def attach(trainer, *, eval_items: int = 0, early_stopping: bool = False) -> None:
    """Give ``trainer`` this library's console: in quiet mode transformers' progress bar and metric-dict printing
    are replaced by one training bar, one line per evaluation and a time estimate; verbose mode keeps them and
    adds the lines. ``eval_items``: about how many windows a dev evaluation runs (to guess its cost until timed)."""
    from transformers import PrinterCallback, ProgressCallback

    verbose = is_verbose()
    if not verbose:
        for cb in list(trainer.callback_handler.callbacks):
            if isinstance(cb, (ProgressCallback, PrinterCallback)) or type(cb).__name__ == "NotebookProgressCallback":
                trainer.remove_callback(cb)
    trainer.add_callback(_console_class()(bar=not verbose, eval_items=eval_items, early_stopping=early_stopping))


def __getattr__(name: str):  # ``tagger.console.TrainingConsole`` without importing transformers at import time
    if name == "TrainingConsole":
        return _console_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CLASS: list[type] = []


def _console_class() -> type:
    if _CLASS:
        return _CLASS[0]
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class TrainingConsole(TrainerCallback):
        """A training bar with an honest remaining time, one line per evaluation
        (``epoch 2.00  loss 0.231  dev F1 0.812  (best 0.812)``) and a time estimate after a timed warm-up
        (refined once after the first dev evaluation, which also counts the checkpoint it saves).
        The estimate counts the evaluations during training plus the final one ``tagger.trainer`` runs."""

        def __init__(self, bar: bool = True, eval_items: int = 0, early_stopping: bool = False) -> None:
            self.use_bar, self.eval_items, self.early_stopping = bar, eval_items, early_stopping
            self.bar = None
            self.t0 = self.last = 0.0
            self.after: float | None = None  # end of the evaluation/save that followed the last step
            self.step_times: list[float] = []
            self.eval_times: list[float] = []
            self.losses: list[tuple[float, int]] = []
            self.last_log_step = self.evals_done = self.n_evals = self.max_steps = self.batch = 0
            self.best: float | None = None
            self.estimated = self.updated = False

        # ---------------------------------------------------------------- output
        def _write(self, line: str) -> None:
            tqdm.write(line, file=sys.stderr)

        # ---------------------------------------------------------------- events
        def on_train_begin(self, args, state, control, **kwargs):
            self.t0 = self.last = time.perf_counter()
            self.max_steps, self.batch = state.max_steps, max(1, args.train_batch_size)
            eval_steps = state.eval_steps if str(getattr(args.eval_strategy, "value", args.eval_strategy)) == "steps" else 0
            if eval_steps:
                self.n_evals = math.ceil(self.max_steps / eval_steps) + 1  # + the final one in tagger.trainer
            if state.is_world_process_zero and self.use_bar:
                notebook = any(c.__module__ == "tqdm.notebook" for c in tqdm.__mro__)
                self.bar = tqdm(total=self.max_steps, desc="training", unit="step", file=sys.stderr,
                                disable=False if notebook else None,  # None: no bar in log files (not a TTY)
                                dynamic_ncols=True,
                                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")

        def on_step_end(self, args, state, control, **kwargs):
            now, step = time.perf_counter(), state.global_step
            if self.after is not None:  # an evaluation (+ checkpoint) ran after the previous step
                if self.evals_done and len(self.eval_times) < self.evals_done:
                    self.eval_times.append(self.after - self.last)
                start = self.after
            else:
                start = self.last
            if step >= 2:  # the first step pays for warm-up
                self.step_times.append(now - start)
            self.last, self.after = now, None
            if control.should_evaluate:
                control.should_log = True  # so every evaluation line has the training loss since the last one
            if not state.is_world_process_zero:
                return
            if self.bar is not None:
                self.bar.update(step - self.bar.n)
            if not self.estimated and len(self.step_times) >= WARMUP_STEPS and step < self.max_steps:
                self.estimated = True
                self.updated = bool(self.eval_times)
                self._write(self._estimate(now, step, first=True))
            elif self.estimated and not self.updated and self.eval_times and step < self.max_steps:
                self.updated = True
                self._write(self._estimate(now, step, first=False))
            if self.bar is not None and self.estimated:
                self.bar.set_postfix_str(f"~{_duration(self._remaining(step))} left", refresh=False)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.losses.append((float(logs["loss"]), max(1, state.global_step - self.last_log_step)))
                self.last_log_step = state.global_step

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            self.after = time.perf_counter()
            self.evals_done += 1
            if not state.is_world_process_zero or not metrics:
                return
            parts = [f"epoch {float(metrics.get('epoch', state.epoch or 0.0)):.2f}"]
            if self.losses:
                n = sum(k for _, k in self.losses)
                parts.append(f"loss {sum(v * k for v, k in self.losses) / n:.3f}")
                self.losses = []
            f1 = metrics.get("eval_f1")
            if f1 is not None:
                self.best = f1 if self.best is None else max(self.best, f1)
                parts.append(f"dev F1 {f1:.3f}  (best {self.best:.3f})")
            self._write("  ".join(parts))

        def on_save(self, args, state, control, **kwargs):
            if self.after is not None:
                self.after = time.perf_counter()

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            if state.is_world_process_zero:
                took = _duration(time.perf_counter() - self.t0)
                self._write(f"training done: {state.global_step} steps in {took}")

        # ---------------------------------------------------------------- estimate
        def _step_s(self) -> float:
            return sum(self.step_times) / len(self.step_times)

        def _eval_s(self) -> float:
            if self.eval_times:  # like the first step, the first evaluation pays for warm-up: left out once others ran
                timed = self.eval_times[1:] or self.eval_times
                return sum(timed) / len(timed)
            # a guess until timed: a forward pass costs about a third of a training step, per window
            return self.eval_items * self._step_s() / self.batch / 3

        def _remaining(self, step: int) -> float:
            return (self.max_steps - step) * self._step_s() + max(0, self.n_evals - self.evals_done) * self._eval_s()

        def _estimate(self, now: float, step: int, first: bool) -> str:
            total = now - self.t0 + self._remaining(step)
            head = "estimated training time" if first else "estimated training time after the first dev evaluation"
            detail = f"{self.max_steps} steps at {_secs(self._step_s())} s/step"
            if self.n_evals and self.eval_times:
                detail += f" + {self.n_evals} dev evaluations at {_secs(self._eval_s())} s"
            elif self.n_evals and self.eval_items:
                detail += f" + {self.n_evals} dev evaluations at ~{_secs(self._eval_s())} s, a guess until one is timed"
            elif self.n_evals:
                detail += f" + {self.n_evals} dev evaluations, not timed yet"
            line = f"{head}: ~{_duration(total)} ({detail})"
            if first and self.early_stopping and self.n_evals > 2:  # it needs two evaluations during training
                line += "; early stopping may end it sooner"
            return line

    _CLASS.append(TrainingConsole)
    return TrainingConsole
