"""The Spark stages of a whole audit, read from the demo's CSV, against ``run_audit`` (pandas)."""

from __future__ import annotations

import pytest

pytest.importorskip("pyspark")

from test_spark_from_counts import _assert_same  # noqa: E402


def test_audit_spark_matches_run_audit_on_the_demo(spark, demo_dir):
    from auditkit.model import load_model
    from auditkit.pipeline import run_audit
    from auditkit.rules import Evidence, evaluate_rules
    from auditkit.spark import SparkAudit, audit_spark

    expected = run_audit(demo_dir / "audit.yaml", explain=False, seed=0)
    policy = expected.policy
    fs = policy.fairness
    messages = []
    got = audit_spark(
        policy.data.path, spark=spark, target=policy.data.target, positive_label=policy.data.positive_label,
        sensitive_features=policy.sensitive_features, intersections=policy.intersections,
        contract=policy.data.contract, model=load_model(policy.model.path), threshold=policy.model.threshold,
        metrics=fs.metrics, reference_groups=dict(fs.reference_groups), min_group_size=fs.min_group_size,
        bootstrap=fs.bootstrap, confidence=fs.confidence, seed=0, explain_rows=200, progress=messages.append,
    )
    assert isinstance(got, SparkAudit) and messages
    assert got.rows == expected.data_summary["rows"]
    assert got.positive_label == expected.data_summary["positive_label"]
    assert got.base_rate == pytest.approx(expected.data_summary["base_rate"], abs=1e-12)
    assert [(v.column, v.check, v.failure_count) for v in got.contract.violations] == [
        (v.column, v.check, v.failure_count) for v in expected.contract.violations]
    _assert_same(expected.fairness, got.fairness)
    rules = [r for r in policy.rules if r.metric == "contract_violations" or r.feature is None and r.metric == "accuracy"
             or r.metric.startswith(("demographic_parity", "equalized_odds", "equal_opportunity"))]
    assert len(rules) >= 4
    spark_gate = evaluate_rules(rules, Evidence(contract=got.contract, fairness=got.fairness))
    pandas_gate = evaluate_rules(rules, Evidence(contract=expected.contract, fairness=expected.fairness))
    assert [(o.rule.id if hasattr(o, "rule") else o.to_dict()["id"], o.status) for o in spark_gate.outcomes] == [
        (o.rule.id if hasattr(o, "rule") else o.to_dict()["id"], o.status) for o in pandas_gate.outcomes]
    assert len(got.sample) == 200 and got.sample_population == got.rows
    assert set(got.feature_columns) <= set(got.columns)
