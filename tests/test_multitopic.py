"""Multi-topic documents: the composer, passage scoring of the topic head, entity consistency."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import copy_model

from tagger import Tagger
from tagger.config import NormalizationConfig
from tagger.data.multitopic import compose_documents, single_topic_paragraphs
from tagger.errors import DataError
from tagger.predict import topic_windows
from tagger.schema import Entity


def _records() -> list[dict]:
    recs = []
    for t in ("5G", "space", "cybersecurity"):
        recs += [{"id": f"{t}{k}", "text": f"فقرة {t} رقم {k}", "topics": [t]} for k in range(5)]
    recs += [{"id": f"none{k}", "text": f"فقرة عامة {k}", "topics": []} for k in range(4)]
    recs.append({"id": "multi", "text": "نص عن موضوعين", "topics": ["5G", "space"]})
    recs.append({"id": "unlabelled", "text": "نص بلا وسم"})
    return recs


def test_compose_documents_gold_is_union_and_parts_used_once():
    by_topic, fillers = single_topic_paragraphs(_records(), "fx")
    assert sorted(by_topic) == ["5G", "cybersecurity", "space"] and len(fillers) == 4
    assert all(p.source != "fx#multi" for ps in by_topic.values() for p in ps)
    docs = compose_documents(by_topic, fillers, n=100, min_topics=2, max_topics=3, filler_share=0.5, seed=3)
    assert docs == compose_documents(by_topic, fillers, n=100, min_topics=2, max_topics=3, filler_share=0.5, seed=3)
    parts = [p for d in docs for p in d["parts"]]
    assert len(parts) == len(set(parts))  # each paragraph at most once
    texts = {p.source: p for ps in [*by_topic.values(), fillers] for p in ps}
    for d in docs:
        assert 2 <= len(d["topics"]) <= 3 and len(set(d["topics"])) == len(d["topics"])
        assert sorted({texts[s].topic for s in d["parts"]} - {None}) == d["topics"]
        assert d["text"] == "\n\n".join(texts[s].text for s in d["parts"])
    assert sum(len(d["topics"]) for d in docs) >= 12  # composition goes on until the topics run out


def test_compose_documents_needs_two_topics():
    by_topic, _ = single_topic_paragraphs([{"text": "نص", "topics": ["5G"]}], "fx")
    with pytest.raises(DataError, match="at least 2 topics"):
        compose_documents(by_topic, n=5)


def test_topic_windows_add_half_overlapping_passages(trained_topics):
    tagger = Tagger.from_pretrained(trained_topics)
    head = tagger.topics
    from tagger.align import encode_documents
    from tagger.schema import Document

    long_text = " ".join(["أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا"] * 6)
    enc = encode_documents(head.tokenizer, [Document(text=long_text)], head.norm)
    whole = topic_windows(enc, head.block)
    head.block.passage_length = 8
    both = topic_windows(enc, head.block)
    passages = both[len(whole):]
    assert passages and all(w.end - w.start <= 8 for w in passages)
    assert passages[0].start == 0 and passages[-1].end == len(enc[0].input_ids)
    assert all(b.start < a.end for a, b in zip(passages, passages[1:]))  # they overlap: nothing falls between


def test_passage_scores_pool_by_max_and_keep_saved_behaviour(trained_topics, tmp_path, monkeypatch):
    model = copy_model(trained_topics, tmp_path / "m")
    texts = [" ".join(["أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا"] * 6), "هجوم إلكتروني", ""]
    plain = Tagger.from_pretrained(model)
    import tagger.tasks.topics as topics_module

    seen: list[tuple[list, list]] = []
    pool = topics_module.pool_topic_scores

    def spy(block, n_docs, windows, outputs):
        seen.append((list(windows), list(outputs)))
        return pool(block, n_docs, windows, outputs)

    monkeypatch.setattr(topics_module, "pool_topic_scores", spy)
    base = plain.topic_scores(texts)
    plain.topics.block.passage_length = 8
    pooled = plain.topic_scores(texts)
    assert np.all(pooled >= base - 1e-6)  # max over a superset of windows
    assert np.allclose(pooled[1:], base[1:])  # short texts have no passages
    # the long text's passages were scored and its score is the max over every one of its windows; asserted on
    # what was pooled, not on how far a tiny random model's passage scores happen to lie from the whole window's
    (whole, _), (windows, outputs) = seen
    doc0 = [k for k, w in enumerate(windows) if w.doc == 0]
    assert len(doc0) > sum(1 for w in whole if w.doc == 0) + 1
    probs = 1.0 / (1.0 + np.exp(-np.stack([outputs[k] for k in doc0])))
    assert np.allclose(pooled[0], probs.max(axis=0), atol=1e-6)


def test_entity_consistency_tags_unmarked_repeats_with_exact_offsets():
    from tagger.consistency import propagate_entities
    from tagger.text import pretokenize

    text = "زار هاشمي إيران. وقال إنّ إِيرانَ ولإيران دور، وهاشمي سعيد. إيرانية"
    words = pretokenize(text).spans
    first = text.index("إيران")
    ents = (Entity("إيران", "LOC", first, first + 5, 0.9), Entity("هاشمي", "PER", 4, 9, 0.8))
    out = propagate_entities(text, words, ents, NormalizationConfig())
    got = [(e.text, e.label) for e in out]
    assert got == [("هاشمي", "PER"), ("إيران", "LOC"), ("إِيرانَ", "LOC"), ("إيران", "LOC"), ("هاشمي", "PER")]
    for e in out:
        assert text[e.start:e.end] == e.text
    assert "إيرانية" not in got[-1][0]  # a longer word is not a repeat


def test_entity_consistency_skips_ambiguous_and_low_score_names():
    from tagger.consistency import propagate_entities
    from tagger.text import pretokenize

    text = "الجزيرة قناة . الجزيرة جزيرة . الجزيرة"
    words = pretokenize(text).spans
    tied = (Entity("الجزيرة", "ORG", 0, 7, 0.9), Entity("الجزيرة", "LOC", 14, 21, 0.9))
    assert propagate_entities(text, words, tied, NormalizationConfig()) == tied
    weak = (Entity("الجزيرة", "ORG", 0, 7, 0.3),)
    assert propagate_entities(text, words, weak, NormalizationConfig()) == weak


def test_entity_consistency_setting_is_saved_and_used(trained_ner, tmp_path):
    import json

    model = copy_model(trained_ner, tmp_path / "m")
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    assert config["tagger"]["entity_consistency"] is False
    config["tagger"]["entity_consistency"] = True
    (model / "config.json").write_text(json.dumps(config), encoding="utf-8")
    tagger = Tagger.from_pretrained(model)
    assert tagger.ner.block.entity_consistency is True
    text = "التقى ستار هاشمي في نيروبي ثم عاد هاشمي إلى نيروبي"
    for e in tagger.predict([text])[0].entities:
        assert text[e.start:e.end] == e.text


def test_mixed_windows_join_leads_and_union_targets(trained_topics):
    from tagger.align import encode_documents
    from tagger.data.multitopic import mixed_windows
    from tagger.schema import Document

    tagger = Tagger.from_pretrained(trained_topics)
    tok = tagger.topics.tokenizer
    texts = ["أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا " * 3, "هجوم إلكتروني ببرمجية الفدية استهدف مستشفى",
             "فاز فريق الهلال على النصر في الدوري السعودي"]
    targets = [[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    enc = encode_documents(tok, [Document(text=t) for t in texts], tagger.topics.norm)
    out = mixed_windows(enc, targets, n=30, max_length=24, cls_id=tok.cls_token_id, sep_id=tok.sep_token_id, seed=1)
    assert out == mixed_windows(enc, targets, n=30, max_length=24, cls_id=tok.cls_token_id, sep_id=tok.sep_token_id, seed=1)
    assert len(out) == 30
    for ex in out:
        ids = ex["input_ids"]
        assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id and len(ids) <= 24
    assert any(ex["labels"] == [0.0, 1.0, 0.0, 1.0] for ex in out)  # two topics from two parts
    assert sum(any(ex["labels"]) for ex in out) > 20  # mostly parts with a topic (positive_share 0.75)


def test_paragraph_parts_start_at_paragraph_boundaries(trained_topics):
    from tagger.align import encode_documents
    from tagger.data.multitopic import mixed_windows, paragraph_starts
    from tagger.errors import DataError
    from tagger.schema import Document

    tagger = Tagger.from_pretrained(trained_topics)
    tok = tagger.topics.tokenizer
    texts = ["فاز فريق الهلال على النصر في الدوري السعودي لكرة القدم\n\nأطلقت وكالة الفضاء قمرا صناعيا\n\n"
             "هجوم إلكتروني ببرمجية الفدية",
             "منصة الخدمات الحكومية الإلكترونية تقدم ألف خدمة"]
    enc = encode_documents(tok, [Document(text=t) for t in texts], tagger.topics.norm)
    starts = paragraph_starts(enc[0])
    assert len(starts) == 3 and starts[0] == 0
    # each later start is the first sub-token of the paragraph's first word
    for k, para in zip(starts[1:], ("أطلقت", "هجوم")):
        word = enc[0].word_ids[k]
        assert texts[0][enc[0].word_spans[word][0]:].startswith(para)
    assert paragraph_starts(enc[1]) == [0]
    targets = [[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]]
    kwargs = dict(n=60, max_length=20, cls_id=tok.cls_token_id, sep_id=tok.sep_token_id, seed=2)
    leads = mixed_windows(enc, targets, **kwargs)
    paras = mixed_windows(enc, targets, parts="paragraphs", **kwargs)
    assert starts[1] > 9  # longer than a lead part (budget (20 - 2) // 2), so leads never reach paragraph 2
    inner = {tuple(enc[0].input_ids[k:k + 3]) for k in starts[1:]}

    def has_inner(ex):
        ids = ex["input_ids"]
        return any(tuple(ids[j:j + 3]) in inner for j in range(len(ids)))
    assert any(has_inner(ex) for ex in paras) and not any(has_inner(ex) for ex in leads)
    with pytest.raises(DataError, match="mix_parts"):
        mixed_windows(enc, targets, parts="sentences", **kwargs)


def test_training_passages_come_from_single_topic_documents(trained_topics):
    from tagger.align import encode_documents
    from tagger.schema import Document
    from tagger.tasks.topics import passage_examples, topic_windows

    tagger = Tagger.from_pretrained(trained_topics)
    tok = tagger.topics.tokenizer
    long = "أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا لرصد الأرض " * 4
    enc = encode_documents(tok, [Document(text=t) for t in (long, long, "قصير")], tagger.topics.norm)
    targets = [([0.0, 0.0, 0.0, 1.0], [1.0] * 4), ([1.0, 0.0, 0.0, 1.0], [1.0] * 4), ([0.0] * 4, [1.0] * 4)]
    out = passage_examples(enc, targets, 8, 64, tok.cls_token_id, tok.sep_token_id)
    block = tagger.topics.block
    block.passage_length, block.max_length, block.stride = 8, 64, 8
    cut = [w for w in topic_windows(enc[:1], block) if w.end - w.start <= 8]
    assert len(out) == len(cut) > 1  # the first document's passages, cut as inference cuts them; not the others
    assert all(ex["labels"] == [0.0, 0.0, 0.0, 1.0] and len(ex["input_ids"]) <= 10 for ex in out)
    assert passage_examples(enc, targets, 0, 64, tok.cls_token_id, tok.sep_token_id) == []


def test_train_topics_with_mixed_documents_and_passages(tiny_encoder, tmp_path):
    import json

    from conftest import FIXTURES

    from tagger.trainer import train

    run = train({
        "task": "topics", "model": str(tiny_encoder), "train": str(FIXTURES / "topics_small.jsonl"),
        "dev": str(FIXTURES / "topics_small.jsonl"), "output_dir": str(tmp_path / "m"), "max_steps": 3,
        "batch_size": 4, "max_length": 24, "stride": 4, "mix_documents": 1.0, "passage_length": 8,
        "mix_parts": "paragraphs", "train_passages": True,
    })
    assert run.metrics["train_windows"] > 16  # the documents' own windows plus the composed ones
    block = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))["tagger"]
    assert block["passage_length"] == 8
    assert Tagger.from_pretrained(tmp_path / "m").topics.block.passage_length == 8


def test_leading_titles_stay_outside_person_names():
    from tagger.arabic import leading_titles
    from tagger.text import pretokenize

    def words(text: str) -> list[str]:
        return list(pretokenize(text).strings)

    assert leading_titles(words("السيد علي زروقي")) == 1
    assert leading_titles(words("معالي الوزير الدكتور محمد علي")) == 3
    assert leading_titles(words("د. محمد علي")) == 2  # "د" and the "." spaced off by normalisation
    assert leading_titles(words("السيد")) == 0  # never the whole span
    assert leading_titles(words("علي السيد")) == 0  # only leading words
    assert leading_titles(words("البابا بنديكت")) == 0  # a name in ANERcorp's conventions, not a title
