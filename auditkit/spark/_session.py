"""Getting a SparkSession, and a clear message when pyspark or Java is missing."""

from __future__ import annotations

import os
import shutil

from auditkit.errors import AuditkitError

__all__ = ["require_pyspark", "session"]

INSTALL_HINT = "pip install 'auditkit[spark]'"


def require_pyspark() -> None:
    """Raise :class:`AuditkitError` (one line saying what to install) when Spark cannot run here.

    A local session needs ``pyspark`` and a Java runtime (17 or later); a Spark Connect
    session (``SPARK_REMOTE`` or an ``sc://`` master) needs only ``pyspark``.
    """
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise AuditkitError(
            f"The Spark engine needs pyspark, which is not installed; run {INSTALL_HINT} "
            "(a local session also needs Java 17 or later)."
        ) from None


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


def session(master: str | None = None, *, app_name: str = "auditkit", config: dict | None = None):
    """Return the active SparkSession, or create one from the usual Spark configuration.

    Parameters
    ----------
    master : str, optional
        ``local[2]``, ``spark://host:7077``, ``yarn``, ``k8s://...`` or a Spark Connect URL
        ``sc://host:15002``. Default: whatever Spark's own configuration says
        (``spark.master`` from ``spark-defaults.conf`` / ``spark-submit``, or
        ``SPARK_REMOTE`` for Spark Connect); an already running session is reused.
    app_name : str
        Application name shown in the Spark UI.
    config : dict, optional
        Extra Spark settings, e.g. ``{"spark.sql.shuffle.partitions": "8"}``.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    AuditkitError
        pyspark is not installed, Java is missing for a local session, or Spark fails to start.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    remote = (master or "").startswith("sc://") or (master is None and os.environ.get("SPARK_REMOTE"))
    if not remote:
        active = SparkSession.getActiveSession()
        if active is not None and master is None and not config:
            return active
        if not _java_available():
            raise AuditkitError(
                "A local Spark session needs Java 17 or later, which was not found; install a JDK "
                "and set JAVA_HOME, or point SPARK_REMOTE at a Spark Connect server."
            )
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    for key, value in (config or {}).items():
        builder = builder.config(key, str(value))
    if not remote:
        builder = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
    try:
        return builder.getOrCreate()
    except Exception as exc:  # Py4J / Connect errors carry multi-line Java traces
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise AuditkitError(f"Spark could not start ({reason}); check spark.master / SPARK_REMOTE and Java.") from None
