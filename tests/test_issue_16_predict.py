"""Issue 16: ``tagger predict`` never loses user data and reports user mistakes in one line (exit 2).

Inputs are checked before the output is touched or the model loaded; the output is replaced atomically;
``--resume`` refuses results that belong to other inputs; formats (JSON lines, stdin sniffing, ``\\r``, BOM,
ids) and the stderr summary.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import tagger.predict as predict_mod
from tagger import Tagger
from tagger.cli import main
from tagger.errors import DataError
from tagger.textfile import check_utf8

LINES = [f"التقى وزير الاتصالات رقم {i} نظيره الكيني في نيروبي" for i in range(23)]
OLD = b'{"text": "previous results the user keeps"}\n'


def predict(*args: object) -> int:
    return main(["predict", *map(str, args)])


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def expected(model: Path, texts: list[str]) -> list[dict]:
    return [p.to_dict() for p in Tagger.from_pretrained(model).predict(texts)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def text_file(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "in.txt", LINES)


@pytest.fixture()
def old_results(tmp_path: Path) -> Path:
    path = tmp_path / "results.jsonl"
    path.write_bytes(OLD)
    return path


def stdin_bytes(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """A real-looking stdin (text layer over a byte buffer) holding ``data``."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- 1. -o is an input
@pytest.mark.parametrize("how", ["same", "symlink", "hardlink"])
def test_issue_16_predict_refuses_output_that_is_an_input(trained_ner, text_file, tmp_path, capsys, how):
    before = text_file.read_bytes()
    out = text_file
    if how == "symlink":
        out = tmp_path / "link.jsonl"
        out.symlink_to(text_file)
    elif how == "hardlink":
        out = tmp_path / "hard.jsonl"
        os.link(text_file, out)
    assert predict(trained_ner, text_file, "-o", out) == 2
    assert "is the input" in capsys.readouterr().err
    assert text_file.read_bytes() == before
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.resume.json"))


# ---------------------------------------------------------------------------------------------- 2. inputs first
def test_issue_16_predict_missing_input_leaves_results_untouched(trained_ner, text_file, old_results, tmp_path, capsys):
    missing = tmp_path / "missing.txt"
    assert predict(trained_ner, text_file, missing, "-o", old_results) == 2
    assert f"{missing}: input file not found" in capsys.readouterr().err
    assert old_results.read_bytes() == OLD


@pytest.mark.parametrize("problem", ["missing", "directory", "not-utf8"])
def test_issue_16_predict_checks_inputs_before_loading_the_model(tmp_path, old_results, capsys, problem):
    bad = tmp_path / "bad.txt"
    if problem == "directory":
        bad.mkdir()
    elif problem == "not-utf8":
        bad.write_bytes("نص عربي\n".encode("cp1256"))
    assert predict(tmp_path / "no-such-model", bad, "-o", old_results) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "no-such-model" not in err  # the input is reported, the model was never looked at
    assert old_results.read_bytes() == OLD


def test_issue_16_predict_non_utf8_input_names_file_line_and_iconv(trained_ner, tmp_path, old_results, capsys):
    src = tmp_path / "arabic.txt"
    src.write_bytes(b"line one\nline two\n" + "التقى وزير الاتصالات\n".encode("cp1256"))
    assert predict(trained_ner, src, "-o", old_results) == 2
    err = capsys.readouterr().err
    assert f"{src}:3: not UTF-8 (byte offset 18:" in err
    assert f"iconv -f cp1256 -t utf-8 {src} > {tmp_path / 'arabic.utf8.txt'}" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert old_results.read_bytes() == OLD


class _Reads(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def test_issue_16_predict_utf8_check_streams_in_chunks():
    good = ("سطر عربي\n" * 50).encode()
    fh = _Reads(good)
    size, head = check_utf8(fh, "good.txt", chunk=5)  # 5 bytes: multibyte letters are cut between chunks
    assert size == len(good) and len(head) == 64 and set(fh.sizes) == {5}
    bad = good[:48] + "كينيا".encode("cp1256") + b"\n"  # after three lines of 16 bytes
    with pytest.raises(DataError, match=r"bad\.txt:4: not UTF-8 \(byte offset 48:"):
        check_utf8(_Reads(bad), "bad.txt", chunk=7)
    with pytest.raises(DataError, match=r"cut\.txt:1: not UTF-8 \(byte offset 2:"):
        check_utf8(_Reads("سس".encode()[:3]), "cut.txt", chunk=2)  # a letter cut off at the end of the file
    with pytest.raises(DataError, match="iconv -f utf-16"):
        check_utf8(_Reads("نص".encode("utf-16")), "excel.txt")


# ---------------------------------------------------------------------------------------------- 3. atomic replace
def test_issue_16_predict_error_midway_keeps_previous_results(trained_ner, tmp_path, old_results, capsys):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in LINES * 3]
    lines[49] = '{"text": "a record cut'
    write_lines(src, lines)
    assert predict(trained_ner, src, "-o", old_results, "--chunk-size", "7") == 2
    assert f"{src}:50: not valid JSON" in capsys.readouterr().err
    assert old_results.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "results.jsonl"]  # no temp file, no sidecar


