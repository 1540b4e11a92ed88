from __future__ import annotations

import pytest

from tagger.config import ConfigError, Task, TrainConfig


def test_config_unknown_key_is_an_error(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("output_dir: x\ntrain: a.conll\nwarmup_steps: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['warmup_steps'\]"):
        TrainConfig.from_file(p)


def test_config_overrides_and_types(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("output_dir: x\ntrain: a.conll\ntask: topics\n", encoding="utf-8")
    cfg = TrainConfig.from_file(p, ["epochs=2", "normalization.unify_alef=true", "model=./enc"])
    assert cfg.task is Task.TOPICS and cfg.epochs == 2 and cfg.normalization.unify_alef and cfg.model == "./enc"
    with pytest.raises(ConfigError, match="unknown key 'epoch'"):
        TrainConfig.from_file(p, ["epoch=2"])


def test_config_numbers_written_without_a_dot(tmp_path):
    # YAML 1.1 (PyYAML) reads 5e-5 as the string "5e-5"; the README itself suggests --set learning_rate=5e-5
    p = tmp_path / "c.yaml"
    p.write_text("output_dir: x\ntrain: a.conll\nlearning_rate: 3e-5\n", encoding="utf-8")
    assert TrainConfig.from_file(p).learning_rate == pytest.approx(3e-5)
    cfg = TrainConfig.from_file(p, ["learning_rate=5e-5", "head_learning_rate=1e-3", "batch_size=8.0"])
    assert (cfg.learning_rate, cfg.head_learning_rate) == (pytest.approx(5e-5), pytest.approx(1e-3))
    assert cfg.batch_size == 8 and isinstance(cfg.batch_size, int)
    with pytest.raises(ConfigError, match=r"batch_size: expected an integer, got 2\.5"):
        TrainConfig.from_file(p, ["batch_size=2.5"])
    with pytest.raises(ConfigError, match="learning_rate: expected a number, got 'fast'"):
        TrainConfig.from_file(p, ["learning_rate=fast"])


@pytest.mark.parametrize("bad", [{"learning_rate": 0}, {"task": "pos"}, {"stride": 200, "max_length": 128},
                                 {"normalization": {"lowercase": True}}, {"pos_weight": "always"}])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ConfigError):
        TrainConfig.from_dict({"output_dir": "x", "train": "a", **bad})


def test_config_missing_required_key():
    with pytest.raises(ConfigError, match="missing required key"):
        TrainConfig.from_dict({"train": "a"})
