"""run_eval end to end with stand-in models (anything with the Tagger interface), the CRF baseline, and the thin
eval/report.py script."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tagger.arabic import split_clitics
from tagger.baselines import CrfNerBaseline
from tagger.data.io import read_documents
from tagger.report import EvalError, run_eval
from tagger.report import run as report_run
from tagger.schema import Entity, Prediction, TopicPrediction

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["5G", "space"]

SENTENCES = [
    [("التقى", "O"), ("الوزير", "O"), ("علي", "B-PER"), ("زروقي", "I-PER"), ("في", "O"), ("الجزائر", "B-LOC")],
    [("أعلنت", "O"), ("شركة", "O"), ("هواوي", "B-ORG"), ("عن", "O"), ("شبكة", "O"), ("في", "O"), ("دبي", "B-LOC")],
    [("زار", "O"), ("محمد", "B-PER"), ("بن", "I-PER"), ("راشد", "I-PER"), ("وكالة", "B-ORG"), ("ناسا", "I-ORG")],
    [("وصل", "O"), ("سامي", "B-PER"), ("إلى", "O"), ("القاهرة", "B-LOC"), ("أمس", "O")],
]
TOPIC_RECORDS = [
    {"id": "t0", "text": "شبكة الجيل الخامس تصل إلى المدن", "topics": ["5G"]},
    {"id": "t1", "text": "أطلقت وكالة الفضاء قمرا صناعيا", "topics": ["space"]},
    {"id": "t2", "text": "الجيل الخامس والأقمار الصناعية معا", "topics": ["5G", "space"]},
    {"id": "t3", "text": "فاز الفريق في المباراة", "topics": []},
]


def _write_conll(path: Path, sentences, repeat: int = 1) -> Path:
    path.write_text(
        "\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sentences * repeat) + "\n", encoding="utf-8"
    )
    return path


class StandIn:
    """Predicts the gold entities of the data (minus ``drop`` types) and fixed topic scores."""

    def __init__(self, data_path: Path, drop: tuple[str, ...] = (), topic_scores: dict | None = None):
        self.gold = {d.text: d.entities for d in read_documents(data_path)}
        self.drop = drop
        self.scores = topic_scores
        self.has_ner = topic_scores is None
        self.has_topics = topic_scores is not None
        self.topic_labels = LABELS if self.has_topics else []
        self.thresholds = {"5G": 0.5, "space": 0.5} if self.has_topics else {}
        self.calls = 0

    def predict_documents(self, docs):
        self.calls += 1
        out = []
        for d in docs:
            ents = tuple(
                Entity(d.text[s.start : s.end], s.label, s.start, s.end, 0.9)
                for s in self.gold[d.text]
                if s.label not in self.drop
            )
            top = None
            if self.has_topics:
                top = TopicPrediction((), dict(zip(LABELS, self.scores[d.text])), self.thresholds)
            out.append(Prediction(d.text, ents, top))
        return out

    def topic_scores(self, texts):
        return np.array([self.scores[t] for t in texts])


@pytest.fixture
def conll(tmp_path) -> Path:
    return _write_conll(tmp_path / "test.conll", SENTENCES)


def test_report_run_eval_two_models_and_crf_baseline(tmp_path, conll):
    train = _write_conll(tmp_path / "train.conll", SENTENCES, repeat=5)
    models = {"runs/good": StandIn(conll), "runs/no-per": StandIn(conll, drop=("PER",))}
    out = tmp_path / "out"
    result = run_eval(list(models), str(conll), str(out), baselines=True, train=str(train), n_bootstrap=200,
                      batch_size=2, progress=False, loader=models.__getitem__)
    assert models["runs/good"].calls == 2  # 4 sentences in batches of 2
    names = [s["name"] for s in result["systems"]]
    assert names == ["good", "no-per", "CRF baseline"]
    good, no_per, crf = result["systems"]
    assert good["ner"]["strict"]["f1"] == 1.0 and good["topics"] is None
    # no-per misses the 3 PER of 8 gold entities: recall 5/8, precision 1
    assert no_per["ner"]["strict"]["recall"] == pytest.approx(5 / 8)
    assert no_per["ner"]["strict"]["precision"] == 1.0
    assert no_per["ner"]["errors"]["totals"]["missed"] == 3
    assert result["comparison"]["ner"]["no-per"]["delta_f1"] == pytest.approx(2 * (5 / 8) / (1 + 5 / 8) - 1)
    assert crf["kind"] == "baseline" and crf["ner"]["strict"]["f1"] > 0.5  # it was trained on these sentences
    assert result["ner"]["system"] == "good"
    for name in ("metrics.json", "report.md", "report.html"):
        assert (out / name).is_file()
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8"))["data"]["entities"] == 8


def test_report_run_eval_topics_jsonl_with_topic_baseline(tmp_path, monkeypatch):
    data = tmp_path / "topics.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in TOPIC_RECORDS), encoding="utf-8")
    scores = {"شبكة الجيل الخامس تصل إلى المدن": [0.9, 0.1], "أطلقت وكالة الفضاء قمرا صناعيا": [0.2, 0.7],
              "الجيل الخامس والأقمار الصناعية معا": [0.6, 0.4], "فاز الفريق في المباراة": [0.1, 0.6]}
    model = StandIn(data, topic_scores=scores)
    seen = {}

    class FakeTfidf:  # the contract of tagger.baselines.TfidfTopicBaseline
        def fit(self, texts, label_sets, labels):
            seen["fit"] = (len(texts), labels)
            return self

        def scores(self, texts):
            return np.full((len(texts), 2), 0.5)

    monkeypatch.setitem(sys.modules, "tagger.baselines", types.SimpleNamespace(TfidfTopicBaseline=FakeTfidf))
    result = run_eval(["m"], str(data), str(tmp_path / "out"), baselines=True, train=str(data), n_bootstrap=100,
                      progress=False, loader=lambda _: model)
    assert result["ner"] is None and result["data"]["has_ner"] is False
    top = result["topics"]
    # predicted: {5G}, {space}, {5G}, {space} vs gold {5G}, {space}, {5G, space}, {}
    assert top["micro_precision"] == pytest.approx(3 / 4) and top["micro_recall"] == pytest.approx(3 / 4)
    assert top["subset_accuracy"] == pytest.approx(2 / 4)
    assert seen["fit"] == (4, LABELS)
    base = result["systems"][1]
    assert base["name"] == "TF-IDF+LR baseline" and base["topics"]["micro_recall"] == 1.0
    assert any("threshold 0.5" in n for n in base["notes"])
    assert "TF-IDF+LR baseline" in result["comparison"]["topics"]


def test_report_run_eval_refuses_what_it_cannot_do(tmp_path, conll):
    with pytest.raises(EvalError, match="no model given"):
        run_eval([], str(conll), str(tmp_path))
    with pytest.raises(EvalError, match="--baselines needs --train"):
        run_eval(["m"], str(conll), str(tmp_path), baselines=True)


def test_report_eval_script_main(tmp_path, conll, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("eval_report_script", ROOT / "eval" / "report.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(report_run, "_load_tagger", lambda path: StandIn(conll))
    assert script.main(["runs/x", "--data", str(conll), "--out", str(tmp_path / "o"), "--bootstrap", "50",
                        "--no-progress"]) == 0
    assert "x: NER strict F1 1.0000" in capsys.readouterr().out
    assert (tmp_path / "o" / "report.html").is_file()


def test_report_crf_baseline_learns_and_splits_clitics():
    assert split_clitics("والمملكة") == ("وال", "مملكة", "")
    assert split_clitics("للمملكة") == ("لل", "مملكة", "")
    assert split_clitics("كتابهم")[2] == "هم"
    tokens = [[w for w, _ in s] for s in SENTENCES]
    tags = [[t for _, t in s] for s in SENTENCES]
    crf = CrfNerBaseline(max_iterations=50).fit(tokens * 3, tags * 3)
    assert crf.predict(tokens) == tags
    assert crf.predict([[]]) == [[]]


def test_report_run_eval_head_without_annotations_is_noted(tmp_path, conll):
    data = tmp_path / "topics.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in TOPIC_RECORDS), encoding="utf-8")
    ner_model = StandIn(conll)  # an NER model, evaluated on data with topics only
    result = run_eval(["ner-model"], str(data), str(tmp_path / "out"), n_bootstrap=20, progress=False,
                      loader=lambda _: ner_model)
    (entry,) = result["systems"]
    assert entry["ner"] is None and entry["topics"] is None
    assert any("no entity annotations" in n for n in entry["notes"])
    assert ner_model.calls == 0
    assert "no entity annotations" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
