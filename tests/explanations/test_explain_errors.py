"""Models and inputs that cannot be explained raise ExplanationError with one sentence."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("shap")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from auditkit.errors import ExplanationError  # noqa: E402
from auditkit.explanations import explain  # noqa: E402
from auditkit.explanations._progress import resolve_progress, track  # noqa: E402


def data(n=200, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = rng.integers(0, classes, n)
    return X, y


def one_sentence(error: ExplanationError) -> bool:
    return "\n" not in error.message and error.message.rstrip().endswith(".")


def test_multiclass_needs_a_positive_class():
    X, y = data(classes=3)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ExplanationError, match="positive_class") as info:
        explain(model, X)
    assert one_sentence(info.value)
    result = explain(model, X, positive_class=2, max_rows=10, max_background=5)
    assert result.output == "P(class = 2)" and result.max_additivity_error < 1e-9


def test_multiclass_forest_uses_the_tree_path_on_probabilities():
    X, y = data(classes=3)
    model = DecisionTreeClassifier(max_depth=4).fit(X, y)
    result = explain(model, X, positive_class=1, max_rows=20, max_background=10)
    assert result.method == "tree" and result.output == "P(class = 1)"
    assert result.max_additivity_error < 1e-9


def test_unknown_positive_class():
    X, y = data()
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ExplanationError, match="not one of the model's classes"):
        explain(model, X, positive_class="yes")


def test_model_without_predict():
    with pytest.raises(ExplanationError, match="no predict method") as info:
        explain(object(), pd.DataFrame({"a": [1.0]}))
    assert one_sentence(info.value)


def test_missing_columns_and_empty_data():
    X, y = data()
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ExplanationError, match="lacks the model input column"):
        explain(model, X[["a"]])
    with pytest.raises(ExplanationError, match="no rows"):
        explain(model, X.iloc[:0])


def test_model_failing_on_the_data_is_reported_in_one_sentence():
    X, y = data()
    model = LogisticRegression().fit(X, y)
    bad = X.astype(object)
    bad.loc[0, "a"] = "not a number"
    with pytest.raises(ExplanationError, match="failed") as info:
        explain(model, bad)
    assert one_sentence(info.value)


def test_invalid_budget():
    X, y = data()
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ExplanationError, match="max_rows"):
        explain(model, X, max_rows=0)


def test_columns_are_reordered_to_the_model():
    X, y = data()
    model = LogisticRegression().fit(X, y)
    result = explain(model, X[["b", "a"]], max_rows=10, max_background=5)
    assert result.features == ("a", "b")


def test_progress_is_silent_off_a_terminal(capsys):
    assert resolve_progress(None) is False  # pytest captures stderr: not a TTY
    assert resolve_progress(True) is True
    assert list(track(range(3), total=3, enabled=False, desc="x")) == [0, 1, 2]
    X, y = data()
    explain(LogisticRegression().fit(X, y), X, max_rows=10, max_background=5)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_importing_the_package_does_not_import_heavy_libraries():
    code = (
        "import sys, auditkit.explanations;"
        "heavy = [m for m in ('shap', 'sklearn', 'matplotlib') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == ""
