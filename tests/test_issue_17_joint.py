"""Issue 17: the joint task (one encoder, a token head and a topic head, one forward pass per window)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, read_jsonl

from tagger import Document, Tagger
from tagger.align import encode_documents
from tagger.errors import ModelLoadError

TEXTS = [
    "التقى وزير الاتصالات الإيراني ستار هاشمي نظيره الكيني في نيروبي",
    "",
    "أطلقت وكالة الفضاء قمرا صناعيا جديدا، وقالت الوزارة إن شبكة الجيل الخامس تغطي الرياض",
    " ".join(["قال علي زروقي وزير البريد والاتصالات إن الجزائر تطور البنية التحتية"] * 6),
]


def _entities_only_conll(path: Path) -> Path:
    """ANERcorp-like CoNLL (entities, no topics) from the fixture's spans."""
    from tagger.align import entities_to_tags
    from tagger.data.io import read_jsonl as read_docs
    from tagger.text import pretokenize

    lines = []
    for doc in read_docs(FIXTURES / "ner_small.jsonl"):
        words = list(pretokenize(doc.text).spans)
        tags = entities_to_tags(words, doc.entities)
        lines += [f"{doc.text[s:e]} {t}" for (s, e), t in zip(words, tags)] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _joint_config(tiny_encoder: Path, tmp_path: Path, **extra) -> dict:
    conll = _entities_only_conll(tmp_path / "entities.conll")
    return {
        "task": "joint", "model": str(tiny_encoder), "output_dir": str(tmp_path / "joint"),
        # entities only (CoNLL), topics only (JSONL without entities), both (JSONL with entities and topics)
        "train": [str(conll), str(FIXTURES / "topics_small.jsonl"), str(FIXTURES / "ner_small.jsonl")],
        "dev": [str(FIXTURES / "ner_small.jsonl")], "epochs": 2, "batch_size": 4, "learning_rate": 1e-3,
        "max_length": 24, "stride": 4, "seed": 1, **extra,
    }


@pytest.fixture(scope="module")
def joint_model(tiny_encoder, tmp_path_factory) -> Path:
    from tagger.trainer import train

    tmp = tmp_path_factory.mktemp("joint")
    return train(_joint_config(tiny_encoder, tmp)).output_dir


