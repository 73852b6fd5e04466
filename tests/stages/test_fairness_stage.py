"""End to end: the fairness numbers in results.json equal fairlearn's MetricFrame on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from fairlearn.metrics import (MetricFrame, demographic_parity_ratio, equalized_odds_difference,
                               false_positive_rate, selection_rate, true_positive_rate)
from sklearn.metrics import accuracy_score, precision_score

from auditkit.pipeline import run_audit


@pytest.fixture(scope="module")
def audited(demo_dir):
    results = run_audit(demo_dir / "audit.yaml", explain=False, seed=0).to_dict()
    frame = pd.read_csv(demo_dir / "data" / "credit.csv")
    model = sio.load(demo_dir / "models" / "credit_model.skops")
    features = list(model.feature_names_in_)
    good = list(model.classes_).index("good")
    y_true = (frame["credit_risk"] == "good").astype(int).to_numpy()
    y_pred = (model.predict_proba(frame[features])[:, good] >= 0.5).astype(int)
    return results, frame, y_true, y_pred


@pytest.mark.parametrize("feature", ["sex", "age_group"])
def test_group_metrics_equal_fairlearn(audited, feature):
    results, frame, y_true, y_pred = audited
    metrics = {"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate,
               "accuracy": accuracy_score, "ppv": lambda t, p: precision_score(t, p, zero_division=0)}
    mf = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=frame[feature])
    ours = {g["group"]: g for g in results["fairness"]["groups"] if g["feature"] == feature}
    for group, row in mf.by_group.iterrows():
        assert ours[str(group)]["n"] == int((frame[feature] == group).sum())
        for metric in metrics:
            assert ours[str(group)]["metrics"][metric] == pytest.approx(row[metric], abs=1e-12)


def test_rule_values_equal_fairlearn_aggregates(audited):
    results, frame, y_true, y_pred = audited
    rules = {r["id"]: r for r in results["rules"]}
    assert rules["four-fifths-sex"]["observed"] == pytest.approx(
        demographic_parity_ratio(y_true, y_pred, sensitive_features=frame["sex"]), abs=1e-12)
    assert rules["four-fifths-age"]["observed"] == pytest.approx(
        demographic_parity_ratio(y_true, y_pred, sensitive_features=frame["age_group"]), abs=1e-12)
    assert rules["equalized-odds-age"]["observed"] == pytest.approx(
        equalized_odds_difference(y_true, y_pred, sensitive_features=frame["age_group"]), abs=1e-12)
    assert rules["accuracy-floor"]["observed"] == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-12)


def test_rule_status_follows_threshold(audited):
    results, *_ = audited
    for rule in results["rules"]:
        if rule["status"] in ("pass", "fail") and rule["decided_on"] == "estimate":
            low, high = rule["threshold"].get("min"), rule["threshold"].get("max")
            holds = (low is None or rule["observed"] >= low) and (high is None or rule["observed"] <= high)
            assert holds == (rule["status"] == "pass")


def test_precomputed_prediction_columns_give_the_same_numbers(demo_copy, audited):
    results, frame, y_true, y_pred = audited
    data = pd.read_csv(demo_copy / "data" / "credit.csv")
    data["vendor_decision"] = np.where(y_pred == 1, "good", "bad")
    data.to_csv(demo_copy / "data" / "scored.csv", index=False)
    text = """
version: 1
name: vendor-scores
data: {path: data/scored.csv, target: credit_risk, positive_label: good}
model:
  predictions: {label: vendor_decision}
sensitive_features: [sex, age_group]
intersections: [[sex, age_group]]
fairness: {bootstrap: 100}
rules:
  - {id: four-fifths-sex, metric: demographic_parity_ratio, feature: sex, min: 0.8}
"""
    (demo_copy / "vendor.yaml").write_text(text)
    vendor = run_audit(demo_copy / "vendor.yaml", seed=0).to_dict()
    assert vendor["model"]["source"] == "columns"
    assert vendor["explanations"]["status"] == "skipped"
    ours = {(g["feature"], g["group"]): g["metrics"] for g in results["fairness"]["groups"]}
    for g in vendor["fairness"]["groups"]:
        for metric in ("selection_rate", "tpr", "fpr", "accuracy"):
            assert g["metrics"][metric] == pytest.approx(ours[(g["feature"], g["group"])][metric], abs=1e-12)
