"""Issue 20: `tagger soup` averages the weights of models trained with one recipe into one model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, copy_model
from safetensors.torch import load_file

from tagger import Tagger
from tagger.cli import main
from tagger.errors import ConfigError, OutputError
from tagger.soup import soup_models
from tagger.trainer import train

TEXTS = ["التقى وزير الاتصالات محمد العلي في الرياض", "أطلقت وكالة الفضاء قمرا صناعيا جديدا"]


def _train_ner(encoder: Path, out: Path, seed: int) -> Path:
    train({
        "task": "ner", "model": str(encoder), "train": str(FIXTURES / "ner_small.jsonl"),
        "dev": str(FIXTURES / "ner_small.jsonl"), "output_dir": str(out), "epochs": 2, "batch_size": 4,
        "learning_rate": 1e-3, "max_length": 24, "stride": 4, "seed": seed,
    })
    return out


@pytest.fixture(scope="module")
def second_ner(tmp_path_factory, tiny_encoder) -> Path:
    return _train_ner(tiny_encoder, tmp_path_factory.mktemp("ner2") / "model", seed=2)


def test_soup_weights_are_the_mean_and_the_soup_loads_and_tags(tmp_path, trained_ner, second_ner):
    out = tmp_path / "soup"
    result = soup_models([trained_ner, second_ner], out)
    a, b, s = (load_file(str(p / "model.safetensors")) for p in (trained_ner, second_ner, out))
    assert set(s) == set(a)
    for key in a:
        if a[key].is_floating_point():
            assert (s[key] - (a[key] + b[key]) / 2).abs().max().item() < 1e-6, key
    assert any(not (a[k] == b[k]).all() for k in a if a[k].is_floating_point())  # two different models
    preds = Tagger.from_pretrained(out).predict(TEXTS)
    assert len(preds) == 2 and all(e.text == TEXTS[i][e.start:e.end] for i, p in enumerate(preds) for e in p.entities)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["soup"]["kept"] == [str(trained_ner), str(second_ner)]
    assert result.kept == [trained_ner, second_ner]
    assert "## Weight soup" in (out / "README.md").read_text(encoding="utf-8")


def test_soup_of_a_model_with_its_copy_is_the_model(tmp_path, trained_ner):
    twin = copy_model(trained_ner, tmp_path / "twin")
    out = tmp_path / "soup"
    soup_models([trained_ner, twin], out, dev=FIXTURES / "ner_small.jsonl")
    a, s = load_file(str(trained_ner / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert all((a[k] == s[k]).all() for k in a)
    assert Tagger.from_pretrained(out).predict(TEXTS) == Tagger.from_pretrained(trained_ner).predict(TEXTS)
    dev_f1 = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["soup"]["dev_f1"]
    assert dev_f1["soup"] == pytest.approx(dev_f1[str(trained_ner)])


def test_greedy_soup_keeps_the_best_model_and_adds_only_what_does_not_lower_dev(tmp_path, trained_ner, second_ner):
    dev = FIXTURES / "ner_small.jsonl"
    result = soup_models([trained_ner, second_ner], tmp_path / "g", dev=dev, greedy=True)
    f1 = result.dev_f1
    best = max([trained_ner, second_ner], key=lambda p: f1[str(p)])
    assert best in result.kept
    assert f1["soup"] >= f1[str(best)] - 1e-9
    uniform = soup_models([trained_ner, second_ner], tmp_path / "u", dev=dev)
    assert (len(result.kept) == 2) == (uniform.dev_f1["soup"] >= f1[str(best)])


def test_topic_soup_needs_dev_and_gets_thresholds_tuned_for_its_own_weights(tmp_path, trained_topics, capsys):
    twin = copy_model(trained_topics, tmp_path / "twin")
    config = json.loads((twin / "config.json").read_text(encoding="utf-8"))
    config["tagger"]["thresholds"] = {k: 0.99 for k in config["tagger"]["thresholds"]}  # another seed's thresholds
    (twin / "config.json").write_text(json.dumps(config), encoding="utf-8")
    out = tmp_path / "soup"
    assert main(["soup", str(trained_topics), str(twin), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dev" in err[0] and not out.exists()
    dev = FIXTURES / "topics_small.jsonl"
    assert main(["soup", str(trained_topics), str(twin), "--out", str(out), "--dev", str(dev)]) == 0
    soup = Tagger.from_pretrained(out)
    from tagger.data.io import read_documents
    from tagger.tasks import get_task

    _, tuned = get_task("topics").evaluate(soup, read_documents(dev), tune=True)
    assert soup.thresholds == pytest.approx(tuned)
    assert soup.thresholds != {k: 0.99 for k in soup.thresholds}


def test_soup_refuses_models_of_different_recipes(tmp_path, trained_ner, trained_topics, capsys):
    with pytest.raises(ConfigError, match="differ in `"):
        soup_models([trained_ner, trained_topics], tmp_path / "x")
    other = copy_model(trained_ner, tmp_path / "other")
    config = json.loads((other / "config.json").read_text(encoding="utf-8"))
    config["tagger"]["clitic_policy"] = "keep" if config["tagger"]["clitic_policy"] != "keep" else "strip"
    (other / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert main(["soup", str(trained_ner), str(other), "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert "clitic_policy" in err and "Traceback" not in err
    with pytest.raises(ConfigError, match="at least two"):
        soup_models([trained_ner], tmp_path / "z")
    with pytest.raises(ConfigError, match="given twice"):
        soup_models([trained_ner, trained_ner], tmp_path / "z")
    with pytest.raises(ConfigError, match="--greedy"):
        soup_models([trained_ner, copy_model(trained_ner, tmp_path / "twin")], tmp_path / "z", greedy=True)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists() and not (tmp_path / "z").exists()


def test_soup_never_replaces_an_ingredient_or_a_users_folder(tmp_path, trained_ner):
    a = copy_model(trained_ner, tmp_path / "a")
    b = copy_model(trained_ner, tmp_path / "b")
    before = {p.name: p.read_bytes() for p in a.iterdir()}
    with pytest.raises(OutputError):
        soup_models([a, b], a)
    assert {p.name: p.read_bytes() for p in a.iterdir()} == before
    users = tmp_path / "notes"
    users.mkdir()
    (users / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError):
        soup_models([a, b], users)
    assert (users / "mine.txt").read_text(encoding="utf-8") == "keep me"
