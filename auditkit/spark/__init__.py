"""The audit on Spark: read, validate, predict and assess fairness where the data lives.

Nothing row-level is collected to the driver: contracts are one aggregation of failure
counts (plus a few examples), fairness is one aggregation of (group, confusion cell)
counts fed to the same engine as on one machine (``assess_fairness_from_counts``), and
explanations use a bounded stratified sample. ``pyspark`` is an optional extra
(``pip install 'auditkit[spark]'``); importing this package does not import it. See
``docs/spark.md``.
"""

from __future__ import annotations

from ._audit import SparkAudit, audit_spark
from ._contract import validate_spark
from ._fairness import fairness_spark, spark_counts
from ._predict import predict_spark, predictions_from_columns_spark
from ._read import read_table
from ._sample import stratified_sample
from ._session import require_pyspark, session

__all__ = [
    "SparkAudit",
    "audit_spark",
    "fairness_spark",
    "predict_spark",
    "predictions_from_columns_spark",
    "read_table",
    "require_pyspark",
    "session",
    "spark_counts",
    "stratified_sample",
    "validate_spark",
]
