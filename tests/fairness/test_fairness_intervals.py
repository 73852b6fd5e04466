"""Bootstrap intervals agree with fairlearn's n_boot intervals and a plain row bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

from auditkit.fairness import assess_fairness

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")


def _within(ours, theirs, width, share=0.25):
    # Monte-Carlo tolerance: a quarter of the interval's width is about one standard
    # error of the statistic, several times the error of either set of percentiles.
    return abs(ours - theirs) <= share * width


@pytest.fixture(scope="module")
def moderate():
    rng = np.random.default_rng(42)
    n = 3000
    sex = rng.choice(["female", "male"], size=n, p=[0.4, 0.6])
    y_true = (rng.random(n) < np.where(sex == "male", 0.45, 0.35)).astype(int)
    y_pred = np.where(rng.random(n) < 0.25, 1 - y_true, y_true)
    return y_true, y_pred, sex


def test_count_metric_intervals_match_fairlearn_n_boot(moderate):
    y_true, y_pred, sex = moderate
    functions = {
        "selection_rate": fairlearn_metrics.selection_rate,
        "tpr": fairlearn_metrics.true_positive_rate,
        "fpr": fairlearn_metrics.false_positive_rate,
        "accuracy": skm.accuracy_score,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = fairlearn_metrics.MetricFrame(
            metrics=functions, y_true=y_true, y_pred=y_pred, sensitive_features=pd.Series(sex),
            n_boot=200, ci_quantiles=[0.025, 0.975], random_state=0,
        )
    result = assess_fairness(y_true, y_pred, {"sex": sex}, bootstrap=1000, confidence=0.95, seed=0)
    ours = result.by_group.set_index("group")
    low, high = mf.by_group_ci
    for metric in functions:
        for group in ("female", "male"):
            width = high.loc[group, metric] - low.loc[group, metric]
            assert width > 0
            assert _within(ours.loc[group, f"{metric}_ci_low"], low.loc[group, metric], width)
            assert _within(ours.loc[group, f"{metric}_ci_high"], high.loc[group, metric], width)
        d_low, d_high = (q[metric] for q in mf.difference_ci())
        ours_d = result.value(f"{metric}_difference", "sex").ci
        assert _within(ours_d[0], d_low, d_high - d_low)
        assert _within(ours_d[1], d_high, d_high - d_low)
        r_low, r_high = (q[metric] for q in mf.ratio_ci())
        ours_r = result.value(f"{metric}_ratio", "sex").ci
        assert _within(ours_r[0], r_low, r_high - r_low)
        assert _within(ours_r[1], r_high, r_high - r_low)
        o_low, o_high = mf.overall_ci[0][metric], mf.overall_ci[1][metric]
        assert _within(result.overall_ci[metric][0], o_low, o_high - o_low)
        assert _within(result.overall_ci[metric][1], o_high, o_high - o_low)


def _row_bootstrap(statistic, *arrays, n_resamples=400, seed=1):
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    values = []
    for _ in range(n_resamples):
        rows = rng.integers(0, n, n)
        values.append(statistic(*(a[rows] for a in arrays)))
    return np.quantile(values, [0.025, 0.975])


def _ece(scores, labels):
    bins = np.clip(np.floor(scores * 10), 0, 9).astype(int)
    gaps = np.bincount(bins, weights=scores - labels, minlength=10)
    return np.abs(gaps).sum() / len(scores)


def test_score_intervals_match_a_plain_row_bootstrap():
    # Continuous scores (far more distinct values than score cells) exercise the
    # merged-cell path of the AUC bootstrap.
    rng = np.random.default_rng(7)
    n = 2500
    y = (rng.random(n) < 0.4).astype(int)
    scores = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + 1.2 * y - 0.5)))
    result = assess_fairness(
        y, (scores > 0.5).astype(int), {"all": np.repeat("x", n)}, y_score=scores,
        bootstrap=1000, seed=0,
    )
    ours = result.by_group.set_index("group").loc["x"]
    checks = {
        "auc": lambda s, t: skm.roc_auc_score(t, s),
        "mean_score": lambda s, t: s.mean(),
    }
    for metric, statistic in checks.items():
        lo, hi = _row_bootstrap(statistic, scores, y)
        assert _within(ours[f"{metric}_ci_low"], lo, hi - lo), metric
        assert _within(ours[f"{metric}_ci_high"], hi, hi - lo), metric
    lo, hi = _row_bootstrap(_ece, scores, y)
    cal = result.to_dict()["calibration"][0]
    assert cal["ece"] == pytest.approx(_ece(scores, y))
    assert _within(cal["ece_ci"][0], lo, hi - lo) and _within(cal["ece_ci"][1], hi, hi - lo)


def test_regression_intervals_match_a_plain_row_bootstrap():
    rng = np.random.default_rng(3)
    n = 4000
    y = rng.gamma(2.0, 2.0, n)
    p = y + rng.standard_t(4, n)
    result = assess_fairness(y, p, {"all": np.repeat("x", n)}, bootstrap=1000, seed=0)
    ours = result.by_group.set_index("group").loc["x"]
    checks = {
        "mae": lambda t, q: np.abs(q - t).mean(),
        "rmse": lambda t, q: np.sqrt(((q - t) ** 2).mean()),
        "mean_prediction": lambda t, q: q.mean(),
    }
    for metric, statistic in checks.items():
        lo, hi = _row_bootstrap(statistic, y, p)
        assert _within(ours[f"{metric}_ci_low"], lo, hi - lo), metric
        assert _within(ours[f"{metric}_ci_high"], hi, hi - lo), metric
