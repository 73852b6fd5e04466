"""The Spark engine gives the same numbers as the pandas engine on real data.

German Credit (1,000 rows, the demo's model applied on the executors) and UCI Adult
(48,842 rows, precomputed prediction columns): same group counts, every metric and
interval within 1e-12 (same seed, same bootstrap), same rule verdicts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from auditkit.fairness import assess_fairness  # noqa: E402
from auditkit.rules import Evidence, evaluate_rules  # noqa: E402

from parity import assert_same  # noqa: E402


@pytest.fixture(scope="module")
def german(spark):
    from auditkit.demo import load_german_credit, model_features, train_model

    frame = load_german_credit()
    model = train_model(frame)
    return frame, model, model_features(frame)


def _rules():
    from auditkit.policy import Rule

    return [
        Rule(id="four-fifths-sex", metric="demographic_parity_ratio", feature="sex", min=0.8),
        Rule(id="eo-age", metric="equalized_odds_difference", feature="age_group", max=0.1, decide_on="ci"),
        Rule(id="accuracy", metric="accuracy", min=0.7),
        Rule(id="auc-floor", metric="auc", min=0.75),
        Rule(id="tpr-inter", metric="tpr_ratio", feature="sex & age_group", min=0.8, decide_on="ci"),
    ]


def test_german_credit_same_numbers_as_pandas(spark, german):
    from auditkit.spark import fairness_spark, predict_spark

    frame, model, features = german
    sdf = spark.createDataFrame(frame).repartition(3)
    predicted = predict_spark(sdf, model, target="credit_risk", positive_label="good", threshold=0.5,
                              feature_columns=features)
    options = dict(intersections=[("sex", "age_group")], reference_groups={"sex": "male"},
                   min_group_size=30, bootstrap=400, confidence=0.95, seed=3)
    got = fairness_spark(predicted, sensitive_features=["sex", "age_group"], y_score_col="y_score", **options)

    proba = model.predict_proba(frame[features])[:, list(model.classes_).index("good")]
    y_true = (frame["credit_risk"] == "good").astype(int).to_numpy()
    expected = assess_fairness(y_true, (proba >= 0.5).astype(int), frame[["sex", "age_group"]],
                               y_score=proba, **options)
    assert got.by_group[["feature", "group", "n"]].equals(expected.by_group[["feature", "group", "n"]])
    assert got.confusion == expected.confusion
    assert_same(expected, got)
    rules = _rules()
    spark_gate = evaluate_rules(rules, Evidence(fairness=got))
    pandas_gate = evaluate_rules(rules, Evidence(fairness=expected))
    assert [o.to_dict() for o in spark_gate.outcomes] == [o.to_dict() for o in pandas_gate.outcomes]
    assert spark_gate.status == pandas_gate.status


def test_adult_from_parquet_with_missing_groups(spark, tmp_path):
    from pathlib import Path

    from auditkit.spark import fairness_spark, predictions_from_columns_spark, read_table

    root = Path(__file__).resolve().parents[2] / "examples" / "data" / "adult"
    names = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
             "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
             "native_country", "income"]
    frame = pd.read_csv(root / "adult.data.gz", header=None, names=names, skipinitialspace=True,
                        na_values=["?"])
    rng = np.random.default_rng(0)
    # A stand-in model's outputs, saved as columns (the "predictions:" form of the policy).
    score = 1 / (1 + np.exp(-(frame["education_num"] - 10) / 2 - (frame["hours_per_week"] - 40) / 20))
    frame["score"] = np.round(score + rng.normal(0, 0.05, len(frame)), 6).clip(0, 1)
    frame["predicted"] = np.where(frame["score"] >= 0.5, ">50K", "<=50K")
    path = tmp_path / "adult.parquet"
    frame.to_parquet(path, index=False)
    sdf = read_table(spark, path)
    sdf = predictions_from_columns_spark(sdf, target="income", positive_label=">50K", label="predicted",
                                         score="score")
    sensitive = ["sex", "race", "workclass"]  # workclass has missing values: the (missing) group
    options = dict(intersections=[("sex", "race")], bootstrap=200, seed=11, min_group_size=30)
    got = fairness_spark(sdf, sensitive_features=sensitive, y_score_col="y_score", **options)
    expected = assess_fairness((frame["income"] == ">50K").astype(int), (frame["predicted"] == ">50K").astype(int),
                               frame[sensitive], y_score=frame["score"], **options)
    assert "(missing)" in set(got.by_group["group"])
    assert_same(expected, got)


def test_rounded_scores_are_stated_and_close(spark):
    from auditkit.spark import fairness_spark

    rng = np.random.default_rng(5)
    n = 4000
    frame = pd.DataFrame({"g": rng.choice(["a", "b"], n), "y_true": rng.integers(0, 2, n)})
    frame["y_score"] = np.clip(frame["y_true"] * 0.2 + rng.random(n) * 0.8, 0, 1)
    frame["y_pred"] = (frame["y_score"] >= 0.5).astype(int)
    sdf = spark.createDataFrame(frame)
    got = fairness_spark(sdf, sensitive_features=["g"], y_score_col="y_score", bootstrap=0, max_score_cells=100)
    exact = assess_fairness(frame["y_true"], frame["y_pred"], frame[["g"]], y_score=frame["y_score"], bootstrap=0)
    assert "rounded down to a grid" in got.method
    assert got.value("auc").value == pytest.approx(exact.value("auc").value, abs=1e-3)
    assert got.value("mean_score").value == pytest.approx(exact.value("mean_score").value, abs=1e-12)
    assert got.value("selection_rate_ratio", "g").value == pytest.approx(
        exact.value("selection_rate_ratio", "g").value, abs=1e-12)


def test_spark_errors_are_one_line_data_errors(spark):
    from auditkit.errors import DataError
    from auditkit.spark import fairness_spark

    sdf = spark.createDataFrame(pd.DataFrame({"g": ["a", "b"], "y_true": [0, 2], "y_pred": [1, 0]}))
    with pytest.raises(DataError, match="coded 0/1"):
        fairness_spark(sdf, sensitive_features=["g"], bootstrap=0)
    with pytest.raises(DataError, match="not in the Spark data"):
        fairness_spark(sdf, sensitive_features=["nope"], bootstrap=0)


def test_no_sensitive_features_gives_overall_metrics_only(spark):
    from auditkit.spark import fairness_spark

    frame = pd.DataFrame({"y_true": [0, 1, 1, 0, 1], "y_pred": [0, 1, 0, 0, 1]})
    got = fairness_spark(spark.createDataFrame(frame), sensitive_features=[], bootstrap=50, seed=2)
    expected = assess_fairness(frame["y_true"], frame["y_pred"], pd.DataFrame(index=frame.index), bootstrap=50, seed=2)
    assert_same(expected, got)
