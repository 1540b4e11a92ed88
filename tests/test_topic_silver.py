"""The topic silver builder (tagger.data.silver): the hand-annotation join on synthetic documents, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tagger.data import silver
from tagger.data.weak import WeakLabeler
from tagger.errors import TaggerError

ROOT = Path(__file__).resolve().parents[1]
ANNOTATIONS = ROOT / "training" / "annotations" / "pool-topics.jsonl"


def _docs():
    return [
        silver.RawDoc("a-1", silver.cut("وزارة الداخلية تطلق خدمة إلكترونية", "أطلقت الوزارة منصة رقمية " * 10), "snn:alyaum"),
        silver.RawDoc("b-2", silver.cut("أسعار النفط ترتفع", "ارتفعت أسعار النفط في الأسواق العالمية " * 5), "snn:alwatan"),
    ]


def _write(path: Path, rows: list[dict | str]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def test_annotations_join_pool_documents_and_replace_rule_labels(tmp_path):
    docs = _docs()
    path = _write(tmp_path / "ann.jsonl", [
        {"id": "a-1", "key": silver.text_key(docs[0].text)[:12], "topics": ["e-government"], "note": ""},
        {"id": "b-2", "key": silver.text_key(docs[1].text)[:12], "topics": [], "note": "oil prices"},
    ])
    labels = ("5G", "cybersecurity", "e-government", "space")
    records, ids = silver.annotated_records(docs, silver.read_annotations(path), path, labels, WeakLabeler(labels))
    assert ids == {"a-1", "b-2"}
    assert [(r["id"], r["topics"], r["source"]) for r in records] == [
        ("a-1", ["e-government"], "hand:snn:alyaum"), ("b-2", [], "hand:snn:alwatan")]
    assert records[0]["text"] == docs[0].text
    # a label set without e-government drops it from the record; the document stays (a negative for the rest)
    records, _ = silver.annotated_records(docs, silver.read_annotations(path), path, ("5G",), WeakLabeler(("5G",)))
    assert records[0]["topics"] == []


@pytest.mark.parametrize(("row", "message"), [
    ('{"id": "a-1", "topics": []', r"ann\.jsonl:2: not valid JSON"),
    ({"id": "a-1", "key": "0", "topics": ["sports"]}, r"ann\.jsonl:2: topics must be a list of labels from"),
    ({"id": "a-1", "topics": []}, r"ann\.jsonl:2: expected"),
    ({"id": "x-9", "key": "0", "topics": []}, r"ann\.jsonl:1: id 'x-9' is not among the readable pool documents"),
])
def test_annotation_errors_name_file_line_and_fix(tmp_path, row, message):
    docs = _docs()
    first = {"id": "b-2", "key": silver.text_key(docs[1].text)[:12], "topics": []}
    rows = [row] if isinstance(row, dict) and row["id"] == "x-9" else [first, row]
    path = _write(tmp_path / "ann.jsonl", rows)
    with pytest.raises(silver.AnnotationError, match=message):
        silver.annotated_records(docs, silver.read_annotations(path), path, ("5G",), WeakLabeler(("5G",)))


def test_annotation_duplicate_id_and_changed_text_are_errors(tmp_path):
    docs = _docs()
    row = {"id": "a-1", "key": silver.text_key(docs[0].text)[:12], "topics": []}
    with pytest.raises(silver.AnnotationError, match=r"ann\.jsonl:2: id 'a-1' already annotated on line 1"):
        silver.read_annotations(_write(tmp_path / "ann.jsonl", [row, row]))
    path = _write(tmp_path / "ann.jsonl", [{**row, "key": "ffffffffffff"}])
    with pytest.raises(silver.AnnotationError, match=r"ann\.jsonl:1: the text of 'a-1' changed"):
        silver.annotated_records(docs, silver.read_annotations(path), path, ("5G",), WeakLabeler(("5G",)))


def test_shipped_annotations_are_well_formed():
    """The committed hand labels parse, use the guideline labels and carry no article text (licence)."""
    path = ANNOTATIONS
    if not path.is_file():
        pytest.skip("no hand annotations shipped")
    annotations = silver.read_annotations(path)
    assert len(annotations) > 100
    for line in path.read_text(encoding="utf-8").splitlines():
        assert set(json.loads(line)) <= {"id", "key", "topics", "note"}


def test_reserved_outlets_are_never_read():
    assert silver.SNN_RESERVED == {"aawsat", "alriyadh", "okaz", "sabq"}
    assert silver.ANT_RESERVED == {"BBC", "CNN"} and not set(silver.ANT_V2_SOURCES) & silver.ANT_RESERVED


def test_user_errors_are_tagger_errors(tmp_path):
    assert issubclass(silver.AnnotationError, TaggerError) and issubclass(silver.AnnotationError, ValueError)
    with pytest.raises(silver.SharedDataMissingError, match="data/external not found") as err:
        silver.read_corpora(tmp_path)
    assert isinstance(err.value, TaggerError) and isinstance(err.value, FileNotFoundError)


def test_script_is_a_thin_cli_over_the_library():
    out = subprocess.run([sys.executable, str(ROOT / "training" / "build_topic_silver.py"), "--help"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    for flag in ("--shared", "--out", "--labels", "--annotations", "--no-annotations", "--self-train", "--st-out"):
        assert flag in out
