"""Issue 16 (review): one UTF-8 check and message for every reader, one BOM rule, one lock per predict output,
bundle exports checked before anything is written, unused weights in a saved model refused."""

from __future__ import annotations

import fcntl
import io
import sys

import pytest
from conftest import copy_model

from tagger.cli import main
from tagger.data.io import iter_jsonl_lines, read_conll
from tagger.data.markup import read_markup
from tagger.errors import DataError, OutputError
from tagger.model import loading_problems
from tagger.predict_cli.inputs import InputFile, check_inputs, iter_records
from tagger.textfile import open_text, read_text, strip_bom, utf8_lines

CP1256 = "### doc: a-001\nستار هاشمي\tB-PER\n".encode("cp1256")


def _message(call) -> str:
    with pytest.raises(DataError) as err:
        call()
    return str(err.value)


def test_issue_16_every_reader_gives_the_same_not_utf8_message(tmp_path):
    p = tmp_path / "seed.txt"
    p.write_bytes(CP1256)
    messages = {
        "open_text": _message(lambda: read_text(p, DataError)),
        "conll": _message(lambda: read_conll(p)),
        "markup": _message(lambda: read_markup(p)),
        "predict check": _message(lambda: check_inputs([str(p)])),
        "lines": _message(lambda: list(utf8_lines(p.open("rb"), str(p)))),
    }
    assert len(set(messages.values())) == 1, messages
    message = messages["markup"]
    assert message.startswith(f"{p}:2: not UTF-8 (byte offset 15: ")
    assert "Windows-1256 (cp1256)" in message and f"`iconv -f cp1256 -t utf-8 {p} > {tmp_path / 'seed.utf8.txt'}`" in message


def test_issue_16_stdin_not_utf8_names_line_and_offset(monkeypatch):
    data = b"ok\n" + "\ufeffنص".encode() + b"\n" + "نص عربي".encode("cp1256") + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    message = _message(lambda: list(iter_records([InputFile("-", None, None)])))
    assert message.startswith(f"<stdin>:3: not UTF-8 (byte offset {len(data) - 8}: ")
    assert "`iconv -f cp1256 -t utf-8 IN > OUT`" in message


def test_issue_16_one_bom_rule(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_text("\ufeff\ufeffa\n\ufeffb\n", encoding="utf-8")  # one BOM at the start is dropped, no other
    with open_text(p, DataError) as fh:
        assert fh.read() == "\ufeffa\n\ufeffb\n"
    with p.open("rb") as fh:
        assert list(utf8_lines(fh, str(p))) == ["\ufeffa\n", "\ufeffb\n"]
    assert list(strip_bom(["\ufeff\ufeffa\n", "\ufeffb\n"])) == ["\ufeffa\n", "\ufeffb\n"]
    assert [r for _, _, r in iter_jsonl_lines(['\ufeff{"text": "x"}\n'], "<stdin>")] == [{"text": "x"}]


def test_issue_16_predict_input_deleted_after_the_check_is_a_data_error(tmp_path):
    p = tmp_path / "in.txt"
    p.write_text("نص\n", encoding="utf-8")
    inputs = check_inputs([str(p)])
    p.unlink()
    with pytest.raises(DataError, match=rf"^{p}: cannot read it any more .*deleted"):
        list(iter_records(inputs))


def test_issue_16_predict_refuses_a_second_run_on_the_same_output(trained_ner, tmp_path, capsys):
    src = tmp_path / "in.txt"
    src.write_text("التقى ستار هاشمي في نيروبي\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    lock = tmp_path / "out.jsonl.lock"
    with lock.open("w") as held:  # another run writing out.jsonl
        fcntl.flock(held, fcntl.LOCK_EX)
        assert main(["predict", str(trained_ner), str(src), "-o", str(out)]) == 2
        assert f"another tagger predict is writing {out}" in capsys.readouterr().err
        assert not out.exists() and not (tmp_path / "out.jsonl.partial").exists()
    assert lock.exists()  # a lock file nobody holds (a killed run's) does not stop the next run
    assert main(["predict", str(trained_ner), str(src), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.jsonl", "out.jsonl.resume.json"]


def test_issue_16_bundle_export_checks_every_part_before_writing(trained_ner, trained_topics, tmp_path):
    from tagger.export import export_onnx

    bundle = tmp_path / "bundle"
    copy_model(trained_ner, bundle / "ner")
    copy_model(trained_topics, bundle / "topics")
    out = tmp_path / "onnx"  # a bundle of ours (ner/), but topics/ holds the user's notes
    copy_model(trained_ner, out / "ner")
    (out / "topics").mkdir()
    (out / "topics" / "notes.md").write_text("mine\n", encoding="utf-8")
    before = sorted(p.name for p in out.rglob("*"))
    with pytest.raises(OutputError, match=rf"{out / 'topics'}: .*not empty"):
        export_onnx(bundle, out)
    assert sorted(p.name for p in out.rglob("*")) == before  # ner/ was not exported before topics/ was refused


def test_issue_16_loading_problems_one_interpretation():
    info = {"missing_keys": ["classifier.weight", "bert.pooler.dense.weight", "bert.encoder.x"],
            "unexpected_keys": ["cls.predictions.bias", "bert.extra"], "mismatched_keys": []}
    new, problems = loading_problems(info, expect_new_head=True)
    assert new == ["bert.pooler.dense.weight", "classifier.weight"]
    assert (problems.missing, problems.unexpected) == (["bert.encoder.x"], ["bert.extra"])
    new, problems = loading_problems(info, expect_new_head=False)  # a saved model: nothing is expected
    assert new == [] and len(problems.missing) == 3 and len(problems.unexpected) == 2
    assert not loading_problems({}, expect_new_head=False)[1]
