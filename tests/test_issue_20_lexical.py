"""``lexical_blend``: a TF-IDF char n-gram + LR topic model saved without pickle and blended into the topic head's
scores, in training (dev thresholds), prediction, ONNX export and loading errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FIXTURES, read_jsonl

from tagger import Tagger
from tagger.baselines.topics import TfidfTopicBaseline
from tagger.config import ConfigError
from tagger.data.io import DataError
from tagger.errors import ModelLoadError
from tagger.lexical import LEXICAL_JSON, LEXICAL_WEIGHTS, LexicalTopicModel, char_wb_ngrams

LABELS = ["5G", "cybersecurity", "e-government", "space"]
TEXTS = [
    "أعلنت الهيئة إطلاق شبكة الجيل الخامس في المدن الكبرى",
    "هجوم إلكتروني على خوادم وزارة المالية وتسريب بيانات المواطنين",
    "",
    "Huawei و Ericsson تتنافسان على عقود 5G في الخليج، والقمر الصناعي الجديد في مداره",
    " ".join(["أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا"] * 8),
]


def _corpus():
    recs = read_jsonl(FIXTURES / "topics_small.jsonl")
    return [r["text"] for r in recs], [r.get("topics", []) for r in recs]


def _train(tiny_encoder, out, **extra):
    from tagger.trainer import train

    cfg = {"task": "topics", "model": str(tiny_encoder), "train": str(FIXTURES / "topics_small.jsonl"),
           "dev": str(FIXTURES / "topics_small.jsonl"), "output_dir": str(out), "epochs": 2, "batch_size": 4,
           "learning_rate": 1e-3, "max_length": 24, "stride": 4, "seed": 1, **extra}
    return train(cfg)


@pytest.fixture(scope="module")
def blended(tiny_encoder, tmp_path_factory):
    out = tmp_path_factory.mktemp("blend") / "model"
    _train(tiny_encoder, out, lexical_blend=0.4)
    return out


def test_numpy_scoring_equals_the_fitted_scikit_learn_model(tmp_path):
    texts, sets = _corpus()
    sk = TfidfTopicBaseline(seed=0).fit(texts, sets, LABELS)
    ours = LexicalTopicModel.fit(texts, sets, LABELS)
    probe = TEXTS + [t[::-1] for t in texts]
    assert np.allclose(ours.scores(probe), sk.scores(probe), atol=1e-5)
    ours.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [LEXICAL_JSON, LEXICAL_WEIGHTS]
    again = LexicalTopicModel.load(tmp_path, LABELS)
    assert np.array_equal(again.scores(probe), ours.scores(probe))
    # the n-grams of scikit-learn's char_wb analyzer (with the same preprocessor), in order
    assert char_wb_ngrams("ab cde", (2, 5)) == sk._vectorizer.build_analyzer()("ab cde")


def test_a_multi_paragraph_text_scores_the_max_over_itself_and_its_paragraphs():
    texts, sets = _corpus()
    model = LexicalTopicModel.fit(texts, sets, LABELS)
    first, second = TEXTS[0], TEXTS[1]
    doc = f"{first}\n\n{second}\nقصير جدا"  # the short line is no paragraph (< 5 words)
    whole = 1.0 / (1.0 + np.exp(-model.logits(doc)))  # the whole text alone
    a, b = (model.scores([t])[0] for t in (first, second))
    assert np.allclose(model.scores([doc])[0], np.maximum(whole, np.maximum(a, b)))
    assert (np.maximum(a, b) > whole + 1e-3).any()  # a paragraph carries a topic the whole text dilutes
    model.paragraph_words = 0
    assert np.allclose(model.scores([doc])[0], TfidfTopicBaseline(seed=0).fit(texts, sets, LABELS).scores([doc])[0],
                       atol=1e-5)


def test_training_saves_the_blend_and_thresholds_are_tuned_on_blended_scores(blended):
    files = {p.name for p in blended.iterdir()}
    assert {LEXICAL_JSON, LEXICAL_WEIGHTS} <= files and not any(f.endswith((".pkl", ".pickle", ".joblib")) for f in files)
    config = json.loads((blended / "config.json").read_text(encoding="utf-8"))
    assert config["tagger"]["lexical_blend"] == pytest.approx(0.4)
    assert "0.40 x a TF-IDF" in (blended / "README.md").read_text(encoding="utf-8")

    tagger = Tagger.from_pretrained(blended)
    scores = tagger.topic_scores(TEXTS)
    lexical = tagger.topics.lexical
    assert lexical is not None
    head_only = Tagger.from_pretrained(blended)
    head_only.topics.lexical = None
    expected = 0.6 * head_only.topic_scores(TEXTS) + 0.4 * lexical.scores(TEXTS)
    assert np.allclose(scores, expected, atol=1e-6)
    assert not np.allclose(scores, head_only.topic_scores(TEXTS), atol=1e-3)  # the lexical part moves them

    # the saved thresholds are the ones tuned on the dev set's blended scores
    from tagger.data.io import read_documents
    from tagger.tasks.topics import score_topics

    _, tuned = score_topics(tagger, read_documents(FIXTURES / "topics_small.jsonl"), tune=True)
    support = tagger.topics.block.threshold_support
    from_dev = [lab for lab in tagger.topic_labels if support.get(lab, {}).get("source") == "dev"]
    assert from_dev, support  # the others come from cross-validation (tagger.calibration)
    assert {lab: tuned[lab] for lab in from_dev} == pytest.approx({lab: tagger.thresholds[lab] for lab in from_dev})
    preds = tagger.predict(TEXTS)
    for p, row in zip(preds, scores):
        assert [p.topics.scores[lab] for lab in tagger.topic_labels] == pytest.approx(row.tolist())
    assert preds[2].topics.labels == ()  # an empty text gets no topic


def test_onnx_export_carries_the_lexical_model(blended, tmp_path):
    pytest.importorskip("onnxruntime")
    from tagger.export import export_onnx

    out = tmp_path / "onnx"
    report = export_onnx(blended, out, dev=FIXTURES / "topics_small.jsonl")
    assert (out / LEXICAL_JSON).is_file() and (out / LEXICAL_WEIGHTS).is_file()
    torch_tagger, onnx_tagger = Tagger.from_pretrained(blended), Tagger.from_pretrained(out)
    assert onnx_tagger.topics.lexical is not None
    assert np.allclose(onnx_tagger.topic_scores(TEXTS), torch_tagger.topic_scores(TEXTS), atol=1e-4)
    assert report["parity"]["same_decisions"] == 1.0


def test_missing_or_foreign_lexical_files_fail_with_the_file_named(blended, tmp_path, capsys):
    import shutil

    from tagger.cli import main

    broken = tmp_path / "m"
    shutil.copytree(blended, broken)
    (broken / LEXICAL_WEIGHTS).unlink()
    with pytest.raises(ModelLoadError, match=LEXICAL_WEIGHTS):
        Tagger.from_pretrained(broken)
    texts = tmp_path / "in.txt"
    texts.write_text("شبكة الجيل الخامس\n", encoding="utf-8")
    rc = main(["predict", str(broken), str(texts)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and LEXICAL_WEIGHTS in err[0] and "Traceback" not in err[0]

    shutil.copy(blended / LEXICAL_WEIGHTS, broken / LEXICAL_WEIGHTS)
    meta = json.loads((broken / LEXICAL_JSON).read_text(encoding="utf-8"))
    meta["labels"] = ["a", "b", "c", "d"]
    (broken / LEXICAL_JSON).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="labels"):
        Tagger.from_pretrained(broken)
    (broken / LEXICAL_WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match="cannot read the lexical"):
        Tagger.from_pretrained(broken)


def test_config_and_data_errors(tiny_encoder, tmp_path):
    from tagger.trainer import load_config

    base = {"task": "topics", "model": "m", "train": "t.jsonl", "output_dir": str(tmp_path / "o")}
    with pytest.raises(ConfigError, match=r"lexical_blend must be in \[0, 1\)"):
        load_config({**base, "lexical_blend": 1.0})
    with pytest.raises(ConfigError, match="lexical_blend is for task: topics"):
        load_config({**base, "task": "ner", "lexical_blend": 0.5})
    texts, sets = _corpus()
    no_space = LexicalTopicModel.fit(texts, [[t for t in s if t != "space"] for s in sets], LABELS)
    assert no_space.uncovered == ("space",)
    scores = no_space.scores(TEXTS)
    assert np.isnan(scores[:, 3]).all() and not np.isnan(scores[:, :3]).any()
    from tagger.lexical import blend_scores

    head = np.full((len(TEXTS), 4), 0.8, dtype=np.float32)
    mixed = blend_scores(head, scores, 0.5)
    assert np.allclose(mixed[:, 3], 0.8) and np.allclose(mixed[:, :3], 0.4 + 0.5 * scores[:, :3])
    no_topics = tmp_path / "train.jsonl"
    no_topics.write_text("\n".join(json.dumps({"text": f"نص عام رقم {i}", "topics": []}, ensure_ascii=False)
                                   for i in range(8)), encoding="utf-8")
    with pytest.raises(DataError, match="lexical_blend: cannot fit"):
        _train(tiny_encoder, tmp_path / "out", train=str(no_topics), dev=None, labels=["5G", "space"],
               lexical_blend=0.5)
    assert not (tmp_path / "out").exists()


def test_checkpoints_are_selected_on_the_head_alone_and_thresholds_tuned_on_the_blend(tiny_encoder, tmp_path,
                                                                                       monkeypatch):
    from tagger.tasks.topics import TopicsTask

    seen: list[bool] = []
    evaluate = TopicsTask.evaluate

    def spy(self, tagger, docs, tune=False, annotated=None):
        seen.append(tagger.topics.lexical is not None)
        return evaluate(self, tagger, docs, tune, annotated)

    monkeypatch.setattr(TopicsTask, "evaluate", spy)
    _train(tiny_encoder, tmp_path / "m", lexical_blend=0.5, evaluations_per_epoch=2, calibration_folds=0)
    assert len(seen) >= 4 and seen[-1] is True and not any(seen[:-1])  # every evaluation during training: head alone
