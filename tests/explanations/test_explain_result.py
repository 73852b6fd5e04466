"""The result object: JSON-ready dict, shap.Explanation for shap's plots, notebook HTML."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

shap = pytest.importorskip("shap")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402

from auditkit.explanations import ExplanationResult, explain  # noqa: E402


@pytest.fixture(scope="module")
def result() -> ExplanationResult:
    rng = np.random.default_rng(0)
    n = 1200
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.normal(50, 15, n),
            "region": pd.Categorical(rng.choice(["north", "south"], n)).codes.astype(float),
        }
    )
    X.loc[rng.random(n) < 0.1, "income"] = np.nan
    y = ((X["age"] > 40) & (X["income"].fillna(50) > 45)).astype(int)
    sensitive = pd.DataFrame({"sex": rng.choice(["female", "male", None], n)}, index=X.index)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # OpenMP start-up dominates tiny models on a shared machine
        model = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
        return explain(model, X, sensitive_features=sensitive, max_rows=500, max_background=50)


def test_to_dict_is_json_ready_and_shaped_for_the_report(result):
    d = result.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    assert d["status"] == "ok" and d["method"] == "tree"
    assert d["rows_explained"] == result.rows_explained and d["background_rows"] == 50
    assert set(d["shap_share"]) == {"sex"} and d["shap_share"]["sex"] == 0.0
    first = d["importance"][0]
    assert set(first) == {"feature", "mean_abs_shap", "ci", "share"} and len(first["ci"]) == 2
    groups = {g["group"] for g in d["by_group"]}
    assert groups == {"female", "male", "(missing)"}
    assert {"input_feature", "mean_abs_shap", "mean_shap"} == set(d["by_group"][0]["values"][0])
    assert set(d["proxies"][0]) == {
        "input_feature", "sensitive_feature", "association", "measure", "importance_share", "flagged",
    }
    swarm = d["beeswarm"]
    assert swarm["features"] == [i["feature"] for i in d["importance"]][:10]
    for point in swarm["points"]:
        assert len(point["shap"]) == len(point["value_rank"]) <= 300
        ranks = [r for r in point["value_rank"] if r is not None]
        assert all(0.0 <= r <= 1.0 for r in ranks)
    income = next(p for p in swarm["points"] if p["feature"] == "income")
    assert None in income["value_rank"]  # missing incomes have no rank


def test_shap_explanation_works_with_shap_plots(result):
    explanation = result.shap
    assert explanation.values.shape == (result.rows_explained, len(result.features))
    assert list(explanation.feature_names) == list(result.features)
    shap.plots.beeswarm(explanation, show=False)
    shap.plots.bar(explanation, show=False)
    shap.plots.waterfall(explanation[0], show=False)
    matplotlib.pyplot.close("all")


def test_result_is_frozen_and_renders_html(result):
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.method = "other"
    html = result._repr_html_()
    assert "tree" in html and "log-odds" in html and "<table>" in html
    assert result.importance is not result.importance_frame


def test_string_columns_in_shap_explanation():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"job": rng.choice(["a", "b", "c"], 200), "x": rng.normal(size=200)})
    y = (X["job"] == "a").astype(int)
    model = Pipeline(
        [("pre", ColumnTransformer([("c", OneHotEncoder(), ["job"])], remainder="passthrough")),
         ("lr", LogisticRegression())]
    ).fit(X, y)
    explanation = explain(model, X, max_rows=50, max_background=20).shap
    assert set(explanation.data[:, 0]) <= {"a", "b", "c"}
    shap.plots.beeswarm(explanation, show=False)
    matplotlib.pyplot.close("all")
