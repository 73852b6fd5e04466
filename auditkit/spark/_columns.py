"""Spark columns as the pandas engine sees them: safe names, types, and what is missing.

pandas marks a missing number as NaN and a missing object as None; Spark has null in every
type and NaN besides in ``float`` / ``double`` columns. Both are missing here, exactly as
``pandas.isna`` says of the same values on one machine.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditkit.errors import DataError

__all__ = ["column", "is_float", "is_missing", "is_numeric", "is_text", "require_columns", "spark_type", "without_nan"]


def column(name: str):
    """The Spark column called `name`, whatever characters it holds (dots, spaces, backticks)."""
    from pyspark.sql import functions as F

    return F.col("`" + str(name).replace("`", "``") + "`")


def require_columns(sdf, names: Iterable[str]) -> None:
    """Raise :class:`DataError` naming the columns that are not in the Spark data."""
    present = set(sdf.columns)
    missing = [c for c in names if c not in present]
    if missing:
        raise DataError(
            f"Column(s) {', '.join(map(repr, missing))} are not in the Spark data "
            f"(columns: {', '.join(sdf.columns[:12])}); check the policy's column names."
        )


def spark_type(sdf, name: str):
    """The Spark data type of column `name`."""
    return sdf.schema[name].dataType


def is_float(data_type) -> bool:
    """``float`` or ``double``: the types that can hold NaN."""
    from pyspark.sql.types import DoubleType, FloatType

    return isinstance(data_type, (DoubleType, FloatType))


def is_numeric(data_type) -> bool:
    """The types pandas receives as numbers: integers, ``float`` and ``double``.

    ``decimal`` arrives in pandas as objects (``decimal.Decimal``), so it is not numeric
    here, as it is not for the pandas engine reading the same Parquet file.
    """
    from pyspark.sql.types import ByteType, IntegerType, LongType, ShortType

    return is_float(data_type) or isinstance(data_type, (ByteType, ShortType, IntegerType, LongType))


def is_text(data_type) -> bool:
    """``string`` (also ``char`` / ``varchar``): what pandas holds as text."""
    from pyspark.sql.types import CharType, StringType, VarcharType

    return isinstance(data_type, (StringType, CharType, VarcharType))


def is_missing(sdf, name: str):
    """True where the value is missing: null, or NaN in a float column."""
    from pyspark.sql import functions as F

    value = column(name)
    return value.isNull() | F.isnan(value) if is_float(spark_type(sdf, name)) else value.isNull()


def without_nan(sdf, name: str):
    """The column with NaN turned into null, so that grouping puts every missing value in one group."""
    from pyspark.sql import functions as F

    value = column(name)
    if not is_float(spark_type(sdf, name)):
        return value
    return F.when(F.isnan(value), F.lit(None)).otherwise(value)
