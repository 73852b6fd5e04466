"""encode_target_spark checks and encodes the target exactly as encode_target does on one machine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from auditkit.errors import DataError  # noqa: E402
from auditkit.predictions import encode_target  # noqa: E402

from parity import to_spark  # noqa: E402

SOURCE = "data/credit.csv"


def _encoded(spark, values, positive_label):
    from auditkit.spark import encode_target_spark

    frame = pd.DataFrame({"row": np.arange(len(values)), "target": values})
    sdf, positive, labels = encode_target_spark(to_spark(spark, frame), "target", positive_label, source=SOURCE)
    y_true = sdf.orderBy("row").toPandas()["y_true"].to_numpy()
    return y_true, positive, labels


@pytest.mark.parametrize("values, positive_label", [
    (["good", "bad", " good", "good ", "bad"], "good"),                   # labels are matched stripped
    (["Ünïcödé ✓", "无", "无", "Ünïcödé ✓"], "无"),
    ([1, 0, 1, 1, 0], None),                                             # 0/1 without a positive label
    ([1.0, 0.0, 0.0, 1.0], 1),                                           # 1.0 and 1 are one label
    ([True, False, True], None),
    (["TRUE", "false", "True"], "true"),                                 # booleans written as text
    ([2, 7, 7, 2, 2], 7),
])
def test_same_encoding_as_encode_target(spark, values, positive_label):
    expected = encode_target(pd.Series(values, name="target"), positive_label, source=SOURCE)
    y_true, positive, labels = _encoded(spark, values, positive_label)
    assert (positive, labels) == (expected.positive_label, expected.labels)
    assert y_true.dtype == np.int8 and y_true.tolist() == expected.values.tolist()


@pytest.mark.parametrize("values, positive_label", [
    (["good", None, "bad", None, "good"], "good"),                       # 2 missing values, counted
    ([1.0, np.nan, 0.0], None),                                          # NaN is missing too
    (["good", "bad"], "excellent"),                                      # the positive label does not occur
    (["good", "good"], "good"),                                          # one class
    (["a", "b", "c", "a"], "a"),                                         # three classes
    (["good", "bad"], None),                                             # text without a positive label
])
def test_same_errors_as_encode_target(spark, values, positive_label):
    with pytest.raises(DataError) as expected:
        encode_target(pd.Series(values, name="target"), positive_label, source=SOURCE)
    with pytest.raises(DataError) as got:
        _encoded(spark, values, positive_label)
    assert got.value.message == expected.value.message


def test_regression_targets_and_absent_columns_are_refused(spark):
    from auditkit.spark import encode_target_spark

    with pytest.raises(DataError, match="numeric with many values; the Spark engine audits classification"):
        _encoded(spark, [0.5, 1.5, 2.5, 3.5], None)
    sdf = to_spark(spark, pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(DataError, match="Target column 'target' is not in the Spark data"):
        encode_target_spark(sdf, "target", 1, source=SOURCE)


def test_a_target_with_more_distinct_values_than_are_read_is_refused(spark, monkeypatch):
    from auditkit.spark import _target

    monkeypatch.setattr(_target, "MAX_TARGET_VALUES", 3)
    with pytest.raises(DataError, match="more than 3 distinct values"):
        _encoded(spark, ["a", "b", "c", "d", "a"], "a")
