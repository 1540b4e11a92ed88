"""Issue 19 (part 3): batch tagging on Ray Data -- a class-based predictor, one model load per worker (offline).

A local Ray with 2 CPUs; the rows that come back (in any order, joined by id) equal ``Tagger.predict``.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import FIXTURES, read_jsonl

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from tagger import Tagger  # noqa: E402
from tagger.errors import DataError  # noqa: E402
from tagger.integrations.ray_data import TaggerPredictor, tag_ray_dataset  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}})
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    base = [r["text"] for r in read_jsonl(FIXTURES / "ner_small.jsonl")]
    variants = ["{}", "قال مراسلنا إن {}", "{} يوم الأحد", "{}. {}", "عاجل: {} وفق مصادر رسمية"]
    out = [v.format(t, t) for v in variants for t in base] * 3  # 240 texts
    return [*out, "", "Huawei 5G"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, trained_ner, trained_topics):
    root = tmp_path_factory.mktemp("raybundle") / "bundle"
    shutil.copytree(trained_ner, root / "ner")
    shutil.copytree(trained_topics, root / "topics")
    return root


def _expected(model_dir, texts):
    return [p.to_dict() for p in Tagger.from_pretrained(model_dir).predict(texts)]


def _check_rows(rows, texts, expected, topics: bool) -> None:
    assert sorted(r["id"] for r in rows) == list(range(len(texts)))
    for row in rows:
        want = expected[row["id"]]
        assert row["text"] == texts[row["id"]]
        got = json.loads(row["entities"])
        assert [(e["text"], e["label"], e["start"], e["end"]) for e in got] == \
            [(e["text"], e["label"], e["start"], e["end"]) for e in want["entities"]]
        assert [e["score"] for e in got] == pytest.approx([e["score"] for e in want["entities"]], abs=1e-5)
        if topics:
            assert list(row["topics"]) == want["topics"]
            assert dict(row["topic_scores"]) == pytest.approx(want["topic_scores"], abs=1e-5)


def test_issue_19_ray_predictor_on_a_bundle_matches_tagger_predict(local_ray, bundle, texts, tmp_path):
    ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=6)
    tagged = ds.map_batches(TaggerPredictor, fn_constructor_kwargs={"model_dir": str(bundle), "threads": 1},
                            batch_size=32, compute=ray.data.ActorPoolStrategy(size=2), num_cpus=1)
    out = tmp_path / "tagged"
    tagged.write_parquet(str(out))
    import pyarrow.parquet as pq

    table = pq.read_table(str(out))
    assert set(table.column_names) == {"id", "text", "entities", "topics", "topic_scores"}
    assert str(table.schema.field("entities").type) == "string"
    assert str(table.schema.field("topics").type).startswith("list<")
    _check_rows(table.to_pylist(), texts, _expected(bundle, texts), topics=True)
    assert any(json.loads(r) for r in table.column("entities").to_pylist())  # the fixture model finds entities


def test_issue_19_tag_ray_dataset_on_onnx_int8(local_ray, trained_ner, texts, tmp_path):
    from tagger.export import export_onnx

    onnx_dir = tmp_path / "onnx"
    export_onnx(trained_ner, onnx_dir, quantize="int8")
    ds = ray.data.from_items([{"id": i, "body": t} for i, t in enumerate(texts)], override_num_blocks=1)
    # int8 activations are quantised per forward pass at run time, so scores (and near-tie entities of this tiny
    # model) depend on which texts share a batch: one block, one Ray batch = the same batches as Tagger.predict
    rows = tag_ray_dataset(ds, onnx_dir, text_column="body", batch_size=len(texts), concurrency=1, threads=1,
                           prefix="pred_").take_all()
    rows = [{"id": r["id"], "text": r["body"], "entities": r["pred_entities"]} for r in rows]
    assert all(set(r) == {"id", "text", "entities"} for r in rows)
    _check_rows(rows, texts, _expected(onnx_dir, texts), topics=False)


def test_issue_19_ray_predictor_outside_ray_checks_its_batch(trained_ner):
    predictor = TaggerPredictor(trained_ner, threads=1)
    assert predictor.tagger.ner.runner.device.type == "cpu"
    out = predictor({"text": np.array(["هجوم إلكتروني في دبي", None], dtype=object), "id": np.array([0, 1])})
    assert list(out["id"]) == [0, 1] and json.loads(out["entities"][1]) == []
    with pytest.raises(DataError, match="no column 'body'"):
        TaggerPredictor(trained_ner, text_column="body")({"text": np.array(["x"])})
    with pytest.raises(DataError, match="already has column"):
        predictor({"text": np.array(["x"]), "entities": np.array(["[]"])})
    with pytest.raises(DataError, match="expected a text"):
        predictor({"text": np.array([3], dtype=object)})
