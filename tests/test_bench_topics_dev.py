"""benchmarks/topics_dev.py: per-label threshold tuning and its cross-fitted (held-out) variant."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("topics_dev", ROOT / "benchmarks" / "topics_dev.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["topics_dev"] = module
    spec.loader.exec_module(module)
    return module


def test_tune_finds_the_separating_threshold(bench):
    gold = np.array([[0], [0], [1], [1]])
    scores = np.array([[0.1], [0.3], [0.6], [0.9]])
    thr = bench.tune(gold, scores)
    assert 0.3 < thr[0] <= 0.6
    assert ((scores >= thr) == gold.astype(bool)).all()


def test_crossfit_never_thresholds_a_document_with_its_own_label(bench):
    # one positive whose score sits far below every negative: tuned on all documents, a threshold can still take
    # it (at the price of the negatives); cross-fitted, its fold has no positive to tune on, so it is missed
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.uniform(0.6, 0.7, 20), [0.05]])[:, None]
    gold = np.zeros((21, 1), dtype=int)
    gold[-1] = 1
    tuned = scores >= bench.tune(gold, scores)
    assert tuned[-1, 0]
    assert not bench.crossfit(gold, scores, folds=3)[-1, 0]


def test_crossfit_keeps_a_clean_separation_and_checks_folds(bench):
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 2, size=(60, 2))
    scores = np.where(gold == 1, rng.uniform(0.55, 1.0, gold.shape), rng.uniform(0.0, 0.45, gold.shape))
    assert (bench.crossfit(gold, scores, folds=5) == gold.astype(bool)).all()
    with pytest.raises(ValueError, match="folds"):
        bench.crossfit(gold, scores, folds=1)


def test_mean_row_averages_runs(bench):
    labels = ["a"]
    found = [{"name": "m", "micro_f1": 0.8, "macro_f1": 0.7, "a": 0.8}, {"name": "m", "micro_f1": 0.9, "macro_f1": 0.8, "a": 0.9}]
    r = bench.mean_row("model mean of 2", found, labels)
    assert r["micro_f1"] == pytest.approx(0.85) and r["a"] == pytest.approx(0.85)
    assert r["std_micro_f1"] == pytest.approx(0.05)


def test_crossfit_row_averages_fold_assignments(bench):
    rng = np.random.default_rng(2)
    gold = rng.integers(0, 2, size=(40, 1))
    scores = np.clip(gold + rng.normal(0, 0.4, gold.shape), 0, 1)
    r = bench.crossfit_row("x", gold, scores, ["a"], folds=4, repeats=3)
    singles = [bench.row("x", gold, bench.crossfit(gold, scores, 4, seed), ["a"])["micro_f1"] for seed in range(3)]
    assert r["name"] == "x" and r["micro_f1"] == pytest.approx(np.mean(singles))


def test_dev_cv_scores_are_out_of_fold(bench):
    """Each document is scored by a TF-IDF model trained on the other folds; a single label works (one column)."""
    texts = [f"أخبار الفضاء والأقمار الصناعية رقم {i}" for i in range(10)] + [f"مباراة كرة القدم رقم {i}" for i in range(10)]
    topics = [["space"]] * 10 + [[]] * 10
    scores = bench.dev_cv_scores(texts, topics, ["space"], folds=5, seed=0)
    assert scores.shape == (20, 1)
    assert ((scores[:, 0] >= 0.5) == np.array([True] * 10 + [False] * 10)).all()
    # out-of-fold: a document whose label contradicts its twins is not recalled from its own label
    flipped = [["space"] if i == 19 else t for i, t in enumerate(topics)]
    assert bench.dev_cv_scores(texts, flipped, ["space"], folds=5, seed=0)[19, 0] < 0.5


def test_blend_rows_score_the_model_with_its_lexical_model_attached(bench, trained_topics, tmp_path, capsys):
    import json

    from conftest import FIXTURES

    out = tmp_path / "rows.json"
    recs = [json.loads(line) for line in (FIXTURES / "topics_small.jsonl").read_text(encoding="utf-8").splitlines()]
    data = tmp_path / "topics.jsonl"  # every fixture text 4 times, so that each cross-validation fold has positives
    data.write_text("".join(json.dumps({"text": f"{r['text']} {k}", "topics": r.get("topics", [])}, ensure_ascii=False)
                            + "\n" for k in range(4) for r in recs), encoding="utf-8")
    data = str(data)
    rc = bench.main(["--dev", data, "--silver", data, "--model", str(trained_topics), "--blend", "0.5", "--folds", "2",
                     "--repeats", "1", "--cv-repeats", "1", "--json", str(out)])
    assert rc == 0
    rows = {r["name"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert {"model@dev-tuned", "model+lex0.5@dev-tuned", "model+lex0.5@dev-crossfit", "model+lex0.5@0.5"} <= set(rows)
    assert all(0.0 <= rows[name]["micro_f1"] <= 1.0 for name in rows)
    assert "| model+lex0.5@dev-crossfit |" in capsys.readouterr().out
