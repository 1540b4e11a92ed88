"""Issue 18, part 5: prove no regression. ``tagger eval OLD NEW`` reports the labels both models know ("kept"
labels) with the change of each and its paired-bootstrap interval, flags significant drops, and lists new and
dropped labels; the positives behind each topic threshold are shown when the model records them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, copy_model

from tagger.cli import main
from tagger.data.io import read_documents
from tagger.report import headline, run_eval
from tagger.schema import Entity, Prediction, TopicPrediction

N_DOCS = 40
OLD_TOPICS = ["5G", "space", "cybersecurity", "legacy"]
NEW_TOPICS = ["5G", "space", "cybersecurity", "e-government"]


def _gold_topics(i: int) -> list[str]:
    rules = {"5G": i % 3 == 0, "space": i % 2 == 0, "cybersecurity": i % 4 == 1, "e-government": i % 5 == 0,
             "legacy": i % 7 == 0}
    return [lab for lab, on in rules.items() if on]


def _write_data(path: Path) -> Path:
    """Documents with PER, LOC, ORG (and MISC in every other one) and up to five topics."""
    lines = []
    for i in range(N_DOCS):
        text = f"خبر رقم {i} التقى سامي في القاهرة مع شركة هواوي حول برنامج أرتميس"
        ents = [("سامي", "PER"), ("القاهرة", "LOC"), ("هواوي", "ORG")] + ([("أرتميس", "MISC")] if i % 2 == 0 else [])
        spans = [{"start": text.index(w), "end": text.index(w) + len(w), "label": lab} for w, lab in ents]
        lines.append(json.dumps({"id": f"d{i}", "text": text, "entities": spans, "topics": _gold_topics(i)},
                                ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class FakeJoint:
    """A joint model (entities and topics in one forward pass) with the Tagger interface run_eval uses.

    ``miss_ents(i, label)`` / ``miss_topics(i, label)`` say which gold items of document ``i`` it misses."""

    def __init__(self, data: Path, ner_labels, topic_labels, miss_ents=None, miss_topics=None, support=None):
        self.docs = {d.text: (int(d.id[1:]), d) for d in read_documents(data)}
        self.ner_labels = list(ner_labels)
        self.topic_labels = list(topic_labels)
        self.thresholds = dict.fromkeys(topic_labels, 0.5)
        self.threshold_support = support
        self.miss_ents = miss_ents or (lambda i, lab: False)
        self.miss_topics = miss_topics or (lambda i, lab: False)
        self.has_ner = self.has_topics = True

    def _scores(self, text: str) -> dict[str, float]:
        i, doc = self.docs[text]
        return {lab: 0.9 if lab in doc.topics and not self.miss_topics(i, lab) else 0.1 for lab in self.topic_labels}

    def predict_documents(self, docs):
        out = []
        for d in docs:
            i, gold = self.docs[d.text]
            ents = tuple(
                Entity(d.text[s.start : s.end], s.label, s.start, s.end, 0.9)
                for s in gold.entities
                if s.label in self.ner_labels and not self.miss_ents(i, s.label)
            )
            scores = self._scores(d.text)
            labels = tuple(lab for lab, v in scores.items() if v >= 0.5)
            out.append(Prediction(d.text, ents, TopicPrediction(labels, scores, self.thresholds)))
        return out

    def topic_scores(self, texts):
        return [[self._scores(t)[lab] for lab in self.topic_labels] for t in texts]


@pytest.fixture
def compared(tmp_path):
    data = _write_data(tmp_path / "dev.jsonl")
    old = FakeJoint(data, ["LOC", "ORG", "PER"], OLD_TOPICS)
    new = FakeJoint(
        data,
        ["LOC", "MISC", "ORG", "PER"],
        NEW_TOPICS,
        # PER: found in 10 of 40 documents (a big drop); LOC: one miss (a small change)
        miss_ents=lambda i, lab: (lab == "PER" and i % 4 != 0) or (lab == "LOC" and i == 1),
        # space: found in 5 of its 20 documents (a big drop); cybersecurity: one miss of 10
        miss_topics=lambda i, lab: (lab == "space" and i % 8 != 0) or (lab == "cybersecurity" and i == 1),
        support={"e-government": {"positives": 8, "source": "dev"}, "5G": {"positives": 14, "source": "dev"},
                 "space": {"positives": 12, "source": "cross-validation", "dev_positives": 3, "documents": 30}},
    )
    models = {"runs/old": old, "runs/new": new}
    out = tmp_path / "out"
    result = run_eval(list(models), str(data), str(out), n_bootstrap=400, progress=False, loader=models.__getitem__)
    return result, out


def test_issue_18_kept_topic_labels_flag_the_big_drop_only(compared):
    result, out = compared
    kept = result["kept_labels"]
    assert kept["reference"] == {"ner": "old", "topics": "old"}
    top = kept["topics"]["new"]
    assert list(top["kept"]) == ["5G", "space", "cybersecurity"]
    space, cyber, g5 = top["kept"]["space"], top["kept"]["cybersecurity"], top["kept"]["5G"]
    assert space["reference_f1"] == 1.0 and space["f1"] == pytest.approx(2 * 5 / (20 + 5))
    assert space["delta_f1"] == pytest.approx(space["f1"] - 1.0)
    assert space["ci"]["high"] < 0 and space["significant_drop"] is True
    assert cyber["delta_f1"] < 0 and cyber["ci"]["low"] < 0 <= cyber["ci"]["high"]
    assert cyber["significant_drop"] is False
    assert g5["delta_f1"] == 0.0 and g5["significant_drop"] is False and g5["support"] == 14
    assert top["significant_drops"] == ["space"]
    # micro over the kept labels only: 5G 14/14, space 5/20, cybersecurity 9/10
    micro = top["micro"]
    assert micro["labels"] == 3 and micro["reference_f1"] == 1.0
    assert micro["f1"] == pytest.approx(2 * 28 / (28 + 44))
    assert micro["significant_drop"] is True
    new = top["new"]["e-government"]
    assert set(top["new"]) == {"e-government"} and new["f1"] == 1.0 and new["support"] == 8
    assert (new["threshold"], new["threshold_positives"], new["threshold_source"]) == (0.5, 8, "dev")
    assert top["dropped"] == {"legacy": {"f1": 1.0, "support": 6}}
    on_disk = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert on_disk["kept_labels"]["topics"]["new"]["significant_drops"] == ["space"]
    new_topics = on_disk["systems"][1]["topics"]
    assert new_topics["threshold_support"]["space"] == {"positives": 12, "source": "cross-validation",
                                                        "dev_positives": 3, "documents": 30}
    assert new_topics["per_label"]["cybersecurity"]["threshold_positives"] is None  # not recorded for it
    assert on_disk["systems"][0]["topics"]["threshold_support"] is None  # a model saved before it was recorded


def test_issue_18_kept_ner_types_flag_the_big_drop_only(compared):
    result, _ = compared
    ner = result["kept_labels"]["ner"]["new"]
    assert list(ner["kept"]) == ["LOC", "ORG", "PER"]
    per, loc, org = ner["kept"]["PER"], ner["kept"]["LOC"], ner["kept"]["ORG"]
    assert per["f1"] == pytest.approx(2 * 10 / 50) and per["significant_drop"] is True
    assert loc["delta_f1"] == pytest.approx(2 * 39 / 79 - 1) and loc["significant_drop"] is False
    assert org["delta_f1"] == 0.0 and org["ci"] == {"low": 0.0, "high": 0.0}
    assert ner["significant_drops"] == ["PER"]
    # MISC is new: the reference never predicts it, so overall F1 mixes it in; the kept micro does not
    assert set(ner["new"]) == {"MISC"} and ner["new"]["MISC"]["f1"] == 1.0 and ner["new"]["MISC"]["support"] == 20
    assert ner["dropped"] == {}
    assert ner["micro"]["reference_f1"] == 1.0 and ner["micro"]["support"] == 120
    assert ner["labels"]["reference"] == ["LOC", "ORG", "PER"]


def test_issue_18_report_md_html_and_headline_show_the_section(compared):
    result, out = compared
    md = (out / "report.md").read_text(encoding="utf-8")
    section = md[md.index("## Kept labels") :]
    assert "### NER entity types: new vs old" in section and "### Topic labels: new vs old" in section
    space_row = next(line for line in section.splitlines() if line.startswith("| space "))
    assert "▼ significant drop" in space_row
    cyber_row = next(line for line in section.splitlines() if line.startswith("| cybersecurity "))
    assert "significant" not in cyber_row
    assert "micro (3 kept)" in section
    assert "e-government" in section and "8 (dev)" in section  # new label with the positives behind its threshold
    assert "Dropped labels (old only, unknown to new): legacy" in section
    assert "REGRESSION" in md[: md.index("## Kept labels")]  # the "read this first" list says it first
    # the topics section of the new model: positives behind each threshold; the old model records none
    new_topics = md[md.index("## Topics — new") :]
    assert "positives behind threshold" in new_topics.split("### Examples")[0]
    assert "12 (cross-validation)" in new_topics
    old_topics = md[md.index("## Topics — old") : md.index("## Topics — new")]
    assert "positives behind threshold" not in old_topics.split("### Examples")[0]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<td class="flag">▼ significant drop</td>' in html and 'href="#kept-labels"' in html
    assert "https://" not in html and "http://" not in html
    lines = [line for line in headline(result) if line.startswith("kept labels")]
    assert len(lines) == 2
    assert "significant drop: space" in lines[1] and "new: e-government" in lines[1] and "dropped: legacy" in lines[1]
    assert "significant drop: PER" in lines[0] and "new: MISC" in lines[0]


def test_issue_18_one_model_has_no_kept_label_section(tmp_path):
    data = _write_data(tmp_path / "dev.jsonl")
    model = FakeJoint(data, ["LOC", "ORG", "PER"], OLD_TOPICS)
    result = run_eval(["m"], str(data), str(tmp_path / "o"), n_bootstrap=20, progress=False, loader=lambda _: model)
    assert result["kept_labels"] == {"reference": {"ner": None, "topics": None}, "ner": {}, "topics": {}}
    assert "Kept labels" not in (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    assert not any(line.startswith("kept labels") for line in headline(result))


def test_issue_18_cli_same_real_model_twice_no_change_no_flag(tmp_path, trained_ner, trained_topics, capsys):
    old = tmp_path / "old"
    copy_model(trained_ner, old / "ner")
    copy_model(trained_topics, old / "topics")
    new = copy_model(old, tmp_path / "new")
    cfg_path = new / "topics" / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    labels = cfg["tagger"]["labels"]
    cfg["tagger"]["threshold_support"] = {lab: {"positives": 4, "source": "dev"} for lab in labels}
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
    out = tmp_path / "eval"
    assert main(["eval", str(old), str(new), "--data", str(FIXTURES / "ner_small.jsonl"), "--out", str(out),
                 "--bootstrap", "50", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "kept labels, new vs old: Topic labels micro F1" in printed
    assert "kept labels, new vs old: NER entity types micro F1" in printed
    assert "significant drop: none; new: none; dropped: none" in printed
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    for task in ("ner", "topics"):
        cmp = metrics["kept_labels"][task]["new"]
        assert cmp["kept"] and cmp["new"] == {} and cmp["dropped"] == {} and cmp["significant_drops"] == []
        assert all(r["delta_f1"] == 0.0 and not r["significant_drop"] for r in cmp["kept"].values())
        assert cmp["micro"]["delta_f1"] == 0.0
    assert list(metrics["kept_labels"]["topics"]["new"]["kept"]) == labels
    new_sys = metrics["systems"][1]["topics"]
    assert all(row["threshold_positives"] == 4 for row in new_sys["per_label"].values())
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Kept labels" in md
    assert not any("▼" in line for line in md.splitlines() if line.startswith("|"))  # no flagged row
