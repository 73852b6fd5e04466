"""The compiled interventional TreeSHAP kernel: exact against enumeration, the numpy reference
and shap's ExactExplainer (1e-9), additive, and evaluating native categorical splits."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest

shap = pytest.importorskip("shap")
pytest.importorskip("numba")

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeRegressor

from auditkit.explanations import explain
from auditkit.explanations._agnostic import coded_model
from auditkit.explanations._tree import (
    TreeSet,
    as_tree_input,
    budget_for,
    grouped_tree_shap,
    grouped_tree_shap_numpy,
    parse_trees,
    predict_raw,
)

EXACT = 1e-9


@pytest.fixture(autouse=True)
def single_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


# --- an independent evaluator and brute-force Shapley values -------------------------------


def evaluate(trees: TreeSet, row: np.ndarray, output: int = 0) -> float:
    """Walk every tree node by node, in plain Python."""
    total = 0.0
    for t in range(trees.n_trees):
        node = 0
        while trees.children_left[t, node] >= 0:
            value = row[trees.features[t, node]]
            categorical = trees.categorical is not None and bool(trees.categorical[t, node])
            if categorical:
                bits = trees.category_bits[t, node]
                if np.isnan(value) or value < 0 or value >= 64 * len(bits):
                    node = trees.children_default[t, node]
                    continue
                code = int(value)
                go_left = (int(bits[code // 64]) >> (code % 64)) & 1 == 1
            elif np.isnan(value):
                node = trees.children_default[t, node]
                continue
            else:
                go_left = value <= trees.thresholds[t, node]
            node = trees.children_left[t, node] if go_left else trees.children_right[t, node]
        total += trees.values[t, node, output]
    return total


def brute_force(trees: TreeSet, x: np.ndarray, background: np.ndarray, groups: np.ndarray, n_groups: int):
    """Interventional Shapley values of groups of columns, by enumerating coalitions."""
    cache: dict[tuple, float] = {}

    def game(coalition: tuple) -> float:
        if coalition not in cache:
            mask = np.isin(groups, coalition)
            cache[coalition] = float(
                np.mean([evaluate(trees, np.where(mask, x, b)) for b in background])
            )
        return cache[coalition]

    phi = np.zeros(n_groups)
    for g in range(n_groups):
        others = [h for h in range(n_groups) if h != g]
        for size in range(n_groups):
            weight = factorial(size) * factorial(n_groups - size - 1) / factorial(n_groups)
            for coalition in combinations(others, size):
                phi[g] += weight * (game(tuple(sorted(coalition + (g,)))) - game(coalition))
    return phi


# --- the kernel against the numpy reference and enumeration --------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_kernel_equals_numpy_reference_and_enumeration(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 6))
    X[:, 5] = rng.integers(0, 3, 400)  # repeated splits on a few values
    y = X[:, 0] * X[:, 1] + X[:, 2] - X[:, 3] * (X[:, 4] > 0) + X[:, 5]
    depth = [1, 3, 6, None][seed % 4]
    model = (
        ExtraTreesRegressor(n_estimators=3, max_depth=depth, random_state=seed)
        if seed % 3 == 0
        else DecisionTreeRegressor(max_depth=depth, random_state=seed)
    ).fit(X, y)
    trees = parse_trees(model)
    groups = [np.arange(6), np.array([0, 0, 1, 1, 2, 3]), np.array([0, 1, 0, 2, 1, 2])][seed % 3]
    n_groups = int(groups.max()) + 1
    rows = X[:25].copy()
    background = X[100:140].copy()
    rows[rng.random(rows.shape) < 0.1] = np.nan  # missing values follow children_default
    background[rng.random(background.shape) < 0.1] = np.nan
    rows, background = as_tree_input(trees, rows), as_tree_input(trees, background)
    phi = grouped_tree_shap(trees, rows, background, groups, n_groups, output=0)
    reference = grouped_tree_shap_numpy(trees, rows, background, groups, n_groups, output=0)
    np.testing.assert_allclose(phi, reference, rtol=0, atol=1e-12)
    base = predict_raw(trees, background)[:, 0].mean()
    np.testing.assert_allclose(phi.sum(axis=1) + base, predict_raw(trees, rows)[:, 0], rtol=0, atol=EXACT)
    for i in range(3):
        expected = brute_force(trees, rows[i], background[:12], groups, n_groups)
        small = grouped_tree_shap(trees, rows[i : i + 1], background[:12], groups, n_groups, output=0)
        np.testing.assert_allclose(small[0], expected, rtol=0, atol=EXACT)


def categorical_trees() -> TreeSet:
    """Two hand-built trees with categorical nodes (codes up to 70: two-word bitsets)."""
    n_nodes = 7
    left = np.full((2, n_nodes), -1)
    right = np.full((2, n_nodes), -1)
    default = np.full((2, n_nodes), -1)
    features = np.full((2, n_nodes), -2)
    thresholds = np.full((2, n_nodes), -2.0)
    categorical = np.zeros((2, n_nodes), dtype=bool)
    bits = np.zeros((2, n_nodes, 2), dtype=np.uint64)
    values = np.zeros((2, n_nodes, 1))

    def split(t, node, feature, lchild, rchild, *, dflt="right", threshold=None, codes=None):
        left[t, node], right[t, node], features[t, node] = lchild, rchild, feature
        default[t, node] = lchild if dflt == "left" else rchild
        if codes is None:
            thresholds[t, node] = threshold
        else:
            categorical[t, node] = True
            for c in codes:
                bits[t, node, c // 64] |= np.uint64(1) << np.uint64(c % 64)

    # tree 0: column 0 (categorical) -> column 1 (numeric) / column 0 again (categorical)
    split(0, 0, 0, 1, 2, codes=[0, 2, 65])
    split(0, 1, 1, 3, 4, threshold=0.5, dflt="left")
    split(0, 2, 0, 5, 6, codes=[1, 70])
    values[0, 3:, 0] = [1.0, -2.0, 3.5, 0.25]
    # tree 1: column 2 (categorical, default left) -> column 0 (categorical) / column 3 (numeric)
    split(1, 0, 2, 1, 2, codes=[1, 3], dflt="left")
    split(1, 1, 0, 3, 4, codes=[2])
    split(1, 2, 3, 5, 6, threshold=-0.2)
    values[1, 3:, 0] = [-1.0, 2.0, 0.5, -0.75]
    return TreeSet(
        children_left=left,
        children_right=right,
        children_default=default,
        features=features,
        thresholds=thresholds,
        values=values,
        input_dtype=np.float64,
        n_trees=2,
        categorical=categorical,
        category_bits=bits,
    )


def categorical_rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    codes = np.array([0, 1, 2, 3, 65, 70, 71, 200, -1, np.nan])
    return np.column_stack(
        [
            rng.choice(codes, n),
            rng.normal(0.5, 1, n),
            rng.choice(codes, n),
            np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 1, n)),
        ]
    )


def test_categorical_splits_follow_the_bitsets():
    trees = categorical_trees()
    rows = categorical_rows(200, 0)
    expected = np.array([evaluate(trees, r) for r in rows])
    np.testing.assert_array_equal(predict_raw(trees, rows)[:, 0], expected)
    # NaN, negative and unknown codes (71, 200) go to the default child.
    # tree 0: NaN -> right (default) -> right (default) = 0.25; tree 1: -1 -> left (default),
    # then NaN -> right (default) = 2.0.
    row = np.array([np.nan, 0.0, -1.0, 0.0])
    assert evaluate(trees, row) == predict_raw(trees, row[None])[0, 0] == 2.25


@pytest.mark.parametrize("groups", [np.arange(4), np.array([0, 0, 1, 2])])
def test_categorical_splits_equal_brute_force(groups):
    trees = categorical_trees()
    rows = categorical_rows(8, 1)
    background = categorical_rows(15, 2)
    n_groups = int(groups.max()) + 1
    phi = grouped_tree_shap(trees, rows, background, groups, n_groups, output=0)
    for i in range(len(rows)):
        np.testing.assert_allclose(phi[i], brute_force(trees, rows[i], background, groups, n_groups), atol=EXACT)
    base = predict_raw(trees, background)[:, 0].mean()
    np.testing.assert_allclose(phi.sum(axis=1) + base, predict_raw(trees, rows)[:, 0], atol=EXACT)


def test_budget_keeps_two_thousand_rows_for_a_deep_random_forest():
    n_trees, n_nodes = 100, 11_937  # RandomForestClassifier(100) on Adult: ~570,000 leaves
    left = np.full((n_trees, n_nodes), -1)
    left[:, : (n_nodes - 1) // 2] = 1
    trees = TreeSet(left, left, left, left, left.astype(float), np.zeros((n_trees, n_nodes, 1)), np.float64, n_trees)
    assert budget_for(trees, max_rows=2000, max_background=200) == (2000, 200)


# --- the whole explanation against shap's ExactExplainer, 1e-9 ------------------------------


def frame(n: int = 500, seed: int = 0, missing: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
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
        X.loc[rng.random(n) < 0.15, "income"] = np.nan
    signal = (X["age"] > 40).astype(float) + (X["job"] == "manager") * (X["sex"] == "male") + X["hours"] / 40
    y = (signal + rng.normal(0, 0.5, n) > 1.5).astype(int).to_numpy()
    return X, y


def numeric(X: pd.DataFrame) -> pd.DataFrame:
    return X[["age", "income", "hours"]]


def check_exact(result, fn, tol=EXACT):
    pool = pd.concat([result.data, result.background], ignore_index=True)
    codes, wrapped = coded_model(pool, fn)
    masker = shap.maskers.Independent(codes[len(result.data) :], max_samples=len(result.background))
    expected = shap.explainers.Exact(wrapped, masker)(codes[: len(result.data)], silent=True)
    np.testing.assert_allclose(result.values, expected.values, rtol=0, atol=tol)
    np.testing.assert_allclose(result.base_value, expected.base_values, rtol=0, atol=tol)
    assert result.max_additivity_error < tol


def test_random_forest_fully_grown_is_exact():
    X, y = frame(seed=11)
    model = RandomForestClassifier(n_estimators=15, random_state=0).fit(numeric(X), y)
    result = explain(model, numeric(X), max_rows=12, max_background=10)
    assert result.method == "tree"
    check_exact(result, lambda d: model.predict_proba(d)[:, 1])


def test_extra_trees_are_exact():
    X, y = frame(seed=12)
    model = ExtraTreesClassifier(n_estimators=15, random_state=0).fit(numeric(X), y)
    result = explain(model, numeric(X), max_rows=12, max_background=10)
    assert result.method == "tree"
    check_exact(result, lambda d: model.predict_proba(d)[:, 1])


def test_extra_trees_in_a_one_hot_pipeline_are_exact_per_raw_column():
    X, y = frame(seed=13)
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["job", "sex"])], remainder="passthrough"
    )
    model = Pipeline([("pre", pre), ("et", ExtraTreesClassifier(n_estimators=10, random_state=0))]).fit(X, y)
    result = explain(model, X, max_rows=10, max_background=8)
    assert result.method == "tree-in-pipeline"
    check_exact(result, lambda d: model.predict_proba(d)[:, 1])


def test_gradient_boosting_regressor_is_exact():
    X, _ = frame(seed=14)
    target = X["age"] * 2 + X["hours"] ** 1.5 - X["income"]
    model = GradientBoostingRegressor(n_estimators=30, max_depth=4, random_state=0).fit(numeric(X), target)
    result = explain(model, numeric(X), max_rows=12, max_background=10)
    check_exact(result, model.predict, tol=EXACT * float(target.abs().max()))


def test_hist_gradient_boosting_with_missing_values_is_exact():
    X, y = frame(seed=15, missing=True)
    model = HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=16).fit(numeric(X), y)
    result = explain(model, numeric(X), max_rows=12, max_background=10)
    assert result.method == "tree"
    assert result.data["income"].isna().any() or result.background["income"].isna().any()
    check_exact(result, model.decision_function)


def test_lightgbm_is_exact():
    lightgbm = pytest.importorskip("lightgbm")
    X, y = frame(seed=16, missing=True)
    model = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=16, verbose=-1, n_jobs=1).fit(numeric(X), y)
    result = explain(model, numeric(X), max_rows=12, max_background=10)
    assert result.method == "tree"
    check_exact(result, lambda d: model.predict(d, raw_score=True))


def test_xgboost_is_exact_on_its_trees():
    xgboost = pytest.importorskip("xgboost")
    X, y = frame(seed=17, missing=True)
    model = xgboost.XGBClassifier(n_estimators=20, max_depth=4, n_jobs=1).fit(numeric(X), y)
    result = explain(model, numeric(X), max_rows=8, max_background=8)
    assert result.method == "tree"
    # XGBoost adds its trees in float32, so its own output is matched to float32 precision;
    # the values are exact (1e-9) for the trees as parsed, summed in float64.
    check_exact(result, lambda d: model.predict(d, output_margin=True), tol=1e-5)
    trees = parse_trees(model)
    rows = as_tree_input(trees, result.data.to_numpy(dtype=float))
    background = as_tree_input(trees, result.background.to_numpy(dtype=float))
    phi = grouped_tree_shap(trees, rows, background, np.arange(3), 3, output=0)
    for i in range(3):
        np.testing.assert_allclose(phi[i], brute_force(trees, rows[i], background, np.arange(3), 3), atol=EXACT)


def test_leaves_shifted_by_their_most_common_value_give_the_same_values():
    """A fully grown forest's leaves are worth 0 or 1: whichever class is explained, the kernel
    shifts each tree so that the more common value is 0 (Shapley values ignore a constant)."""
    from auditkit.explanations._tree_kernel import _shift_to_zero

    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(scale=0.5, size=300) > 0.8).astype(int)
    model = RandomForestClassifier(n_estimators=6, random_state=0).fit(X, y)
    trees = parse_trees(model)
    left, right = trees.children_left[: trees.n_trees], trees.children_right[: trees.n_trees]
    changed = [
        (_shift_to_zero(trees.values[: trees.n_trees, :, output].copy(), left, right)
         != trees.values[: trees.n_trees, :, output]).any()
        for output in (0, 1)
    ]
    assert any(changed)  # the class whose pure leaves are mostly worth 1 is shifted
    rows, background = as_tree_input(trees, X[:30]), as_tree_input(trees, X[100:140])
    groups = np.array([0, 0, 1, 2, 2])
    for output in (0, 1):
        phi = grouped_tree_shap(trees, rows, background, groups, 3, output=output)
        reference = grouped_tree_shap_numpy(trees, rows, background, groups, 3, output=output)
        np.testing.assert_allclose(phi, reference, rtol=0, atol=1e-12)


def test_shift_ignores_the_padding_of_smaller_trees():
    from auditkit.explanations._tree_kernel import _shift_to_zero

    # Tree 0: a root with two leaves worth 3 and 3; tree 1: one leaf worth 2, padded with -1
    # nodes worth 0 that are no leaves of it.
    left = np.array([[1, -1, -1], [-1, -1, -1]])
    right = np.array([[2, -1, -1], [-1, -1, -1]])
    values = np.array([[0.0, 3.0, 3.0], [2.0, 0.0, 0.0]])
    shifted = _shift_to_zero(values.copy(), left, right)
    np.testing.assert_array_equal(shifted, [[-3.0, 0.0, 0.0], [0.0, -2.0, -2.0]])
