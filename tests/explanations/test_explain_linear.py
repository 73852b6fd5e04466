"""The exact linear path: equal to shap's ExactExplainer, additive, per raw column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

shap = pytest.importorskip("shap")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor, Ridge  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from auditkit.explanations import explain  # noqa: E402
from auditkit.explanations._agnostic import coded_model  # noqa: E402

TOL = 1e-6


def credit_frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "amount": rng.gamma(2.0, 1500.0, n),
            "duration": rng.integers(6, 60, n),
            "job": rng.choice(["clerk", "manager", "engineer", "nurse", "driver"], n),
            "housing": rng.choice(["own", "rent", "free"], n),
            "sex": rng.choice(["female", "male"], n),
        }
    )
    score = (frame["age"] - 45) / 15 - frame["duration"] / 30 + (frame["job"] == "manager") - 0.5 * (
        frame["housing"] == "rent"
    )
    y = pd.Series(np.where(score + rng.normal(0, 0.7, n) > 0, "good", "bad"), name="risk")
    return frame, y


def string_pipeline(estimator) -> Pipeline:
    numeric = ["age", "amount", "duration"]
    categorical = ["job", "housing", "sex"]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    return Pipeline([("pre", pre), ("model", estimator)])


def shap_exact(fn, data: pd.DataFrame, background: pd.DataFrame):
    """shap's ExactExplainer on raw rows; strings go through integer codes."""
    pool = pd.concat([data, background], ignore_index=True)
    codes, wrapped = coded_model(pool, fn)
    masker = shap.maskers.Independent(codes[len(data) :], max_samples=len(background))
    explanation = shap.explainers.Exact(wrapped, masker)(codes[: len(data)], silent=True)
    return explanation.values, explanation.base_values


def test_string_pipeline_equals_shap_exact_and_is_additive():
    X, y = credit_frame()
    assert pd.api.types.is_string_dtype(X["job"])  # the ``str`` dtype under pandas 3
    model = string_pipeline(LogisticRegression(max_iter=1000)).fit(X, y)
    result = explain(model, X, max_rows=30, max_background=25, seed=1)

    assert result.method == "linear-in-pipeline"
    assert result.output == "log-odds of P(class = good)"
    assert result.output_code == "log_odds"
    assert result.features == tuple(X.columns)
    assert result.rows_explained == 30 and result.background_rows == 25
    assert list(result.importance["feature"]) != [] and set(result.importance["feature"]) == set(X.columns)

    expected, base = shap_exact(model.decision_function, result.data, result.background)
    np.testing.assert_allclose(result.values, expected, atol=TOL)
    np.testing.assert_allclose(result.base_value, base, atol=TOL)
    margin = model.decision_function(result.data)
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, margin, atol=1e-9)
    assert result.max_additivity_error < 1e-9


def test_numeric_pipeline_equals_shap_exact_on_raw_dataframe():
    X, y = credit_frame(seed=3)
    X = X[["age", "amount", "duration"]]
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    result = explain(model, X, max_rows=25, max_background=20)
    masker = shap.maskers.Independent(result.background, max_samples=20)
    expected = shap.explainers.Exact(model.decision_function, masker)(result.data, silent=True)
    np.testing.assert_allclose(result.values, expected.values, atol=TOL)


def test_positive_class_flips_the_log_odds():
    X, y = credit_frame(seed=4)
    model = string_pipeline(LogisticRegression(max_iter=1000)).fit(X, y)
    good = explain(model, X, max_rows=20, max_background=10)
    bad = explain(model, X, max_rows=20, max_background=10, positive_class="bad")
    assert bad.output == "log-odds of P(class = bad)"
    np.testing.assert_allclose(bad.values, -good.values, atol=1e-12)
    assert bad.base_value == pytest.approx(-good.base_value)


def test_plain_linear_regressor():
    X, y = credit_frame(seed=5)
    X = X[["age", "amount", "duration"]]
    target = 2 * X["age"] - X["duration"]
    model = Ridge().fit(X, target)
    result = explain(model, X, max_rows=50, max_background=30)
    assert result.method == "linear"
    assert result.output == "predicted value"
    coef = model.coef_
    expected = (result.data.to_numpy() - result.background.to_numpy().mean(axis=0)) * coef
    np.testing.assert_allclose(result.values, expected, atol=1e-9)
    assert result.max_additivity_error < 1e-9


def test_margin_of_a_non_probabilistic_linear_classifier():
    X, y = credit_frame(seed=6)
    model = string_pipeline(LinearSVC()).fit(X, y)
    result = explain(model, X, max_rows=20, max_background=10)
    assert result.method == "linear-in-pipeline"
    assert result.output_code == "margin"
    assert result.max_additivity_error < 1e-9


def test_log_link_glm_is_explained_on_the_log_scale():
    X, y = credit_frame(seed=7)
    X = X[["age", "duration"]]
    counts = np.random.default_rng(0).poisson(np.exp(X["age"] / 50))
    model = make_pipeline(StandardScaler(), PoissonRegressor()).fit(X, counts)
    result = explain(model, X, max_rows=30, max_background=20)
    assert result.method == "linear-in-pipeline"
    assert result.output_code == "log_prediction"
    assert result.max_additivity_error < 1e-9


def test_hyperparameter_search_is_explained_through_its_best_estimator():
    from sklearn.model_selection import GridSearchCV

    X, y = credit_frame(seed=9)
    search = GridSearchCV(string_pipeline(LogisticRegression(max_iter=1000)), {"model__C": [0.1, 1.0]}, cv=2)
    search.fit(X, y)
    result = explain(search, X, max_rows=20, max_background=10)
    assert result.method == "linear-in-pipeline"
    assert result.max_additivity_error < 1e-9


def test_transform_mixing_columns_falls_back_to_the_agnostic_explainer():
    X, y = credit_frame(seed=8)
    X = X[["age", "amount", "duration"]]
    model = make_pipeline(StandardScaler(), PCA(2), LinearRegression()).fit(X, X["age"])
    result = explain(model, X, max_rows=15, max_background=10)
    assert result.method == "exact"
    assert any("not column-wise" in note for note in result.notes)
    assert result.max_additivity_error < 1e-9
