"""run_eval with real (tiny, randomly initialised) models saved by this library: the whole predict path."""

from __future__ import annotations

import json

from conftest import FIXTURES

from tagger.report import run_eval


def test_report_with_models_ner_and_topic_models_side_by_side(tmp_path, trained_ner, trained_topics):
    data = FIXTURES / "ner_small.jsonl"  # entities and topics
    out = tmp_path / "report"
    result = run_eval([str(trained_ner), str(trained_topics)], str(data), str(out), n_bootstrap=50, progress=False)
    ner_sys, topic_sys = result["systems"]
    assert ner_sys["ner"] is not None and ner_sys["topics"] is None
    assert topic_sys["ner"] is None and topic_sys["topics"] is not None
    assert set(topic_sys["topics"]["per_label"]) == set(json.loads((trained_topics / "config.json").read_text())
                                                         ["tagger"]["labels"])
    for mode in ("strict", "default"):
        assert 0.0 <= result["ner"][mode]["f1"] <= 1.0
    assert result["data"]["has_ner"] and result["data"]["topic_documents"] > 0
    assert result["comparison"] == {"reference": {"ner": ner_sys["name"], "topics": topic_sys["name"]}, "ner": {},
                                    "topics": {}}
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## NER — " in md and "## Topics — " in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "https://" not in html and 'dir="rtl"' in html
