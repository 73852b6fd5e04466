"""The model-agnostic path: raw string, categorical and missing values, exact Shapley values."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("shap")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.neighbors import KNeighborsRegressor  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from auditkit.explanations import explain  # noqa: E402
from auditkit.explanations._agnostic import EXACT_MAX_FEATURES  # noqa: E402
from auditkit.explanations._frame import first_occurrence_codes, mix_rows  # noqa: E402


def mixed_frame(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "job": rng.choice(["clerk", "manager", "nurse"], n),
            "region": pd.Categorical(rng.choice(["north", "south", "east"], n)),
        }
    )
    X.loc[rng.random(n) < 0.1, "job"] = np.nan
    y = ((X["age"] > 45) ^ (X["job"] == "manager")).astype(int).to_numpy()
    return X, y


def pipeline(estimator) -> Pipeline:
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age"]),
            (
                "cat",
                make_pipeline(SimpleImputer(strategy="constant", fill_value="none"), OneHotEncoder()),
                ["job", "region"],
            ),
        ]
    )
    return Pipeline([("pre", pre), ("model", estimator)])


def brute_force_shapley(fn, x: pd.DataFrame, background: pd.DataFrame) -> np.ndarray:
    """Interventional Shapley values by enumerating every coalition."""
    columns = list(x.columns)
    m = len(columns)

    def value(coalition):
        rows = background.reset_index(drop=True).copy()
        for c in coalition:
            rows[c] = pd.Series([x.iloc[0][c]] * len(rows), dtype=x[c].dtype)
        return fn(rows).mean()

    phi = np.zeros(m)
    for i, column in enumerate(columns):
        others = [c for c in columns if c != column]
        for size in range(m):
            for coalition in combinations(others, size):
                weight = factorial(size) * factorial(m - size - 1) / factorial(m)
                phi[i] += weight * (value(coalition + (column,)) - value(coalition))
    return phi


def test_string_categorical_and_missing_values_are_explained_exactly():
    X, y = mixed_frame()
    model = pipeline(SVC(kernel="rbf", gamma=0.5)).fit(X, y)
    result = explain(model, X, max_rows=4, max_background=6)
    assert result.method == "exact"
    assert result.output_code == "margin"
    assert result.max_additivity_error < 1e-9
    for k in range(2):
        expected = brute_force_shapley(model.decision_function, result.data.iloc[[k]], result.background)
        np.testing.assert_allclose(result.values[k], expected, atol=1e-9)


def test_regressor_without_fast_path():
    X, _ = mixed_frame(seed=1)
    model = pipeline(KNeighborsRegressor(n_neighbors=5)).fit(X, X["age"] * 2)
    result = explain(model, X, max_rows=8, max_background=5)
    assert result.method == "exact"
    assert result.output == "predicted value"
    assert result.max_additivity_error < 1e-9
    assert any("KNeighborsRegressor" in note for note in result.notes)


def test_many_columns_use_permutations_and_stay_additive():
    rng = np.random.default_rng(2)
    n, m = 120, EXACT_MAX_FEATURES + 2
    X = pd.DataFrame(rng.normal(size=(n, m)), columns=[f"x{i}" for i in range(m)])
    model = KNeighborsRegressor(n_neighbors=3).fit(X, X["x0"] * X["x1"] + X["x2"])
    result = explain(model, X, max_rows=4, max_background=5)
    assert result.method == "permutation"
    assert result.max_additivity_error < 1e-9


def test_agnostic_budget_is_capped_and_recorded():
    X, y = mixed_frame(n=700, seed=3)
    model = pipeline(KNeighborsRegressor()).fit(X, X["age"])
    from auditkit.explanations import _agnostic

    original = _agnostic.MAX_ROWS, _agnostic.MAX_BACKGROUND
    _agnostic.MAX_ROWS, _agnostic.MAX_BACKGROUND = 6, 4
    try:
        result = explain(model, X)
    finally:
        _agnostic.MAX_ROWS, _agnostic.MAX_BACKGROUND = original
    assert (result.rows_explained, result.background_rows) == (6, 4)
    assert any("at most 6 rows" in note for note in result.notes)


def test_codes_round_trip_every_dtype():
    X, _ = mixed_frame(n=50)
    X["flag"] = X["age"] > 40
    X["count"] = pd.array(np.arange(50), dtype="Int64")
    codes = first_occurrence_codes(X)
    decoded = mix_rows(X, codes.astype(int))
    pd.testing.assert_frame_equal(decoded, X.reset_index(drop=True))
    # Equal values share a code, missing values included.
    job = X["job"].reset_index(drop=True)
    same = (job == job.iloc[0]).fillna(False).to_numpy() if pd.notna(job.iloc[0]) else job.isna().to_numpy()
    assert (codes[same, 1] == codes[0, 1]).all()


def test_permutations_are_exact_for_an_additive_model():
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(4)
    n, m = 200, EXACT_MAX_FEATURES + 3
    X = pd.DataFrame(rng.normal(size=(n, m)), columns=[f"x{i}" for i in range(m)])
    target = X.to_numpy() @ rng.normal(size=m)
    # PCA mixes columns, so no fast path applies, yet the model stays linear in raw columns.
    model = make_pipeline(PCA(m), LinearRegression()).fit(X, target)
    result = explain(model, X, max_rows=5, max_background=7)
    assert result.method == "permutation"
    slope = np.linalg.lstsq(np.c_[X.to_numpy(), np.ones(n)], model.predict(X), rcond=None)[0][:m]
    expected = (result.data.to_numpy() - result.background.to_numpy().mean(axis=0)) * slope
    np.testing.assert_allclose(result.values, expected, atol=1e-8)
