"""drift_spark equals measure_drift; the pure functions of counts both engines share are exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditkit.drift import count_numeric, ks_statistic, measure_drift, numeric_drift, numeric_reference
from auditkit.errors import DataError

from parity import assert_same, to_spark


def _tables(n_reference: int = 500, n_current: int = 700, seed: int = 0):
    """Numbers with ties and gaps, integers with missing values, unicode and unseen categories."""
    rng = np.random.default_rng(seed)

    def table(n, shift, categories):
        return pd.DataFrame({
            "amount": np.round(rng.normal(100 + shift, 30, n), 0),                          # many ties
            "rate": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(1 + shift / 50, n)),
            "count": rng.integers(0, 6, n).astype(float),                                   # whole floats
            "flag": rng.integers(0, 2, n),                                                  # two values: categorical
            "colour": rng.choice(np.array(categories, dtype=object), n),
            "blank": np.full(n, np.nan),                                                    # all missing
            "label": rng.choice(np.array(["good", "bad"], dtype=object), n),
        })

    reference = table(n_reference, 0, ["red", "green", "blue", "Ünïcödé ✓"])
    current = table(n_current, 20, ["red", "green", "女性", "violet", "teal", None])
    current.loc[3, "colour"] = "a lone one"
    return reference, current


@pytest.mark.parametrize("seed", range(6))
def test_ks_from_counts_is_the_ks_statistic_exactly(seed):
    rng = np.random.default_rng(seed)
    reference = np.round(rng.normal(0, 1, rng.integers(1, 400)), rng.integers(0, 3))
    current = np.round(rng.normal(rng.normal(0, 0.5), 1, rng.integers(1, 600)), rng.integers(0, 3))
    summary = numeric_reference(reference, 10)
    got = numeric_drift("x", summary, count_numeric(current, summary)).ks
    assert got == ks_statistic(reference, current)  # the same float, not merely close


def test_counts_of_parts_add_up_to_the_counts_of_the_whole():
    rng = np.random.default_rng(1)
    reference, current = rng.normal(size=300), np.append(rng.normal(size=500), [np.nan] * 7)
    summary = numeric_reference(reference, 10)
    whole = count_numeric(current, summary)
    parts = count_numeric(current[:123], summary) + count_numeric(current[123:], summary)
    for name in ("bins", "ranks", "at_point"):
        assert getattr(parts, name).tolist() == getattr(whole, name).tolist()
    assert (parts.missing, parts.rows) == (whole.missing, whole.rows) == (7, 507)


def test_unseen_categories_do_not_depend_on_the_order_of_the_rows():
    reference = pd.DataFrame({"c": ["a", "b", "a"]})
    current = pd.DataFrame({"c": ["z", "y", "x", "y", "x", "z", "a"]})  # x, y, z tie at 2 rows
    first = measure_drift(reference, current, columns=["c"]).to_dict()
    second = measure_drift(reference, current.iloc[::-1], columns=["c"]).to_dict()
    assert first == second
    assert [b["label"] for b in first["features"][0]["bins"]] == ["a", "b", "x", "y", "z"]


def test_drift_of_odd_data(spark):
    from auditkit.spark import drift_spark

    reference, current = _tables()
    columns = ["amount", "rate", "count", "flag", "colour", "blank"]
    rng = np.random.default_rng(9)
    predictions = (rng.random(len(reference)), rng.random(len(current)))
    expected = measure_drift(reference, current, columns=columns, target="label", reference_predictions=predictions[0],
                             current_predictions=predictions[1])
    sdf = to_spark(spark, current.assign(y_score=predictions[1]))
    got = drift_spark(reference, sdf, columns=columns, target="label", reference_predictions=predictions[0],
                      current_predictions_column="y_score")
    assert_same(expected, got)
    assert got.feature("colour").unseen_categories == 4  # 女性, violet, teal, a lone one; missing is not a category


def test_many_categories_are_listed_boundedly_as_on_one_machine(spark):
    from auditkit.spark import drift_spark

    rng = np.random.default_rng(4)
    reference = pd.DataFrame({"c": rng.integers(0, 80, 2000).astype(str)})
    current = pd.DataFrame({"c": rng.integers(20, 120, 3000).astype(str), "y_pred": rng.integers(0, 2, 3000)})
    decisions = rng.integers(0, 2, 2000)
    expected = measure_drift(reference, current, columns=["c"], reference_predictions=decisions,
                             current_predictions=current["y_pred"].to_numpy())
    got = drift_spark(reference, to_spark(spark, current), columns=["c"], reference_predictions=decisions,
                      current_predictions_column="y_pred")
    assert_same(expected, got)
    assert len(got.feature("c").bins) == 50 and got.predictions.kind == "categorical"


def test_german_credit(spark):
    from auditkit.demo import load_german_credit
    from auditkit.spark import drift_spark

    frame = load_german_credit()
    reference, current = frame.iloc[:700].reset_index(drop=True), frame.iloc[700:].reset_index(drop=True)
    columns = [c for c in frame.columns if c != "credit_risk"]
    expected = measure_drift(reference, current, columns=columns, target="credit_risk")
    assert_same(expected, drift_spark(reference, to_spark(spark, current), columns=columns, target="credit_risk"))


def test_same_errors(spark):
    from auditkit.spark import drift_spark

    reference, current = _tables(50, 60)
    sdf = to_spark(spark, current)
    text = current.assign(amount=current["amount"].astype(str))
    cases = [
        (dict(columns=["nope"]), DataError, "column 'nope' is not in the reference data"),
        (dict(columns=["amount"], target="nope"), DataError, "target column 'nope' is not in the reference data"),
        (dict(columns=["amount"], reference_predictions=np.zeros(50)), ValueError, "give both"),
        (dict(columns=["amount"], bins=1), ValueError, "bins must be at least 2"),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words):
            measure_drift(reference, current, **kwargs)
        with pytest.raises(error, match=words):
            drift_spark(reference, sdf, **kwargs)
    with pytest.raises(DataError, match="numeric in the reference data but not in the current data"):
        measure_drift(reference, text, columns=["amount"])
    with pytest.raises(DataError, match="numeric in the reference data but not in the current data"):
        drift_spark(reference, to_spark(spark, text), columns=["amount"])
    with pytest.raises(DataError, match="the current data has no rows"):
        drift_spark(reference, sdf.limit(0), columns=["nope"])
