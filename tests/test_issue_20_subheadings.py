"""``subheading_words``: a sub-heading announces its topics (the topic guidelines count a topic that a headline or
sub-headline announces). Its comma-separated items are scored by the lexical model of ``lexical_blend``; they count in
the lexical max, and a document scores at least its best item."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FIXTURES, read_jsonl

from tagger import Tagger
from tagger.config import ConfigError
from tagger.lexical import LexicalTopicModel, blend_scores, subheading_items, subheadings

LABELS = ["5G", "cybersecurity", "e-government", "space"]
TITLE = "عنوان الخبر الرئيسي عن لقاء الوزراء"
DOC = "\n\n".join([
    TITLE,
    "التقى الوزير نظيره اليوم في العاصمة وبحث الجانبان سبل التعاون بين البلدين في مجالات عدة.",
    "محادثات ثنائية؛ التركيز على الحكومة الذكية، والتعاون الفضائي",
    "وقال الوزير إن الاجتماع كان مثمرا.",
    "- بند أول في قائمة قصيرة",
    "١. بند مرقم آخر",
    "سطر قصير ينتهي بنقطة.",
    "سطر طويل جدا " + " ".join(["كلمة"] * 20),
])


def test_subheadings_are_short_unpunctuated_lines_after_the_title():
    assert subheadings(DOC, 15) == ["محادثات ثنائية؛ التركيز على الحكومة الذكية، والتعاون الفضائي"]
    assert subheading_items(DOC, 15) == ["محادثات ثنائية", "التركيز على الحكومة الذكية", "والتعاون الفضائي"]
    assert subheadings(DOC, 0) == [] and subheadings(TITLE, 15) == []  # off; a one-line text has no sub-heading
    assert subheadings(f"{TITLE}\nسطر فرعي بلا فواصل", 15) == ["سطر فرعي بلا فواصل"]
    assert subheadings(f"{TITLE}\nكلمة", 15) == []  # one word is no heading
    assert subheadings(DOC, 3) == []  # longer than max_words


def test_subheading_scores_are_the_max_over_items_and_nan_without_one():
    recs = read_jsonl(FIXTURES / "topics_small.jsonl")
    texts, sets = [r["text"] for r in recs], [r.get("topics", []) for r in recs]
    model = LexicalTopicModel.fit(texts, sets, LABELS)
    got = model.subheading_scores([DOC, TITLE, ""], 15)
    items = subheading_items(DOC, 15)
    expected = np.max([1.0 / (1.0 + np.exp(-model.logits(x))) for x in items], axis=0)
    assert np.allclose(got[0], expected, atol=1e-6)
    assert np.isnan(got[1:]).all()
    no_space = LexicalTopicModel.fit(texts, [[t for t in s if t != "space"] for s in sets], LABELS)
    assert np.isnan(no_space.subheading_scores([DOC], 15)[0, 3]) and not np.isnan(no_space.subheading_scores([DOC], 15)[0, :3]).any()


@pytest.fixture(scope="module")
def announced(tiny_encoder, tmp_path_factory):
    from tagger.trainer import train

    out = tmp_path_factory.mktemp("subheadings") / "model"
    train({"task": "topics", "model": str(tiny_encoder), "train": str(FIXTURES / "topics_small.jsonl"),
           "dev": str(FIXTURES / "topics_small.jsonl"), "output_dir": str(out), "epochs": 1, "batch_size": 4,
           "learning_rate": 1e-3, "max_length": 24, "stride": 4, "seed": 1, "lexical_blend": 0.5,
           "subheading_words": 15})
    return out


def test_a_document_scores_at_least_what_its_subheadings_announce(announced):
    config = json.loads((announced / "config.json").read_text(encoding="utf-8"))
    assert config["tagger"]["subheading_words"] == 15
    assert "sub-heading" in (announced / "README.md").read_text(encoding="utf-8")
    tagger = Tagger.from_pretrained(announced)
    lexical = tagger.topics.lexical
    texts = [DOC, TITLE, "أعلنت الهيئة إطلاق شبكة الجيل الخامس في المدن الكبرى\nسطر فرعي عن الأمن السيبراني"]
    got = tagger.topic_scores(texts)

    plain = Tagger.from_pretrained(announced)
    plain.topics.block.subheading_words = 0
    head_only = Tagger.from_pretrained(announced)
    head_only.topics.lexical = None
    head = head_only.topic_scores(texts)
    sub = lexical.subheading_scores(texts, 15)
    expected = np.fmax(blend_scores(head, np.fmax(lexical.scores(texts), sub), 0.5), sub)
    assert np.allclose(got, expected, atol=1e-6)
    assert (got[0] >= sub[0] - 1e-7).all() and (got[2] >= sub[2] - 1e-7).all()
    # a text without a sub-heading scores exactly as the plain blend does
    assert np.array_equal(got[1], plain.topic_scores(texts)[1])
    assert not np.allclose(got[0], plain.topic_scores(texts)[0], atol=1e-4)
    preds = tagger.predict(texts)
    for p, row in zip(preds, got):
        assert [p.topics.scores[lab] for lab in tagger.topic_labels] == pytest.approx(row.tolist())


def test_onnx_export_keeps_the_subheading_rule(announced, tmp_path):
    pytest.importorskip("onnxruntime")
    from tagger.export import export_onnx

    out = tmp_path / "onnx"
    export_onnx(announced, out, dev=FIXTURES / "topics_small.jsonl")
    texts = [DOC, TITLE]
    assert np.allclose(Tagger.from_pretrained(out).topic_scores(texts), Tagger.from_pretrained(announced).topic_scores(texts),
                       atol=1e-4)


def test_subheading_words_config_errors(tmp_path):
    from tagger.trainer import load_config

    base = {"task": "topics", "model": "m", "train": "t.jsonl", "output_dir": str(tmp_path / "o")}
    with pytest.raises(ConfigError, match="subheading_words needs lexical_blend"):
        load_config({**base, "subheading_words": 15})
    with pytest.raises(ConfigError, match="subheading_words must be >= 0"):
        load_config({**base, "lexical_blend": 0.5, "subheading_words": -1})
    assert load_config({**base, "lexical_blend": 0.5, "subheading_words": 15}).subheading_words == 15