def test_issue_17_joint_saves_one_model_with_both_heads(joint_model):
    from transformers import AutoModel, AutoModelForTokenClassification

    block = json.loads((joint_model / "config.json").read_text(encoding="utf-8"))["tagger"]
    assert block["task"] == "joint"
    assert block["labels"][0] == "O" and {"B-PER", "I-LOC"} <= set(block["labels"])
    assert block["topic_labels"] == ["5G", "cybersecurity", "e-government", "space"]
    assert set(block["thresholds"]) == set(block["topic_labels"])
    metrics = json.loads((joint_model / "metrics.json").read_text(encoding="utf-8"))
    assert {"ner", "topics"} <= set(metrics["dev"])
    # the encoder (and the token head) load in plain transformers, nothing missing
    model, info = AutoModelForTokenClassification.from_pretrained(joint_model, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert AutoModel.from_pretrained(joint_model) is not None
    assert (joint_model / "topic_head.safetensors").is_file()


def test_issue_17_joint_one_forward_pass_gives_entities_and_topics(joint_model):
    tagger = Tagger.from_pretrained(joint_model)
    assert tagger.ner.runner is tagger.topics.runner  # one model
    calls = []
    runner = tagger.ner.runner

    def counting(ids, mask):
        calls.append(ids.shape)
        return runner(ids, mask)

    tagger.ner.runner = tagger.topics.runner = counting
    preds = tagger.predict(TEXTS)
    windows = sum(b for b, _ in calls)
    tagger.ner.runner = tagger.topics.runner = runner

    # the same windows through each head alone take one pass each: the joint tagger runs each window once
    alone_ner = Tagger(ner=tagger.ner).predict(TEXTS)
    alone_topics = Tagger(topics=tagger.topics).predict(TEXTS)
    encoded = encode_documents(tagger.ner.tokenizer, [Document(t) for t in TEXTS], tagger.ner.norm)
    assert windows == len(tagger._windows("ner", encoded)) == len(tagger._windows("topics", encoded)) > len(TEXTS)
    assert [p.entities for p in preds] == [p.entities for p in alone_ner]
    assert [p.topics for p in preds] == [p.topics for p in alone_topics]
    assert preds[1].entities == () and preds[1].topics.labels == ()
    for p, text in zip(preds, TEXTS):
        assert set(p.topics.scores) == set(tagger.topic_labels)
        assert all(text[e.start : e.end] == e.text for e in p.entities)


def test_issue_17_joint_masks_the_missing_task_loss():
    """A document annotated for topics only adds no token loss, one for entities only no topic loss."""
    from types import SimpleNamespace

    import torch

    from tagger.tasks import LossState, get_task
    from tagger.tasks.joint_model import JointOutput

    task = get_task("joint")
    cfg = SimpleNamespace(label_smoothing=0.0, ner_loss_weight=1.0, topics_loss_weight=0.5)
    token_logits = torch.randn(2, 5, 3)
    topic_logits = torch.randn(2, 4)
    model = lambda **_: JointOutput(logits={"ner": token_logits, "topics": topic_logits})  # noqa: E731
    labels = torch.tensor([[-100, 1, 2, 0, -100], [-100] * 5])  # doc 1: topics only
    topics = torch.tensor([[0.0, 0, 0, 0], [1.0, 0, 1, 0]])
    mask = torch.tensor([[0.0] * 4, [1.0] * 4])  # doc 0: entities only
    loss, _ = task.loss(model, {"input_ids": None, "labels": labels, "topic_labels": topics, "topic_mask": mask},
                        LossState(cfg))
    ce = torch.nn.functional.cross_entropy(token_logits[0, 1:4], labels[0, 1:4])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(topic_logits[1], topics[1])
    assert torch.allclose(loss, ce + 0.5 * bce)
    # no topic-annotated document in the batch: the topic part is zero, not NaN
    loss, _ = task.loss(model, {"input_ids": None, "labels": labels, "topic_labels": topics,
                                "topic_mask": torch.zeros(2, 4)}, LossState(cfg))
    assert torch.allclose(loss, ce)


def test_issue_17_joint_annotations_come_from_each_source(tiny_encoder, tmp_path):
    from tagger.config import TrainConfig
    from tagger.examples import read_all

    cfg = TrainConfig.from_dict(_joint_config(tiny_encoder, tmp_path))
    docs, annotated = read_all(cfg.train, cfg)
    from tagger.data.io import read_documents

    n_conll, n_topics = len(read_documents(cfg.train[0])), len(read_jsonl(FIXTURES / "topics_small.jsonl"))
    assert len(docs) == n_conll + n_topics + len(read_jsonl(FIXTURES / "ner_small.jsonl"))
    assert all(a == {"ner"} for a in annotated[:n_conll])
    assert all(a == {"topics"} for a in annotated[n_conll : n_conll + n_topics])
    assert all(a == {"ner", "topics"} for a in annotated[n_conll + n_topics :])


def test_issue_17_joint_onnx_is_one_graph_with_two_outputs(joint_model, tmp_path):
    pytest.importorskip("onnxruntime")
    from tagger.export import ONNX_FILE, OnnxRunner, export_onnx

    out = tmp_path / "onnx"
    report = export_onnx(joint_model, out, dev=FIXTURES / "ner_small.jsonl")
    # a tiny random model puts scores within 1e-7 of the thresholds tuned on the same documents: decisions may
    # flip on such ties, the logits may not differ
    assert report["parity"]["max_abs_logit_diff"] < 1e-4
    assert report["parity"]["dev"]["metric"] == "mean of strict_f1 and micro_f1"
    ours = Tagger.from_pretrained(out)
    assert isinstance(ours.ner.runner, OnnxRunner) and ours.ner.runner is ours.topics.runner
    assert ours.ner.runner.output_names == ["ner_logits", "topics_logits"]
    assert (out / ONNX_FILE).is_file() and not (out / "topic_head.safetensors").exists()
    ref = Tagger.from_pretrained(joint_model)
    a, b = ref.predict(TEXTS), ours.predict(TEXTS)
    for pa, pb in zip(a, b):
        assert list(pa.topics.scores.values()) == pytest.approx(list(pb.topics.scores.values()), abs=1e-4)


def test_issue_17_joint_init_from_adds_a_topic_keeping_old_rows(joint_model, tiny_encoder, tmp_path):
    import torch

    from tagger.config import TrainConfig
    from tagger.tasks import get_task
    from tagger.trainer import _continue_from

    cfg = TrainConfig.from_dict({**_joint_config(tiny_encoder, tmp_path), "init_from": str(joint_model)})
    task = get_task("joint")
    old = get_task("joint").load_model(joint_model)
    new_names = {"ner": list(old.config.id2label.values()),
                 "topics": ["5G", "cybersecurity", "e-government", "space", "AI"]}
    model, changed = _continue_from(cfg, task, new_names)
    assert changed >= {"topic_head.3.weight", "token_model.classifier.weight"}
    assert torch.equal(model.topic_head[3].weight[:4], old.topic_head[3].weight)
    assert torch.equal(model.token_model.classifier.weight, old.token_model.classifier.weight)
    assert model.topic_head[3].weight.shape[0] == 5


def test_issue_17_joint_damaged_topic_head_is_a_model_load_error(joint_model, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(joint_model, broken)
    head = broken / "topic_head.safetensors"
    head.write_bytes(head.read_bytes()[:50])
    with pytest.raises(ModelLoadError, match="topic_head.safetensors"):
        Tagger.from_pretrained(broken)
    head.unlink()
    with pytest.raises(ModelLoadError, match="missing"):
        Tagger.from_pretrained(broken)


def test_issue_17_joint_config_checks(tiny_encoder, tmp_path):
    from tagger.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match="passage_length"):
        TrainConfig.from_dict(_joint_config(tiny_encoder, tmp_path, passage_length=64))
    with pytest.raises(ConfigError, match="topic_labels"):
        TrainConfig.from_dict({**_joint_config(tiny_encoder, tmp_path), "task": "topics", "topic_labels": ["5G"]})


def test_issue_17_joint_scores_match_the_task_scorers(joint_model):
    """Dev evaluation of a joint model is the two single-task scorers on their views."""
    from tagger.data.io import read_documents
    from tagger.tasks import get_task

    tagger = Tagger.from_pretrained(joint_model)
    docs = read_documents(FIXTURES / "ner_small.jsonl")
    joint, _ = get_task("joint").evaluate(tagger, docs)
    ner, _ = get_task("ner").evaluate(Tagger(ner=tagger.ner), docs)
    topics, _ = get_task("topics").evaluate(Tagger(topics=tagger.topics), docs)
    assert joint["ner"] == ner["ner"] and joint["topics"] == topics["topics"]
    assert joint["f1"] == pytest.approx((ner["f1"] + topics["f1"]) / 2)
    assert np.isfinite(joint["f1"])


def test_issue_17_joint_eval_report_has_entities_and_topics(joint_model, tmp_path):
    from tagger.cli import main

    out = tmp_path / "report"
    assert main(["eval", str(joint_model), "--data", str(FIXTURES / "ner_small.jsonl"), "--out", str(out)]) == 0
    result = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    system = result["systems"][0]
    assert system["ner"]["strict"]["f1"] >= 0 and system["topics"]["micro_f1"] >= 0
