"""Property tests: every point estimate equals fairlearn's MetricFrame / aggregates."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
import sklearn.metrics as skm  # noqa: E402

from auditkit.fairness import MISSING_GROUP, assess_fairness  # noqa: E402

TOL = 1e-9

FAIRLEARN_FUNCTIONS = {
    "count": fairlearn_metrics.count,
    "base_rate": lambda t, p: float(np.mean(t)),
    "selection_rate": fairlearn_metrics.selection_rate,
    "tpr": fairlearn_metrics.true_positive_rate,
    "fpr": fairlearn_metrics.false_positive_rate,
    "fnr": fairlearn_metrics.false_negative_rate,
    "tnr": fairlearn_metrics.true_negative_rate,
    "ppv": lambda t, p: skm.precision_score(t, p, zero_division=0),
    "npv": lambda t, p: skm.precision_score(t, p, pos_label=0, zero_division=0),
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1": lambda t, p: skm.f1_score(t, p, zero_division=0),
}


def _layout(draw_seed, n, n_a, n_b, missing, p_true, p_pred):
    rng = np.random.default_rng(draw_seed)
    a = rng.choice(np.array([f"a{i}" for i in range(n_a)], dtype=object), size=n)
    a[rng.random(n) < missing] = None
    b = rng.integers(0, n_b, size=n).astype(float)  # numeric feature with NaN
    b[rng.random(n) < missing] = np.nan
    y_true = (rng.random(n) < p_true).astype(int)
    y_pred = (rng.random(n) < p_pred).astype(int)
    scores = np.round(rng.random(n), 2)  # ties on purpose
    return pd.DataFrame({"a": a, "b": b}), y_true, y_pred, scores


def _fairlearn_labels(frame: pd.DataFrame, feature: str) -> pd.Series:
    """The kernel's labels for `feature`, built independently with plain pandas."""
    def label(column):
        values = frame[column]
        out = values.map(lambda v: MISSING_GROUP if pd.isna(v) else (str(int(v)) if isinstance(v, float) else str(v)))
        return out.astype(object)

    if " & " in feature:
        left, right = feature.split(" & ")
        return (label(left) + " & " + label(right)).astype(object)
    return label(feature)


