"""``assess_fairness_without_labels`` against independent references and the labelled kernel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditkit.errors import DataError
from auditkit.fairness import assess_fairness, assess_fairness_without_labels
from auditkit.metrics import metrics, needs_labels


@pytest.fixture()
def rows():
    rng = np.random.default_rng(7)
    n = 2000
    group = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    region = rng.choice(["north", "south"], size=n)
    score = np.clip(rng.beta(2, 2, size=n) + (group == "a") * 0.1, 0, 1)
    y_pred = (score >= 0.5).astype(int)
    y_true = (rng.random(n) < score).astype(int)
    return pd.DataFrame({"group": group, "region": region}), score, y_pred, y_true


def test_point_estimates_equal_the_labelled_kernels(rows):
    sensitive, score, y_pred, y_true = rows
    kw = dict(intersections=[("group", "region")], bootstrap=300, seed=3, min_group_size=50)
    with_labels = assess_fairness(y_true, y_pred, sensitive, y_score=score, **kw)
    without = assess_fairness_without_labels(y_pred, sensitive, y_score=score, **kw)
    assert without.computed_metrics == ("count", "selection_rate", "mean_score")
    for metric in without.computed_metrics:
        assert without.overall[metric] == pytest.approx(with_labels.overall[metric], abs=1e-12)
    for feature in ("group", "region", "group & region"):
        for base in ("selection_rate", "mean_score", "demographic_parity"):
            for kind in ("difference", "ratio"):
                a = with_labels.value(f"{base}_{kind}", feature).value
                b = without.value(f"{base}_{kind}", feature).value
                assert b == pytest.approx(a, abs=1e-12)
    assert without.confusion is None and without.to_dict()["calibration"] == []


def test_metrics_that_need_labels_are_not_computed(rows):
    sensitive, score, y_pred, _ = rows
    result = assess_fairness_without_labels(y_pred, sensitive, y_score=score, metrics=["selection_rate", "tpr", "accuracy",
                                                                                        "equalized_odds"])
    assert result.metrics == ("selection_rate",)
    assert result.to_dict()["awaiting_labels"] == ["tpr", "accuracy", "equalized_odds"]
    for metric, feature in (("tpr", None), ("equalized_odds_difference", "group"), ("accuracy_ratio", "group")):
        value = result.value(metric, feature)
        assert value.value is None and "labels are pending" in value.reason
    assert all(d["metric"] in ("count", "selection_rate", "mean_score", "demographic_parity")
               for d in result.to_dict()["disparities"])


def test_intervals_cover_the_estimates_and_match_a_row_bootstrap(rows):
    """The (group x decision) multinomial is a row bootstrap: compare with resampling rows."""
    sensitive, score, y_pred, _ = rows
    result = assess_fairness_without_labels(y_pred, sensitive, y_score=score, bootstrap=2000, seed=1)
    rng = np.random.default_rng(11)
    n = len(y_pred)
    a, b = (sensitive["group"] == "a").to_numpy(), (sensitive["group"] == "b").to_numpy()
    diffs, means = [], []
    for _ in range(2000):
        idx = rng.integers(0, n, n)
        rates = [y_pred[idx][mask[idx]].mean() for mask in (a, b, ~(a | b))]
        diffs.append(max(rates) - min(rates))
        means.append(score[idx].mean())
    lo, hi = result.value("selection_rate_difference", "group").ci
    assert lo == pytest.approx(np.quantile(diffs, 0.025), abs=0.02)
    assert hi == pytest.approx(np.quantile(diffs, 0.975), abs=0.02)
    lo, hi = result.overall_ci["mean_score"]
    assert lo == pytest.approx(np.quantile(means, 0.025), abs=0.004)
    assert hi == pytest.approx(np.quantile(means, 0.975), abs=0.004)
    for g in result.group_values("mean_score", "group"):
        assert g.ci[0] <= g.value <= g.ci[1]


def test_score_distribution_is_exact(rows):
    sensitive, score, y_pred, _ = rows
    result = assess_fairness_without_labels(y_pred, sensitive, y_score=score, bootstrap=0)
    records = {(r["feature"], r["group"]): r for r in result.to_dict()["score_distribution"]}
    mask = (sensitive["group"] == "c").to_numpy()
    record = records[("group", "c")]
    assert record["n"] == int(mask.sum())
    for key, q in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        assert record["quantiles"][key] == pytest.approx(float(np.quantile(score[mask], q)), abs=1e-15)
    assert records[(None, "all rows")]["mean"] == pytest.approx(float(score.mean()))


def test_no_scores_no_score_figures(rows):
    sensitive, _, y_pred, _ = rows
    result = assess_fairness_without_labels(y_pred, sensitive, bootstrap=50)
    assert result.computed_metrics == ("count", "selection_rate")
    assert result.to_dict()["score_distribution"] == []


def test_regression_means_of_predictions(rows):
    sensitive, score, _, _ = rows
    predictions = score * 1000
    result = assess_fairness_without_labels(predictions, sensitive, task="regression", bootstrap=200, seed=0)
    assert result.computed_metrics == ("count", "mean_prediction")
    assert result.overall["mean_prediction"] == pytest.approx(predictions.mean())
    b = (sensitive["group"] == "b").to_numpy()
    value = next(g for g in result.group_values("mean_prediction", "group") if g.group == "b")
    assert value.value == pytest.approx(predictions[b].mean())
    assert value.ci[0] < value.value < value.ci[1]
    with pytest.raises(DataError, match="only used for classification"):
        assess_fairness_without_labels(predictions, sensitive, y_score=score, task="regression")


def test_decisions_must_be_zero_one_for_classification(rows):
    sensitive, score, _, _ = rows
    with pytest.raises(DataError, match="0/1"):
        assess_fairness_without_labels(score, sensitive)
    with pytest.raises(DataError, match="no rows"):
        assess_fairness_without_labels([], {})


def test_missing_scores_make_a_groups_mean_undefined(rows):
    sensitive, score, y_pred, _ = rows
    score = score.copy()
    score[(sensitive["group"] == "c").to_numpy()] = np.nan
    result = assess_fairness_without_labels(y_pred, sensitive, y_score=score, bootstrap=50)
    value = next(g for g in result.group_values("mean_score", "group") if g.group == "c")
    assert value.value is None and "missing" in value.reason


def test_the_registry_declares_which_metrics_need_labels():
    need = {m.name for m in metrics() if m.needs_labels}
    for name in ("tpr", "fpr", "fnr", "tnr", "ppv", "npv", "accuracy", "balanced_accuracy", "f1", "auc", "mean_target",
                 "mae", "rmse", "base_rate", "tpr_difference", "accuracy_ratio", "base_rate_ratio",
                 "equalized_odds_difference", "equal_opportunity_ratio", "auc_difference"):
        assert name in need and needs_labels(name)
    for name in ("count", "selection_rate", "mean_score", "mean_prediction", "selection_rate_ratio",
                 "demographic_parity_ratio", "mean_score_difference", "psi", "ks", "js", "contract_violations",
                 "representation_min_share", "missingness_gap", "shap_share", "reason_stability"):
        assert not needs_labels(name)
    with pytest.raises(KeyError):
        needs_labels("nonsense")


def test_pack_metrics_are_label_free():
    from auditkit.packs import plugins

    for plugin in plugins().values():
        for metric in plugin.metrics():
            assert not needs_labels(metric.name), metric.name