def test_issue_16_predict_replaces_output_only_at_the_end(trained_ner, text_file, old_results, monkeypatch):
    seen = []
    original = predict_mod.Tagger.predict

    def spy(self, texts, thresholds=None):
        seen.append(old_results.read_bytes())
        return original(self, texts, thresholds)

    monkeypatch.setattr(predict_mod.Tagger, "predict", spy)
    assert predict(trained_ner, text_file, "-o", old_results, "--chunk-size", "5") == 0
    assert seen == [OLD] * 5  # the target kept the old results while the new ones were written elsewhere
    assert rows(old_results) == expected(trained_ner, LINES)
    assert not old_results.with_name("results.jsonl.partial").exists()


def test_issue_16_predict_interrupt_keeps_previous_results_and_resumes(trained_ner, text_file, old_results,
                                                                       monkeypatch, capsys):
    original = predict_mod.Tagger.predict
    calls = {"n": 0}

    def interrupt_on_third(self, texts, thresholds=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, texts, thresholds)

    with monkeypatch.context() as m:
        m.setattr(predict_mod.Tagger, "predict", interrupt_on_third)
        assert predict(trained_ner, text_file, "-o", old_results, "--chunk-size", "6") == 130  # Ctrl-C: exit 130
    partial = old_results.with_name("results.jsonl.partial")
    assert not old_results.with_name("results.jsonl.lock").exists()
    assert old_results.read_bytes() == OLD and len(rows(partial)) == 12
    assert "--resume" in capsys.readouterr().err
    assert predict(trained_ner, text_file, "-o", old_results, "--chunk-size", "6", "--resume") == 0
    assert rows(old_results) == expected(trained_ner, LINES) and not partial.exists()


KILL_ON_THIRD_CHUNK = """
import os, signal, sys
import tagger.predict as p
from tagger.cli import main
original, calls = p.Tagger.predict, []
def predict(self, texts, thresholds=None):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, texts, thresholds)
p.Tagger.predict = predict
sys.exit(main(sys.argv[1:]))
"""


def test_issue_16_predict_resume_after_sigkill_is_byte_identical(trained_ner, text_file, old_results, tmp_path):
    reference = tmp_path / "reference.jsonl"
    assert predict(trained_ner, text_file, "-o", reference, "--chunk-size", "6") == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    args = ["predict", str(trained_ner), str(text_file), "-o", str(old_results), "--chunk-size", "6"]
    killed = subprocess.run([sys.executable, "-c", KILL_ON_THIRD_CHUNK, *args], env=env, capture_output=True)
    assert killed.returncode == -9
    assert old_results.read_bytes() == OLD  # a killed run never replaced the previous results
    assert len(rows(old_results.with_name("results.jsonl.partial"))) == 12
    assert main([*args, "--resume"]) == 0
    assert old_results.read_bytes() == reference.read_bytes()


# ---------------------------------------------------------------------------------------------- 4. resume checks
@pytest.fixture()
def finished(trained_ner, text_file, tmp_path) -> Path:
    out = tmp_path / "out.jsonl"
    assert predict(trained_ner, text_file, "-o", out) == 0
    return out


@pytest.mark.parametrize("sidecar", [True, False])
def test_issue_16_predict_resume_refuses_results_of_other_inputs(trained_ner, finished, tmp_path, capsys, sidecar):
    if not sidecar:
        finished.with_name("out.jsonl.resume.json").unlink()
    other = write_lines(tmp_path / "other.txt", [f"نص آخر {i}" for i in range(40)])
    before = finished.read_bytes()
    assert predict(trained_ner, other, "-o", finished, "--resume") == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "different -o" in err and "drop --resume" in err
    assert ("other.txt" in err) if sidecar else (f"line 1 of {finished} is the result for" in err)
    assert finished.read_bytes() == before


@pytest.mark.parametrize("sidecar", [True, False])
def test_issue_16_predict_resume_refuses_output_longer_than_input(trained_ner, finished, text_file, capsys, sidecar):
    if not sidecar:
        finished.with_name("out.jsonl.resume.json").unlink()
    write_lines(text_file, LINES[:10])  # the same file, shortened since the run
    before = finished.read_bytes()
    assert predict(trained_ner, text_file, "-o", finished, "--resume") == 2
    err = capsys.readouterr().err
    assert ("another size" in err) if sidecar else ("has 23 results but the inputs have only 10 texts" in err)
    assert finished.read_bytes() == before


def test_issue_16_predict_resume_refuses_another_model(trained_ner, trained_topics, finished, text_file, capsys):
    assert predict(trained_topics, text_file, "-o", finished, "--resume") == 2
    assert f"model {os.path.realpath(trained_ner)}" in capsys.readouterr().err


def test_issue_16_predict_resume_of_finished_output_tags_nothing(trained_ner, finished, text_file, monkeypatch):
    before = finished.read_bytes()
    monkeypatch.setattr(predict_mod.Tagger, "predict", lambda *a, **k: pytest.fail("nothing is left to tag"))
    assert predict(trained_ner, text_file, "-o", finished, "--resume") == 0
    assert finished.read_bytes() == before


