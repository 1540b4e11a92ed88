"""Issue 16 (library side): never delete, overwrite or truncate what the user owns; bad input is a TaggerError
naming file:line / config key / path and what to do, never a raw traceback."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, copy_model

from tagger.cli import main
from tagger.config import TrainConfig, apply_overrides
from tagger.data.io import iter_jsonl, iter_jsonl_lines, read_conll, read_csv, read_jsonl
from tagger.errors import ConfigError, DataError, ModelLoadError, OutputError
from tagger.model import read_block, save_model_dir
from tagger.trainer import train

ARABIC = "التقى ستار هاشمي في نيروبي"


def _train_cfg(encoder: Path, out: Path, **extra) -> dict:
    return {"task": "ner", "model": str(encoder), "train": str(FIXTURES / "ner_small.jsonl"), "output_dir": str(out),
            "max_steps": 1, "batch_size": 4, "max_length": 24, "stride": 4, **extra}


@pytest.fixture
def no_training(monkeypatch):
    """Make anything past the output check fail loudly: refusals must come before data, tokenizer or model."""
    def boom(*args, **kwargs):
        raise AssertionError("train() got past the output-directory check")

    for name in ("read_all", "read_block", "load_tokenizer", "_new_model", "_continue_from"):
        monkeypatch.setattr(f"tagger.trainer.{name}", boom)


def _staging(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if re.match(rf"\.{re.escape(name)}\.(tmp|work|old)-", p.name))


# ---------------------------------------------------------------------------------------------- 1. output dirs
def test_issue_16_train_refuses_a_user_directory_before_any_work(tiny_encoder, tmp_path, no_training):
    out = tmp_path / "my-notes"
    out.mkdir()
    (out / "thesis.txt").write_text("سنتان من العمل", encoding="utf-8")
    with pytest.raises(OutputError, match=r"not empty and is not a model directory.*overwrite: true") as err:
        train(_train_cfg(tiny_encoder, out))
    assert str(out) in str(err.value) and "new or empty directory" in str(err.value)
    assert (out / "thesis.txt").read_text(encoding="utf-8") == "سنتان من العمل"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-notes"]  # no work or staging directory either


def test_issue_16_cli_train_refusal_is_one_line_exit_2(tiny_encoder, tmp_path, capsys, no_training):
    out = tmp_path / "data"
    out.mkdir()
    (out / "keep.jsonl").write_text("{}\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(json.dumps(_train_cfg(tiny_encoder, out)), encoding="utf-8")
    assert main(["train", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--set overwrite=true" in err and (out / "keep.jsonl").is_file()


@pytest.mark.parametrize("where", ["cwd", "parent-of-cwd", "data-dir", "config-dir", "encoder"])
def test_issue_16_overwrite_never_replaces_cwd_data_config_or_encoder(tiny_encoder, tmp_path, monkeypatch, no_training, where):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    data = project / "data" / "train.jsonl"
    data.write_text((FIXTURES / "ner_small.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    (project / "configs").mkdir()
    encoder = copy_model(tiny_encoder, project / "encoder")
    monkeypatch.chdir(project)
    out = {"cwd": ".", "parent-of-cwd": "..", "data-dir": "data", "config-dir": "configs", "encoder": "encoder"}[where]
    cfg = project / "configs" / "ner.yaml"
    cfg.write_text(json.dumps(_train_cfg(encoder, Path(out), train="data/train.jsonl", overwrite=True)), encoding="utf-8")
    with pytest.raises(OutputError, match=r"refusing to use this output directory.*overwrite does not change this"):
        train(cfg)
    assert data.is_file() and cfg.is_file() and (encoder / "config.json").is_file()


def test_issue_16_output_dir_that_is_a_file_is_refused(tiny_encoder, tmp_path, no_training):
    out = tmp_path / "model.txt"
    out.write_text("not a directory", encoding="utf-8")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="exists and is not a directory"):
            train(_train_cfg(tiny_encoder, out, overwrite=overwrite))
    with pytest.raises(OutputError, match="is a file, so the output directory cannot be created"):
        train(_train_cfg(tiny_encoder, out / "sub"))
    assert out.read_text(encoding="utf-8") == "not a directory"


def test_issue_16_overwrite_true_replaces_a_user_directory_explicitly(tiny_encoder, tmp_path):
    out = tmp_path / "scratch"
    out.mkdir()
    (out / "old.txt").write_text("x", encoding="utf-8")
    train(_train_cfg(tiny_encoder, out, overwrite=True))
    assert (out / "model.safetensors").is_file() and not (out / "old.txt").exists()
    assert "overwrite" not in (out / "README.md").read_text(encoding="utf-8")  # not a hyper-parameter
    train(_train_cfg(tiny_encoder, out))  # now a model directory of ours: replaced without asking
    assert _staging(tmp_path, "scratch") == []


def test_issue_16_check_output_dir_allowed_cases(trained_ner, trained_topics, tmp_path):
    from tagger.savedir import check_output_dir

    assert check_output_dir(tmp_path / "new" / "deeper") == (tmp_path / "new" / "deeper").resolve()
    (tmp_path / "empty").mkdir()
    assert check_output_dir(tmp_path / "empty") == (tmp_path / "empty").resolve()
    assert check_output_dir(trained_ner) == trained_ner.resolve()
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    copy_model(trained_ner, bundle / "ner")
    (bundle / "eval").mkdir()
    assert check_output_dir(bundle, bundle=True) == bundle.resolve()
    with pytest.raises(OutputError, match="not a bundle"):
        check_output_dir(trained_topics, bundle=True)  # a single model is not a bundle
    with pytest.raises(OutputError, match="not a model directory"):
        check_output_dir(bundle)  # ... and a bundle is not a single model
    with pytest.raises(OutputError, match="an input of this run"):
        check_output_dir(bundle, bundle=True, protect=[bundle / "ner" / "config.json"])
    broken = copy_model(trained_ner, tmp_path / "broken")
    (broken / "config.json").write_text("{", encoding="utf-8")  # not recognisable any more: not replaced silently
    with pytest.raises(OutputError):
        check_output_dir(broken)


def test_issue_16_save_model_dir_refuses_a_user_directory(trained_ner, tmp_path):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    model = AutoModelForTokenClassification.from_pretrained(trained_ner)
    tok = AutoTokenizer.from_pretrained(trained_ner)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("export X=1\n", encoding="utf-8")
    with pytest.raises(OutputError):
        save_model_dir(home, model, tok, read_block(trained_ner))
    assert (home / ".bashrc").is_file() and _staging(tmp_path, "home") == []


def test_issue_16_export_onnx_refuses_user_directories(trained_ner, tmp_path):
    pytest.importorskip("onnxruntime")
    from tagger.export import export_onnx

    out = tmp_path / "docs"
    out.mkdir()
    (out / "index.md").write_text("# docs\n", encoding="utf-8")
    with pytest.raises(OutputError, match=r"not empty.*tagger export --overwrite"):
        export_onnx(trained_ner, out)
    assert (out / "index.md").is_file() and sorted(p.name for p in out.iterdir()) == ["index.md"]
    with pytest.raises(OutputError, match=r"refusing.*it is"):
        export_onnx(trained_ner, trained_ner)  # the model being exported
    with pytest.raises(OutputError, match=r"refusing.*it contains"):
        export_onnx(trained_ner, trained_ner.parent, overwrite=True)  # a directory holding it
    bundle = tmp_path / "bundle"
    copy_model(trained_ner, bundle / "ner")
    with pytest.raises(OutputError, match="not a bundle"):
        export_onnx(bundle, out)
    assert (out / "index.md").is_file()


def test_issue_16_export_onnx_overwrite_replaces_explicitly(trained_ner, tmp_path):
    pytest.importorskip("onnxruntime")
    from tagger.export import ONNX_FILE, export_onnx

    out = tmp_path / "onnx"
    out.mkdir()
    (out / "stale.bin").write_bytes(b"x")
    export_onnx(trained_ner, out, overwrite=True)
    assert (out / ONNX_FILE).is_file() and not (out / "stale.bin").exists()


# ---------------------------------------------------------------------------------------------- 2. stale staging
_LEAVE = """
import os, sys, time
from pathlib import Path
from tagger.savedir import new_staging_dir, new_work_dir
target = Path(sys.argv[1])
made = [new_staging_dir(target), new_work_dir(target)]
print(" ".join(p.name for p in made), flush=True)
if sys.argv[2] == "die":
    os.kill(os.getpid(), 9)  # killed mid-save: nothing cleans up
