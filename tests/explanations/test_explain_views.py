"""Views: importance with intervals, per-group summaries, shap_share, proxies, associations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("shap")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from auditkit.explanations import explain  # noqa: E402
from auditkit.explanations._association import association, correlation_ratio, cramers_v, spearman  # noqa: E402


@pytest.fixture(scope="module")
def hiring():
    """``dept`` is a near-copy of sex and drives the label; ``noise`` is unrelated."""
    rng = np.random.default_rng(0)
    n = 3000
    sex = rng.choice(["female", "male"], n)
    dept = np.where(rng.random(n) < 0.9, np.where(sex == "female", "care", "tech"), rng.choice(["care", "tech"], n))
    X = pd.DataFrame(
        {
            "dept": dept,
            "years": rng.integers(0, 30, n).astype(float),
            "noise": rng.normal(size=n),
        }
    )
    y = ((X["dept"] == "tech").astype(float) * 2 + X["years"] / 10 + rng.normal(0, 0.5, n) > 2).astype(int)
    sensitive = pd.DataFrame({"sex": sex, "age_group": rng.choice(["<25", "25-60", ">60"], n)})
    pre = ColumnTransformer([("cat", OneHotEncoder(), ["dept"]), ("num", StandardScaler(), ["years", "noise"])])
    model = Pipeline([("pre", pre), ("lr", LogisticRegression())]).fit(X, y)
    result = explain(
        model,
        X,
        sensitive_features=sensitive,
        intersections=[("sex", "age_group")],
        max_rows=600,
        max_background=100,
    )
    return X, sensitive, result


def test_importance_has_intervals_and_shares(hiring):
    X, _, result = hiring
    imp = result.importance
    assert list(imp.columns) == ["feature", "mean_abs_shap", "ci_low", "ci_high", "share"]
    assert imp["feature"].iloc[0] == "dept"
    assert (imp["ci_low"] <= imp["mean_abs_shap"]).all() and (imp["mean_abs_shap"] <= imp["ci_high"]).all()
    assert imp["share"].sum() == pytest.approx(1.0)
    assert imp["mean_abs_shap"].is_monotonic_decreasing


def test_by_group_covers_groups_and_intersections(hiring):
    _, sensitive, result = hiring
    by_group = result.by_group
    assert list(by_group.columns) == ["feature", "group", "n", "input_feature", "mean_abs_shap", "mean_shap"]
    assert set(by_group["feature"]) == {"sex", "age_group", "sex & age_group"}
    assert {"female & <25", "male & >60"} <= set(by_group["group"])
    dept = by_group[(by_group["feature"] == "sex") & (by_group["input_feature"] == "dept")].set_index("group")
    # dept pushes women's predictions down and men's up.
    assert dept.loc["female", "mean_shap"] < 0 < dept.loc["male", "mean_shap"]
    assert (by_group["n"] >= 20).all()


def test_shap_share_is_zero_for_non_inputs(hiring):
    _, _, result = hiring
    assert result.shap_share("sex") == 0.0
    assert result.shap_share("dept") == pytest.approx(
        float(result.importance.set_index("feature").loc["dept", "share"])
    )


def test_proxy_is_flagged(hiring):
    _, _, result = hiring
    proxies = result.proxies
    assert list(proxies.columns) == [
        "input_feature",
        "sensitive_feature",
        "association",
        "association_measure",
        "importance_share",
        "flagged",
    ]
    dept = proxies[(proxies["input_feature"] == "dept") & (proxies["sensitive_feature"] == "sex")].iloc[0]
    assert dept["flagged"] and dept["association_measure"] == "cramers_v" and dept["association"] > 0.7
    noise = proxies[(proxies["input_feature"] == "noise") & (proxies["sensitive_feature"] == "sex")].iloc[0]
    assert not noise["flagged"] and noise["association_measure"] == "correlation_ratio"
    assert proxies["flagged"].iloc[0]


def test_association_measures():
    rng = np.random.default_rng(1)
    a = pd.Series(rng.choice(["x", "y", "z"], 2000))
    assert cramers_v(a, a) == pytest.approx(1.0)
    assert cramers_v(a, pd.Series(rng.choice(["p", "q"], 2000))) < 0.05
    values = pd.Series(np.where(a == "x", 10.0, 0.0))
    assert correlation_ratio(a, values) == pytest.approx(1.0)
    assert correlation_ratio(a, pd.Series(rng.normal(size=2000))) < 0.1
    numbers = pd.Series(rng.normal(size=2000))
    assert spearman(numbers, numbers**3) == pytest.approx(1.0)
    assert association(numbers, a)[1] == "correlation_ratio"
    assert association(a, numbers)[1] == "correlation_ratio"
    assert association(numbers, numbers)[1] == "spearman"
    assert cramers_v(a.iloc[:2], a.iloc[:2]) is None
