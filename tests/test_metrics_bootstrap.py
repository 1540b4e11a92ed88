"""Bootstrap confidence intervals and the paired bootstrap test (tagger.metrics)."""

from __future__ import annotations

import numpy as np
import pytest

from tagger.metrics import MetricsError, bootstrap_ci, bootstrap_weights, counts_f1, paired_bootstrap


def _counts(rng: np.random.Generator, n: int = 60, classes: int = 3) -> np.ndarray:
    gold = rng.integers(0, 4, size=(n, classes))
    pred = rng.integers(0, 4, size=(n, classes))
    correct = np.minimum(gold, pred) * (rng.random((n, classes)) < 0.7)
    return np.stack([correct, pred, gold], axis=-1)


def test_metrics_bootstrap_counts_f1_hand():
    assert counts_f1(np.array([3, 5, 4])) == pytest.approx(6 / 9)
    assert counts_f1(np.array([0, 0, 0])) == 0.0
    assert counts_f1(np.array([[1, 1, 1], [0, 2, 0]])).tolist() == [1.0, 0.0]


def test_metrics_bootstrap_weights_resample_with_replacement():
    w = bootstrap_weights(7, 50, seed=3)
    assert w.shape == (50, 7)
    assert (w.sum(axis=1) == 7).all()
    assert (w == 0).any()  # some units left out of some resamples
    with pytest.raises(MetricsError):
        bootstrap_weights(7, 0, seed=3)


def test_metrics_bootstrap_ci_deterministic_with_seed():
    counts = _counts(np.random.default_rng(0))
    a = bootstrap_ci(counts, ["X", "Y", "Z"], samples=300, seed=7)
    b = bootstrap_ci(counts, ["X", "Y", "Z"], samples=300, seed=7)
    c = bootstrap_ci(counts, ["X", "Y", "Z"], samples=300, seed=8)
    assert a == b
    assert a["micro_f1"] != c["micro_f1"]
    point = counts_f1(counts.sum(axis=(0, 1)))
    assert a["micro_f1"]["low"] < point < a["micro_f1"]["high"]
    for k in ("X", "Y", "Z"):
        assert 0.0 <= a["per_class"][k]["low"] <= a["per_class"][k]["high"] <= 1.0


def test_metrics_bootstrap_ci_identical_units_have_zero_width():
    counts = np.tile(np.array([[[1, 2, 2]]]), (20, 1, 1))
    ci = bootstrap_ci(counts, ["X"], samples=100, seed=0)
    assert ci["micro_f1"]["low"] == pytest.approx(0.5) and ci["micro_f1"]["high"] == pytest.approx(0.5)


def test_metrics_bootstrap_paired_identical_systems_p_is_one():
    counts = _counts(np.random.default_rng(1))
    t = paired_bootstrap(counts, counts.copy(), samples=500, seed=0)
    assert t["delta_f1"] == 0.0
    assert t["p_value"] == pytest.approx(1.0)
    assert t["ci"] == {"low": 0.0, "high": 0.0}


def test_metrics_bootstrap_paired_clearly_better_system_is_significant():
    n = 80
    gold = np.ones((n, 1), dtype=int)
    perfect = np.stack([gold, gold, gold], axis=-1)
    bad = np.stack([np.zeros_like(gold), gold, gold], axis=-1)
    bad[::4, :, 0] = 1  # right on a quarter of the units
    t = paired_bootstrap(perfect, bad, samples=999, seed=0)
    assert t["delta_f1"] == pytest.approx(0.75)
    assert t["p_value"] == pytest.approx(1 / 1000)
    assert t["ci"]["low"] > 0.5
    same = paired_bootstrap(perfect, bad, samples=999, seed=0)
    assert same == t


def test_metrics_bootstrap_paired_small_difference_not_significant():
    rng = np.random.default_rng(5)
    a = _counts(rng)
    b = a.copy()
    b[0, 0, 0] = max(0, b[0, 0, 0] - 1)  # one fewer correct entity in one unit
    t = paired_bootstrap(a, b, samples=500, seed=0)
    assert t["delta_f1"] > 0
    assert t["p_value"] > 0.05


def test_metrics_bootstrap_paired_needs_same_units():
    with pytest.raises(MetricsError, match="same units"):
        paired_bootstrap(np.zeros((3, 1, 3)), np.zeros((4, 1, 3)))


def test_metrics_bootstrap_ci_skips_resamples_where_a_class_is_absent():
    # 10 units, one PER entity in unit 0 found exactly; most resamples do not contain unit 0
    counts = np.zeros((10, 1, 3), dtype=int)
    counts[0, 0] = [1, 1, 1]
    ci = bootstrap_ci(counts, ["PER"], samples=200, seed=0)
    assert ci["per_class"]["PER"] == {"low": 1.0, "high": 1.0}  # not [0, 1]
    assert ci["micro_f1"] == {"low": 1.0, "high": 1.0}
    none = bootstrap_ci(np.zeros((5, 1, 3), dtype=int), ["PER"], samples=20, seed=0)
    assert none["micro_f1"] == {"low": 0.0, "high": 0.0}
