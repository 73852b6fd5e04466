"""`audit check --engine spark` gives the same verdicts and numbers as the pandas engine."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from parity import assert_same
from policies import MINIMAL_POLICY


def test_check_on_spark_equals_pandas(spark, write_policy, tmp_path):
    text = MINIMAL_POLICY.replace("  positive_label: good", "  positive_label: good\n  reference: data/train.csv") + (
        "  - {id: dp-sex, metric: demographic_parity_ratio, feature: sex, min: 0.8, decide_on: ci}\n"
        "  - {id: drift, metric: psi, max: 0.25}\n"
        "  - {id: representation, metric: representation_min_share, feature: age_group, min: 0.05}\n")
    policy = write_policy(text)
    runs = {}
    for engine in ("pandas", "spark"):
        out = tmp_path / engine
        result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(out), "--engine", engine, "--seed", "3"])
        assert result.exit_code in (0, 1), result.output
        runs[engine] = json.loads((out / "results.json").read_text())
    pandas_run, spark_run = runs["pandas"], runs["spark"]
    assert spark_run["provenance"]["engine"]["name"] == "spark"
    assert spark_run["status"] == pandas_run["status"]
    assert [(r["id"], r["status"]) for r in spark_run["rules"]] == [(r["id"], r["status"]) for r in pandas_run["rules"]]
    for a, b in zip(spark_run["rules"], pandas_run["rules"]):
        assert a["observed"] == pytest.approx(b["observed"], abs=1e-12)
    groups = {(g["feature"], g["group"]): g for g in pandas_run["fairness"]["groups"]}
    for g in spark_run["fairness"]["groups"]:
        ref = groups[(g["feature"], g["group"])]
        assert g["n"] == ref["n"]
        for metric, value in g["metrics"].items():
            if value is not None and ref["metrics"].get(metric) is not None:
                assert value == pytest.approx(ref["metrics"][metric], abs=1e-12), metric
    assert spark_run["contract"]["passed"] == pandas_run["contract"]["passed"]
    assert_same(pandas_run["drift"], spark_run["drift"])
    assert_same(pandas_run["data_bias"], spark_run["data_bias"])
    assert spark_run["explanations"]["status"] == "ok"
    # What the Spark engine writes holds the same strict results schema audit report reads.
    from auditkit.report.rerender import load_results

    load_results(tmp_path / "spark" / "results.json")


def test_spark_compares_score_metrics_with_a_champion_as_pandas(write_policy, tmp_path):
    """auc and mean_score changes and their paired intervals: Spark gives the pandas numbers."""
    text = MINIMAL_POLICY.replace("fairness:\n", "champion:\n  path: models/credit_model.skops\nfairness:\n  metrics: [tpr, auc]\n")
    text += "  - {id: auc-change, metric: auc, compare: champion, max_regression: 0.05, decide_on: ci}\n"
    policy = write_policy(text)
    runs = {}
    for engine in ("pandas", "spark"):
        result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / engine), "--engine", engine,
                                          "--no-explain"])
        assert result.exit_code in (0, 1), result.output
        runs[engine] = json.loads((tmp_path / engine / "results.json").read_text())
    assert_same(runs["pandas"]["champion"], runs["spark"]["champion"])
    assert [r["observed"] for r in runs["spark"]["rules"]] == pytest.approx([r["observed"] for r in runs["pandas"]["rules"]], abs=1e-12)
