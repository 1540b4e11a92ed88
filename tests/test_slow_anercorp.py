"""Slow: really learn ANERcorp with the pretrained mini encoder from ../shared (skipped when absent)."""

from __future__ import annotations

import json

import pytest
from conftest import SHARED, needs_shared

from tagger.cli import main

pytestmark = [pytest.mark.slow, needs_shared]

SPLITS = SHARED / "data" / "splits" / "anercorp"
ENCODER = SHARED / "models" / "arabic-mini-bert"


def test_slow_anercorp_mini_learns_real_entities(tmp_path):
    out = tmp_path / "model"
    rc = main(["train", "training/configs/anercorp-mini.yaml",
               "--set", f"model={ENCODER}", "--set", f"train={SPLITS / 'train.conll'}",
               "--set", f"dev={SPLITS / 'dev.conll'}", "--set", f"output_dir={out}",
               "--set", "max_steps=160", "--set", "max_length=128", "--set", "evaluations_per_epoch=1",
               "--set", "warmup_ratio=0.05"])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    strict = metrics["dev"]["ner"]["strict"]["f1"]
    assert strict >= 0.40, f"dev strict F1 {strict:.3f} below the floor: training does not learn"
    report = tmp_path / "report"
    assert main(["eval", str(out), "--data", str(SPLITS / "dev.conll"), "--out", str(report), "--bootstrap", "50"]) == 0
    result = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    ner = result["ner"] if "ner" in result else next(iter(result["models"].values()))["ner"]
    assert abs(ner["strict"]["f1"] - strict) < 1e-6  # eval and training's model selection agree

    from tagger import Tagger

    article = "التقى وزيرُ الاتصالاتِ الإيرانيُّ ستار هاشمي، في طهران، نظيرَه الكينيَّ ويليام كابوغو جيتاو"
    preds = Tagger.from_pretrained(out).predict([article])
    assert preds[0].entities, "no entity found in a plain news sentence"
    for e in preds[0].entities:
        assert article[e.start:e.end] == e.text
