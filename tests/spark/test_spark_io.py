"""Session, reading, predictions on the executors and the stratified sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditkit.errors import DataError

pytest.importorskip("pyspark")


def test_session_reuses_the_active_session(spark):
    from auditkit.spark import session

    assert session() is spark


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".csv.gz"])
def test_read_table_formats(spark, tmp_path, suffix):
    from auditkit.spark import read_table

    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    path = tmp_path / f"data{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    sdf = read_table(spark, path)
    assert sdf.count() == 3 and sdf.columns == ["a", "b"]
    assert dict(sdf.dtypes)["a"] in ("int", "bigint")


def test_read_table_catalog_table_and_errors(spark, tmp_path):
    from auditkit.spark import read_table

    spark.createDataFrame(pd.DataFrame({"a": [1, 2]})).createOrReplaceTempView("auditkit_tiny")
    assert read_table(spark, "auditkit_tiny").count() == 2
    with pytest.raises(DataError, match="could not read it") as info:
        read_table(spark, tmp_path / "absent.parquet")
    assert "\n" not in info.value.message
    with pytest.raises(DataError, match="as table"):
        read_table(spark, "no_such_table_here")


@pytest.fixture(scope="module")
def german():
    from auditkit.demo import load_german_credit, model_features, train_model

    frame = load_german_credit()
    return frame, train_model(frame), model_features(frame)


def test_predict_spark_equals_predict_with_model(spark, german):
    from auditkit.predictions import encode_target, predict_with_model
    from auditkit.spark import predict_spark

    frame, model, features = german

    class Loaded:  # what auditkit.model.load_model returns, minus the file
        estimator = model
        path = "model.skops"

    target = encode_target(frame["credit_risk"], "good", source="data")
    expected = predict_with_model(Loaded, frame, target, threshold=0.4, exclude={"credit_risk", "sex", "age_group"})
    sdf = spark.createDataFrame(frame.assign(row=np.arange(len(frame)))).repartition(3)
    got = predict_spark(sdf, Loaded, target="credit_risk", positive_label="good", threshold=0.4,
                        exclude=("sex", "age_group", "row")).toPandas().sort_values("row")
    assert got["y_true"].tolist() == target.values.tolist()
    assert got["y_pred"].tolist() == expected.y_pred.tolist()
    np.testing.assert_allclose(got["y_score"].to_numpy(), expected.y_score, rtol=0, atol=1e-15)


def test_predictions_from_columns_and_bad_labels(spark):
    from auditkit.spark import predictions_from_columns_spark

    frame = pd.DataFrame({"label": ["yes", "no", "yes", "no"], "pred": ["yes", "yes", "no", "no"],
                          "p": [0.9, 0.6, 0.2, 0.1]})
    sdf = spark.createDataFrame(frame)
    got = predictions_from_columns_spark(sdf, target="label", positive_label="yes", label="pred", score="p").toPandas()
    assert got["y_true"].tolist() == [1, 0, 1, 0] and got["y_pred"].tolist() == [1, 1, 0, 0]
    assert got["y_score"].tolist() == [0.9, 0.6, 0.2, 0.1]
    bad = spark.createDataFrame(frame.assign(pred=["yes", "maybe", "no", "no"]))
    with pytest.raises(DataError, match="maybe"):
        predictions_from_columns_spark(bad, target="label", positive_label="yes", label="pred")
    with pytest.raises(DataError, match="positive label"):
        predictions_from_columns_spark(sdf, target="label", positive_label="ok", label="pred")


def test_stratified_sample_keeps_every_group(spark):
    from auditkit.spark import stratified_sample

    rng = np.random.default_rng(0)
    n = 20_000
    frame = pd.DataFrame({
        "sex": rng.choice(["f", "m"], n, p=[0.3, 0.7]),
        "band": rng.choice(["a", "b", "rare", None], n, p=[0.6, 0.38, 0.0015, 0.0185]),
        "x": rng.random(n),
    })
    sdf = spark.createDataFrame(frame)
    sample = stratified_sample(sdf, sensitive_features=["sex", "band"], rows=500, seed=1)
    assert 450 <= len(sample) <= 500
    assert sample.attrs["population_rows"] == n
    combos = set(zip(frame["sex"], frame["band"].fillna("-")))
    assert set(zip(sample["sex"], sample["band"].fillna("-"))) == combos
    again = stratified_sample(sdf, sensitive_features=["sex", "band"], rows=500, seed=1)
    assert sorted(again["x"]) == sorted(sample["x"])
    small = stratified_sample(sdf.limit(100), sensitive_features=["sex"], rows=500, seed=1)
    assert len(small) == 100
