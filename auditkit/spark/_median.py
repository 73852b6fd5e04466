"""The exact median of a Spark column, equal to ``pandas.Series.median``.

pandas takes the middle value of the sorted non-missing values, or for an even count the
mean of the two middle ones, ``(a + b) / 2`` in the column's float type. Here those two
order statistics are found exactly without sorting or collecting the rows: an approximate
quantile pair brackets them (Spark's ``percentile_approx``, whose rank error is bounded),
one aggregation counts the values below the bracket and the rows per distinct value inside
it, and the driver reads the order statistics off those counts. When the counts show the
bracket missed, it is widened and the count repeated, so the result never depends on the
approximation. The driver receives at most the distinct values inside the bracket (about
``8 * n / 100,000`` of them, fewer with ties).
"""

from __future__ import annotations

from auditkit.errors import DataError

from ._columns import column, is_float, is_numeric, require_columns, spark_type

__all__ = ["exact_median_spark"]

_ACCURACY = 100_000


def exact_median_spark(sdf, name: str) -> float:
    """The median of a numeric column, missing values (null, NaN) skipped, as pandas gives it.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    name : str
        A column of integer, ``float`` or ``double`` type.

    Returns
    -------
    float
        ``pandas.Series.median()`` of the column: NaN when no value is present.

    Raises
    ------
    DataError
        The column is missing or not numeric.
    """
    import numpy as np
    from pyspark.sql import functions as F

    require_columns(sdf, [name])
    kind = spark_type(sdf, name)
    if not is_numeric(kind):
        raise DataError(f"column '{name}' holds {kind.simpleString()} values; a median needs numbers.")
    # pandas computes in float32 for a float32 column, in float64 otherwise
    dtype = np.float32 if kind.simpleString() == "float" else np.float64
    raw = column(name)
    value = F.when(raw.isNotNull() & ~F.isnan(raw), raw.cast("double")) if is_float(kind) else raw.cast("double")

    def bracket(margin: float):
        if margin < 0.5:
            return F.percentile_approx(value, [0.5 - margin, 0.5 + margin], _ACCURACY)
        return F.array(F.min(value), F.max(value))  # the whole range: every rank is inside

    margin = 4.0 / _ACCURACY
    count, limits = sdf.agg(F.count(value), bracket(margin)).first()
    if count == 0:
        return float("nan")
    low, high = limits
    ranks = ((count - 1) // 2, count // 2)  # 0-based ranks of the middle values (equal for an odd count)
    found = _order_statistics(sdf, value, low, high, ranks)
    while found is None:
        margin *= 8.0
        low, high = sdf.agg(bracket(margin)).first()[0]
        found = _order_statistics(sdf, value, low, high, ranks)
    a, b = (dtype(v) for v in found)
    with np.errstate(over="ignore"):  # huge values overflow to infinity, as in numpy
        return float(a) if ranks[0] == ranks[1] else float((a + b) / dtype(2))


def _order_statistics(sdf, value, low: float, high: float, ranks: tuple[int, int]):
    """The values of the given 0-based ranks if both lie in ``[low, high]``, else None."""
    import numpy as np
    from pyspark.sql import functions as F

    bracket = F.when(value >= F.lit(low), value)  # null: below the bracket
    inside = (sdf.where(value.isNotNull() & (value <= F.lit(high)))
              .groupBy(bracket.alias("v")).agg(F.count(F.lit(1)).alias("n")).toPandas())
    below = int(inside.loc[inside["v"].isna(), "n"].sum())
    inside = inside[inside["v"].notna()].sort_values("v")
    ends = below + np.cumsum(inside["n"].to_numpy(dtype=np.int64))  # rank after the last row of each value
    if not len(ends) or ranks[0] < below or ranks[1] >= ends[-1]:
        return None
    values = inside["v"].to_numpy(dtype=np.float64)
    return tuple(values[np.searchsorted(ends, r, side="right")] for r in ranks)
