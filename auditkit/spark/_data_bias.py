"""Data bias on Spark: one aggregation of counts per combination of sensitive values.

Representation, base rates and missingness depend on the rows only through
:class:`auditkit.data_bias.DataBiasCounts`: per combination of the sensitive values, the
rows, the known and the positive labels, and the missing values of every column. One
``groupBy`` over the sensitive columns counts all of them; the driver labels the distinct
values as the pandas engine does and :func:`assess_data_bias_from_counts` does the rest.

What counts as missing is what ``pandas.isna`` says of the same values: null, and NaN in a
``float`` / ``double`` column. With ``missing_values``, a text column's value stripped of
white space (Python's ``str.strip``) that equals a token's text is missing too, and so is a
numeric column's value equal to a token that is a number, as on one machine.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import lru_cache

from auditkit.data_bias import (
    DataBiasCounts,
    DataBiasResult,
    assess_data_bias_from_counts,
    label_codes,
    sensitive_columns,
)
from auditkit.errors import DataError

from ._columns import column, is_missing, is_numeric, is_text, require_columns, spark_type, without_nan

__all__ = ["data_bias_spark"]


@lru_cache(maxsize=1)
def _strip_pattern() -> str:
    """A Java regex matching what Python's ``str.strip()`` removes: leading and trailing white space."""
    space = "".join(f"\\x{{{ord(c):x}}}" for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    return f"^[{space}]+|[{space}]+$"


def _missing(sdf, name: str, texts: set[str], numbers: list[float]):
    """Where column `name` is missing: null, NaN in a float column, or one of the tokens."""
    from pyspark.sql import functions as F

    missing = is_missing(sdf, name)
    kind = spark_type(sdf, name)
    if texts and is_text(kind):
        missing = missing | F.regexp_replace(column(name), _strip_pattern(), "").isin(sorted(texts))
    elif numbers and is_numeric(kind):
        missing = missing | column(name).cast("double").isin(numbers)
    return F.coalesce(missing, F.lit(False))


def data_bias_spark(
    sdf,
    *,
    sensitive_features: Sequence[str],
    intersections: Sequence[Sequence[str]] = (),
    target_column: str | None = None,
    min_group_size: int = 30,
    missing_gap_flag: float = 0.1,
    missing_values: Sequence = (),
    columns: Sequence[str] | None = None,
) -> DataBiasResult:
    """Representation, base rates and missingness per sensitive group of a Spark DataFrame.

    Equal to :func:`auditkit.data_bias.assess_data_bias` on the same rows, with the target
    given as a column.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    sensitive_features, intersections, min_group_size, missing_gap_flag, missing_values
        As for :func:`auditkit.data_bias.assess_data_bias`.
    target_column : str, optional
        A numeric (or boolean) 0/1 label column, e.g. ``y_true`` from
        :func:`encode_target_spark`; enables base rates. Null and NaN labels are left out
        of them; text is read as a number where it is one.
    columns : sequence of str, optional
        The data columns whose missing values are measured; default every column but
        `target_column` (the data as the pandas engine holds it).

    Returns
    -------
    DataBiasResult

    Raises
    ------
    DataError
        No rows, a sensitive feature, the target or a measured column is not a column, or
        the target is not 0/1.
    """
    from pyspark.sql import functions as F

    names = sensitive_columns(sensitive_features, intersections)
    absent = [c for c in names if c not in sdf.columns]
    if absent:
        if sdf.isEmpty():  # as on one machine, no rows is said first
            raise DataError("the data has no rows; data bias needs rows.")
        raise DataError(f"sensitive feature '{absent[0]}' is not a column of the data; check sensitive_features.")
    measured = [c for c in sdf.columns if c != target_column] if columns is None else [str(c) for c in columns]
    require_columns(sdf, measured + ([target_column] if target_column is not None else []))

    texts = {str(v).strip() for v in missing_values}
    numbers = [float(v) for v in missing_values if not isinstance(v, str)]
    keys = [without_nan(sdf, c).alias(f"_s{i}") for i, c in enumerate(names)]
    sums = [F.count(F.lit(1)).alias("_rows")]
    if target_column is not None:
        quoted = "`" + target_column.replace("`", "``") + "`"
        label = F.expr(f"try_cast({quoted} AS DOUBLE)")
        known = label.isNotNull() & ~F.isnan(label)
        sums += [F.sum(known.cast("long")).alias("_labelled"),
                 F.sum((known & (label == 1.0)).cast("long")).alias("_positives"),
                 F.sum((known & ~label.isin(0.0, 1.0)).cast("long")).alias("_invalid")]
    sums += [F.sum(_missing(sdf, c, texts, numbers).cast("long")).alias(f"_m{j}") for j, c in enumerate(measured)]
    table = sdf.groupBy(*keys).agg(*sums).toPandas()

    rows = table["_rows"].to_numpy(dtype="int64")
    if rows.sum() == 0:
        raise DataError("the data has no rows; data bias needs rows.")
    labelled = positives = None
    if target_column is not None:
        if table["_invalid"].sum():
            raise DataError("the target must be 0/1 (1 = positive label); map it with the positive label first.")
        labelled = table["_labelled"].to_numpy(dtype="int64")
        positives = table["_positives"].to_numpy(dtype="int64")
    labels = []
    for i in range(len(names)):
        codes, distinct = label_codes(table[f"_s{i}"])
        labels.append([distinct[c] for c in codes])
    groups = tuple(zip(*labels)) if names else ((),) * len(table)
    missing = {str(c): table[f"_m{j}"].to_numpy(dtype="int64") for j, c in enumerate(measured)
               if table[f"_m{j}"].sum()}
    counts = DataBiasCounts(columns=tuple(names), groups=groups, rows=rows, labelled=labelled, positives=positives,
                            missing=missing)
    return assess_data_bias_from_counts(counts, sensitive_features=sensitive_features, intersections=intersections,
                                        min_group_size=min_group_size, missing_gap_flag=missing_gap_flag)
