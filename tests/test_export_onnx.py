"""ONNX export: dynamic axes, parity with torch, int8 quantisation, the onnxruntime-backed Tagger, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FIXTURES

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from tagger import Tagger  # noqa: E402
from tagger.cli import main  # noqa: E402
from tagger.export import ONNX_FILE, PARITY_FILE, OnnxRunner, export_onnx  # noqa: E402
from tagger.predict import TorchRunner  # noqa: E402

TEXTS = [
    "التقى وزير الاتصالات الإيراني ستار هاشمي نظيره الكيني في نيروبي",
    "",
    "وَقَّعَتْ الجزائرُ وكينيا اتفاقاً للأمن السيبراني",
    " ".join(["أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا من قاعدة كيب كانافيرال"] * 8),  # several windows
    "Huawei و Ericsson شركات 5G",
]


def _decisions(preds):
    return [[(e.start, e.end, e.label) for e in p.entities] for p in preds]


@pytest.fixture(scope="module")
def onnx_ner(trained_ner, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "ner-fp32"
    report = export_onnx(trained_ner, out, dev=FIXTURES / "ner_small.jsonl")
    return out, report


def test_export_onnx_fp32_matches_torch(trained_ner, onnx_ner):
    out, report = onnx_ner
    assert (out / ONNX_FILE).is_file() and (out / "tokenizer.json").is_file() and (out / "config.json").is_file()
    assert not (out / "model.safetensors").exists()
    assert json.loads((out / PARITY_FILE).read_text(encoding="utf-8")) == report
    parity = report["parity"]
    assert parity["max_abs_logit_diff"] < 1e-4
    assert parity["token_label_agreement"] == 1.0 and parity["same_decisions"] == 1.0
    assert parity["dev"]["metric"] == "strict_f1" and parity["dev"]["torch"] == parity["dev"]["onnx"]

    ours = Tagger.from_pretrained(out)
    assert isinstance(ours.ner.runner, OnnxRunner)
    ref = Tagger.from_pretrained(trained_ner)
    assert isinstance(ref.ner.runner, TorchRunner)
    a, b = ref.predict(TEXTS), ours.predict(TEXTS)
    assert _decisions(a) == _decisions(b)
    assert [p.text for p in b] == TEXTS and b[1].entities == ()
    for pa, pb in zip(a, b):
        assert [e.score for e in pa.entities] == pytest.approx([e.score for e in pb.entities], abs=1e-4)


def test_export_onnx_dynamic_batch_and_sequence_axes(trained_ner, onnx_ner):
    runner = Tagger.from_pretrained(onnx_ner[0]).ner.runner
    torch_runner = Tagger.from_pretrained(trained_ner).ner.runner
    rng = np.random.default_rng(0)
    for batch, length in [(1, 3), (5, 17), (2, 24)]:
        ids = rng.integers(5, 300, size=(batch, length))
        mask = np.ones_like(ids)
        mask[0, length // 2 :] = 0  # a padded row
        got, want = runner(ids, mask), torch_runner(ids, mask)
        assert got.shape == want.shape == (batch, length, len(Tagger.from_pretrained(onnx_ner[0]).ner.tags))
        keep = mask.astype(bool)
        assert np.abs(got - want)[keep].max() < 1e-4


def test_export_onnx_int8_is_quantised_and_reports_parity(trained_ner, tmp_path):
    report = export_onnx(trained_ner, tmp_path / "int8", quantize="int8", dev=FIXTURES / "ner_small.jsonl")
    import onnx

    graph = onnx.load(str(tmp_path / "int8" / ONNX_FILE)).graph
    ops = {n.op_type for n in graph.node}
    assert ops & {"DynamicQuantizeLinear", "MatMulInteger", "DynamicQuantizeMatMul", "QAttention"}
    parity = report["parity"]
    assert report["quantize"] == "int8"
    assert 0 < parity["max_abs_logit_diff"] < 1.0
    assert 0.5 <= parity["token_label_agreement"] <= 1.0
    assert set(parity["dev"]) >= {"torch", "onnx", "delta_points", "documents"}
    preds = Tagger.from_pretrained(tmp_path / "int8").predict(TEXTS)
    for text, pred in zip(TEXTS, preds):
        for e in pred.entities:
            assert e.text == text[e.start : e.end]


def test_export_onnx_topics_and_cli(trained_topics, tmp_path, capsys):
    rc = main(["export", str(trained_topics), "--onnx", str(tmp_path / "topics"), "--dev",
               str(FIXTURES / "topics_small.jsonl")])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "topics" and report["parity"]["max_abs_logit_diff"] < 1e-4
    assert report["parity"]["dev"]["metric"] == "micro_f1"
    ref, ours = Tagger.from_pretrained(trained_topics), Tagger.from_pretrained(tmp_path / "topics")
    assert ours.topic_labels == ref.topic_labels and ours.thresholds == ref.thresholds
    np.testing.assert_allclose(ours.topic_scores(TEXTS), ref.topic_scores(TEXTS), atol=1e-5)
    assert [p.topics.labels for p in ours.predict(TEXTS)] == [p.topics.labels for p in ref.predict(TEXTS)]


def test_export_onnx_bundle_and_errors(trained_ner, trained_topics, tmp_path):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(trained_ner, bundle / "ner")
    shutil.copytree(trained_topics, bundle / "topics")
    reports = export_onnx(bundle, tmp_path / "bundle-onnx")
    assert set(reports) == {"ner", "topics"}
    both = Tagger.from_pretrained(tmp_path / "bundle-onnx")
    assert isinstance(both.ner.runner, OnnxRunner) and isinstance(both.topics.runner, OnnxRunner)
    assert len(both.predict(TEXTS)) == len(TEXTS)
    with pytest.raises(ValueError, match="quantize"):
        export_onnx(trained_ner, tmp_path / "x", quantize="int4")
    with pytest.raises(OSError, match="no such model directory"):
        export_onnx(tmp_path / "missing", tmp_path / "y")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
