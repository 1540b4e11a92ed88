"""Train a couple of steps, save, load, identical predictions — one contract test per model type."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FIXTURES, copy_model, read_jsonl

from tagger import Tagger
from tagger.model import ModelLoadError, read_block, save_model_dir
from tagger.trainer import train

TEXTS = [
    "التقى وزير الاتصالات الإيراني ستار هاشمي نظيره الكيني في نيروبي",
    "",
    "   ",
    "وَقَّعَتْ الجزائرُ وكينيا اتفاقاً للأمن السيبراني",
    " ".join(["أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا من قاعدة كيب كانافيرال"] * 8),
]


def test_train_ner_directory_is_self_describing(trained_ner):
    files = {p.name for p in trained_ner.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "training_config.yaml", "metrics.json", "README.md"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    config = json.loads((trained_ner / "config.json").read_text(encoding="utf-8"))
    assert config["id2label"]["0"] == "O" and "B-PER" in config["label2id"]
    block = config["tagger"]
    assert block["task"] == "ner" and block["scheme"] == "IOB2" and block["max_length"] == 24 and block["stride"] == 4
    assert block["normalization"]["strip_tashkeel"] is True
    assert {"tagger", "transformers", "torch"} <= set(block["versions"])
    card = (trained_ner / "README.md").read_text(encoding="utf-8")
    assert "arabic-tagger ner model" in card and "`B-PER`" in card and "learning_rate" in card
    metrics = json.loads((trained_ner / "metrics.json").read_text(encoding="utf-8"))
    assert "strict" in metrics["dev"]["ner"]


def test_train_ner_loads_in_plain_transformers(trained_ner):
    from transformers import AutoModelForTokenClassification, pipeline

    model = AutoModelForTokenClassification.from_pretrained(trained_ner)
    assert model.config.id2label[0] == "O"
    nlp = pipeline("token-classification", model=str(trained_ner), device="cpu")
    assert isinstance(nlp("التقى ستار هاشمي في نيروبي"), list)


def test_train_save_load_predict_identical(trained_ner, tmp_path):
    first = Tagger.from_pretrained(trained_ner).predict(TEXTS)
    moved = copy_model(trained_ner, tmp_path / "copy")
    again = Tagger.from_pretrained(moved).predict(TEXTS)
    assert first == again
    assert first[1].entities == () and first[2].entities == ()
    for text, pred in zip(TEXTS, first):
        assert pred.text == text
        for e in pred.entities:
            assert e.text == text[e.start:e.end] and e.text.strip() == e.text and 0 <= e.score <= 1
        assert list(pred.entities) == sorted(pred.entities, key=lambda e: e.start)


def test_train_predict_input_errors(trained_ner):
    tagger = Tagger.from_pretrained(trained_ner)
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        tagger.predict(["نص", 3])
    with pytest.raises(TypeError, match="single str"):
        tagger.predict("نص")


def test_train_predict_batch_order_and_size_independent(trained_ner):
    texts = TEXTS * 3
    a = Tagger.from_pretrained(trained_ner, batch_size=2).predict(texts)
    b = Tagger.from_pretrained(trained_ner, batch_size=64).predict(texts[::-1])[::-1]
    assert [p.entities for p in a] == [p.entities for p in b]


def test_train_topics_contract(trained_topics, tmp_path):
    from transformers import AutoModelForSequenceClassification

    block = read_block(trained_topics)
    assert block.task == "topics" and set(block.thresholds) == set(block.labels)
    model = AutoModelForSequenceClassification.from_pretrained(trained_topics)
    assert model.config.problem_type == "multi_label_classification"
    tagger = Tagger.from_pretrained(trained_topics)
    preds = tagger.predict(TEXTS)
    assert preds == Tagger.from_pretrained(copy_model(trained_topics, tmp_path / "c")).predict(TEXTS)
    for p in preds:
        assert set(p.topics.scores) == set(block.labels)
        assert all(p.topics.scores[lab] >= p.topics.thresholds[lab] for lab in p.topics.labels)
    assert preds[1].topics.labels == () and preds[2].topics.labels == ()
    low = tagger.predict(TEXTS[:1], thresholds=dict.fromkeys(block.labels, 0.0))[0]
    assert set(low.topics.labels) == set(block.labels)
    scores = tagger.topic_scores(TEXTS)
    assert scores.shape == (len(TEXTS), len(block.labels))
    with pytest.raises(ValueError, match="unknown label"):
        tagger.predict(TEXTS[:1], thresholds={"sports": 0.1})


def test_train_bundle_serves_both_heads(trained_ner, trained_topics, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    copy_model(trained_ner, bundle / "ner")
    copy_model(trained_topics, bundle / "topics")
    pred = Tagger.from_pretrained(bundle).predict(TEXTS[:1])[0]
    assert pred.topics is not None
    assert pred.entities == Tagger.from_pretrained(trained_ner).predict(TEXTS[:1])[0].entities


def test_train_init_from_keeps_old_label_scores(trained_topics, tmp_path):
    """Adding/dropping topic labels: before any new step, kept labels score exactly as before."""
    old = Tagger.from_pretrained(trained_topics)
    data = tmp_path / "new.jsonl"
    rows = read_jsonl(FIXTURES / "topics_small.jsonl")
    for r in rows:
        r["topics"] = [t for t in r["topics"] if t != "space"] + (["digital-economy"] if "5G" in r["topics"] else [])
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "continued"
    train({"task": "topics", "init_from": str(trained_topics), "train": str(data), "output_dir": str(out),
           "labels": ["5G", "cybersecurity", "e-government", "digital-economy"], "max_steps": 1,
           "learning_rate": 1e-12, "head_learning_rate": 1e-12, "warmup_ratio": 0.0, "max_length": 24, "stride": 4})
    new = Tagger.from_pretrained(out)
    assert new.topic_labels == ["5G", "cybersecurity", "e-government", "digital-economy"]  # old order, new appended
    a, b = old.topic_scores(TEXTS), new.topic_scores(TEXTS)
    for lab in ["5G", "cybersecurity", "e-government"]:
        np.testing.assert_allclose(a[:, old.topic_labels.index(lab)], b[:, new.topic_labels.index(lab)], atol=1e-5)


def test_model_atomic_save_keeps_old_model_on_crash(trained_ner, tmp_path, monkeypatch):
    target = copy_model(trained_ner, tmp_path / "model")
    before = (target / "model.safetensors").read_bytes()
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    model = AutoModelForTokenClassification.from_pretrained(target)
    tok = AutoTokenizer.from_pretrained(target)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(tok, "save_pretrained", boom)
    with pytest.raises(KeyboardInterrupt):
        save_model_dir(target, model, tok, read_block(target))
    assert (target / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no half-written leftovers
    monkeypatch.undo()
    save_model_dir(target, model, tok, read_block(target))
    assert Tagger.from_pretrained(target).predict(TEXTS[:1])


def test_model_load_errors_say_what_to_do(tmp_path):
    with pytest.raises(ModelLoadError, match="no such model directory"):
        Tagger.from_pretrained(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="neither a model directory"):
        Tagger.from_pretrained(tmp_path / "empty")


def test_model_saved_directory_is_readable_by_others(trained_ner):
    import stat

    mode = stat.S_IMODE(trained_ner.stat().st_mode)
    assert mode & stat.S_IROTH and mode & stat.S_IXOTH, oct(mode)


def test_train_on_seed_corpus_sample_and_tag_seed_article(tiny_encoder, tmp_path):
    """A small fixture drawn from the project's own corpus: long documents (windows), clitics, tashkeel."""
    root = FIXTURES.parents[1] / "seeds"
    rows = read_jsonl(root / "train.jsonl")
    sample = sorted(rows, key=lambda r: len(r["text"]))[-3:] + rows[:12]  # the longest need several windows
    data = tmp_path / "seeds-sample.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample), encoding="utf-8")
    out = tmp_path / "m"
    train({"task": "ner", "model": str(tiny_encoder), "train": str(data), "output_dir": str(out), "max_steps": 3,
           "batch_size": 8, "max_length": 48, "stride": 8})
    article = (root / "seed_article.txt").read_text(encoding="utf-8")
    diacritised = article.replace("هاشمي", "هاشِمي").replace("كينيا", "كِينيا")
    (pred,) = Tagger.from_pretrained(out).predict([diacritised])
    for e in pred.entities:
        assert diacritised[e.start:e.end] == e.text


