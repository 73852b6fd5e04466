"""``auditkit.reasons`` against reference computations (issue 17, "Correctness").

- a linear scorecard: each contribution is ``coef_j * (x_j - mean of the background's x_j)`` on
  the log-odds, the ranks are the most negative contributions first (negative only), ties by
  the model's column order;
- a OneHotEncoder + LogisticRegression Pipeline: a raw column's contribution is the sum of
  ``coef * (z - mean z)`` over its one-hot columns;
- small tree models: the contributions (and so the ranking) equal shap's ``ExactExplainer``
  on the same rows and background for the same output;
- ``baseline="approved"``: the background is the approved rows;
- exclusion of protected / excluded inputs, and the reason codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import auditkit
from auditkit.errors import AuditkitError

TOL = 1e-9
COLUMNS = ["b", "a", "d", "c"]  # deliberately not alphabetical: ties follow the model's order


def _numeric_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=COLUMNS)
    logit = 0.8 * X["b"] - 1.1 * X["a"] + 0.6 * X["d"] + 0.3 * X["c"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _is_margin(label: str) -> bool:
    """The explained output is the decision function / log-odds (``explain`` relabels a margin
    whose sigmoid is ``predict_proba`` as log-odds; ``attribute_rows`` keeps "margin")."""
    return "log-odds" in label or "margin" in label


def _expected_table(contrib: np.ndarray, X: pd.DataFrame, columns, scores, k, stateable=None):
    """Hand ranking: per row, negative (stateable) contributions, most negative first, ties by
    column position."""
    stateable = set(columns if stateable is None else stateable)
    records = []
    for i in range(contrib.shape[0]):
        candidates = [(contrib[i, j], j) for j in range(len(columns))
                      if contrib[i, j] < 0 and columns[j] in stateable]
        candidates.sort()  # by value, then by column position
        for rank, (value, j) in enumerate(candidates[:k], start=1):
            records.append((X.index[i], rank, columns[j], value, X.iat[i, j], scores[i]))
    return pd.DataFrame.from_records(records, columns=["row", "rank", "column", "contribution", "value", "score"])


def _assert_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(got) == len(expected)
    got = got.reset_index(drop=True)
    assert got["row"].tolist() == expected["row"].tolist()
    assert got["rank"].tolist() == expected["rank"].tolist()
    assert got["column"].tolist() == expected["column"].tolist()
    np.testing.assert_allclose(got["contribution"].to_numpy(float), expected["contribution"].to_numpy(float),
                               rtol=0, atol=TOL)
    np.testing.assert_allclose(got["value"].to_numpy(float), expected["value"].to_numpy(float), rtol=0, atol=0)
    np.testing.assert_allclose(got["score"].to_numpy(float), expected["score"].to_numpy(float), rtol=0, atol=1e-12)


def _same_background(n, max_background, seed=0, pool=None):
    """The background rule of ``reasons`` (``_baseline_rows``), reproduced."""
    pool = np.arange(n) if pool is None else pool
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(pool, size=min(max_background, len(pool)), replace=False))


# ---------------------------------------------------------------- linear scorecard


@pytest.fixture(scope="module")
def scorecard():
    X, y = _numeric_data()
    model = LogisticRegression().fit(X, y)
    return model, X


@pytest.mark.parametrize("max_background", [1000, 50])
def test_linear_scorecard_equals_hand_computation(scorecard, max_background):
    model, X = scorecard
    # X given with its columns in another order and an extra column: the model's order rules.
    shuffled = X[["c", "a", "d", "b"]].assign(extra=1.0)
    got = auditkit.reasons(model, shuffled, rows="all", k=4, max_background=max_background)
    assert _is_margin(got.attrs["output"]), got.attrs["output"]
    background = _same_background(len(X), max_background)
    assert got.attrs["baseline_rows"] == len(background)
    coef = model.coef_[0]
    values = X[COLUMNS].to_numpy()
    contrib = coef * (values - values[background].mean(axis=0))
    # Efficiency: the contributions sum to the log-odds minus its background mean.
    logit = model.decision_function(X)
    np.testing.assert_allclose(contrib.sum(axis=1), logit - logit[background].mean(), atol=TOL)
    scores = model.predict_proba(X)[:, 1]
    _assert_table(got, _expected_table(contrib, X[COLUMNS], COLUMNS, scores, k=4))
    assert (got["contribution"] < 0).all()


def test_linear_k_and_adverse_rows(scorecard):
    model, X = scorecard
    got = auditkit.reasons(model, X, k=2, max_background=1000)
    scores = model.predict_proba(X)[:, 1]
    adverse = scores < 0.5
    assert set(got["row"]) <= set(X.index[adverse])
    assert got.groupby("row")["rank"].max().max() <= 2
    coef = model.coef_[0]
    values = X.to_numpy()
    contrib = coef * (values - values.mean(axis=0))
    _assert_table(got, _expected_table(contrib[adverse], X[adverse], COLUMNS, scores[adverse], k=2))


def test_linear_exact_tie_broken_by_model_column_order():
    X, y = _numeric_data(n=60, seed=3)
    X["a"] = X["b"]  # identical columns ...
    model = LogisticRegression().fit(X, y)
    model.coef_ = np.array([[0.7, 0.7, 0.4, -0.2]])  # ... with identical coefficients: exact ties
    model.intercept_ = np.array([-0.1])
    got = auditkit.reasons(model, X, rows="all", k=4, max_background=1000)
    values = X.to_numpy()
    contrib = model.coef_[0] * (values - values.mean(axis=0))
    tied = contrib[:, 0] < 0
    assert tied.sum() > 5 and np.array_equal(contrib[tied, 0], contrib[tied, 1])
    for row in X.index[tied]:
        mine = got[got["row"] == row].set_index("column")
        # "b" is the model's first column, "a" its second: b is ranked just before a.
        assert mine.loc["b", "rank"] + 1 == mine.loc["a", "rank"]
        assert mine.loc["b", "contribution"] == mine.loc["a", "contribution"]
    scores = model.predict_proba(X)[:, 1]
    _assert_table(got, _expected_table(contrib, X, COLUMNS, scores, k=4))


def test_linear_baseline_approved(scorecard):
    model, X = scorecard
    scores = model.predict_proba(X)[:, 1]
    approved = np.flatnonzero(scores >= 0.5)
    assert 0 < len(approved) < len(X)
    got = auditkit.reasons(model, X, baseline="approved", rows="all", k=4, max_background=1000)
    assert got.attrs["baseline"] == "approved" and got.attrs["baseline_rows"] == len(approved)
    values = X.to_numpy()
    contrib = model.coef_[0] * (values - values[approved].mean(axis=0))
    _assert_table(got, _expected_table(contrib, X, COLUMNS, scores, k=4))
    # A sampled approved baseline: the same rule on the approved pool.
    got = auditkit.reasons(model, X, baseline="approved", rows="all", k=4, max_background=20, seed=5)
    sample = _same_background(len(X), 20, seed=5, pool=approved)
    assert (scores[sample] >= 0.5).all()
    contrib = model.coef_[0] * (values - values[sample].mean(axis=0))
    _assert_table(got, _expected_table(contrib, X, COLUMNS, scores, k=4))
    # It differs from the standard background.
    standard = auditkit.reasons(model, X, rows="all", k=4, max_background=1000)
    assert not np.allclose(standard["contribution"].sum(), got["contribution"].sum())


def test_threshold_decides_the_adverse_rows(scorecard):
    model, X = scorecard
    scores = model.predict_proba(X)[:, 1]
    got = auditkit.reasons(model, X, threshold=0.7, max_background=1000)
    assert set(got["row"]) <= set(X.index[scores < 0.7])
    assert (got["score"] < 0.7).all()


# ---------------------------------------------------------------- one-hot pipeline


def test_onehot_pipeline_sums_one_hot_columns():
    rng = np.random.default_rng(1)
    n = 300
    X = pd.DataFrame({
        "income": rng.normal(50, 15, n),
        "color": rng.choice(["red", "green", "blue"], n),
        "debt": rng.normal(10, 4, n),
        "size": rng.choice(["s", "m", "l", "xl"], n),
    })
    logit = (0.05 * (X["income"] - 50) - 0.15 * (X["debt"] - 10) + (X["color"] == "red") * 0.9
             - (X["size"] == "xl") * 1.2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    prep = ColumnTransformer([("cat", OneHotEncoder(sparse_output=False), ["color", "size"]),
                              ("num", "passthrough", ["income", "debt"])])
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=1000))]).fit(X, y)
    got = auditkit.reasons(model, X, rows="all", k=4, max_background=100, seed=2)
    assert _is_margin(got.attrs["output"]), got.attrs["output"]
    background = _same_background(n, 100, seed=2)
    Z = model[:-1].transform(X)
    coef = model[-1].coef_[0]
    per_model_column = coef * (Z - Z[background].mean(axis=0))
    n_color, n_size = (len(c) for c in model.named_steps["prep"].named_transformers_["cat"].categories_)
    groups = {"color": slice(0, n_color), "size": slice(n_color, n_color + n_size),
              "income": slice(n_color + n_size, n_color + n_size + 1),
              "debt": slice(n_color + n_size + 1, n_color + n_size + 2)}
    columns = list(X.columns)  # the model's raw column order
    contrib = np.column_stack([per_model_column[:, groups[c]].sum(axis=1) for c in columns])
    logit = model.decision_function(X)
    np.testing.assert_allclose(contrib.sum(axis=1), logit - logit[background].mean(), atol=TOL)
    scores = model.predict_proba(X)[:, 1]
    expected = _expected_table(contrib, X, columns, scores, k=4)
    assert len(got) == len(expected)
    assert got["row"].tolist() == expected["row"].tolist()
    assert got["rank"].tolist() == expected["rank"].tolist()
    assert got["column"].tolist() == expected["column"].tolist()
    np.testing.assert_allclose(got["contribution"], expected["contribution"], rtol=0, atol=TOL)
    assert got["value"].tolist() == expected["value"].tolist()  # raw values, strings included
    assert {"color", "size"} <= set(got["column"])


# ---------------------------------------------------------------- trees vs shap's exact explainer


def _tree_case(kind):
    rng = np.random.default_rng(7)
    n = 30
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=COLUMNS)
    y = ((X["b"] - X["a"] + 0.5 * X["d"] + rng.normal(0, 0.7, n)) > 0).astype(int)
    if kind == "gbm":
        model = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, y)
    else:
        model = RandomForestClassifier(n_estimators=15, max_depth=4, random_state=0).fit(X, y)
    return model, X


@pytest.mark.parametrize("kind", ["gbm", "forest"])
def test_tree_equals_shap_exact_explainer(kind):
    shap = pytest.importorskip("shap")
    model, X = _tree_case(kind)
    got = auditkit.reasons(model, X, rows="all", k=4, max_background=20, seed=0)
    output = got.attrs["output"]
    background = _same_background(len(X), 20, seed=0)
    assert got.attrs["baseline_rows"] == 20

    if _is_margin(output):
        def f(a):
            return model.decision_function(pd.DataFrame(a, columns=COLUMNS))
    else:
        assert output.startswith("P(") or "probab" in output, output

        def f(a):
            return model.predict_proba(pd.DataFrame(a, columns=COLUMNS))[:, 1]

    assert _is_margin(output) == (kind == "gbm"), output
    bg = X.to_numpy()[background]
    explainer = shap.explainers.Exact(f, shap.maskers.Independent(bg, max_samples=len(bg)))
    contrib = explainer(X.to_numpy()).values
    assert contrib.shape == (len(X), 4)
    scores = model.predict_proba(X)[:, 1]
    _assert_table(got, _expected_table(contrib, X, COLUMNS, scores, k=4))


# ---------------------------------------------------------------- exclusion


def test_protected_never_stated_unless_allowed(scorecard):
    model, X = scorecard
    X = X.rename(columns={"d": "x2"})
    model = LogisticRegression().fit(X, model.predict(X.rename(columns={"x2": "d"})[COLUMNS]))
    plain = auditkit.reasons(model, X, rows="all", max_background=1000)
    assert "x2" in set(plain["column"])
    protected = auditkit.reasons(model, X, rows="all", protected=["x2"], max_background=1000)
    assert "x2" not in set(protected["column"])
    # The other reasons move up: ranks stay 1..n without gaps.
    assert (protected.groupby("row")["rank"].agg(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    allowed = auditkit.reasons(model, X, rows="all", protected=["x2"], allow=["x2"], max_background=1000)
    pd.testing.assert_frame_equal(allowed, plain)
    excluded = auditkit.reasons(model, X, rows="all", exclude=["x2", "a"], max_background=1000)
    assert not {"x2", "a"} & set(excluded["column"])
    # The protected input needs no reason code.
    codes = {c: f"R0{i} {c} statement" for i, c in enumerate(X.columns) if c != "x2"}
    coded = auditkit.reasons(model, X, rows="all", protected=["x2"], codes=codes, max_background=1000)
    assert "x2" not in set(coded["column"])


# ---------------------------------------------------------------- codes


def test_codes(scorecard):
    model, X = scorecard
    codes = {"b": "R01 Too many inquiries", "a": "R02 Low income", "d": "Short credit history"}
    with pytest.raises(AuditkitError, match=r"\bc\b"):
        auditkit.reasons(model, X, rows="all", codes=codes, max_background=1000)
    got = auditkit.reasons(model, X, rows="all", codes=codes, fallback="R99 Other", max_background=1000)
    by_column = got.drop_duplicates("column").set_index("column")
    assert set(by_column.index) == set(COLUMNS)
    assert tuple(by_column.loc["b", ["code", "statement"]]) == ("R01", "Too many inquiries")
    assert tuple(by_column.loc["a", ["code", "statement"]]) == ("R02", "Low income")
    assert tuple(by_column.loc["c", ["code", "statement"]]) == ("R99", "Other")
    # Text without a code: the column's name is the code.
    assert tuple(by_column.loc["d", ["code", "statement"]]) == ("d", "Short credit history")
    # Codes change the words, not the reasons.
    plain = auditkit.reasons(model, X, rows="all", max_background=1000)
    pd.testing.assert_frame_equal(got.drop(columns=["code", "statement"]), plain.drop(columns=["code", "statement"]))
    assert (plain["code"] == plain["column"]).all() and (plain["statement"] == plain["column"]).all()
    # Excluding the unmapped input also satisfies the codes.
    ok = auditkit.reasons(model, X, rows="all", codes=codes, exclude=["c"], max_background=1000)
    assert "c" not in set(ok["column"])