time.sleep(120)
"""


def _leave_staging(target: Path, mode: str) -> tuple[subprocess.Popen, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _LEAVE, str(target), mode], stdout=subprocess.PIPE, text=True, env=env)
    names = proc.stdout.readline().split()
    if mode == "die":
        proc.wait(timeout=30)
    return proc, names


def test_issue_16_stale_staging_left_by_a_kill_is_cleaned_on_next_save(trained_ner, tmp_path):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    target = copy_model(trained_ner, tmp_path / "model")
    alive, alive_names = _leave_staging(target, "live")  # a concurrent job, still running
    dead, dead_names = _leave_staging(target, "die")
    try:
        legacy_old = tmp_path / ".model.tmp-a1b2c3d4"  # an older version's name, untouched for three days
        legacy_new = tmp_path / ".model.work-e5f6g7h8"  # ... and one that may belong to a running older version
        foreign = tmp_path / ".model.work-4242@otherhost_1-0badcafe"  # a job on another machine
        users = tmp_path / ".model.work-notes"  # not a name this library writes: never removed
        for d in (legacy_old, legacy_new, foreign, users):
            d.mkdir()
        for d in (legacy_old, foreign, users):
            os.utime(d, (time.time() - 3 * 86400,) * 2)
        assert dead.returncode == -9 and len(dead_names) == 2 and set(dead_names) <= set(_staging(tmp_path, "model"))

        model = AutoModelForTokenClassification.from_pretrained(target)
        save_model_dir(target, model, AutoTokenizer.from_pretrained(target), read_block(target))
        left = _staging(tmp_path, "model")
        assert not set(dead_names) & set(left) and legacy_old.name not in left
        assert set(alive_names) | {legacy_new.name, foreign.name, users.name} == set(left)  # a running job's are kept
    finally:
        alive.kill()
        alive.wait()


def test_issue_16_stale_old_dir_is_restored_when_the_target_is_gone(trained_ner, tmp_path):
    from tagger.savedir import clean_stale_staging

    parked = tmp_path / ".model.old-999999999@somewhere_1-12345678"  # swap renamed it aside, then the machine died
    copy_model(trained_ner, parked)
    os.utime(parked, (time.time() - 3 * 86400,) * 2)
    for f in parked.iterdir():
        os.utime(f, (time.time() - 3 * 86400,) * 2)
    clean_stale_staging(tmp_path / "model")
    assert read_block(tmp_path / "model").task == "ner" and not parked.exists()


# ---------------------------------------------------------------------------------------------- 3. permissions
def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def test_issue_16_saved_files_all_get_the_umask_permissions(trained_ner, tmp_path):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    target = copy_model(trained_ner, tmp_path / "model")
    model = AutoModelForTokenClassification.from_pretrained(target)
    tok = AutoTokenizer.from_pretrained(target)
    for umask in (0o022, 0o027):
        previous = os.umask(umask)
        try:
            save_model_dir(target, model, tok, read_block(target))
        finally:
            os.umask(previous)
        modes = _modes(target)
        want = {name: (0o777 if (target / name).is_dir() else 0o666) & ~umask for name in modes}
        assert modes == want, {k: oct(v) for k, v in modes.items() if v != want[k]}


def test_issue_16_trained_model_files_are_not_private(trained_ner):
    modes = {name: mode for name, mode in _modes(trained_ner).items() if (trained_ner / name).is_file()}
    assert len(set(modes.values())) == 1, {k: oct(v) for k, v in modes.items()}  # model.safetensors was 0600


# ---------------------------------------------------------------------------------------------- 4. encodings
def _cp1256(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("cp1256"))
    return path


@pytest.mark.parametrize("name, text, reader", [
    ("a.conll", "x\tO\nستار\tB-PER\n", read_conll),
    ("a.jsonl", '{"text": "ok"}\n{"text": "ستار هاشمي"}\n', read_jsonl),
    ("a.csv", "text,labels\nقمر صناعي,space\n", read_csv),
])
def test_issue_16_windows_1256_data_file_names_line_and_iconv(tmp_path, name, text, reader):
    p = _cp1256(tmp_path / name, text)
    with pytest.raises(DataError, match=rf"{re.escape(str(p))}:2: .*not UTF-8.*Windows-1256 \(cp1256\)") as err:
        reader(p)
    assert f"iconv -f cp1256 -t utf-8 {p} >" in str(err.value)


def test_issue_16_windows_1256_config_is_a_config_error(tmp_path):
    p = _cp1256(tmp_path / "c.yaml", "output_dir: out\ntrain: a.jsonl\n# ملاحظة\n")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(p))}:3: .*not UTF-8.*cp1256.*iconv"):
        TrainConfig.from_file(p)


def test_issue_16_other_non_utf8_is_reported_without_a_wrong_guess(tmp_path):
    p = tmp_path / "latin.conll"
    p.write_bytes("café\tO\n".encode("latin-1"))
    with pytest.raises(DataError, match=rf"{re.escape(str(p))}:1: not UTF-8 \(byte offset 3: e9 09 4f 0a\)") as err:
        read_conll(p)
    assert "cp1256" not in str(err.value)


# ---------------------------------------------------------------------------------------------- 5. damaged models
def _edit_config(d: Path, change) -> None:
    config = json.loads((d / "config.json").read_text(encoding="utf-8"))
    change(config)
    (d / "config.json").write_text(json.dumps(config), encoding="utf-8")


CONFIG_DAMAGE = {
    "truncated": (lambda d: (d / "config.json").write_text((d / "config.json").read_text()[:200]), "not valid JSON"),
    "empty": (lambda d: (d / "config.json").write_text(""), "not valid JSON"),
    "not-utf8": (lambda d: (d / "config.json").write_bytes(b"\xff\xfe{}"), "not UTF-8"),
    "array": (lambda d: (d / "config.json").write_text("[]"), "expected a JSON object"),
    "no-id2label": (lambda d: _edit_config(d, lambda c: c.pop("id2label")), "no id2label"),
    "id2label-mismatch": (lambda d: _edit_config(d, lambda c: c.update(id2label={"0": "O"})), "does not match"),
    "block-without-labels": (lambda d: _edit_config(d, lambda c: c["tagger"].pop("labels")), "lacks"),
}


@pytest.mark.parametrize("damage", sorted(CONFIG_DAMAGE))
def test_issue_16_damaged_config_json_is_a_model_load_error(trained_ner, tmp_path, damage):
    d = copy_model(trained_ner, tmp_path / "m")
    mutate, message = CONFIG_DAMAGE[damage]
    mutate(d)
    with pytest.raises(ModelLoadError, match=rf"{re.escape(str(d / 'config.json'))}: .*{message}"):
        read_block(d)


def _drop_classifier(d: Path) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(d / "model.safetensors")
    tensors.pop("classifier.weight")
    save_file(tensors, d / "model.safetensors", metadata={"format": "pt"})


def _add_tensor(d: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    tensors = load_file(d / "model.safetensors")
    tensors["bert.extra.weight"] = torch.zeros(2)
    save_file(tensors, d / "model.safetensors", metadata={"format": "pt"})


def _resize_hidden(d: Path) -> None:
    _edit_config(d, lambda c: c.update(hidden_size=64))


WEIGHT_DAMAGE = {
    "truncated": (lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:5000]),
                  "model.safetensors", "damaged or truncated"),
    "empty": (lambda d: (d / "model.safetensors").write_bytes(b""), "model.safetensors", "damaged or truncated"),
    "garbage": (lambda d: (d / "model.safetensors").write_bytes(b"\x00" * 64), "model.safetensors", "damaged"),
    "missing": (lambda d: (d / "model.safetensors").unlink(), "model.safetensors", "missing"),
    "missing-tensor": (_drop_classifier, "model.safetensors", r"has no weights for \['classifier.weight'\]"),
    "shape-mismatch": (_resize_hidden, "model.safetensors", "shapes do not fit"),
    "extra-tensor": (_add_tensor, "model.safetensors", r"holds weights the model does not use: \['bert.extra.weight'\]"),
}


@pytest.mark.parametrize("damage", sorted(WEIGHT_DAMAGE))
def test_issue_16_damaged_weights_are_a_model_load_error(trained_ner, tmp_path, damage):
    from transformers import AutoModelForTokenClassification

    from tagger.model import load_trained_model

    d = copy_model(trained_ner, tmp_path / "m")
    mutate, file, message = WEIGHT_DAMAGE[damage]
    mutate(d)
    with pytest.raises(ModelLoadError, match=rf"{re.escape(str(d / file))}: .*{message}"):
        load_trained_model(d, AutoModelForTokenClassification)


def test_issue_16_load_trained_model_loads_a_good_model(trained_topics):
    from transformers import AutoModelForSequenceClassification

    from tagger.model import load_trained_model

    model = load_trained_model(trained_topics, AutoModelForSequenceClassification)
    assert model.config.id2label == dict(enumerate(read_block(trained_topics).labels))


# ---------------------------------------------------------------------------------------------- 6. config shapes
@pytest.mark.parametrize("key, value", [
    ("labels", "PER"), ("labels", [1, 2]), ("model", 123), ("train", 5), ("normalization", False),
    ("normalization", ["strip_tashkeel"]), ("dev", {"a": "b"}), ("epochs", True), ("batch_size", False),
    ("task", 7), ("seed", 1.5), ("learning_rate", float("nan")), ("group_by_length", "yes"), ("output_dir", None),
    ("overwrite", "please"), ("max_length", [64]),
])
def test_issue_16_config_value_of_wrong_shape_names_the_key(tmp_path, key, value):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"output_dir": "o", "train": "a.jsonl", key: value}), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(p))}: {key}(\[\d+\])?: expected "):
        TrainConfig.from_file(p)


def test_issue_16_labels_string_is_not_split_into_characters(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("output_dir: o\ntrain: a.jsonl\nlabels: PER\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"labels: expected a list of strings, got 'PER'.*labels: \[PER\]"):
        TrainConfig.from_file(p)
    assert TrainConfig.from_file(p, ["labels=[PER, LOC]"]).labels == ["PER", "LOC"]


@pytest.mark.parametrize("item, message", [
    ("labels=[PER", r"--set labels: the value '\[PER' is not valid YAML"),
    ("model={a", r"--set model: the value '\{a' is not valid YAML"),
    ("normalization=false", r"normalization: expected a mapping"),
    ("epochs.x=1", r"--set epochs.x: 'epochs' is not a mapping"),
    ("overwrite=maybe", r"overwrite: expected true or false"),
])
def test_issue_16_bad_set_values_name_the_key(tmp_path, item, message):
    p = tmp_path / "c.yaml"
    p.write_text("output_dir: o\ntrain: a.jsonl\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_file(p, [item])


def test_issue_16_nested_set_on_a_non_mapping_config_value(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("output_dir: o\ntrain: a.jsonl\nnormalization: false\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"--set normalization.unify_alef: normalization is False in the config"):
        TrainConfig.from_file(p, ["normalization.unify_alef=true"])


def test_issue_16_every_config_field_type_is_checked():
    from dataclasses import fields
    from typing import get_type_hints

    from tagger.config_types import is_supported

    hints = get_type_hints(TrainConfig)
    assert [f.name for f in fields(TrainConfig) if not is_supported(hints[f.name])] == []
    cfg = TrainConfig.from_dict({"output_dir": "o", "train": "a", "learning_rate": "5e-5", "batch_size": 8.0,
                                 "overwrite": True, "normalization": {"unify_alef": True}})
    assert (cfg.learning_rate, cfg.batch_size, cfg.overwrite, cfg.normalization.unify_alef) == (5e-5, 8, True, True)
    cfg = TrainConfig.from_dict({"output_dir": Path("o"), "train": Path("a.jsonl")})  # Paths from Python callers
    assert (cfg.output_dir, cfg.train) == ("o", ["a.jsonl"])
    assert TrainConfig.from_dict(apply_overrides({"output_dir": "o", "train": "a"}, ["overwrite=true"])).overwrite


# ---------------------------------------------------------------------------------------------- 7. JSONL offsets
@pytest.mark.parametrize("key, raw, shown", [
    ("start", "6.9", "6.9"), ("end", '"16"', '"16"'), ("start", "true", "true"), ("end", "Infinity", "Infinity"),
    ("start", "NaN", "NaN"), ("end", "1e20", "1e+20"), ("end", "16.0", "16.0"),
])
def test_issue_16_jsonl_offsets_must_be_integers(tmp_path, key, raw, shown):
    offsets = {"start": "6", "end": "16", key: raw}  # ستار هاشمي is [6, 16)
    entity = f'{{"start": {offsets["start"]}, "end": {offsets["end"]}, "label": "PER"}}'
    line = f'{{"text": "{ARABIC}", "entities": [{{"start": 20, "end": 26, "label": "LOC"}}, {entity}]}}'
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "سطر"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{re.escape(str(p))}:2: entity 1: \"{key}\" must be an integer") as err:
        read_jsonl(p)
    assert f"got {shown} (" in str(err.value)


def test_issue_16_jsonl_integer_offsets_still_work(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(f'{{"text": "{ARABIC}", "entities": [{{"start": 6, "end": 16, "label": "PER"}}]}}\n', encoding="utf-8")
    doc = read_jsonl(p)[0]
    assert doc.text[doc.entities[0].start:doc.entities[0].end] == "ستار هاشمي"


# ---------------------------------------------------------------------------------------------- 8. CSV / CoNLL
def test_issue_16_csv_and_conll_with_a_bom_read_correctly(tmp_path):
    csv_file = tmp_path / "excel.csv"
    csv_file.write_text("\ufefftext,labels\nقمر صناعي,space|5G\n", encoding="utf-8")
    assert [(d.text, d.topics) for d in read_csv(csv_file)] == [("قمر صناعي", ["space", "5G"])]
    conll = tmp_path / "notepad.conll"
    conll.write_text("\ufeffستار\tB-PER\nهاشمي\tI-PER\n", encoding="utf-8")
    doc = read_conll(conll)[0]
    assert doc.text == "ستار هاشمي" and doc.text[doc.entities[0].start:doc.entities[0].end] == "ستار هاشمي"


def test_issue_16_csv_unclosed_quote_names_the_line_where_it_starts(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text('text,labels\nقمر,space\n"مباراة كرة,sports\nخبر,5G\nآخر,space\n', encoding="utf-8")
    with pytest.raises(DataError, match=rf"{re.escape(str(p))}:3: a quoted field .* is never closed"):
        read_csv(p)


def test_issue_16_csv_stray_quote_is_an_error_not_a_merged_row(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text('text,labels\n"قمر,space\nخبر,"5G"\nآخر,space\n', encoding="utf-8")
    with pytest.raises(DataError, match=rf"{re.escape(str(p))}:2: malformed CSV row"):
        read_csv(p)


def test_issue_16_csv_row_with_too_many_fields_names_the_line(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("text,labels\nقمر,space\nقمر، صناعي,space,5G\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{re.escape(str(p))}:3: 3 fields but the header has 2"):
        read_csv(p)


def test_issue_16_csv_multiline_quoted_text_is_still_fine(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text('text,labels\n"سطر أول\nسطر ثان, ""مقتبس""",space\nخبر,\n', encoding="utf-8")
    docs = read_csv(p)
    assert [d.text for d in docs] == ['سطر أول\nسطر ثان, "مقتبس"', "خبر"] and docs[1].source == f"{p}:4"


# ---------------------------------------------------------------------------------------------- 9. JSONL records
def test_issue_16_jsonl_bom_is_ignored(tmp_path):
    p = tmp_path / "bom.jsonl"
    p.write_text('\ufeff{"text": "نص", "topics": ["space"]}\n', encoding="utf-8")
    assert [r for _, _, r in iter_jsonl(p)] == [{"text": "نص", "topics": ["space"]}]
    assert read_jsonl(p)[0].topics == ["space"]
    assert [r for _, _, r in iter_jsonl_lines(['\ufeff{"text": "x"}\n'], "<stdin>")] == [{"text": "x"}]


@pytest.mark.parametrize("line", ['["text"]', '"text"', "3", "null"])
def test_issue_16_jsonl_records_must_be_objects(tmp_path, line):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{re.escape(str(p))}:2: expected a JSON object"):
        list(iter_jsonl(p))