layouts = st.tuples(
    st.integers(0, 2**31 - 1),  # data seed
    st.integers(20, 300),  # rows
    st.integers(1, 4),  # groups of a
    st.integers(1, 3),  # groups of b
    st.sampled_from([0.0, 0.05, 0.3]),  # missing share
    st.sampled_from([0.02, 0.3, 0.5, 0.97]),  # P(y_true = 1)
    st.sampled_from([0.02, 0.5, 0.9]),  # P(y_pred = 1)
    st.integers(0, 40),  # min_group_size
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts)
def test_point_estimates_equal_fairlearn(layout):
    seed, n, n_a, n_b, missing, p_true, p_pred, min_size = layout
    frame, y_true, y_pred, scores = _layout(seed, n, n_a, n_b, missing, p_true, p_pred)
    result = assess_fairness(
        y_true,
        y_pred,
        frame,
        y_score=scores,
        intersections=[("a", "b")],
        min_group_size=min_size,
        bootstrap=0,
    )
    by_group = result.by_group
    disparities = result.disparities.set_index(["feature", "metric"])

    for feature in ("a", "b", "a & b"):
        labels = _fairlearn_labels(frame, feature)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mf = fairlearn_metrics.MetricFrame(
                metrics=FAIRLEARN_FUNCTIONS, y_true=y_true, y_pred=y_pred, sensitive_features=labels
            )
        ours = by_group[by_group.feature == feature].set_index("group")
        assert sorted(ours.index) == sorted(mf.by_group.index)
        assert ours["n"].sum() == n
        for metric in FAIRLEARN_FUNCTIONS:
            for group, expected in mf.by_group[metric].items():
                value = ours.loc[group, metric]
                if pd.isna(value):
                    # Undefined for us: fairlearn/sklearn fall back to 0 or a one-class value.
                    reason = next(
                        g.reason for g in result.group_values(metric, feature) if g.group == group
                    )
                    assert reason
                else:
                    assert abs(value - expected) <= TOL, (feature, group, metric)
            # Disparities across ok groups with a defined value equal fairlearn's aggregates
            # over the same groups.
            ok = ours[(ours.status == "ok") & ours[metric].notna()].index
            row = disparities.loc[(feature, metric)]
            assert row["groups_compared"] == len(ok)
            if len(ok) >= 2:
                sub = mf.by_group.loc[list(ok), metric]
                assert abs(row["difference"] - (sub.max() - sub.min())) <= TOL
                if sub.max() > 0:
                    assert abs(row["ratio"] - sub.min() / sub.max()) <= TOL
                else:
                    assert pd.isna(row["ratio"])
            else:
                assert pd.isna(row["difference"])

        # Score metrics per group against sklearn / numpy.
        for group in ours.index:
            mask = (labels == group).to_numpy()
            assert abs(ours.loc[group, "mean_score"] - scores[mask].mean()) <= TOL
            if len(set(y_true[mask])) == 2:
                expected = skm.roc_auc_score(y_true[mask], scores[mask])
                assert abs(ours.loc[group, "auc"] - expected) <= TOL
            else:
                assert pd.isna(ours.loc[group, "auc"])

        # fairlearn's aggregate functions, on the rows of the ok groups, whenever every
        # compared group has the needed rates defined (fairlearn would count 0 otherwise).
        ok_groups = ours[ours.status == "ok"]
        keep = labels.isin(ok_groups.index).to_numpy()
        if len(ok_groups) < 2:
            continue
        args = dict(y_true=y_true[keep], y_pred=y_pred[keep], sensitive_features=labels[keep])
        aggregates = {
            "demographic_parity": (
                fairlearn_metrics.demographic_parity_difference,
                fairlearn_metrics.demographic_parity_ratio,
                ["selection_rate"],
            ),
            "equal_opportunity": (
                fairlearn_metrics.equal_opportunity_difference,
                fairlearn_metrics.equal_opportunity_ratio,
                ["tpr"],
            ),
            "equalized_odds": (
                lambda **k: fairlearn_metrics.equalized_odds_difference(**k, agg="worst_case"),
                lambda **k: fairlearn_metrics.equalized_odds_ratio(**k, agg="worst_case"),
                ["tpr", "fpr"],
            ),
        }
        for name, (difference, ratio, needs) in aggregates.items():
            if ok_groups[needs].isna().any().any():
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected_difference = difference(**args)
                expected_ratio = ratio(**args)
            row = disparities.loc[(feature, name)]
            assert abs(row["difference"] - expected_difference) <= TOL, (feature, name)
            if np.isnan(expected_ratio):
                if name == "equalized_odds" and not pd.isna(row["ratio"]):
                    # fairlearn's min() over (tpr ratio, fpr ratio) returns NaN when the
                    # tpr ratio is 0/0; ours lets that all-zero part not bind (documented).
                    tpr = ok_groups["tpr"]
                    assert (tpr == 0).all()
                    assert row["ratio"] == disparities.loc[(feature, "fpr"), "ratio"]
                else:
                    assert pd.isna(row["ratio"])
            else:
                assert abs(row["ratio"] - expected_ratio) <= TOL, (feature, name)

    # Overall metrics equal fairlearn's overall.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = fairlearn_metrics.MetricFrame(
            metrics=FAIRLEARN_FUNCTIONS, y_true=y_true, y_pred=y_pred,
            sensitive_features=_fairlearn_labels(frame, "a"),
        )
    for metric, expected in mf.overall.items():
        value = result.overall[metric]
        if value is not None:
            assert abs(value - expected) <= TOL, metric


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(5, 300), st.integers(1, 4))
def test_regression_estimates_equal_fairlearn(seed, n, n_groups):
    rng = np.random.default_rng(seed)
    groups = rng.choice(np.array([f"g{i}" for i in range(n_groups)], dtype=object), size=n)
    y_true = rng.gamma(2.0, 3.0, size=n)
    y_pred = y_true + rng.normal(0, 1.0, size=n) ** 2
    result = assess_fairness(y_true, y_pred, {"g": groups}, min_group_size=0, bootstrap=0)
    assert result.task == "regression"
    functions = {
        "count": fairlearn_metrics.count,
        "mean_prediction": fairlearn_metrics.mean_prediction,
        "mean_target": lambda t, p: float(np.mean(t)),
        "mae": skm.mean_absolute_error,
        "rmse": skm.root_mean_squared_error,
    }
    mf = fairlearn_metrics.MetricFrame(
        metrics=functions, y_true=y_true, y_pred=y_pred, sensitive_features=pd.Series(groups)
    )
    ours = result.by_group.set_index("group")
    disparities = result.disparities.set_index("metric")
    for metric in functions:
        for group, expected in mf.by_group[metric].items():
            assert abs(ours.loc[group, metric] - expected) <= TOL * max(1.0, abs(expected))
        if n_groups > 1 and len(mf.by_group) > 1:
            assert abs(disparities.loc[metric, "difference"] - mf.difference()[metric]) <= 1e-9 * 100
            assert abs(disparities.loc[metric, "ratio"] - mf.ratio()[metric]) <= TOL
        assert abs(result.overall[metric] - mf.overall[metric]) <= TOL * max(1.0, abs(mf.overall[metric]))
