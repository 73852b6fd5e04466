"""Helpers of the Spark parity tests: equal documents, and pandas frames as Spark tables."""

from __future__ import annotations

import math

TOLERANCE = 1e-12


def differences(expected, got, where: str = "$", tol: float = TOLERANCE) -> list[str]:
    """Where two JSON-like documents differ; floats may differ by `tol` (relative or absolute)."""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or list(expected) != list(got):
            return [f"{where}: keys {list(expected)} != {list(got) if isinstance(got, dict) else got!r}"]
        return [d for k in expected for d in differences(expected[k], got[k], f"{where}.{k}", tol)]
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(expected) != len(got):
            return [f"{where}: {expected!r:.200} != {got!r:.200}"]
        return [d for i, (a, b) in enumerate(zip(expected, got)) for d in differences(a, b, f"{where}[{i}]", tol)]
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if math.isnan(expected) and math.isnan(got) or math.isclose(expected, got, rel_tol=tol, abs_tol=tol):
            return []
        return [f"{where}: {expected!r} != {got!r}"]
    if expected != got or type(expected) is not type(got):
        return [f"{where}: {expected!r} != {got!r}"]
    return []


def assert_same(expected, got, tol: float = TOLERANCE) -> None:
    """Two documents (or results with ``to_dict``) are equal, floats within `tol`."""
    if hasattr(expected, "to_dict"):
        expected, got = expected.to_dict(), got.to_dict()
    found = differences(expected, got, tol=tol)
    assert not found, f"{len(found)} difference(s):\n" + "\n".join(found[:30])


def to_spark(spark, frame, partitions: int = 3):
    """The frame as a Spark table with types pandas would read back: text, double, bigint, boolean.

    An object column holding only booleans (and missing values) is boolean; any other object
    column is text, so that an all-missing column keeps a type.
    """
    import pandas as pd
    from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType, StructField, StructType

    fields, data = [], {}
    for name in frame.columns:
        values = frame[name]
        present = values.dropna()
        if pd.api.types.is_bool_dtype(values) or len(present) and all(isinstance(v, bool) for v in present):
            kind = BooleanType()
            values = values.astype(object).where(values.notna(), None)
        elif pd.api.types.is_integer_dtype(values):
            kind = LongType()
        elif pd.api.types.is_float_dtype(values):
            kind = DoubleType()
        else:
            kind = StringType()
            values = values.astype(object).where(values.notna(), None)
        fields.append(StructField(str(name), kind, True))
        data[name] = values
    rows = pd.DataFrame(data)
    return spark.createDataFrame(rows, schema=StructType(fields)).repartition(partitions)
