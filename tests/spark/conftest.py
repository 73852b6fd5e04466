"""One local SparkSession (local[2], few shuffle partitions) shared by every Spark test."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        import os

        if not os.environ.get("JAVA_HOME"):
            pytest.skip("Spark tests need Java 17 or later (java not found)")
    from auditkit.spark import session

    spark = session(
        "local[2]",
        app_name="auditkit-tests",
        config={
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "2",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.adaptive.enabled": "true",
            "spark.driver.memory": "2g",
        },
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


def pytest_collection_modifyitems(items):
    # pyspark warns that it does not yet fully support pandas 3; the paths used here are tested.
    for item in items:
        if "tests/spark/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"))
