"""Native categorical splits (LightGBM, XGBoost, CatBoost) on the exact tree path.

The parsed trees must reproduce each model's raw margin on rows with unseen categories and
missing values, and the SHAP values must equal shap's ExactExplainer (interventional, same
background) and add up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

shap = pytest.importorskip("shap")

from auditkit.explanations import explain
from auditkit.explanations._agnostic import coded_model
from auditkit.explanations._tree import as_tree_input, predict_raw
from auditkit.explanations._tree_parse import (
    lower_categorical,
    native_kind,
    parse_native,
    predict_margin,
)

TOL = 1e-9


@pytest.fixture(autouse=True)
def single_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def frame(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.normal(40, 12, n),
            "job": pd.Categorical(rng.choice(["clerk", "manager", "engineer", "nurse", "driver", "cook"], n)),
            "sex": pd.Categorical(rng.choice(["female", "male"], n)),
            "region": pd.Categorical(rng.choice(["n", "s", "e", "w", "c"], n)),
            "hours": rng.integers(10, 60, n).astype(float),
        }
    )
    X.loc[rng.random(n) < 0.1, "age"] = np.nan
    X.loc[rng.random(n) < 0.1, "job"] = np.nan
    signal = (
        (X["age"] > 40).astype(float)
        + X["job"].isin(["manager", "engineer", "cook"]) * (X["sex"] == "male")
        + X["region"].isin(["n", "c"]) * 0.7
        + X["hours"] / 40
    )
    y = (signal + rng.normal(0, 0.4, n) > 1.8).astype(int).to_numpy()
    return X, y


def unseen(X: pd.DataFrame) -> pd.DataFrame:
    """Rows with categories the model never saw and more missing values."""
    T = X.copy()
    T["job"] = T["job"].cat.add_categories(["astronaut"])
    T.loc[T.index[::7], "job"] = "astronaut"
    T.loc[T.index[::5], "age"] = np.nan
    T.loc[T.index[::11], "region"] = np.nan
    return T


def encoded(parsed, rows: pd.DataFrame) -> np.ndarray:
    return as_tree_input(parsed.trees, parsed.encode(rows))


def shap_exact(fn, data: pd.DataFrame, background: pd.DataFrame):
    pool = pd.concat([data, background], ignore_index=True)
    codes, wrapped = coded_model(pool, fn)
    masker = shap.maskers.Independent(codes[len(data) :], max_samples=len(background))
    explanation = shap.explainers.Exact(wrapped, masker)(codes[: len(data)], silent=True)
    return explanation.values, explanation.base_values


def check_against_exact(result, fn, tol=TOL):
    expected, base = shap_exact(fn, result.data, result.background)
    np.testing.assert_allclose(result.values, expected, atol=tol, rtol=0)
    np.testing.assert_allclose(result.base_value, base, atol=tol, rtol=0)
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, fn(result.data), atol=tol, rtol=0)


def check_values_exact(result, fn, tol=TOL):
    """SHAP values of ``fn`` (the base value is the model's own mean output, float32 for XGBoost)."""
    expected, base = shap_exact(fn, result.data, result.background)
    np.testing.assert_allclose(result.values, expected, atol=tol, rtol=0)
    np.testing.assert_allclose(result.values.sum(axis=1) + base, fn(result.data), atol=tol, rtol=0)


def walk(parsed):
    """The parsed trees as a function of raw rows (plus the model's constant margin)."""
    return lambda rows: predict_margin(parsed.trees, encoded(parsed, rows))[:, 0] + parsed.base_margin[0]


# ----------------------------------------------------------------------------- LightGBM

lgb = pytest.importorskip("lightgbm")


def lgbm(**params):
    base = {
        "n_estimators": 40, "num_leaves": 15, "min_child_samples": 5, "min_data_per_group": 5, "cat_smooth": 1,
        "verbose": -1,
    }
    return base | params


def test_lightgbm_trees_reproduce_raw_margin_with_unseen_and_missing():
    X, y = frame()
    model = lgb.LGBMClassifier(**lgbm()).fit(X, y)
    assert native_kind(model) == "lightgbm"
    parsed = parse_native(model)
    assert parsed.trees.categorical.any()
    T = unseen(X)
    expected = model.predict(T, raw_score=True)
    np.testing.assert_allclose(walk(parsed)(T), expected, atol=TOL, rtol=0)
    lowered, widen = lower_categorical(parsed.trees, T.shape[1])
    np.testing.assert_allclose(predict_raw(lowered, widen(encoded(parsed, T)))[:, 0], expected, atol=TOL, rtol=0)


def test_native_categorical_kernel_equals_lowered_trees():
    """The kernel on categorical nodes and on their indicator-column rewrite agree."""
    from auditkit.explanations._tree import grouped_tree_shap

    X, y = frame()
    model = lgb.LGBMClassifier(**lgbm()).fit(X, y)
    parsed = parse_native(model)
    T = unseen(X)
    data, background = encoded(parsed, T.iloc[:40]), encoded(parsed, T.iloc[400:430])
    groups = np.arange(X.shape[1])
    native = grouped_tree_shap(parsed.trees, data, background, groups, X.shape[1], output=0)
    lowered, widen = lower_categorical(parsed.trees, X.shape[1])
    rewritten = grouped_tree_shap(lowered, widen(data), widen(background), widen.groups(groups), X.shape[1], output=0)
    np.testing.assert_allclose(native, rewritten, atol=TOL, rtol=0)
    margin = model.predict(T, raw_score=True)
    np.testing.assert_allclose(native.sum(axis=1), margin[:40] - margin[400:430].mean(), atol=TOL, rtol=0)


def test_lightgbm_integer_column_declared_categorical():
    """Codes are cast to int as LightGBM does: fractions truncated, negative values go right."""
    X, y = frame()
    X = X.assign(job=X["job"].cat.codes.astype(float).where(X["job"].notna()), sex=X["sex"].cat.codes.astype(float))
    X = X.drop(columns=["region"])
    model = lgb.LGBMRegressor(**lgbm()).fit(X, y + X["hours"] / 50, categorical_feature=["job", "sex"])
    assert native_kind(model) == "lightgbm"
    parsed = parse_native(model)
    T = X.copy()
    T.loc[T.index[::3], "job"] = T["job"][::3] + 0.7
    T.loc[T.index[::5], "job"] = -1.0
    T.loc[T.index[::7], "job"] = 250.0
    T.loc[T.index[::9], "sex"] = np.nan
    np.testing.assert_allclose(walk(parsed)(T), model.predict(T, raw_score=True), atol=TOL, rtol=0)


def test_lightgbm_on_pandas_categoricals_equals_shap_exact():
    X, y = frame()
    model = lgb.LGBMClassifier(**lgbm()).fit(X, y)
    result = explain(model, unseen(X), max_rows=25, max_background=20, seed=1)
    assert result.method == "tree", result.notes
    assert result.output_code == "log_odds"
    check_against_exact(result, lambda rows: model.predict(rows, raw_score=True))
    assert result.max_additivity_error < TOL


def test_lightgbm_regressor_on_pandas_categoricals_equals_shap_exact():
    X, y = frame(seed=3)
    model = lgb.LGBMRegressor(**lgbm(n_estimators=30)).fit(X, y * 2.0 + X["hours"] / 10)
    result = explain(model, X, max_rows=20, max_background=15, seed=2)
    assert result.method == "tree", result.notes
    check_against_exact(result, model.predict)


def test_lightgbm_zero_as_missing_is_exact_or_falls_back():
    X, y = frame()
    X = X.assign(hours=X["hours"].where(X["hours"] > 20, 0.0))
    model = lgb.LGBMClassifier(**lgbm(n_estimators=10, zero_as_missing=True)).fit(X, y)
    result = explain(model, X, max_rows=15, max_background=10, seed=0)
    if result.method == "tree":
        check_against_exact(result, lambda rows: model.predict(rows, raw_score=True))
    else:
        assert any("zero" in note for note in result.notes)
    assert result.max_additivity_error < 1e-6


# ----------------------------------------------------------------------------- XGBoost

xgb = pytest.importorskip("xgboost")


def xgb_model(cls, **params):
    base = {"n_estimators": 40, "max_depth": 4, "enable_categorical": True, "tree_method": "hist", "max_cat_to_onehot": 1}
    return cls(**(base | params))


def without_unseen(T: pd.DataFrame) -> pd.DataFrame:
    """XGBoost refuses categories it never saw: keep only the missing values."""
    return T.assign(job=T["job"].where(T["job"] != "astronaut").cat.remove_unused_categories())


def test_xgboost_trees_reach_xgboosts_leaves_and_margin():
    X, y = frame()
    model = xgb_model(xgb.XGBClassifier).fit(X, y)
    assert native_kind(model) == "xgboost"
    parsed = parse_native(model)
    assert parsed.trees.categorical.any()
    T = without_unseen(unseen(X))
    leaves = model.get_booster().predict(xgb.DMatrix(T, enable_categorical=True), pred_leaf=True).astype(np.int64)
    by_leaves = parsed.trees.values[np.arange(parsed.trees.n_trees)[None, :], leaves, 0].sum(axis=1)
    mine = predict_margin(parsed.trees, encoded(parsed, T))[:, 0]
    np.testing.assert_allclose(mine, by_leaves, atol=TOL, rtol=0)  # same leaf in every tree
    # XGBoost adds its trees in float32.
    np.testing.assert_allclose(mine + parsed.base_margin[0], model.predict(T, output_margin=True), atol=2e-5, rtol=0)


def test_xgboost_categories_in_another_order_are_recoded():
    X, y = frame()
    model = xgb_model(xgb.XGBClassifier, n_estimators=10).fit(X, y)
    parsed = parse_native(model)
    T = X.assign(job=X["job"].cat.reorder_categories(list(reversed(X["job"].cat.categories))))
    np.testing.assert_allclose(walk(parsed)(T), model.predict(T, output_margin=True), atol=2e-5, rtol=0)


def test_xgboost_enable_categorical_equals_shap_exact():
    X, y = frame()
    model = xgb_model(xgb.XGBClassifier).fit(X, y)
    parsed = parse_native(model)
    result = explain(model, without_unseen(unseen(X)), max_rows=25, max_background=20, seed=1)
    assert result.method == "tree", result.notes
    # Exactly the values of the parsed trees (float64) ...
    check_values_exact(result, walk(parsed))
    # ... and of the model itself up to its float32 sums.
    check_against_exact(result, lambda rows: model.predict(rows, output_margin=True), tol=2e-5)


def test_xgboost_one_hot_categorical_regressor_equals_shap_exact():
    X, y = frame(seed=5)
    model = xgb_model(xgb.XGBRegressor, n_estimators=25, max_cat_to_onehot=8).fit(X, y + X["hours"] / 20)
    parsed = parse_native(model)
    result = explain(model, X, max_rows=20, max_background=15, seed=3)
    assert result.method == "tree", result.notes
    check_values_exact(result, walk(parsed))
    check_against_exact(result, model.predict, tol=2e-5)


# ----------------------------------------------------------------------------- CatBoost


def strings(X: pd.DataFrame) -> pd.DataFrame:
    """CatBoost reads categories as strings and refuses missing categorical values."""
    out = X.copy()
    for column in ("job", "sex", "region"):
        out[column] = out[column].astype(object).where(out[column].notna(), "(missing)").astype(str)
    return out


def test_catboost_one_hot_trees_reproduce_raw_margin():
    catboost = pytest.importorskip("catboost")
    X, y = frame()
    X = strings(X)
    T = X.copy()
    T.loc[T.index[::7], "job"] = "astronaut"
    T.loc[T.index[::5], "age"] = np.nan
    for nan_mode in ("Min", "Max"):
        model = catboost.CatBoostClassifier(
            iterations=30, depth=4, one_hot_max_size=16, nan_mode=nan_mode, cat_features=["job", "sex", "region"],
            verbose=0, random_seed=0, thread_count=1,
        ).fit(X, y)
        assert native_kind(model) == "catboost"
        parsed = parse_native(model)
        assert parsed.trees.categorical.any()
        expected = model.predict(T, prediction_type="RawFormulaVal")
        np.testing.assert_allclose(walk(parsed)(T), expected, atol=TOL, rtol=0)


def test_catboost_regressor_equals_shap_exact():
    catboost = pytest.importorskip("catboost")
    X, y = frame(seed=2)
    X = strings(X)
    model = catboost.CatBoostRegressor(
        iterations=30, depth=4, one_hot_max_size=16, cat_features=["job", "sex", "region"],
        verbose=0, random_seed=0, thread_count=1,
    ).fit(X, y + X["hours"] / 20)
    parsed = parse_native(model)
    fn = walk(parsed)
    np.testing.assert_allclose(fn(X), model.predict(X), atol=TOL, rtol=0)
    background = X.iloc[100:115].reset_index(drop=True)
    data = X.iloc[:20].reset_index(drop=True)
    # The exact kernel on the parsed trees (lowered) against shap's ExactExplainer on the model.
    from auditkit.explanations._tree import grouped_tree_shap

    lowered, widen = lower_categorical(parsed.trees, X.shape[1])
    values = grouped_tree_shap(
        lowered,
        widen(encoded(parsed, data)),
        widen(encoded(parsed, background)),
        widen.groups(np.arange(X.shape[1])),
        X.shape[1],
        output=0,
    )
    expected, base = shap_exact(model.predict, data, background)
    np.testing.assert_allclose(values, expected, atol=TOL, rtol=0)
    np.testing.assert_allclose(values.sum(axis=1) + base, model.predict(data), atol=TOL, rtol=0)


def test_catboost_ctr_splits_fall_back_with_a_reason():
    catboost = pytest.importorskip("catboost")
    from auditkit.explanations._tree import NotTreeExplainable

    X, y = frame()
    X = strings(X)
    model = catboost.CatBoostClassifier(
        iterations=10, depth=3, one_hot_max_size=2, cat_features=["job", "sex", "region"],
        verbose=0, random_seed=0, thread_count=1,
    ).fit(X, y)
    with pytest.raises(NotTreeExplainable, match="target statistics"):
        parse_native(model)


def test_catboost_explain_takes_the_tree_path_and_equals_shap_exact():
    catboost = pytest.importorskip("catboost")
    X, y = frame(seed=4)
    X = strings(X)
    options = dict(iterations=30, depth=4, one_hot_max_size=16, cat_features=["job", "sex", "region"],
                   verbose=0, random_seed=0, thread_count=1)
    classifier = catboost.CatBoostClassifier(**options).fit(X, y)
    result = explain(classifier, X, max_rows=20, max_background=15, seed=0)
    assert result.method == "tree", result.notes
    assert result.output_code == "log_odds"
    check_against_exact(result, lambda rows: classifier.predict(rows, prediction_type="RawFormulaVal"))
    regressor = catboost.CatBoostRegressor(**options).fit(X, y + X["hours"] / 20)
    result = explain(regressor, X, max_rows=20, max_background=15, seed=0)
    assert result.method == "tree", result.notes
    check_against_exact(result, regressor.predict)
