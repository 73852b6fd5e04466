"""Count tables and the exact median: group_counts_spark / exact_median_spark against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditkit.errors import DataError
from auditkit.fairness import code_groups
from auditkit.group_counts import group_counts

from parity import to_spark


def _people(n: int = 600, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "sex": rng.choice(np.array(["Female", "Male", "Ünïcödé ✓", None], dtype=object), n, p=[0.45, 0.45, 0.05, 0.05]),
        "race": rng.choice(np.array(["Asian", "Black", "White", "女性", "unknown"], dtype=object), n),
        "band": rng.choice([1.0, 2.0, np.nan], n),
        "score": np.round(rng.random(n), 2),
    })
    frame.loc[5, "race"] = "a lone row"
    frame["selected"] = (rng.random(n) < 0.4).astype(np.int8)
    return frame


def _canonical(table: pd.DataFrame, columns) -> list[tuple]:
    """The table's rows as (labels..., n, hits) in label order: what a pack reads of it."""
    codings = code_groups(table[columns], [], n_rows=len(table))
    labels = [np.array(c.labels, dtype=object)[c.codes] for c in codings]
    counts = [table[c].tolist() for c in ("n", "hits") if c in table.columns]
    return sorted(zip(*labels, *counts))


@pytest.mark.parametrize("columns", [["sex"], ["band"], ["sex", "race"], ["race", "band", "sex"]])
def test_same_table_as_pandas(spark, columns):
    from auditkit.spark import group_counts_spark

    frame = _people()
    expected = group_counts(frame, columns, flag=frame["selected"])
    got = group_counts_spark(to_spark(spark, frame), columns, flag_column="selected")
    assert list(got.columns) == list(expected.columns) == columns + ["n", "hits"]
    assert (got["n"].dtype, got["hits"].dtype) == (np.int64, np.int64)
    assert _canonical(got, columns) == _canonical(expected, columns)
    assert len(got) == len(expected)  # every kind of missing value is one row per column


def test_without_a_flag_and_a_score_cut(spark):
    from pyspark.sql import functions as F

    from auditkit.spark import exact_median_spark, group_counts_spark

    frame = _people()
    sdf = to_spark(spark, frame)
    expected = group_counts(frame, ["sex"])
    got = group_counts_spark(sdf, ["sex"])
    assert list(got.columns) == ["sex", "n"] and _canonical(got, ["sex"]) == _canonical(expected, ["sex"])
    median = exact_median_spark(sdf, "score")
    assert median == frame["score"].median()
    above = (frame["score"] > median).astype(np.int8)
    flagged = sdf.withColumn("above", (F.col("score") > F.lit(median)).cast("tinyint"))
    assert _canonical(group_counts_spark(flagged, ["sex", "race"], flag_column="above"), ["sex", "race"]) == _canonical(
        group_counts(frame, ["sex", "race"], flag=above), ["sex", "race"])


def test_bad_columns_and_flags_are_data_errors(spark):
    from auditkit.spark import group_counts_spark

    frame = _people(n=30).assign(n=1, bad=2)
    sdf = to_spark(spark, frame)
    for function, arguments in ((group_counts, (frame,)), (group_counts_spark, (sdf,))):
        with pytest.raises(DataError, match="name of a count column"):
            function(*arguments, ["sex", "n"])
        with pytest.raises(DataError, match="at least one column"):
            function(*arguments, [])
        with pytest.raises(DataError, match="not in the"):
            function(*arguments, ["nope"])
    with pytest.raises(DataError, match="0 or 1"):
        group_counts(frame, ["sex"], flag=frame["bad"])
    with pytest.raises(DataError, match="0 or 1"):
        group_counts_spark(sdf, ["sex"], flag_column="bad")


@pytest.mark.parametrize("values", [
    [3.0],
    [5.0, 1.0],                                          # even: the mean of the two middle values
    [1.0, 2.0, 2.0, 2.0, 9.0, 9.0],                      # ties across the middle
    [0.1, 0.7, np.nan, 0.2, np.nan],                     # NaN (and null) skipped
    [1e308, 1.7976931348623157e308, -5.0, 1e308],        # the mean of huge values, as numpy computes it
    [0.1, 0.30000000000000004, 0.2, 0.7],
    [np.nan, np.nan],                                    # nothing present: NaN
])
def test_exact_median_of_small_columns(spark, values):
    from auditkit.spark import exact_median_spark

    series = pd.Series(values, dtype=float)
    got = exact_median_spark(to_spark(spark, pd.DataFrame({"x": series}), partitions=2), "x")
    expected = series.median()
    assert (np.isnan(got) and np.isnan(expected)) or got == expected


@pytest.mark.parametrize("n", [100_000, 100_001])
def test_exact_median_of_a_large_column_with_ties(spark, n):
    from auditkit.spark import exact_median_spark

    rng = np.random.default_rng(n)
    frame = pd.DataFrame({"x": np.round(rng.normal(0, 1, n), 3), "i": rng.integers(-50, 50, n)})
    sdf = to_spark(spark, frame, partitions=4)
    assert exact_median_spark(sdf, "x") == frame["x"].median()
    assert exact_median_spark(sdf, "i") == frame["i"].median()


def test_exact_median_of_a_float32_column_is_computed_in_float32(spark):
    from pyspark.sql.types import FloatType, StructField, StructType

    from auditkit.spark import exact_median_spark

    series = pd.Series(np.random.default_rng(0).random(1000).astype(np.float32))
    sdf = spark.createDataFrame(pd.DataFrame({"x": series}), schema=StructType([StructField("x", FloatType())]))
    assert exact_median_spark(sdf, "x") == float(series.median())


def test_exact_median_widens_a_bracket_that_missed(spark, monkeypatch):
    from auditkit.spark import _median, exact_median_spark

    calls = []
    real = _median._order_statistics

    def first_misses(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(_median, "_order_statistics", first_misses)
    frame = pd.DataFrame({"x": np.arange(1001, dtype=float)[::-1]})
    assert exact_median_spark(to_spark(spark, frame), "x") == 500.0 and len(calls) == 2


def test_median_of_text_is_refused(spark):
    from auditkit.spark import exact_median_spark

    with pytest.raises(DataError, match="a median needs numbers"):
        exact_median_spark(to_spark(spark, _people(n=10)), "sex")
