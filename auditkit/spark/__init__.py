"""The audit on Spark: every stage where the data lives, the numbers of the pandas engine.

Nothing row-level is collected to the driver: contracts are one aggregation of failure
counts (plus a few examples); the target is checked on its distinct values; fairness, the
champion comparison, data bias and pack tables are one aggregation of group counts each,
fed to the same functions as on one machine (``assess_fairness_from_counts``,
``compare_fairness_from_counts``, ``assess_data_bias_from_counts``); drift counts the data
per reference bin, reference value and category; a median is found from counts; and
explanations use a bounded stratified sample. ``pyspark`` is an optional extra
(``pip install 'auditkit[spark]'``); importing this package does not import it. See
``docs/spark.md``.
"""

from __future__ import annotations

from ._champion import SPARK_COMPARISON_METRICS, compare_fairness_spark
from ._contract import validate_spark
from ._data_bias import data_bias_spark
from ._drift import drift_spark
from ._fairness import fairness_spark, spark_counts
from ._group_counts import group_counts_spark
from ._median import exact_median_spark
from ._predict import predict_spark, predictions_from_columns_spark
from ._read import read_table
from ._sample import stratified_sample
from ._session import require_pyspark, session
from ._target import encode_target_spark

__all__ = [
    "SPARK_COMPARISON_METRICS",
    "compare_fairness_spark",
    "data_bias_spark",
    "drift_spark",
    "encode_target_spark",
    "exact_median_spark",
    "fairness_spark",
    "group_counts_spark",
    "predict_spark",
    "predictions_from_columns_spark",
    "read_table",
    "require_pyspark",
    "session",
    "spark_counts",
    "stratified_sample",
    "validate_spark",
]
