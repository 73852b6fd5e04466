"""The fairness kernel on hand-computed cases, edge cases and its public interface."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from auditkit.errors import AuditkitError, DataError
from auditkit.fairness import (
    AGGREGATE_METRICS,
    COUNT_METRICS,
    DEFAULT_METRICS,
    MISSING_GROUP,
    REGRESSION_METRICS,
    SCORE_METRICS,
    FairnessResult,
    GroupValue,
    MetricValue,
    assess_fairness,
    is_fairness_metric,
)

# Hand-computed tiny case. Group A: tp=2 fn=1 fp=1 tn=2 (n=6); group B: tp=1 fn=0 fp=2
# tn=1 (n=4); group C: a single false negative (n=1, below min_group_size=2).
ROWS = [
    ("A", 1, 1, 0.9), ("A", 1, 1, 0.8), ("A", 1, 0, 0.3), ("A", 0, 1, 0.6), ("A", 0, 0, 0.2),
    ("A", 0, 0, 0.3),
    ("B", 1, 1, 0.7), ("B", 0, 1, 0.4), ("B", 0, 1, 0.5), ("B", 0, 0, 0.1),
    ("C", 1, 0, 0.5),
]
EXPECTED = {
    "A": {"count": 6, "base_rate": 1 / 2, "selection_rate": 1 / 2, "tpr": 2 / 3, "fpr": 1 / 3,
          "fnr": 1 / 3, "tnr": 2 / 3, "ppv": 2 / 3, "npv": 2 / 3, "accuracy": 2 / 3,
          "balanced_accuracy": 2 / 3, "f1": 2 / 3,
          # 0.9 and 0.8 beat all 3 negatives; 0.3 beats 0.2 and ties 0.3: 7.5 / 9
          "auc": 7.5 / 9, "mean_score": 3.1 / 6},
    "B": {"count": 4, "base_rate": 1 / 4, "selection_rate": 3 / 4, "tpr": 1.0, "fpr": 2 / 3,
          "fnr": 0.0, "tnr": 1 / 3, "ppv": 1 / 3, "npv": 1.0, "accuracy": 1 / 2,
          "balanced_accuracy": 2 / 3, "f1": 1 / 2, "auc": 1.0, "mean_score": 1.7 / 4},
}


@pytest.fixture(scope="module")
def tiny() -> FairnessResult:
    group, y_true, y_pred, score = map(list, zip(*ROWS))
    return assess_fairness(
        y_true, y_pred, {"grp": group}, y_score=score, min_group_size=2, bootstrap=200, seed=3
    )


def test_hand_computed_group_metrics(tiny):
    table = tiny.by_group.set_index("group")
    for group, expected in EXPECTED.items():
        for metric, value in expected.items():
            assert table.loc[group, metric] == pytest.approx(value, abs=1e-12), (group, metric)
    assert table.loc["A", "status"] == "ok" and table.loc["C", "status"] == "insufficient_data"
    assert table.loc["A", "share"] == pytest.approx(6 / 11)
    records = {g["group"]: g for g in tiny.to_dict()["groups"]}
    assert records["A"]["counts"] == {"tp": 2, "fp": 1, "fn": 1, "tn": 2}
    assert records["C"]["metrics"]["ppv"] is None
    assert records["C"]["undefined"]["ppv"] == "no predicted positives in this group"
    assert records["C"]["undefined"]["auc"].startswith("needs both actual positives")


def test_hand_computed_disparities(tiny):
    d = tiny.disparities.set_index("metric")
    assert d.loc["selection_rate", "difference"] == pytest.approx(0.25)
    assert d.loc["selection_rate", "ratio"] == pytest.approx(2 / 3)
    assert d.loc["demographic_parity", "ratio"] == pytest.approx(2 / 3)
    assert d.loc["equal_opportunity", "difference"] == pytest.approx(1 / 3)
    assert d.loc["equalized_odds", "difference"] == pytest.approx(1 / 3)
    assert d.loc["equalized_odds", "ratio"] == pytest.approx(0.5)  # min(2/3, 1/2)
    assert (d["groups_compared"] == 2).all()  # C is excluded
    assert (d["reference_group"] == "A").all()  # the largest group
    v = tiny.versus_reference.set_index(["group", "metric"])
    assert list(v.index.get_level_values(0).unique()) == ["B"]
    assert v.loc[("B", "selection_rate"), "difference"] == pytest.approx(0.25)
    assert v.loc[("B", "selection_rate"), "ratio"] == pytest.approx(1.5)
    excluded = tiny.to_dict()["excluded_groups"]
    assert excluded == [{"feature": "grp", "group": "C", "n": 1, "reason": "fewer than 2 rows"}]


def test_overall_and_confusion(tiny):
    assert tiny.confusion == {"tp": 3, "fp": 3, "fn": 2, "tn": 3}
    assert tiny.overall["accuracy"] == pytest.approx(6 / 11)
    lo, hi = tiny.overall_ci["accuracy"]
    assert lo <= tiny.overall["accuracy"] <= hi
    assert tiny.value("accuracy") == MetricValue(
        tiny.overall["accuracy"], tiny.overall_ci["accuracy"], None
    )


def test_intervals_contain_point_estimates_and_are_ordered(tiny):
    frame = tiny.by_group
    for metric in COUNT_METRICS + SCORE_METRICS:
        ok = frame[frame[f"{metric}_ci_low"].notna()]
        assert (ok[f"{metric}_ci_low"] <= ok[f"{metric}_ci_high"]).all()
    for row in tiny.to_dict()["disparities"]:
        if row["difference_ci"]:
            assert row["difference_ci"][0] <= row["difference_ci"][1]


def test_calibration_table(tiny):
    cal = tiny.calibration
    a = cal[cal.group == "A"]
    assert len(a) == 10 and a["n"].sum() == 6
    # ECE of A: bins 0.2 (n1: score .2, y 0), 0.3 (n2: .3+.3, y 1), 0.6, 0.8, 0.9
    expected = (abs(0.2 - 0) + abs(0.6 - 1) + abs(0.6 - 0) + abs(0.8 - 1) + abs(0.9 - 1)) / 6
    assert a["ece"].iloc[0] == pytest.approx(expected)
    row = a[a.bin_low == 0.3].iloc[0]
    assert row["n"] == 2 and row["mean_score"] == pytest.approx(0.3)
    assert row["fraction_positive"] == pytest.approx(0.5)


def test_to_dict_is_plain_json(tiny):
    data = tiny.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert "NaN" not in text

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        else:
            assert value is None or type(value) in (str, int, float, bool), type(value)

    walk(data)
    assert set(data) >= {
        "task", "overall", "overall_ci", "confusion", "groups", "disparities",
        "versus_reference", "calibration", "excluded_groups", "bootstrap",
    }
    assert data["bootstrap"]["resamples"] == 200 and data["bootstrap"]["seed"] == 3
    group = data["groups"][0]
    assert set(group) >= {"feature", "group", "n", "share", "status", "metrics", "ci", "undefined", "counts"}
    disparity = data["disparities"][0]
    assert set(disparity) >= {
        "feature", "metric", "difference", "ratio", "difference_ci", "ratio_ci",
        "reference_group", "groups_compared",
    }


def test_result_is_frozen_and_views_are_copies(tiny):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.task = "regression"
    frame = tiny.by_group
    frame.loc[0, "n"] = -1
    assert tiny.by_group.loc[0, "n"] != -1
    data = tiny.to_dict()
    data["groups"][0]["metrics"]["tpr"] = 99.0
    assert tiny.to_dict()["groups"][0]["metrics"]["tpr"] != 99.0


def test_value_and_group_values(tiny):
    v = tiny.value("selection_rate_difference", "grp")
    assert v.value == pytest.approx(0.25) and v.reason is None
    assert v.ci is not None and v.ci[0] <= v.ci[1]
    assert tiny.value("equalized_odds_ratio", "grp").value == pytest.approx(0.5)
    values = tiny.group_values("tpr", "grp")
    assert [g.group for g in values] == ["A", "B", "C"]
    assert values[2] == GroupValue("C", 1, "insufficient_data", 0.0, values[2].ci, None)
    assert tiny.group_values("ppv", "grp")[2].reason == "no predicted positives in this group"
    with pytest.raises(KeyError, match="Unknown fairness metric"):
        tiny.value("tpr_gap")
    with pytest.raises(KeyError, match="Unknown feature"):
        tiny.value("tpr_ratio", "age")
    with pytest.raises(KeyError, match="needs a feature"):
        tiny.value("tpr_ratio")
    with pytest.raises(KeyError):
        tiny.group_values("nope", "grp")
    # Applicable only to regression: data, not an exception.
    assert tiny.value("mae").value is None and "regression" not in tiny.task


def test_html_is_escaped():
    result = assess_fairness(
        [1, 0, 1, 0], [1, 1, 0, 0], {"age<band>": ["<25", "<25", ">=25", ">=25"]},
        min_group_size=1, bootstrap=0,
    )
    page = result._repr_html_()
    assert "&lt;25" in page and "age&lt;band&gt;" in page and "<25" not in page


def test_missing_values_and_labels():
    sex = pd.Series(["f", None, "m", np.nan, "f", pd.NA, "m", "f"], dtype=object)
    code = pd.array([1, 2, None, 2, 1, 1, None, 2], dtype="Int64")
    cat = pd.Categorical(["x", "y", None, "x", "y", "x", "y", "x"])
    flt = np.array([1.0, 2.0, np.nan, 1.0, 2.0, 1.0, 2.0, 1.0])
    frame = pd.DataFrame({"sex": sex, "code": code, "cat": cat, "flt": flt})
    y = [1, 0, 1, 0, 1, 0, 1, 0]
    result = assess_fairness(y, y, frame, intersections=[("sex", "code")], min_group_size=0, bootstrap=0)
    groups = result.by_group.groupby("feature", sort=False)["group"].apply(list).to_dict()
    assert groups["sex"] == ["f", "m", MISSING_GROUP]
    assert groups["code"] == ["1", "2", MISSING_GROUP]
    assert groups["cat"] == ["x", "y", MISSING_GROUP]
    assert groups["flt"] == ["1", "2", MISSING_GROUP]
    assert "f & 1" in groups["sex & code"] and f"{MISSING_GROUP} & 2" in groups["sex & code"]
    assert result.features == ("sex", "code", "cat", "flt", "sex & code")
    n = result.by_group.set_index(["feature", "group"])["n"]
    assert n[("sex", MISSING_GROUP)] == 3 and n[("code", MISSING_GROUP)] == 2


def test_series_and_dict_inputs_and_string_dtype():
    s = pd.Series(["a", "b", "a", "b"], name="team", dtype="str")
    r1 = assess_fairness(pd.Series([1, 0, 1, 1]), np.array([1, 0, 0, 1]), s, min_group_size=0, bootstrap=0)
    r2 = assess_fairness([1, 0, 1, 1], [1, 0, 0, 1], {"team": ["a", "b", "a", "b"]}, min_group_size=0, bootstrap=0)
    assert r1.features == ("team",)
    pd.testing.assert_frame_equal(r1.by_group, r2.by_group)


def test_undefined_metrics_are_data_not_errors():
    # No positives at all, a single class, NaN scores, an all-zero selection rate.
    result = assess_fairness(
        [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], {"g": list("aaabbb")},
        y_score=[0.1, np.nan, 0.2, 0.3, 0.4, 0.5], min_group_size=0, bootstrap=50,
    )
    table = result.by_group.set_index("group")
    assert table["tpr"].isna().all()
    values = {g.group: g for g in result.group_values("auc", "g")}
    assert values["a"].reason == "y_score is missing for 1 of 3 rows in this group"
    assert values["b"].reason.startswith("needs both actual positives")
    ratio = result.value("selection_rate_ratio", "g")
    assert ratio.value is None and "= 0" in ratio.reason
    assert result.value("selection_rate_difference", "g").value == 0.0
    tpr = result.value("tpr_difference", "g")
    assert tpr.value is None and "fewer than 2 groups" in tpr.reason
    eo = result.value("equalized_odds_difference", "g")
    assert eo.value is None and eo.reason.startswith("equalized_odds needs both parts")
    assert result.value("tpr").reason == "no actual positives in the data"
    assert result.overall["auc"] is None
    json.dumps(result.to_dict(), allow_nan=False)


def test_single_group_feature():
    result = assess_fairness([1, 0, 1], [1, 1, 0], {"g": ["x", "x", "x"]}, min_group_size=0, bootstrap=20)
    d = result.value("accuracy_difference", "g")
    assert d.value is None and "fewer than 2 groups" in d.reason
    assert result.versus_reference.empty


def test_reference_groups():
    y = np.tile([1, 0, 1, 0], 30)
    groups = np.array(["big"] * 60 + ["mid"] * 40 + ["small"] * 20)
    r = assess_fairness(y, y[::-1], {"g": groups}, reference_groups={"g": "mid"}, bootstrap=0)
    v = r.versus_reference
    assert set(v["group"]) == {"big"} and set(v["reference_group"]) == {"mid"}  # small < 30 rows
    assert set(r.disparities["reference_group"]) == {"mid"}
    with pytest.raises(DataError, match="Reference group 'nobody'"):
        assess_fairness(y, y, {"g": groups}, reference_groups={"g": "nobody"}, bootstrap=0)
    with pytest.raises(DataError, match="not audited"):
        assess_fairness(y, y, {"g": groups}, reference_groups={"h": "big"}, bootstrap=0)
    # An insufficient reference group: comparisons are null with a reason.
    r = assess_fairness(y, y, {"g": groups}, reference_groups={"g": "small"}, bootstrap=0)
    row = r.to_dict()["versus_reference"][0]
    assert row["difference"] is None and "fewer than 30 rows" in row["undefined"]["difference"]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(y_true=[1, 0], y_pred=[1], sensitive_features={"g": ["a", "b"]}), DataError),
        (dict(y_true=[1, 0], y_pred=[1, 0], sensitive_features={"g": ["a"]}), DataError),
        (dict(y_true=[], y_pred=[], sensitive_features={"g": []}), DataError),
        (dict(y_true=[1, np.nan], y_pred=[1, 0], sensitive_features={"g": ["a", "b"]}), DataError),
        (dict(y_true=["yes", "no"], y_pred=[1, 0], sensitive_features={"g": ["a", "b"]}), DataError),
        (dict(y_true=[1, 0], y_pred=[1, 0], sensitive_features=["a", "b"]), DataError),
        (dict(y_true=[1, 0], y_pred=[1, 0], sensitive_features={"g": ["a", "b"]}, y_score=[0.1]), DataError),
        (dict(y_true=[1, 2], y_pred=[1, 0], sensitive_features={"g": ["a", "b"]}, task="classification"), DataError),
        (dict(y_true=[1, 0], y_pred=[1, 0], sensitive_features={"g": ["a", "b"]}, intersections=[("g", "h")]), DataError),
        (dict(y_true=[1, 0], y_pred=[1, 0], sensitive_features={"g": ["a", "b"]}, confidence=1.0), AuditkitError),
        (dict(y_true=[1, 0], y_pred=[1, 0], sensitive_features={"g": ["a", "b"]}, bootstrap=-1), AuditkitError),
        (dict(y_true=[1, 0], y_pred=[1, 0], sensitive_features={"g": ["a", "b"]}, metrics=["tpr_gap"]), AuditkitError),
    ],
)
def test_cannot_compute_raises_auditkit_errors(kwargs, error):
    with pytest.raises(error):
        assess_fairness(**kwargs)


def test_deterministic_with_seed():
    rng = np.random.default_rng(5)
    y, p = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    g = {"g": rng.choice(["a", "b", "c"], 500)}
    s = rng.random(500)
    one = assess_fairness(y, p, g, y_score=s, bootstrap=100, seed=7).to_dict()
    two = assess_fairness(y, p, g, y_score=s, bootstrap=100, seed=7).to_dict()
    other = assess_fairness(y, p, g, y_score=s, bootstrap=100, seed=8).to_dict()
    assert json.dumps(one) == json.dumps(two)
    assert json.dumps(one) != json.dumps(other)


def test_bootstrap_off_gives_no_intervals():
    r = assess_fairness([1, 0, 1, 0], [1, 0, 0, 0], {"g": list("aabb")}, min_group_size=0, bootstrap=0)
    assert all(ci is None for ci in r.overall_ci.values())
    assert r.by_group.filter(like="_ci_").isna().all().all()
    assert r.disparities[["difference_ci_low", "ratio_ci_high"]].isna().all().all()
    assert r.to_dict()["bootstrap"]["method"] == "none"


def test_regression_task():
    rng = np.random.default_rng(0)
    y = rng.normal(10, 2, 400)
    p = y + rng.normal(0, 1, 400)
    g = np.where(rng.random(400) < 0.5, "a", "b")
    r = assess_fairness(y, p, {"g": g}, bootstrap=200)
    assert r.task == "regression" and r.metrics == REGRESSION_METRICS and r.confusion is None
    a = g == "a"
    table = r.by_group.set_index("group")
    assert table.loc["a", "mae"] == pytest.approx(np.abs(p[a] - y[a]).mean())
    assert table.loc["a", "rmse"] == pytest.approx(np.sqrt(((p[a] - y[a]) ** 2).mean()))
    assert table.loc["b", "mean_prediction"] == pytest.approx(p[~a].mean())
    assert table.loc["b", "mean_target"] == pytest.approx(y[~a].mean())
    lo, hi = table.loc["a", "mae_ci_low"], table.loc["a", "mae_ci_high"]
    assert lo < table.loc["a", "mae"] < hi
    assert set(r.disparities["metric"]) == {"count", *REGRESSION_METRICS}
    assert r.value("demographic_parity_difference", "g").value is None
    with pytest.raises(DataError):
        assess_fairness(y, p, {"g": g}, y_score=p)


def test_metric_vocabulary():
    assert AGGREGATE_METRICS == ("demographic_parity", "equalized_odds", "equal_opportunity")
    assert DEFAULT_METRICS == ("selection_rate", "tpr", "fpr", "ppv", "accuracy")
    for name in COUNT_METRICS + SCORE_METRICS + REGRESSION_METRICS:
        assert is_fairness_metric(name)
        assert is_fairness_metric(name + "_difference") and is_fairness_metric(name + "_ratio")
    for name in AGGREGATE_METRICS:
        assert is_fairness_metric(name + "_difference") and is_fairness_metric(name + "_ratio")
    for name in ("tpr_gap", "demographic_parity", "precision", "", "_ratio", None, 3):
        assert not is_fairness_metric(name)


def test_all_metrics_computed_regardless_of_focus():
    r = assess_fairness([1, 0, 1, 0], [1, 0, 0, 0], {"g": list("aabb")}, metrics=["tpr"], bootstrap=0)
    assert r.metrics == ("tpr",)
    assert set(COUNT_METRICS) <= set(r.by_group.columns)
    assert not math.isnan(r.overall["f1"])


def test_no_sensitive_features_gives_overall_only():
    r = assess_fairness(
        [1, 0, 1, 0], [1, 0, 0, 0], pd.DataFrame(index=range(4)), y_score=[0.9, 0.1, 0.4, 0.3],
        bootstrap=100,
    )
    assert r.features == () and r.by_group.empty and r.disparities.empty
    assert r.overall["accuracy"] == 0.75 and r.overall["auc"] == 1.0
    assert r.overall_ci["accuracy"] is not None
    assert "overall" in r._repr_html_()
