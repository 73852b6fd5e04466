"""The target column on Spark: checked and encoded exactly as :func:`auditkit.predictions.encode_target`.

Which labels a target holds, whether the positive label is one of them and whether there
are two, depends only on its distinct values, so those (at most
:data:`MAX_TARGET_VALUES`) are brought to the driver and given to ``encode_target``
itself; the number of missing values is counted on the executors, so the message states
it as on one machine. The encoded column is a comparison with the raw values whose label
is the positive one (``1``, ``1.0`` and ``"1"`` are one label), computed where the rows are.
"""

from __future__ import annotations

from auditkit.errors import DataError

from ._columns import column, is_missing

__all__ = ["MAX_TARGET_VALUES", "encode_target_spark"]

#: Distinct target values read on the driver; a binary target has far fewer.
MAX_TARGET_VALUES = 1000


def encode_target_spark(sdf, target: str, positive_label, *, source, output_column: str = "y_true"):
    """Check the target column and add its 0/1 encoding (1 = the positive label).

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    target : str
        The label column.
    positive_label : object or None
        The label counted as the positive outcome; None for a 0/1 or boolean target.
    source : str or Path
        How messages name the data (e.g. the policy's ``data.path``).
    output_column : str
        Name of the added column.

    Returns
    -------
    (pyspark.sql.DataFrame, str, tuple of str)
        The data plus `output_column` (``tinyint``, 0/1, never null), the positive label
        as matched (``label_key`` form) and the target's two labels, sorted.

    Raises
    ------
    DataError
        As :func:`auditkit.predictions.encode_target`: the target column is missing, has
        missing values (null, or NaN in a float column), the positive label does not occur,
        it has one class or more than two. Besides, a numeric target with more than two
        values (regression) -- the Spark engine audits classification -- and a target with
        more than :data:`MAX_TARGET_VALUES` distinct values.
    """
    import numpy as np
    import pandas as pd
    from pyspark.sql import functions as F

    from auditkit.predictions import encode_target, label_key

    if target not in sdf.columns:
        raise DataError(f"Target column '{target}' is not in the Spark data; check data.target.")
    missing = int(sdf.agg(F.sum(is_missing(sdf, target).cast("long"))).first()[0] or 0)
    if missing:
        raise DataError(f"{source}: target column '{target}' has {missing} missing value(s); drop or fill those rows "
                        "before auditing.")
    distinct = sdf.select(column(target).alias("value")).distinct().limit(MAX_TARGET_VALUES + 1).toPandas()["value"]
    if len(distinct) > MAX_TARGET_VALUES and positive_label is not None:
        raise DataError(f"{source}: target column '{target}' has more than {MAX_TARGET_VALUES:,} distinct values; "
                        "auditkit audits binary decisions, so map the target to two classes.")
    encoded = encode_target(pd.Series(distinct, name=target), positive_label, source=source)
    if encoded.task != "classification":
        raise DataError(f"{source}: target column '{target}' is numeric with many values; the Spark engine audits "
                        "classification.")
    positive_values = [v.item() if isinstance(v, np.generic) else v for v in distinct
                       if label_key(v) == encoded.positive_label]
    flag = column(target).isin(positive_values).cast("tinyint")
    return sdf.withColumn(output_column, flag), encoded.positive_label, encoded.labels
