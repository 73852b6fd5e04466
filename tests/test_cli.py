"""The command line: exit codes 0 / 1 / 2, one-line errors, no traceback, outputs written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from policies import MINIMAL_POLICY


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def assert_one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert err.startswith("Error: "), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in err, err


def test_exit_0_when_every_rule_passes(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY)
    out = tmp_path / "out"
    result = invoke("check", policy, "--out", out, "--no-explain")
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "passed"
    assert "PASSED" in result.stdout
    for name in ("report.html", "results.json", "junit.xml", "summary.md"):
        assert (out / name).stat().st_size > 0


def test_exit_1_when_a_gating_rule_fails(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY.replace("min: 0.5", "min: 0.99"))
    out = tmp_path / "out"
    result = invoke("check", policy, "--out", out, "--no-explain")
    assert result.exit_code == 1, result.output
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "failed"
    failed = [r for r in results["rules"] if r["status"] == "fail"]
    assert [r["id"] for r in failed] == ["accuracy-floor"]
    assert "FAILED" in result.stdout and "accuracy-floor" in result.stdout


def test_warning_rule_does_not_gate_unless_fail_on_warning(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY.replace("min: 0.5", "min: 0.99\n    severity: warning"))
    assert invoke("check", policy, "--out", tmp_path / "a", "--no-explain").exit_code == 0
    assert invoke("check", policy, "--out", tmp_path / "b", "--no-explain", "--fail-on", "warning").exit_code == 1


def test_misspelt_key_exits_2_naming_the_key(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY.replace("  positive_label: good", "  positve_label: good"))
    result = invoke("check", policy, "--out", tmp_path / "out")
    assert_one_line_error(result, str(policy), "'data.positve_label'", "did you mean 'positive_label'")
    assert not (tmp_path / "out").exists(), "no outputs on a run that could not start"


def test_missing_policy_exits_2(tmp_path):
    result = invoke("check", tmp_path / "nope.yaml")
    assert_one_line_error(result, "policy file not found")


def test_unknown_option_exits_2():
    result = invoke("check", "--no-such-option")
    assert result.exit_code == 2


def test_missing_column_exits_2(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY.replace("[sex, age_group]", "[sex, race]"))
    result = invoke("check", policy, "--out", tmp_path / "out")
    assert_one_line_error(result, "'sensitive_features[1]'", "'race'")


def test_corrupt_model_exits_2(write_policy, demo_copy, tmp_path):
    (demo_copy / "models" / "credit_model.skops").write_bytes(b"this is not a zip file")
    result = invoke("check", write_policy(MINIMAL_POLICY), "--out", tmp_path / "out")
    assert_one_line_error(result, "credit_model.skops", "skops")
    assert not (tmp_path / "out").exists()


def test_pickle_model_refused_without_trust(write_policy, demo_copy, tmp_path):
    import pickle

    import skops.io as sio

    model = sio.load(demo_copy / "models" / "credit_model.skops")
    with open(demo_copy / "models" / "model.pkl", "wb") as handle:
        pickle.dump(model, handle)
    policy = write_policy(MINIMAL_POLICY.replace("credit_model.skops", "model.pkl"))
    result = invoke("check", policy, "--out", tmp_path / "out", "--no-explain")
    assert_one_line_error(result, "model.pkl", "--trust-model", "sklearn.pipeline.Pipeline")
    trusted = invoke("check", policy, "--out", tmp_path / "out", "--no-explain", "--trust-model")
    assert trusted.exit_code == 0, trusted.output


def test_quiet_prints_the_verdict_only(write_policy, tmp_path):
    result = invoke("check", write_policy(MINIMAL_POLICY), "--out", tmp_path / "out", "--no-explain", "--quiet")
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines() == ["PASSED: minimal — 2 passed, 0 failed"]


def test_validate_exit_codes(demo_copy):
    contract = demo_copy / "schemas" / "german_credit.yaml"
    good = invoke("validate", demo_copy / "data" / "credit.csv", "--contract", contract)
    assert good.exit_code == 0 and "valid" in good.stdout
    bad_csv = demo_copy / "data" / "bad.csv"
    text = (demo_copy / "data" / "credit.csv").read_text().splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("sex")] = "robot"
    bad_csv.write_text("\n".join([text[0], ",".join(row)] + text[2:]) + "\n")
    bad = invoke("validate", bad_csv, "--contract", contract, "--format", "json")
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert report["violations"][0]["column"] == "sex" and report["violations"][0]["examples"] == ["robot"]
    missing = invoke("validate", demo_copy / "data" / "none.csv", "--contract", contract)
    assert_one_line_error(missing, "none.csv", "not found")


def test_report_rerenders_from_results(write_policy, tmp_path):
    out = tmp_path / "out"
    assert invoke("check", write_policy(MINIMAL_POLICY), "--out", out, "--no-explain").exit_code == 0
    target = tmp_path / "again.html"
    result = invoke("report", out / "results.json", "-o", target)
    assert result.exit_code == 0, result.output
    assert target.read_text() == (out / "report.html").read_text()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert_one_line_error(invoke("report", broken, "-o", tmp_path / "x.html"), "broken.json", "not valid JSON")


def test_help_texts_are_there():
    for command in ([], ["check"], ["validate"], ["report"], ["demo"]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_python_dash_m(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "auditkit", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "auditkit" in proc.stdout


def test_console_script_error_has_no_traceback(tmp_path):
    import shutil
    import subprocess

    exe = shutil.which("audit")
    if exe is None:
        pytest.skip("console script not installed")
    proc = subprocess.run([exe, "check", str(tmp_path / "absent.yaml")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: ") and "Traceback" not in proc.stderr


def _adult_csv(tmp_path):
    import pandas as pd
    from pathlib import Path

    columns = ("age workclass fnlwgt education education_num marital_status occupation relationship race sex "
               "capital_gain capital_loss hours_per_week native_country income").split()
    raw = Path(__file__).resolve().parents[1] / "examples" / "data" / "adult" / "adult.data.gz"
    frame = pd.read_csv(raw, header=None, names=columns, skipinitialspace=True, na_values="?", nrows=4000)
    path = tmp_path / "adult.csv"
    frame.to_csv(path, index=False)
    return path


def test_init_then_check_runs_without_editing(tmp_path, monkeypatch):
    data = _adult_csv(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = invoke("init", data, "--target", "income", "--sensitive", "sex,race")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "audit.yaml").exists() and "next: audit check" in result.stdout
    check = invoke("check", "--out", tmp_path / "out")
    assert check.exit_code in (0, 1), check.output
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["status"] == ("passed" if check.exit_code == 0 else "failed")
    assert results["data_bias"]["representation"]
    again = invoke("init", data, "--target", "income", "--sensitive", "sex,race")
    assert_one_line_error(again, "audit.yaml")


def test_schema_infer_writes_a_contract_that_validates_its_data(tmp_path):
    data = _adult_csv(tmp_path)
    contract = tmp_path / "adult.yaml"
    result = invoke("schema", "infer", data, "-o", contract)
    assert result.exit_code == 0, result.output
    assert invoke("validate", data, "--contract", contract).exit_code == 0
    assert_one_line_error(invoke("schema", "infer", data, "-o", contract), "already exists", "--force")
    assert invoke("schema", "infer", data, "-o", contract, "--force").exit_code == 0


def test_drift_rule_fails_on_a_shifted_copy(demo_copy, tmp_path):
    import pandas as pd

    policy_text = (
        "version: 1\nname: drift\n"
        "data: {path: data/%s, target: credit_risk, positive_label: good, reference: data/train.csv}\n"
        "rules:\n  - {id: stable, metric: psi, max: 0.25}\n  - {id: stable-amount, metric: ks, feature: credit_amount, max: 0.2}\n")
    (demo_copy / "same.yaml").write_text(policy_text % "credit.csv")
    assert invoke("check", demo_copy / "same.yaml", "--out", tmp_path / "a").exit_code == 0
    shifted = pd.read_csv(demo_copy / "data" / "credit.csv")
    shifted["credit_amount"] = shifted["credit_amount"] * 3
    shifted.to_csv(demo_copy / "data" / "shifted.csv", index=False)
    (demo_copy / "shifted.yaml").write_text(policy_text % "shifted.csv")
    result = invoke("check", demo_copy / "shifted.yaml", "--out", tmp_path / "b")
    assert result.exit_code == 1, result.output
    rules = {r["id"]: r for r in json.loads((tmp_path / "b" / "results.json").read_text())["rules"]}
    assert rules["stable"]["status"] == "fail" and rules["stable-amount"]["status"] == "fail"
