"""data_bias_spark equals assess_data_bias on the same rows (German Credit and odd synthetic data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditkit.data_bias import assess_data_bias, assess_data_bias_from_counts, data_bias_counts
from auditkit.errors import DataError

from parity import assert_same, to_spark


def odd_people(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Missing values of every kind, whole floats, unicode, a group of one row, all-missing columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "sex": rng.choice(np.array(["F", "M", "Ünïcödé ✓", None], dtype=object), n, p=[0.45, 0.45, 0.05, 0.05]),
        "grade": rng.choice([1.0, 2.0, 3.0, np.nan], n, p=[0.3, 0.3, 0.3, 0.1]),
        "region": rng.choice(np.array(["north", "south", "女性"], dtype=object), n, p=[0.5, 0.45, 0.05]),
        "income": np.where(rng.random(n) < 0.2, np.nan, rng.normal(50, 10, n)),
        "city": rng.choice(np.array(["x", "?", " ?", "?\u00a0", "unknown", None], dtype=object), n),
        "code": rng.choice([-1, 3, 4], n),
        "never": np.full(n, np.nan),
        "nothing": np.array([None] * n, dtype=object),
    })
    frame.loc[7, "region"] = "a lone row"       # a group of size 1
    frame["y"] = rng.integers(0, 2, n).astype(np.int8)
    return frame


def _german():
    from auditkit.demo import load_german_credit

    frame = load_german_credit()
    frame["y"] = (frame["credit_risk"] == "good").astype(np.int8)
    return frame


def test_from_counts_is_assess_data_bias():
    frame = odd_people()
    options = dict(sensitive_features=["sex", "grade"], intersections=[("sex", "grade"), ("sex", "region")])
    counts = data_bias_counts(frame, target=frame["y"], missing_values=["?", -1], **options)
    assert counts.columns == ("sex", "grade", "region")
    assert_same(assess_data_bias(frame, target=frame["y"], missing_values=["?", -1], min_group_size=5, **options),
                assess_data_bias_from_counts(counts, min_group_size=5, **options))


@pytest.mark.parametrize("min_group_size", [1, 30])
def test_german_credit(spark, min_group_size):
    from auditkit.spark import data_bias_spark

    frame = _german()
    options = dict(sensitive_features=["sex", "age_group"], intersections=[("sex", "age_group")],
                   min_group_size=min_group_size)
    expected = assess_data_bias(frame.drop(columns="y"), target=frame["y"], **options)
    assert_same(expected, data_bias_spark(to_spark(spark, frame), target_column="y", **options))


@pytest.mark.parametrize("missing_values", [(), ("?", -1), ("unknown", 3.0)])
def test_odd_data(spark, missing_values):
    from auditkit.spark import data_bias_spark

    frame = odd_people()
    options = dict(sensitive_features=["sex", "grade", "region"], intersections=[("sex", "grade"), ("grade", "region")],
                   min_group_size=3, missing_gap_flag=0.05, missing_values=missing_values)
    expected = assess_data_bias(frame.drop(columns="y"), target=frame["y"], **options)
    got = data_bias_spark(to_spark(spark, frame), target_column="y", **options)
    assert_same(expected, got)
    assert {g.group for g in got.representation if g.feature == "grade"} == {"1", "2", "3", "(missing)"}
    assert any(g.n == 1 for g in got.representation if g.feature == "region")
    assert "never" in {m.column for m in got.missingness}


def test_without_target_and_without_sensitive_features(spark):
    from auditkit.spark import data_bias_spark

    frame = odd_people(n=60)
    sdf = to_spark(spark, frame)
    assert_same(assess_data_bias(frame, sensitive_features=["region"]), data_bias_spark(sdf, sensitive_features=["region"]))
    assert_same(assess_data_bias(frame, sensitive_features=[]), data_bias_spark(sdf, sensitive_features=[]))


def test_same_errors(spark):
    from auditkit.spark import data_bias_spark

    frame = odd_people(n=20)
    sdf = to_spark(spark, frame)
    with pytest.raises(DataError, match="sensitive feature 'race' is not a column"):
        data_bias_spark(sdf, sensitive_features=["race"])
    with pytest.raises(DataError, match="the target must be 0/1"):
        data_bias_spark(sdf, sensitive_features=["sex"], target_column="code")
    empty = sdf.limit(0)
    for features in (["sex"], ["race"]):  # no rows is said first, as on one machine
        with pytest.raises(DataError, match="the data has no rows"):
            data_bias_spark(empty, sensitive_features=features)
