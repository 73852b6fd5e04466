"""Count tables on Spark: rows and flagged rows per combination of columns' values.

The same table as :func:`auditkit.group_counts.group_counts` gives for a pandas frame, from
one ``groupBy``; a pack computes its evidence from it on either engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditkit.errors import DataError
from auditkit.group_counts import check_count_columns

from ._columns import column, require_columns, without_nan

__all__ = ["group_counts_spark"]

_INVALID = "_auditkit_invalid_flags"


def group_counts_spark(sdf, columns: Sequence[str], *, flag_column: str | None = None):
    """Rows, and flagged rows, per distinct combination of the columns' values.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    columns : sequence of str
        The columns to group by (at least one; none may be called ``n`` or ``hits``).
    flag_column : str, optional
        A 0/1 column (e.g. ``y_pred``, or whether the score is above a cut); adds ``hits``.

    Returns
    -------
    pandas.DataFrame
        The table :func:`auditkit.group_counts.group_counts` describes: one row per
        combination that occurs, in no particular order; the value columns named as given,
        holding the values as Spark hands them to pandas (``toPandas``: an integer column
        with a missing value is ``float64``, text is ``object`` or ``str``); null and NaN
        are one missing value per column; ``n`` and (with a flag) ``hits``, int64.

    Raises
    ------
    DataError
        A column is missing or named like a count column, or the flag holds a null or a
        value other than 0 and 1.
    """
    from pyspark.sql import functions as F

    columns = [str(c) for c in columns]
    check_count_columns(columns)
    require_columns(sdf, columns + ([flag_column] if flag_column is not None else []))
    sums = [F.count(F.lit(1)).alias("n")]
    if flag_column is not None:
        flag = column(flag_column)
        sums += [F.sum(flag.cast("long")).alias("hits"),
                 F.sum(F.coalesce(~flag.cast("double").isin(0.0, 1.0), F.lit(True)).cast("long")).alias(_INVALID)]
    table = sdf.groupBy(*[without_nan(sdf, c).alias(c) for c in columns]).agg(*sums).toPandas()
    if flag_column is not None:
        if table[_INVALID].sum():
            raise DataError(f"the flag column '{flag_column}' must be 0 or 1 for every row.")
        table = table.drop(columns=[_INVALID])
    return table.astype({c: "int64" for c in ("n", "hits") if c in table.columns})
