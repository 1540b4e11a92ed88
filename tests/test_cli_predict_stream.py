"""`tagger predict` streams: chunks in, results out as it goes, resumable after an interruption."""

from __future__ import annotations

import io
import json
import sys

import pytest

import tagger.predict as predict_mod
from tagger import Tagger
from tagger.cli import main

LINES = [f"التقى وزير الاتصالات رقم {i} نظيره الكيني في نيروبي" if i % 5 else "" for i in range(23)]


def _expected(model):
    return [p.to_dict() for p in Tagger.from_pretrained(model).predict(LINES)]


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture()
def text_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def test_cli_predict_stream_chunks_and_formats(trained_ner, text_file, tmp_path, monkeypatch):
    sizes = []
    original = predict_mod.Tagger.predict

    def spy(self, texts, thresholds=None):
        sizes.append(len(texts))
        return original(self, texts, thresholds)

    monkeypatch.setattr(predict_mod.Tagger, "predict", spy)
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(trained_ner), str(text_file), "-o", str(out), "--chunk-size", "7"]) == 0
    assert sizes == [7, 7, 7, 2]  # never the whole input at once
    assert _read(out) == _expected(trained_ner)

    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n\n" for i, t in enumerate(LINES)),
                     encoding="utf-8")
    out2 = tmp_path / "out2.jsonl"
    assert main(["predict", str(trained_ner), str(jsonl), "-o", str(out2), "--chunk-size", "10"]) == 0
    assert _read(out2) == [{"id": i, **row} for i, row in enumerate(_expected(trained_ner))]  # input ids carried


def test_cli_predict_stream_reads_stdin_lazily(trained_ner, tmp_path, monkeypatch):
    class Lines(io.StringIO):
        """stdin that records how far it has been read when each chunk is tagged."""

    stdin = Lines("\n".join(LINES) + "\n")
    positions = []
    original = predict_mod.Tagger.predict

    def spy(self, texts, thresholds=None):
        positions.append(stdin.tell())
        return original(self, texts, thresholds)

    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(predict_mod.Tagger, "predict", spy)
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(trained_ner), "-", "-o", str(out), "--chunk-size", "5"]) == 0
    assert positions[0] < positions[-1]  # the first chunk was tagged before the input was read to the end
    assert _read(out) == _expected(trained_ner)


def test_cli_predict_stream_resume_after_interrupt(trained_ner, text_file, tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    calls = {"n": 0}
    original = predict_mod.Tagger.predict

    def crash_on_third(self, texts, thresholds=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, texts, thresholds)

    with monkeypatch.context() as m:
        m.setattr(predict_mod.Tagger, "predict", crash_on_third)
        assert main(["predict", str(trained_ner), str(text_file), "-o", str(out), "--chunk-size", "6"]) == 130
    assert len(_read(out)) == 12  # finished chunks were written (and flushed) before the interruption
    with out.open("a", encoding="utf-8") as fh:
        fh.write('{"text": "half a rec')  # a write cut off mid-line

    seen = []

    def spy(self, texts, thresholds=None):
        seen.extend(texts)
        return original(self, texts, thresholds)

    monkeypatch.setattr(predict_mod.Tagger, "predict", spy)
    assert main(["predict", str(trained_ner), str(text_file), "-o", str(out), "--chunk-size", "6", "--resume"]) == 0
    assert seen == LINES[12:]  # lines already written are skipped, not re-tagged
    assert _read(out) == _expected(trained_ner)


def test_cli_predict_stream_bad_jsonl_names_the_line(trained_ner, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "نص"}\n{"txt": 1}\n', encoding="utf-8")
    assert main(["predict", str(trained_ner), str(bad), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err


@pytest.mark.parametrize(("line", "message"), [("{not json", "not valid JSON"), ('{"id": 3}', 'no string "text"')])
def test_cli_predict_bad_jsonl_line_names_file_and_line(trained_ner, tmp_path, capsys, line, message):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"text": LINES[1]}, ensure_ascii=False) + "\n\n" + line + "\n", encoding="utf-8")
    assert main(["predict", str(trained_ner), str(jsonl), "-o", str(tmp_path / "out.jsonl")]) != 0
    err = capsys.readouterr().err
    assert f"{jsonl}:3:" in err and message in err
