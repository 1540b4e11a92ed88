from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

from tagger.cli import main


def test_cli_train_with_overrides(tiny_encoder, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"task: ner\nmodel: {tiny_encoder}\ntrain: {FIXTURES / 'ner_small.jsonl'}\noutput_dir: {tmp_path / 'm'}\n"
                   "max_length: 24\nstride: 4\n", encoding="utf-8")
    assert main(["train", str(cfg), "--set", "max_steps=2", "--set", "batch_size=4"]) == 0
    stdout = capsys.readouterr().out
    assert f"saved {tmp_path / 'm'}" in stdout and "metrics.json" in stdout and "{" not in stdout
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["global_step"] == 2 and (tmp_path / "m" / "model.safetensors").is_file()


def test_cli_train_unknown_key_is_reported(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("task: ner\ntrain: x.conll\noutput_dir: o\nwarmup_steps: 10\n", encoding="utf-8")
    assert main(["train", str(cfg)]) == 2
    assert "unknown key(s) ['warmup_steps']" in capsys.readouterr().err


def test_cli_train_unreachable_hub_says_how_to_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"task: ner\ntrain: {FIXTURES / 'ner_small.jsonl'}\noutput_dir: {tmp_path / 'o'}\n", encoding="utf-8")
    assert main(["train", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "aubmindlab/bert-base-arabertv02" in err and "--model ../shared/models/arabic-mini-bert" in err


def test_cli_predict_text_and_jsonl(trained_ner, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("التقى ستار هاشمي في نيروبي\n\nوكينيا والجزائر\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(trained_ner), str(src), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["التقى ستار هاشمي في نيروبي", "", "وكينيا والجزائر"]
    for r in rows:
        for e in r["entities"]:
            assert r["text"][e["start"]:e["end"]] == e["text"]
    out2 = tmp_path / "out2.jsonl"
    assert main(["predict", str(trained_ner), str(FIXTURES / "ner_small.jsonl"), "-o", str(out2)]) == 0
    assert len(out2.read_text(encoding="utf-8").splitlines()) == 16


def test_cli_predict_bad_jsonl_names_line(trained_ner, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "كينيا"}\n{"title": "x"}\n', encoding="utf-8")
    assert main(["predict", str(trained_ner), str(src), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert f"{src}:2" in capsys.readouterr().err


@pytest.mark.parametrize("data", ["ner_small.jsonl", "conll"])
def test_cli_eval_writes_ner_metrics(trained_ner, tmp_path, data):
    if data == "conll":
        path = tmp_path / "d.conll"
        path.write_text("التقى\tO\nستار\tB-PER\nهاشمي\tI-PER\nفي\tO\nنيروبي\tB-LOC\n\nكينيا\tB-LOC\n", encoding="utf-8")
    else:
        path = FIXTURES / data
    out = tmp_path / "r"
    assert main(["eval", str(trained_ner), "--data", str(path), "--out", str(out), "--bootstrap", "20"]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    ner = metrics["ner"] if "ner" in metrics else next(iter(metrics["models"].values()))["ner"]
    for mode in ("strict", "default"):
        assert set(ner[mode]) >= {"precision", "recall", "f1"}
    assert all(set(v) >= {"precision", "recall", "f1", "support"} for v in ner["per_type"].values())
    assert (out / "report.md").is_file() and (out / "report.html").is_file()


def test_cli_eval_writes_topic_metrics(trained_topics, tmp_path):
    out = tmp_path / "r"
    assert main(["eval", str(trained_topics), "--data", str(FIXTURES / "topics_small.jsonl"), "--out", str(out),
                 "--bootstrap", "20"]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    topics = metrics["topics"] if "topics" in metrics else next(iter(metrics["models"].values()))["topics"]
    assert set(topics) >= {"micro_f1", "macro_f1", "per_label", "hamming_loss", "subset_accuracy"}
    assert set(topics["per_label"]["5G"]) >= {"precision", "recall", "f1", "support", "threshold"}


def test_cli_predict_precision_and_threads(trained_ner, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("التقى ستار هاشمي في نيروبي\n", encoding="utf-8")
    out_a, out_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["predict", str(trained_ner), str(src), "-o", str(out_a), "--threads", "1"]) == 0
    assert main(["predict", str(trained_ner), str(src), "-o", str(out_b), "--precision", "fp32"]) == 0
    assert out_a.read_text(encoding="utf-8") == out_b.read_text(encoding="utf-8")
