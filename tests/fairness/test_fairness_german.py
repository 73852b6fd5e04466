"""Audit of the real German credit data: the kernel reproduces hand-counted rates exactly.

``auditkit/demo_data/german.data`` (Statlog German credit, 1,000 rows, 21 columns,
space-separated): column 0 checking status, 1 duration in months, 8 ``status_sex``
(A91/A93/A94 male, A92/A95 female), 12 age, 20 credit (1 good, 2 bad).
The "precomputed predictions" are a fixed rule: approve (predict good) when the
checking account is absent or healthy (A13, A14) or the loan lasts at most 12 months.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import auditkit
from auditkit.fairness import assess_fairness

DATA = Path(auditkit.__file__).resolve().parent / "demo_data" / "german.data"


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    raw = pd.read_csv(DATA, sep=" ", header=None)
    assert raw.shape == (1000, 21)
    return pd.DataFrame(
        {
            "y_true": (raw[20] == 1).astype(int),  # 1 = good credit, the positive outcome
            "y_pred": (raw[0].isin(["A13", "A14"]) | (raw[1] <= 12)).astype(int),
            "sex": np.where(raw[8].isin(["A92", "A95"]), "female", "male"),
            "age": np.where(raw[12] < 25, "<25", ">=25"),
        }
    )


def _hand_counted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per-group rates from a plain pandas crosstab of (actual, predicted)."""
    key = frame[by].astype(str).agg(" & ".join, axis=1)
    table = pd.crosstab([key, frame["y_true"]], frame["y_pred"]).unstack(fill_value=0)
    tp, fn = table[(1, 1)], table[(0, 1)]
    fp, tn = table[(1, 0)], table[(0, 0)]
    return pd.DataFrame(
        {
            "n": tp + fn + fp + tn,
            "tpr": tp / (tp + fn),
            "fnr": fn / (tp + fn),
            "fpr": fp / (fp + tn),
            "selection_rate": (tp + fp) / (tp + fn + fp + tn),
            "ppv": tp / (tp + fp),
            "accuracy": (tp + tn) / (tp + fn + fp + tn),
        }
    )


def test_published_composition(german):
    # The data set's documented composition: 700 good / 300 bad, 690 men / 310 women.
    assert german["y_true"].sum() == 700
    assert (german["sex"] == "female").sum() == 310


@pytest.mark.parametrize("feature", [["sex"], ["age"], ["sex", "age"]])
def test_kernel_reproduces_hand_counted_rates_exactly(german, feature):
    result = assess_fairness(
        german["y_true"],
        german["y_pred"],
        german[["sex", "age"]],
        intersections=[("sex", "age")],
        bootstrap=0,
    )
    name = " & ".join(feature)
    ours = result.by_group[result.by_group.feature == name].set_index("group")
    expected = _hand_counted(german, feature)
    assert sorted(ours.index) == sorted(expected.index)
    for group, row in expected.iterrows():
        assert ours.loc[group, "n"] == row["n"]
        for metric in ("tpr", "fnr", "fpr", "selection_rate", "ppv", "accuracy"):
            assert ours.loc[group, metric] == row[metric], (name, group, metric)  # exact
    sr = expected["selection_rate"]
    assert result.value("demographic_parity_difference", name).value == sr.max() - sr.min()
    assert result.value("demographic_parity_ratio", name).value == sr.min() / sr.max()
    if name == "sex":
        assert ours.loc["female", "n"] == 310 and ours.loc["female", "share"] == 0.31
        assert ours.loc["male", "n"] == 690
