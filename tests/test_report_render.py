"""Report rendering: metrics.json contract, Markdown tables, a self-contained RTL-aware HTML page, and the HTML
as a real browser draws it (headless Chromium; skipped where it is not installed)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tagger.report import SystemPredictions, evaluate_systems, prepare_data, write_report
from tagger.schema import Document, Span

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
LABELS = ["5G", "cybersecurity", "space"]


def _docs() -> list[Document]:
    rows = [
        ("أعلن وزير الاتصالات علي زروقي تشغيل شبكة الجيل الخامس في الجزائر", [("علي زروقي", "PER"), ("الجزائر", "LOC")],
         ["5G"]),
        ("هاجم قراصنة شبكة مستشفى في دبي وطالبوا بفدية", [("دبي", "LOC")], ["cybersecurity"]),
        ("أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا", [("وكالة الفضاء الإماراتية", "ORG")], ["space"]),
        ("فاز فريق الهلال على النصر في الدوري", [("الهلال", "ORG"), ("النصر", "ORG")], []),
    ]
    docs = []
    for i, (text, ents, topics) in enumerate(rows):
        spans = [Span(text.index(surface), text.index(surface) + len(surface), lab) for surface, lab in ents]
        docs.append(Document(text=text, entities=spans, topics=topics, id=f"doc{i}"))
    return docs


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    data = prepare_data(_docs())
    gold = data.gold_tags
    worse = [list(t) for t in gold]
    worse[0] = ["O"] * len(worse[0])  # misses the first document's entities
    worse[3] = [t.replace("ORG", "LOC") for t in worse[3]]  # wrong type
    y = np.array([[lab in (d.topics or []) for lab in LABELS] for d in data.docs], dtype=float)
    a = SystemPredictions("model-a", source="runs/a", ner_tags=gold, topic_scores=0.2 + 0.6 * y,
                          topic_labels=LABELS, thresholds=dict.fromkeys(LABELS, 0.5))
    noisy = np.clip(0.3 + 0.3 * y + np.array([[0.3, 0.0, 0.0]] * 4), 0, 1)
    b = SystemPredictions("CRF baseline", kind="baseline", source="crf", ner_tags=worse, topic_scores=noisy,
                          topic_labels=LABELS, thresholds=dict.fromkeys(LABELS, 0.5))
    result, figs = evaluate_systems(data, [a, b], data_path="mem.jsonl", n_bootstrap=200, seed=0)
    out = tmp_path_factory.mktemp("report")
    paths = write_report(result, figs, out)
    return result, figs, paths


def test_report_render_metrics_json_contract(report):
    result, _, paths = report
    on_disk = json.loads(paths["json"].read_text(encoding="utf-8"))
    json.dumps(on_disk, allow_nan=False)  # no NaN/Infinity anywhere
    assert on_disk["schema_version"] == 1
    ner = on_disk["ner"]
    for mode in ("strict", "default"):
        assert {"precision", "recall", "f1"} <= set(ner[mode])
    assert {"precision", "recall", "f1", "support"} <= set(ner["per_type"]["PER"])
    assert ner["strict"]["f1"] == 1.0 and ner["system"] == "model-a"
    top = on_disk["topics"]
    assert {"micro_f1", "macro_f1", "per_label", "hamming_loss", "subset_accuracy"} <= set(top)
    assert {"precision", "recall", "f1", "support", "threshold"} <= set(top["per_label"]["5G"])
    cmp = on_disk["comparison"]
    assert cmp["reference"] == {"ner": "model-a", "topics": "model-a"}
    assert cmp["ner"]["CRF baseline"]["delta_f1"] < 0
    assert 0 < cmp["ner"]["CRF baseline"]["p_value"] <= 1
    assert [s["name"] for s in on_disk["systems"]] == ["model-a", "CRF baseline"]


def test_report_render_json_keys_are_documented(report):
    result, _, _ = report
    readme = (ROOT / "eval" / "README.md").read_text(encoding="utf-8")
    keys: set[str] = set(result)
    keys |= set(result["data"]) | set(result["settings"]) | set(result["systems"][0]) | set(result["comparison"])
    keys |= set(result["ner"]) | set(result["ner"]["strict"]) | set(result["ner"]["ci"])
    keys |= set(result["ner"]["errors"]["totals"]) | set(result["ner"]["top_errors"][0] if result["ner"]["top_errors"]
                                                        else {})
    keys |= set(result["topics"]) | set(result["topics"]["per_label"]["5G"]) | set(result["topics"]["ci"])
    keys |= set(result["comparison"]["ner"]["CRF baseline"])
    missing = sorted(k for k in keys if f"`{k}`" not in readme)
    assert not missing, f"metrics.json keys not documented in eval/README.md: {missing}"


def test_report_render_markdown_has_tables_and_figures(report):
    _, figs, paths = report
    md = paths["md"].read_text(encoding="utf-8")
    assert md.startswith("# Evaluation report")
    for heading in ("## Summary", "## NER — model-a", "## Topics — model-a", "### Error breakdown",
                    "### Per type (strict)", "### Per label", "### Most frequent errors"):
        assert heading in md
    assert re.search(r"^\| type +\| precision +\| recall", md, re.M)
    assert re.search(r"^\|:-+\|-+:\|", md, re.M)  # alignment row of a table
    assert "| label " in md and "| threshold" not in md.split("### Per label")[0]
    for name in figs:
        assert f"(figures/{name})" in md
        assert (paths["md"].parent / "figures" / name).is_file()
    assert "الاتصالات [علي زروقي] تشغيل" in md  # the baseline's miss, gold marked in its context
    assert md.count("### Most frequent errors") == 2  # one section per system


def test_report_render_html_is_self_contained_and_rtl(report):
    _, figs, paths = report
    page = paths["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    srcs = re.findall(r'src="([^"]*)"', page)
    assert len(srcs) == len(figs) and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    assert 'dir="rtl" lang="ar"' in page
    rtl_cells = re.findall(r'<td dir="rtl" lang="ar">(.*?)</td>', page)
    assert any("زروقي" in c for c in rtl_cells)  # the baseline missed علي زروقي: shown in an RTL context cell
    assert '<span class="g">' in page  # gold entity marked in the context


def test_report_render_html_in_headless_chromium(report, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from PIL import Image

    _, _, paths = report
    shot = tmp_path / "report.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
           "--window-size=1280,2000", paths["html"].resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert shot.is_file(), proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 2000)
    colours = img.resize((320, 500)).getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # text, tables and a figure were drawn, not a blank page