def test_issue_16_predict_resume_to_stdout_is_an_error(trained_ner, text_file, capsys):
    assert predict(trained_ner, text_file, "--resume") == 2
    assert "--resume needs -o FILE" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- 5. output directory
def test_issue_16_predict_creates_missing_output_directory(trained_ner, text_file, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "out.jsonl"
    assert predict(trained_ner, text_file, "-o", out) == 0
    assert f"created directory {out.parent}" in capsys.readouterr().err
    assert rows(out) == expected(trained_ner, LINES)


def test_issue_16_predict_output_directory_is_refused_before_the_model(text_file, tmp_path, capsys):
    assert predict(tmp_path / "no-such-model", text_file, "-o", tmp_path) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and "no-such-model" not in err


def test_issue_16_predict_rejects_non_positive_sizes(trained_ner, text_file, capsys):
    with pytest.raises(SystemExit) as exc:
        predict(trained_ner, text_file, "--chunk-size", "0")
    assert exc.value.code == 2 and "must be a positive integer" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- 6. JSON detection
def test_issue_16_predict_json_suffix_is_json_lines(trained_ner, tmp_path):
    src = tmp_path / "in.json"
    write_lines(src, [json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False) for i, t in enumerate(LINES[:4])])
    out = tmp_path / "out.jsonl"
    assert predict(trained_ner, src, "-o", out) == 0
    assert [r["text"] for r in rows(out)] == LINES[:4]


def test_issue_16_predict_stdin_jsonl_is_sniffed(trained_ner, tmp_path, monkeypatch):
    records = "\n".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in enumerate(LINES[:3]))
    stdin_bytes(monkeypatch, ("\n  \n" + records + "\n").encode())
    out = tmp_path / "out.jsonl"
    assert predict(trained_ner, "-", "-o", out) == 0
    assert rows(out) == [{"id": i, **r} for i, r in enumerate(expected(trained_ner, LINES[:3]))]


def test_issue_16_predict_stdin_text_is_not_sniffed_as_json(trained_ner, tmp_path, monkeypatch):
    stdin_bytes(monkeypatch, "\n[1] قائمة\n".encode())
    out = tmp_path / "out.jsonl"
    assert predict(trained_ner, "-", "-o", out) == 0
    assert [r["text"] for r in rows(out)] == ["", "[1] قائمة"]


# ---------------------------------------------------------------------------------------------- 7. \r and BOM
TEXTS_WITH_CR = ["نص فيه\rرجوع", "سطر ويندوز", "", "آخر سطر"]
RAW_WITH_CR = "\ufeffنص فيه\rرجوع\nسطر ويندوز\r\n\r\nآخر سطر".encode()


def test_issue_16_predict_file_splits_on_newline_only(trained_ner, tmp_path):
    src = tmp_path / "in.txt"
    src.write_bytes(RAW_WITH_CR)
    out = tmp_path / "out.jsonl"
    assert predict(trained_ner, src, "-o", out) == 0
    assert [r["text"] for r in rows(out)] == TEXTS_WITH_CR


def test_issue_16_predict_stdin_splits_on_newline_only(trained_ner, tmp_path, monkeypatch):
    stdin_bytes(monkeypatch, RAW_WITH_CR)
    out = tmp_path / "out.jsonl"
    assert predict(trained_ner, "-", "-o", out) == 0
    assert [r["text"] for r in rows(out)] == TEXTS_WITH_CR


# ---------------------------------------------------------------------------------------------- 8. ids
def test_issue_16_predict_output_carries_input_ids_first(trained_ner, tmp_path):
    src = tmp_path / "in.jsonl"
    ids = ["a-1", 7, None]
    write_lines(src, [json.dumps({"text": t, "id": i}, ensure_ascii=False) for i, t in zip(ids, LINES)]
                + [json.dumps({"text": LINES[3]}, ensure_ascii=False)])
    out = tmp_path / "out.jsonl"
    assert predict(trained_ner, src, "-o", out) == 0
    got = rows(out)
    assert [list(r)[0] for r in got[:3]] == ["id"] * 3 and [r["id"] for r in got[:3]] == ids
    assert "id" not in got[3]  # a record without an id gets none (and so does a text line)


# ---------------------------------------------------------------------------------------------- 9. summary
def test_issue_16_predict_prints_summary_to_stderr(trained_topics, text_file, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert predict(trained_topics, text_file, "-o", out) == 0
    cap = capsys.readouterr()
    assert cap.out == ""
    summary = [line for line in cap.err.splitlines() if line.startswith("tagger predict: ")]
    assert len(summary) == 1 and f"23 texts -> {out}" in summary[0]
    assert "documents with topic labels" in summary[0] and "texts/s" in summary[0]


def test_issue_16_predict_stdout_stays_pure_jsonl(trained_ner, text_file, capsys):
    assert predict(trained_ner, text_file) == 0
    cap = capsys.readouterr()
    assert [json.loads(line) for line in cap.out.splitlines()] == expected(trained_ner, LINES)
    assert "23 texts -> <stdout>" in cap.err and "entities" in cap.err
