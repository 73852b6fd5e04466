"""Internals: grouped TreeSHAP against brute force, observed column mapping."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("shap")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeRegressor  # noqa: E402

from auditkit.explanations._mapping import NotColumnwise, dense, infer_column_map  # noqa: E402
from auditkit.explanations._tree import as_tree_input, grouped_tree_shap, parse_trees  # noqa: E402


def group_shapley(model, x, background, groups, n_groups):
    """Interventional Shapley values of groups of columns, by enumeration."""

    def value(coalition):
        rows = background.copy()
        for g in coalition:
            rows[:, groups == g] = x[groups == g]
        return model.predict(rows).mean()

    phi = np.zeros(n_groups)
    for g in range(n_groups):
        others = [h for h in range(n_groups) if h != g]
        for size in range(n_groups):
            for coalition in combinations(others, size):
                weight = factorial(size) * factorial(n_groups - size - 1) / factorial(n_groups)
                phi[g] += weight * (value(coalition + (g,)) - value(coalition))
    return phi


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    depth=st.integers(1, 6),
    groups=st.lists(st.integers(0, 2), min_size=5, max_size=5),
)
def test_grouped_tree_shap_equals_brute_force(seed, depth, groups):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 5))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = np.nan_to_num(X[:, 0] * X[:, 1] + X[:, 2] - X[:, 3] * (X[:, 4] > 0))
    model = DecisionTreeRegressor(max_depth=depth, random_state=seed).fit(np.nan_to_num(X), y)
    groups = np.unique(groups, return_inverse=True)[1]
    n_groups = int(groups.max()) + 1
    trees = parse_trees(model)
    rows, background = np.nan_to_num(X[:3]), np.nan_to_num(X[10:18])
    phi = grouped_tree_shap(
        trees, as_tree_input(trees, rows), as_tree_input(trees, background), groups, n_groups, output=0
    )
    for i in range(len(rows)):
        np.testing.assert_allclose(phi[i], group_shapley(model, rows[i], background, groups, n_groups), atol=1e-9)


def raw_frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "job": rng.choice(["a", "b", "c", "rare"], n, p=[0.5, 0.3, 0.19, 0.01]),
            "city": rng.choice(["x", "y"], n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "age"] = np.nan
    return frame


def observe(transformer, frame):
    transformer.fit(frame)

    def transform(rows):
        return dense(transformer.transform(rows))

    return infer_column_map(
        transform, frame, transform(frame), rng=np.random.default_rng(0), n_explained=200
    )


def test_mapping_follows_one_hot_imputer_indicators_and_infrequent_categories():
    frame = raw_frame()
    transformer = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), ["age"]),
            ("cat", OneHotEncoder(drop="first", min_frequency=10, sparse_output=False), ["job", "city"]),
        ]
    )
    mapping = observe(transformer, frame)
    names = transformer.get_feature_names_out()
    owners = [frame.columns[o] for o in mapping.owner]
    for name, owner in zip(names, owners):
        assert owner in name, (name, owner)
    assert not mapping.one_to_one()
    # age (value and missing indicator), job (b, c, infrequent; "a" dropped), city (y)
    assert mapping.aggregation().sum(axis=0).tolist() == [2.0, 3.0, 1.0]


def test_mapping_rejects_transforms_that_mix_columns():
    frame = raw_frame()[["age", "city"]].fillna(0.0)
    frame["city"] = (frame["city"] == "x").astype(float)
    mixer = FunctionTransformer(lambda d: np.c_[d["age"] * d["city"], d["age"]])
    with pytest.raises(NotColumnwise):
        observe(mixer, frame)