def test_head_learning_rate_goes_to_parameters_the_checkpoint_lacks(tiny_encoder, tmp_path):
    """A pooler missing from the checkpoint (MLM-only encoder) is new; a pretrained one (AraBERT) is not."""
    import torch
    from transformers import BertForPreTraining

    from tagger.config import TrainConfig
    from tagger.tasks import get_task
    from tagger.trainer import _new_model

    cfg = TrainConfig(output_dir=str(tmp_path / "out"), train=["x.jsonl"], task="topics", model=str(tiny_encoder))
    task = get_task("topics")
    model, new = _new_model(cfg, task, {"topics": ["a", "b"]})
    assert new == {"classifier.weight", "classifier.bias", "bert.pooler.dense.weight", "bert.pooler.dense.bias"}

    with_pooler = copy_model(tiny_encoder, tmp_path / "with-pooler")
    pretrained = BertForPreTraining.from_pretrained(with_pooler)  # NSP-style checkpoint: has a pooler
    pretrained.save_pretrained(with_pooler)
    cfg.model = str(with_pooler)
    model, new = _new_model(cfg, task, {"topics": ["a", "b"]})
    assert new == {"classifier.weight", "classifier.bias"}
    assert torch.equal(model.bert.pooler.dense.weight, pretrained.bert.pooler.dense.weight)  # loaded, not re-initialised


def test_topics_label_smoothing_moves_bce_targets_off_zero_and_one():
    """`label_smoothing` is honoured by the topic loss: targets 0/1 become eps/2 and 1-eps/2; 0 keeps plain BCE."""
    from types import SimpleNamespace

    import torch

    from tagger.tasks import LossState, get_task
    from tagger.trainer import smooth_multilabel_targets

    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert torch.equal(smooth_multilabel_targets(y, 0.0), y)
    assert torch.allclose(smooth_multilabel_targets(y, 0.1), torch.tensor([[0.95, 0.05], [0.05, 0.95]]))

    logits = torch.tensor([[4.0, -3.0], [-2.0, 5.0]])
    model = lambda **_: SimpleNamespace(logits=logits)  # noqa: E731 - stands in for a sequence-classification model
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for eps, target in [(0.0, y), (0.2, y * 0.8 + 0.1)]:
        state = LossState(SimpleNamespace(label_smoothing=eps), pos_weight=None)
        loss, _ = get_task("topics").loss(model, {"input_ids": None, "labels": y.clone()}, state)
        assert torch.allclose(loss, bce(logits, target))
    assert not torch.allclose(bce(logits, y), bce(logits, y * 0.8 + 0.1))
