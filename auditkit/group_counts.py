"""Count tables: rows and flagged rows per combination of columns' values.

A pack computes its evidence from such tables instead of rows, so it runs on every data
engine: :func:`group_counts` counts a pandas frame, :func:`auditkit.spark.group_counts_spark`
a Spark table, in the same format.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import DataError

__all__ = ["COUNT_COLUMNS", "check_count_columns", "group_counts"]

#: The count columns a table adds beside the value columns.
COUNT_COLUMNS = ("n", "hits")


def check_count_columns(columns: Sequence[str]) -> None:
    """Refuse value columns that are empty or named like a count column.

    Raises
    ------
    DataError
        No column, or a column called ``n`` or ``hits``.
    """
    if not columns:
        raise DataError("a count table needs at least one column to group by.")
    clash = [c for c in columns if c in COUNT_COLUMNS]
    if clash:
        raise DataError(f"column '{clash[0]}' has the name of a count column of the table ({', '.join(COUNT_COLUMNS)}); "
                        "rename it before counting.")


def group_counts(frame, columns: Sequence[str], *, flag=None):
    """Rows, and flagged rows, per distinct combination of the columns' values.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows.
    columns : sequence of str
        The columns to group by (at least one; none may be called ``n`` or ``hits``).
    flag : array-like of 0/1, optional
        One value per row (e.g. the model's decision, or whether its score is above a
        cut); adds the ``hits`` column.

    Returns
    -------
    pandas.DataFrame
        The count table, one row per combination of values that occurs, in no particular
        order:

        * one column per name in `columns`, in that order and so named, holding the
          values as they are in the data, with the column's dtype (a text column may come
          back as ``str`` or ``object``; an integer column holding missing values is
          ``float64``, as pandas reads it). A missing value (None, NaN, NaT, ``pd.NA``) is
          one missing value (NaN, None or ``pd.NA``), every kind of missing in a column
          counted together in one row. Values are not turned into text: label them with
          :func:`auditkit.fairness.code_groups` (the fairness groups: ``str(value)``, a
          whole float as an integer, ``"(missing)"``) or
          :func:`auditkit.data_bias.label_text`.
        * ``n``: int64, the rows of the combination (at least 1).
        * ``hits`` (with `flag`): int64, those rows whose flag is 1.

    Raises
    ------
    DataError
        A column is missing from the frame or named like a count column, or the flag is
        not one 0/1 value per row.
    """
    import numpy as np
    import pandas as pd

    columns = [str(c) for c in columns]
    check_count_columns(columns)
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataError(f"column '{absent[0]}' is not in the data; a count table needs every column it groups by.")
    keys = [frame[c].reset_index(drop=True) for c in columns]
    if flag is None:
        values = pd.Series(np.ones(len(frame), dtype=np.int64))
    else:
        values = pd.Series(np.asarray(flag).ravel())
        if len(values) != len(frame):
            raise DataError(f"the flag has {len(values)} values but the data {len(frame)} rows; give one per row.")
        if not values.isin((0, 1)).all():
            raise DataError("the flag must be 0 or 1 for every row.")
        values = values.astype(np.int64)
    grouped = values.groupby(keys, dropna=False, sort=False, observed=True)
    table = pd.DataFrame({"n": grouped.size()})
    if flag is not None:
        table["hits"] = grouped.sum()
    return table.reset_index().astype({c: np.int64 for c in table.columns})
