"""Reading the audited table with Spark: Parquet, CSV (also gzipped) or a catalog table."""

from __future__ import annotations

import re

from auditkit.errors import DataError

__all__ = ["read_table"]

_PATH_LIKE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|[/\\]")


def _kind(source: str) -> str:
    lower = source.lower().rstrip("/")
    if lower.endswith((".csv", ".csv.gz")):
        return "csv"
    if lower.endswith(".parquet") or _PATH_LIKE.search(source):
        return "parquet"  # a folder of Parquet files (a lake table's directory) reads the same
    return "table"


def read_table(spark, source, *, kind: str | None = None, infer_schema: bool = True):
    """Read a Parquet file or folder, a CSV file with a header, or a catalog table.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    source : str or path
        ``data/x.parquet``, ``s3a://bucket/lake/credit/`` (Parquet), ``data/x.csv``,
        ``data/x.csv.gz``, or a table name such as ``lake.credit``.
    kind : {"parquet", "csv", "table"}, optional
        Overrides the guess from the name.
    infer_schema : bool
        Let Spark infer CSV column types, which scans the whole file; without it the
        columns are text and only the header is read (enough for the column names).

    Returns
    -------
    pyspark.sql.DataFrame
        CSV columns get types inferred by Spark (``inferSchema``).

    Raises
    ------
    DataError
        The path or table does not exist or cannot be read.
    """
    source = str(source)
    kind = kind or _kind(source)
    try:
        if kind == "csv":
            return spark.read.option("header", True).option("inferSchema", infer_schema).csv(source)
        if kind == "parquet":
            return spark.read.parquet(source)
        if kind == "table":
            return spark.table(source)
    except Exception as exc:
        text = " ".join(str(exc).split())
        first = text.split(" JVM stacktrace")[0][:200] or type(exc).__name__
        what = "table" if kind == "table" else f"{kind} data"
        raise DataError(f"{source}: Spark could not read it as {what} ({first}); check the path or table name.") from None
    raise DataError(f"{source}: unknown data kind {kind!r}; use parquet, csv or table.")
