"""Issue 21: quiet, honest console output — one training bar, one line per evaluation, a time estimate, load
reports in plain words; ``-v`` / ``TAGGER_VERBOSE=1`` shows everything transformers prints."""

from __future__ import annotations

import io
import logging
import re
from types import SimpleNamespace

import pytest
from conftest import FIXTURES

from tagger import console

EVAL_LINE = re.compile(r"^epoch \d+\.\d\d  loss \d+\.\d{3}  dev F1 \d\.\d{3}  \(best \d\.\d{3}\)$")
NOISE = ("LOAD REPORT", "\x1b[", "Writing model shards", "Loading weights", "{'loss'", "'eval_f1'", "mtime")


@pytest.fixture(autouse=True)
def _default_verbosity(monkeypatch):
    monkeypatch.delenv("TAGGER_VERBOSE", raising=False)
    console.set_verbose(None)
    yield
    console.set_verbose(None)


@pytest.fixture
def hf_log():
    """What transformers logs, as its own stderr handler would print it (that handler's stream may be one that
    pytest's capfd does not see)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    hf = logging.getLogger("transformers")
    hf.addHandler(handler)
    yield stream
    hf.removeHandler(handler)


def test_issue_21_train_output_is_one_line_per_evaluation(tiny_encoder, tmp_path, capfd, caplog, monkeypatch, hf_log):
    from tagger.cli import main
    from tagger.trainer import _TaggerTrainer

    calls = []
    evaluate = _TaggerTrainer.evaluate
    monkeypatch.setattr(_TaggerTrainer, "evaluate", lambda self, *a, **k: calls.append(1) or evaluate(self, *a, **k))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"task: ner\nmodel: {tiny_encoder}\ntrain: {FIXTURES / 'ner_small.jsonl'}\n"
                   f"dev: {FIXTURES / 'ner_small.jsonl'}\noutput_dir: {tmp_path / 'm'}\nmax_length: 24\nstride: 4\n"
                   "batch_size: 4\nepochs: 2\nevaluations_per_epoch: 2\nearly_stopping_patience: 10\n", encoding="utf-8")
    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="tagger"):
        assert main(["train", str(cfg)]) == 0
    out, err = capfd.readouterr()
    for noise in NOISE:
        assert noise not in out + err + hf_log.getvalue(), noise
    evals = [line for line in err.splitlines() if "dev F1" in line]
    assert len(calls) >= 2 and len(evals) == len(calls)
    assert all(EVAL_LINE.match(line) for line in evals), evals
    estimates = [line for line in err.splitlines() if line.startswith("estimated training time")]
    assert 1 <= len(estimates) <= 2 and re.search(r": ~\d+ s \(\d+ steps at [\d.]+ s/step \+ \d+ dev evaluations", estimates[0])
    assert "training done: " in err
    heads = [r.getMessage() for r in caplog.records if "classification head" in r.getMessage()]
    assert heads == ["new classification head initialised (expected when fine-tuning a base encoder)"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("tagger")]


def test_issue_21_load_report_only_when_verbose(tiny_encoder, capfd, hf_log):
    from transformers.utils import logging as hf_logging

    from tagger.model import load_model

    bars_before = hf_logging.is_progress_bar_enabled()
    handlers = list(logging.getLogger("transformers").handlers)
    capfd.readouterr()
    load_model(str(tiny_encoder), "ner", ["PER"], ["O", "B-PER", "I-PER"])
    err = capfd.readouterr().err + hf_log.getvalue()
    assert "LOAD REPORT" not in err and "Loading weights" not in err and "\x1b[" not in err
    console.set_verbose(True)
    load_model(str(tiny_encoder), "ner", ["PER"], ["O", "B-PER", "I-PER"])
    err = capfd.readouterr().err + hf_log.getvalue()
    assert "Loading weights" in err and "LOAD REPORT" in err and "UNEXPECTED" in err and "classifier.weight" in err
    assert "\x1b[" not in err  # verbose output is complete, but without raw escape codes
    # nothing global is left changed after our calls
    assert hf_logging.is_progress_bar_enabled() == bars_before
    assert all(not any(isinstance(f, console._TransformersFilter) for f in h.filters) for h in handlers)


def test_issue_21_env_var_turns_verbose_on(monkeypatch):
    assert console.is_verbose() is False
    monkeypatch.setenv("TAGGER_VERBOSE", "1")
    assert console.is_verbose() is True
    console.set_verbose(False)
    assert console.is_verbose() is False


def test_issue_21_predict_loads_without_bars(trained_ner, capfd, hf_log):
    from tagger import Tagger

    capfd.readouterr()
    Tagger.from_pretrained(trained_ner).predict(["التقى ستار هاشمي في نيروبي"])
    out, err = capfd.readouterr()
    for noise in NOISE:
        assert noise not in out + err + hf_log.getvalue(), noise


def test_issue_21_report_loading_warns_only_about_encoder_weights(caplog):
    info = {
        "missing_keys": {"classifier.weight", "classifier.bias", "bert.pooler.dense.weight",
                         "bert.encoder.layer.0.attention.self.query.weight"},
        "unexpected_keys": {"cls.predictions.bias", "cls.predictions.transform.dense.weight", "roberta.extra.weight"},
        "mismatched_keys": set(),
    }
    with caplog.at_level(logging.INFO, logger="tagger"):
        console.report_loading(info, "enc", expect_new_head=True)
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert infos == ["new classification head and pooler initialised (expected when fine-tuning a base encoder)"]
    assert "bert.encoder.layer.0.attention.self.query.weight" in warnings and "roberta.extra.weight" in warnings
    assert "classifier" not in warnings and "pooler" not in warnings and "cls.predictions" not in warnings
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tagger"):
        console.report_loading({"missing_keys": {"classifier.weight"}}, "model", expect_new_head=False)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]  # a saved model must have its head


def test_issue_21_strip_ansi():
    assert console.strip_ansi("\x1b[1mBertModel LOAD REPORT\x1b[0m \x1b[38;5;208mUNEXPECTED\x1b[0m") == (
        "BertModel LOAD REPORT UNEXPECTED")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def test_issue_21_estimate_skips_first_step_and_times_first_evaluation(monkeypatch, capsys):
    clock = _Clock()
    monkeypatch.setattr(console, "time", clock)
    cb = console.TrainingConsole(bar=False, eval_items=12)  # 12 dev windows, batch 4
    args = SimpleNamespace(train_batch_size=4, eval_strategy="steps")
    state = SimpleNamespace(global_step=0, max_steps=100, eval_steps=50, epoch=0.0, is_world_process_zero=True)
    control = SimpleNamespace(should_evaluate=False, should_log=False)
    cb.on_train_begin(args, state, control)

    def step(seconds: float) -> None:
        clock.now += seconds
        state.global_step += 1
        control.should_evaluate = state.global_step % 50 == 0
        cb.on_step_end(args, state, control)

    step(10.0)  # the first step pays for warm-up: not timed
    for _ in range(3):
        step(1.0)
    # 13 s so far + 96 steps at 1 s + 3 evaluations (2 during training, 1 final) guessed at 12 * 1 s / 4 / 3 = 1 s
    assert capsys.readouterr().err.splitlines() == [
        "estimated training time: ~2 min (100 steps at 1.0 s/step + 3 dev evaluations at ~1.0 s, a guess until one "
        "is timed)"]
    for _ in range(46):
        step(1.0)
    assert control.should_evaluate and control.should_log  # the evaluation line gets a fresh training loss
    cb.on_log(args, state, control, logs={"loss": 0.5})
    clock.now += 15.0
    cb.on_evaluate(args, state, control, metrics={"eval_f1": 0.75, "epoch": 1.0})
    clock.now += 5.0
    cb.on_save(args, state, control)
    step(1.0)
    # 80 s so far + 49 steps at 1 s + 2 evaluations at 20 s (evaluation + checkpoint) = 169 s
    assert capsys.readouterr().err.splitlines() == [
        "epoch 1.00  loss 0.500  dev F1 0.750  (best 0.750)",
        "estimated training time after the first dev evaluation: ~3 min (100 steps at 1.0 s/step + 3 dev "
        "evaluations at 20 s)"]
    assert cb.step_times == [1.0] * 50  # the evaluation is not counted as step time
