"""Path-dependent TreeSHAP over groups (explain.algorithm: path_dependent).

Checked three ways: against LightGBM's ``pred_contrib`` and XGBoost's ``pred_contribs`` (their
own path-dependent TreeSHAP), against the Shapley values of the path-dependent game enumerated
by brute force over every coalition of column groups, and by additivity.
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pytest

from auditkit.explanations._path_dependent import path_dependent_shap, tree_covers
from auditkit.explanations._tree import as_tree_input, parse_trees, predict_raw


def _data(n=600, columns=6, seed=0):
    from sklearn.datasets import make_classification

    X, y = make_classification(n, columns, n_informative=min(4, columns - 1), n_redundant=0, random_state=seed)
    X[::13, 2] = np.nan
    return X, y


def _explain(model, X, groups=None):
    trees = parse_trees(model)
    covers = tree_covers(model, trees.n_trees, trees.children_left.shape[1])
    T = as_tree_input(trees, X)
    groups = np.arange(X.shape[1]) if groups is None else np.asarray(groups)
    values, expected = path_dependent_shap(trees, covers, T, groups, int(groups.max()) + 1, output=0)
    return trees, covers, T, values, expected


def test_equals_lightgbm_pred_contrib():
    lgb = pytest.importorskip("lightgbm")
    X, y = _data()
    model = lgb.LGBMClassifier(n_estimators=60, num_leaves=15, verbose=-1).fit(X, y)
    _, _, _, values, expected = _explain(model, X)
    contrib = model.booster_.predict(X, pred_contrib=True)
    assert np.abs(values - contrib[:, :-1]).max() < 1e-9
    assert abs(expected - contrib[0, -1]) < 1e-9


def test_equals_xgboost_pred_contribs_to_its_float32_precision():
    xgb = pytest.importorskip("xgboost")
    X, y = _data()
    model = xgb.XGBClassifier(n_estimators=40, max_depth=5).fit(X, y)
    _, _, _, values, _ = _explain(model, X)
    contrib = model.get_booster().predict(xgb.DMatrix(X), pred_contribs=True)
    assert np.abs(values - contrib[:, :-1]).max() < 1e-4  # XGBoost sums in float32


@pytest.mark.parametrize("kind", ["forest", "boosting"])
def test_additivity_with_grouped_columns(kind):
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

    X, y = _data()
    X = np.nan_to_num(X)
    model = (RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0) if kind == "forest"
             else GradientBoostingClassifier(n_estimators=30, random_state=0)).fit(X, y)
    trees, _, T, values, expected = _explain(model, X, groups=[0, 0, 1, 2, 2, 3])
    assert values.shape == (len(X), 4)
    assert np.abs(values.sum(1) + expected - predict_raw(trees, T)[:, 0]).max() < 1e-9


def _game(trees, covers, x, groups, coalition):
    """The path-dependent value of a coalition of groups: every tree's expectation, following the
    row where a node's group is in the coalition and the branches' covers elsewhere."""
    total = 0.0
    for t in range(trees.n_trees):
        def value(node):
            left, right = trees.children_left[t, node], trees.children_right[t, node]
            if left < 0:
                return trees.values[t, node, 0]
            column = trees.features[t, node]
            if groups[column] in coalition:
                v = x[column]
                child = trees.children_default[t, node] if np.isnan(v) else (left if v <= trees.thresholds[t, node] else right)
                return value(child)
            return (covers[t, left] * value(left) + covers[t, right] * value(right)) / covers[t, node]
        total += value(0)
    return total


def test_equals_the_shapley_values_of_the_grouped_game_by_brute_force():
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = _data(n=300, columns=5, seed=3)
    X = np.nan_to_num(X)
    model = GradientBoostingClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    groups = np.array([0, 1, 1, 2, 3])
    trees, covers, T, values, expected = _explain(model, X[:5], groups=groups)
    players = range(4)
    for r in range(5):
        for g in players:
            others = [p for p in players if p != g]
            phi = 0.0
            for size in range(len(others) + 1):
                weight = factorial(size) * factorial(len(others) - size) / factorial(len(players))
                for subset in combinations(others, size):
                    with_g = _game(trees, covers, T[r], groups, set(subset) | {g})
                    without = _game(trees, covers, T[r], groups, set(subset))
                    phi += weight * (with_g - without)
            assert values[r, g] == pytest.approx(phi, abs=1e-12)
    assert expected == pytest.approx(_game(trees, covers, T[0], groups, set()), abs=1e-12)


def test_explain_api_path_dependent_equals_lightgbm_on_raw_frames():
    lgb = pytest.importorskip("lightgbm")
    import pandas as pd

    from auditkit.explanations import explain

    X, y = _data()
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    model = lgb.LGBMClassifier(n_estimators=40, num_leaves=15, verbose=-1).fit(frame, y)
    result = explain(model, frame, max_rows=100, seed=0, algorithm="path_dependent")
    assert result.algorithm == "path_dependent" and result.to_dict()["algorithm"] == "path_dependent"
    assert result.background_rows == 0 and result.max_additivity_error < 1e-9
    contrib = model.booster_.predict(result.data, pred_contrib=True)
    assert np.abs(result.values - contrib[:, :-1]).max() < 1e-9
    assert result.base_value == pytest.approx(contrib[0, -1], abs=1e-9)
    interventional = explain(model, frame, max_rows=100, seed=0)
    assert interventional.algorithm == "interventional" and interventional.background_rows > 0


def test_path_dependent_groups_one_hot_columns_of_a_pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    import pandas as pd

    from auditkit.explanations import explain

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"city": rng.choice(["a", "b", "c", "d"], 500), "age": rng.integers(18, 80, 500),
                          "income": rng.normal(50, 10, 500)})
    y = ((frame["city"].isin(["a", "b"])) & (frame["age"] > 40) | (frame["income"] > 60)).astype(int)
    model = Pipeline([("prep", ColumnTransformer([("city", OneHotEncoder(), ["city"])], remainder="passthrough")),
                      ("gb", GradientBoostingClassifier(n_estimators=30, random_state=0))]).fit(frame, y)
    result = explain(model, frame, max_rows=60, seed=0, algorithm="path_dependent")
    assert result.method == "tree-in-pipeline" and result.values.shape == (60, 3)
    assert result.max_additivity_error < 1e-9


def test_path_dependent_needs_a_tree_model():
    from sklearn.linear_model import LogisticRegression
    import pandas as pd

    from auditkit.errors import ExplanationError
    from auditkit.explanations import explain

    X, y = _data()
    frame = pd.DataFrame(np.nan_to_num(X), columns=[f"c{i}" for i in range(X.shape[1])])
    model = LogisticRegression().fit(frame, y)
    with pytest.raises(ExplanationError, match="path_dependent needs a tree model"):
        explain(model, frame, max_rows=50, algorithm="path_dependent")
    with pytest.raises(ExplanationError, match="algorithm is 'exact'"):
        explain(model, frame, max_rows=50, algorithm="exact")


def test_the_policy_chooses_the_algorithm_and_the_report_says_which(demo_dir, tmp_path):
    import json
    import shutil

    from click.testing import CliRunner

    from auditkit.cli import cli

    folder = tmp_path / "demo"
    shutil.copytree(demo_dir, folder)
    policy = folder / "audit.yaml"
    text = policy.read_text()
    policy.write_text(text.replace("  max_rows: 2000", "  max_rows: 2000\n  algorithm: path_dependent"))
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / "out"), "--quiet"])
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    explanations = document["explanations"]
    # the demo's model is a logistic regression: path-dependent values do not exist for it
    assert explanations["status"] == "error" and "path_dependent needs a tree model" in explanations["reason"]
    assert result.exit_code == 0  # its one explanation rule is a warning
    bad = text.replace("  max_rows: 2000", "  max_rows: 2000\n  algorithm: exact")
    policy.write_text(bad)
    refused = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / "out2")])
    assert refused.exit_code == 2 and "explain.algorithm" in refused.output
