"""`audit check --engine spark` gives the same verdicts and numbers as the pandas engine."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from policies import MINIMAL_POLICY


def test_check_on_spark_equals_pandas(spark, write_policy, tmp_path):
    text = MINIMAL_POLICY + "  - {id: dp-sex, metric: demographic_parity_ratio, feature: sex, min: 0.8, decide_on: ci}\n"
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
    assert spark_run["explanations"]["status"] == "ok"
    # What the Spark engine writes holds the same strict results schema audit report reads.
    from auditkit.report.rerender import load_results

    load_results(tmp_path / "spark" / "results.json")


def test_spark_refuses_what_it_does_not_compute(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY.replace("  positive_label: good", "  positive_label: good\n  engine: spark\n  reference: data/train.csv"))
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "'data.reference'" in result.stderr and "Spark" in result.stderr
