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


@pytest.mark.parametrize("bad", [{"learning_rate": 0}, {"task": "pos"}, {"stride": 200, "max_length": 128},
                                 {"normalization": {"lowercase": True}}, {"pos_weight": "always"}])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ConfigError):
        TrainConfig.from_dict({"output_dir": "x", "train": "a", **bad})


def test_config_missing_required_key():
    with pytest.raises(ConfigError, match="missing required key"):
        TrainConfig.from_dict({"train": "a"})
