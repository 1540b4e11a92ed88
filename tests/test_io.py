from __future__ import annotations

import json
import logging

import pytest

from tagger.data.io import (
    DataError,
    check_topic_labels,
    read_conll,
    read_csv,
    read_documents,
    read_jsonl,
    validate_document,
)
from tagger.schema import Document, Span


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_io_conll_reads_sentences_and_spans(tmp_path):
    p = _write(tmp_path, "a.conll", "التقى\tO\nستار\tB-PER\nهاشمي\tI-PER\nفي\tO\nنيروبي\tB-LOC\n\nكينيا O\n")
    docs = read_conll(p)
    assert len(docs) == 2
    d = docs[0]
    assert [d.text[s.start:s.end] for s in d.entities] == ["ستار هاشمي", "نيروبي"]
    assert [s.label for s in d.entities] == ["PER", "LOC"]
    assert d.source == f"{p}:1" and docs[1].source == f"{p}:7"


def test_io_conll_bad_tag_names_file_and_line(tmp_path):
    p = _write(tmp_path, "bad.conll", "كينيا\tO\nمصر\tB_LOC\n")
    with pytest.raises(DataError, match=rf"{p}:2: bad tag 'B_LOC'"):
        read_conll(p)


def test_io_conll_missing_tag_names_line(tmp_path):
    p = _write(tmp_path, "bad.conll", "كينيا\tO\nمصر\n")
    with pytest.raises(DataError, match=r":2: expected 'token<TAB>tag'"):
        read_conll(p)


def test_io_conll_repairs_i_without_b_and_warns(tmp_path, caplog):
    p = _write(tmp_path, "r.conll", "في\tO\nكينيا\tI-LOC\nو\tO\nالجزائر\tI-LOC\nمصر\tI-PER\n")
    with caplog.at_level(logging.WARNING):
        docs = read_conll(p)
    assert "repaired 3 I-X" in caplog.text
    assert [(s.label) for s in docs[0].entities] == ["LOC", "LOC", "PER"]


def test_io_conll_iobes_is_converted(tmp_path):
    p = _write(tmp_path, "e.conll", "ستار\tB-PER\nهاشمي\tE-PER\nفي\tO\nنيروبي\tS-LOC\nكينيا\tS-LOC\n")
    d = read_conll(p)[0]
    assert [(d.text[s.start:s.end], s.label) for s in d.entities] == [("ستار هاشمي", "PER"), ("نيروبي", "LOC"), ("كينيا", "LOC")]


def test_io_jsonl_reads_entities_and_topics(ner_jsonl):
    docs = read_jsonl(ner_jsonl)
    doc = docs[2]
    assert [doc.text[s.start:s.end] for s in doc.entities] == ["الجزائر", "كينيا"]  # و outside the span
    assert doc.topics == ["cybersecurity", "e-government"]


@pytest.mark.parametrize(
    "record, message",
    [
        ({"topics": []}, "missing or non-string \"text\""),
        ({"text": "كينيا", "entities": [{"start": 0, "end": 9, "label": "LOC"}]}, r"out of range"),
        ({"text": "كينيا", "entities": [{"start": 0, "end": 3, "label": "LOC"}]}, "ends inside a word"),
        ({"text": "الكينيا", "entities": [{"start": 2, "end": 7, "label": "LOC"}]}, "starts inside a word"),
        ({"text": "كينيا مصر", "entities": [{"start": 0, "end": 9, "label": "LOC"}, {"start": 6, "end": 9, "label": "LOC"}]}, "overlap"),
        ({"text": "x", "topics": "space"}, "must be a list"),
    ],
)
def test_io_jsonl_errors_name_file_and_line(tmp_path, record, message):
    p = _write(tmp_path, "d.jsonl", json.dumps({"text": "سطر سليم"}) + "\n" + json.dumps(record, ensure_ascii=False) + "\n")
    with pytest.raises(DataError, match=rf"{p}:2: .*{message}"):
        read_jsonl(p)


def test_io_jsonl_clitic_before_span_is_accepted(tmp_path):
    p = _write(tmp_path, "c.jsonl", json.dumps({"text": "وكينيا وبالجزائر", "entities": [
        {"start": 1, "end": 6, "label": "LOC"}, {"start": 9, "end": 16, "label": "LOC"}]}, ensure_ascii=False) + "\n")
    doc = read_jsonl(p)[0]
    assert [doc.text[s.start:s.end] for s in doc.entities] == ["كينيا", "الجزائر"]


def test_io_unknown_topic_label_names_line_and_label_set(tmp_path):
    p = _write(tmp_path, "t.jsonl", '{"text": "a", "topics": ["space"]}\n{"text": "b", "topics": ["sports"]}\n')
    docs = read_documents(p)
    with pytest.raises(DataError, match=rf"{p}:2: unknown topic label 'sports'.*\['5G', 'space'\]"):
        check_topic_labels(docs, ["5G", "space"])


def test_io_document_without_topics_is_a_valid_negative(tmp_path):
    p = _write(tmp_path, "t.jsonl", '{"text": "خبر رياضي", "topics": []}\n')
    assert read_jsonl(p)[0].topics == []


def test_io_csv_labels_pipe_separated(tmp_path):
    p = _write(tmp_path, "t.csv", "text,labels\nقمر صناعي,space|5G\nمباراة,\n")
    docs = read_csv(p)
    assert [d.topics for d in docs] == [["space", "5G"], []]


def test_io_validator_flags_clitic_space_and_label():
    doc = Document(text="وبالجزائر كينيا ", entities=[Span(0, 9, "LOC"), Span(10, 16, "LOCATION")], source="x:1")
    problems = validate_document(doc)
    assert any("proclitic" in p for p in problems)
    assert any("whitespace" in p for p in problems)
    assert any("LOCATION" in p for p in problems)
    assert validate_document(Document(text="و كينيا", entities=[Span(2, 7, "LOC")])) == []
