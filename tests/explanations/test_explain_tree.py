"""The exact tree paths: equal to shap's ExactExplainer, additive, per raw column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

shap = pytest.importorskip("shap")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder  # noqa: E402
from sklearn.tree import DecisionTreeRegressor  # noqa: E402

from auditkit.explanations import explain  # noqa: E402
from auditkit.explanations._agnostic import coded_model  # noqa: E402

TOL = 1e-6


@pytest.fixture(autouse=True)
def single_thread():
    """OpenMP thread start-up dominates these tiny models on a shared machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def frame(n: int = 600, seed: int = 0, missing: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.normal(50, 15, n),
            "hours": rng.integers(10, 60, n).astype(float),
            "job": rng.choice(["clerk", "manager", "engineer", "nurse"], n),
            "sex": rng.choice(["female", "male"], n),
        }
    )
    if missing:
        X.loc[rng.random(n) < 0.1, "income"] = np.nan
    signal = (X["age"] > 40).astype(float) + (X["job"] == "manager") * (X["sex"] == "male") + X["hours"] / 40
    y = (signal + rng.normal(0, 0.5, n) > 1.5).astype(int).to_numpy()
    return X, y


def shap_exact(fn, data: pd.DataFrame, background: pd.DataFrame):
    pool = pd.concat([data, background], ignore_index=True)
    codes, wrapped = coded_model(pool, fn)
    masker = shap.maskers.Independent(codes[len(data) :], max_samples=len(background))
    explanation = shap.explainers.Exact(wrapped, masker)(codes[: len(data)], silent=True)
    return explanation.values, explanation.base_values


def check_against_exact(result, fn, tol=TOL):
    expected, base = shap_exact(fn, result.data, result.background)
    np.testing.assert_allclose(result.values, expected, atol=tol)
    np.testing.assert_allclose(result.base_value, base, atol=tol)
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, fn(result.data), atol=tol)
    assert result.max_additivity_error < tol


def numeric(X: pd.DataFrame) -> pd.DataFrame:
    return X[["age", "income", "hours"]]


def test_hist_gradient_boosting_with_missing_values():
    X, y = frame()
    X = numeric(X)
    model = HistGradientBoostingClassifier(max_iter=15, max_leaf_nodes=8).fit(X, y)
    result = explain(model, X, max_rows=20, max_background=15)
    assert result.method == "tree"
    assert result.output == "log-odds of P(class = 1)"
    check_against_exact(result, model.decision_function)
    assert result.max_additivity_error < 1e-10


def test_one_hot_pipeline_groups_encoded_columns_exactly():
    X, y = frame(seed=1, missing=False)
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["job", "sex"])], remainder="passthrough"
    )
    model = Pipeline([("pre", pre), ("gb", GradientBoostingClassifier(n_estimators=20, max_depth=3))]).fit(X, y)
    result = explain(model, X, max_rows=20, max_background=15)
    assert result.method == "tree-in-pipeline"
    assert set(result.importance["feature"]) == set(X.columns)
    check_against_exact(result, model.decision_function)


def test_ordinal_encoded_pipeline_and_negative_class():
    X, y = frame(seed=2)
    pre = ColumnTransformer(
        [("cat", OrdinalEncoder(), ["job", "sex"])], remainder="passthrough"
    )
    model = Pipeline([("pre", pre), ("hgb", HistGradientBoostingClassifier(max_iter=10))]).fit(X, y)
    result = explain(model, X, max_rows=15, max_background=10, positive_class=0)
    assert result.method == "tree-in-pipeline"
    assert result.output == "log-odds of P(class = 0)"
    check_against_exact(result, lambda d: -model.decision_function(d))


def test_random_forest_explains_the_probability():
    X, y = frame(seed=3, missing=False)
    X = numeric(X)
    model = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    result = explain(model, X, max_rows=15, max_background=10)
    assert result.method == "tree"
    assert result.output == "P(class = 1)"
    assert result.output_code == "probability"
    check_against_exact(result, lambda d: model.predict_proba(d)[:, 1])


def test_regressors():
    X, y = frame(seed=4, missing=False)
    X = numeric(X)
    target = X["age"] * 2 + X["hours"] ** 1.5
    for model in (RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0), DecisionTreeRegressor()):
        model.fit(X, target)
        result = explain(model, X, max_rows=15, max_background=10)
        assert result.method == "tree" and result.output == "predicted value"
        check_against_exact(result, model.predict, tol=1e-6 * target.abs().max())


def test_log_link_regressor_is_explained_on_the_log_scale():
    X, y = frame(seed=5)
    X = numeric(X)
    counts = np.random.default_rng(0).poisson(np.exp(X["age"].to_numpy() / 40))
    model = HistGradientBoostingRegressor(loss="poisson", max_iter=10).fit(X, counts)
    result = explain(model, X, max_rows=15, max_background=10)
    assert result.method == "tree"
    assert result.output_code == "log_prediction"
    check_against_exact(result, lambda d: np.log(model.predict(d)))


def test_native_categorical_splits_fall_back_to_the_agnostic_explainer():
    X, y = frame(seed=6)
    X = X.astype({"job": "category", "sex": "category"})
    model = HistGradientBoostingClassifier(max_iter=10, categorical_features="from_dtype").fit(X, y)
    result = explain(model, X, max_rows=10, max_background=8)
    assert result.method == "exact"
    assert any("categorical" in note for note in result.notes)
    assert result.max_additivity_error < 1e-9


def test_lightgbm():
    lightgbm = pytest.importorskip("lightgbm")
    X, y = frame(seed=7)
    X = numeric(X)
    model = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1, n_jobs=1).fit(X, y)
    result = explain(model, X, max_rows=15, max_background=10)
    assert result.method == "tree"
    assert result.output == "log-odds of P(class = 1)"
    check_against_exact(result, lambda d: model.predict(d, raw_score=True))


def test_lightgbm_with_pandas_categoricals_falls_back():
    lightgbm = pytest.importorskip("lightgbm")
    X, y = frame(seed=8)
    X = X.astype({"job": "category", "sex": "category"})
    model = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=8, min_child_samples=5, verbose=-1, n_jobs=1).fit(X, y)
    result = explain(model, X, max_rows=10, max_background=8)
    assert result.method in {"tree", "exact"}
    assert result.max_additivity_error < 1e-6


def test_xgboost():
    xgboost = pytest.importorskip("xgboost")
    X, y = frame(seed=9)
    X = numeric(X)
    model = xgboost.XGBClassifier(n_estimators=15, max_depth=3, n_jobs=1).fit(X, y)
    result = explain(model, X, max_rows=15, max_background=10)
    assert result.method == "tree"
    assert result.output == "log-odds of P(class = 1)"
    # XGBoost adds its trees in float32.
    check_against_exact(result, lambda d: model.predict(d, output_margin=True), tol=1e-5)


def test_budget_shrinks_for_forests_with_very_many_leaves(monkeypatch):
    from auditkit.explanations import _tree

    monkeypatch.setattr(_tree, "LEAF_BUDGET", 10)
    X, y = frame(n=800, seed=10, missing=False)
    X = numeric(X)
    model = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, y)
    result = explain(model, X, max_rows=700, max_background=200)
    assert (result.rows_explained, result.background_rows) == (_tree.MIN_ROWS, _tree.MIN_BACKGROUND)
    assert any("very many leaves" in note for note in result.notes)
    assert result.max_additivity_error < 1e-9
