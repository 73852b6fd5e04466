"""The Spark engine behind ``run_audit``: the demo audited on Spark, stage by stage, against pandas."""

from __future__ import annotations

import pytest

pytest.importorskip("pyspark")

from parity import assert_same  # noqa: E402


def test_run_audit_on_spark_matches_pandas_on_the_demo(spark, demo_dir):
    from auditkit.pipeline import run_audit

    expected = run_audit(demo_dir / "audit.yaml", explain=False, seed=0)
    messages = []
    got = run_audit(demo_dir / "audit.yaml", engine="spark", seed=0, progress=messages.append)
    assert any("with Spark" in m for m in messages)
    assert got.data_summary["rows"] == expected.data_summary["rows"]
    assert got.data_summary["base_rate"] == pytest.approx(expected.data_summary["base_rate"], abs=1e-12)
    assert [(v.column, v.check, v.failure_count) for v in got.contract.violations] == [
        (v.column, v.check, v.failure_count) for v in expected.contract.violations]
    assert_same(expected.fairness, got.fairness)
    assert_same(expected.drift, got.drift)
    assert_same(expected.data_bias, got.data_bias)
    assert [(o.rule.id, o.status) for o in got.rules if o.rule.metric != "shap_share"] == [
        (o.rule.id, o.status) for o in expected.rules if o.rule.metric != "shap_share"]
    summary = got.data_summary
    assert summary["engine"] == "spark" and summary["sample_population"] == summary["rows"]
    assert summary["sample_rows"] == min(summary["rows"], got.policy.explain.max_rows)
    assert got.explanations is not None and got.provenance["engine"]["name"] == "spark"
