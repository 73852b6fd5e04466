"""A corpus of broken and hostile inputs. Each must end with exit code 2, one ``Error:`` line
that names the problem and its place, no traceback, and no output files."""

from __future__ import annotations

import gzip
import pickle
import textwrap

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from policies import MINIMAL_POLICY

NO_CONTRACT = MINIMAL_POLICY.replace("  contract: schemas/german_credit.yaml\n", "").replace(
    "  - id: contract-holds\n    metric: contract_violations\n    max: 0\n", "")


def run_check(policy, out, *extra):
    return CliRunner().invoke(cli, ["check", str(policy), "--out", str(out), "--no-explain", *map(str, extra)],
                              catch_exceptions=False)


def assert_could_not_run(result, out, *needles):
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    err = result.stderr.strip()
    assert err.startswith("Error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert not out.exists() or not any(out.iterdir()), "no partial outputs"


def credit(demo_copy) -> pd.DataFrame:
    return pd.read_csv(demo_copy / "data" / "credit.csv")


def with_data(demo_copy, write_policy, frame_or_bytes, name="data.csv", policy=NO_CONTRACT):
    path = demo_copy / "data" / name
    if isinstance(frame_or_bytes, bytes):
        path.write_bytes(frame_or_bytes)
    else:
        frame_or_bytes.to_csv(path, index=False) if name.endswith(".csv") else frame_or_bytes.to_parquet(path)
    return write_policy(policy.replace("data/credit.csv", f"data/{name}"))


# ------------------------------------------------------------------ policy files

POLICY_CASES = {
    "malformed yaml": ("version: 1\ndata: {path: data/credit.csv\n", ["malformed YAML", "line"]),
    "top level list": ("- version: 1\n", ["top level must be a mapping"]),
    "empty policy": ("", ["empty"]),
    "only comments": ("# nothing here\n", ["empty"]),
    "unknown top key": (MINIMAL_POLICY + "colour: blue\n", ["'colour'", "unknown key"]),
    "unknown nested key": (MINIMAL_POLICY.replace("  bootstrap: 200", "  bootstrap: 200\n  n_boot: 5"), ["'fairness.n_boot'"]),
    "missing data section": ("version: 1\nname: x\n", ["'data'", "missing required key"]),
    "missing data path": (MINIMAL_POLICY.replace("  path: data/credit.csv\n", ""), ["'data.path'"]),
    "version as text": (MINIMAL_POLICY.replace("version: 1", "version: one"), ["'version'", "whole number"]),
    "threshold as text": (MINIMAL_POLICY.replace("models/credit_model.skops", "models/credit_model.skops\n  threshold: high"), ["'model.threshold'", "number"]),
    "threshold out of range": (MINIMAL_POLICY.replace("models/credit_model.skops", "models/credit_model.skops\n  threshold: 5"), ["'model.threshold'", "between 0 and 1"]),
    "unknown metric": (MINIMAL_POLICY.replace("metric: accuracy", "metric: fairness_score"), ["'rules[1].metric'", "unknown metric"]),
    "rule on undeclared feature": (MINIMAL_POLICY + "  - {id: x, metric: tpr_ratio, feature: income, min: 0.8}\n", ["'rules[2].feature'", "'income'"]),
    "rules not a list": (MINIMAL_POLICY.split("rules:")[0] + "rules: {id: x}\n", ["'rules'", "must be a list"]),
    "negative bootstrap": (MINIMAL_POLICY.replace("bootstrap: 200", "bootstrap: -1"), ["'fairness.bootstrap'"]),
    "contract path missing": (MINIMAL_POLICY.replace("schemas/german_credit.yaml", "schemas/absent.yaml"), ["'data.contract'", "does not exist"]),
    "sensitive column not in data": (MINIMAL_POLICY.replace("[sex, age_group]", "[sex, race]"), ["'sensitive_features[1]'", "'race'"]),
    "target column not in data": (MINIMAL_POLICY.replace("target: credit_risk", "target: default"), ["'data.target'", "'default'"]),
    "trust of wrong type": (MINIMAL_POLICY.replace("models/credit_model.skops", "models/credit_model.skops\n  trust: maybe"), ["'model.trust'"]),
}


@pytest.mark.parametrize("case", sorted(POLICY_CASES))
def test_broken_policy(case, write_policy, tmp_path):
    text, needles = POLICY_CASES[case]
    policy = write_policy(text)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", str(policy), *needles)


def test_policy_not_utf8(write_policy, tmp_path):
    policy = write_policy("")
    policy.write_bytes(MINIMAL_POLICY.encode("utf-16"))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "UTF-8")


def test_policy_is_a_folder(demo_copy, tmp_path):
    assert_could_not_run(run_check(demo_copy / "data", tmp_path / "out"), tmp_path / "out", "is a folder")


# ------------------------------------------------------------------ data files

def test_empty_data_file(demo_copy, write_policy, tmp_path):
    policy = with_data(demo_copy, write_policy, b"")
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.csv", "empty")


def test_header_only_csv(demo_copy, write_policy, tmp_path):
    header = (demo_copy / "data" / "credit.csv").read_text().splitlines()[0]
    policy = with_data(demo_copy, write_policy, (header + "\n").encode())
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.csv", "no rows")


def test_wrong_delimiter(demo_copy, write_policy, tmp_path):
    text = (demo_copy / "data" / "credit.csv").read_text().replace(",", ";")
    policy = with_data(demo_copy, write_policy, text.encode())
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.csv", "';'")


def test_non_utf8_bytes(demo_copy, write_policy, tmp_path):
    text = (demo_copy / "data" / "credit.csv").read_text().replace("female", "f\u00e9male")
    policy = with_data(demo_copy, write_policy, text.encode("latin-1"))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.csv", "UTF-8")


def test_duplicate_column_names(demo_copy, write_policy, tmp_path):
    lines = (demo_copy / "data" / "credit.csv").read_text().splitlines()
    lines[0] = lines[0].replace("purpose", "age", 1)
    policy = with_data(demo_copy, write_policy, ("\n".join(lines) + "\n").encode())
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.csv", "duplicate column", "'age'")


def test_binary_garbage_as_parquet(demo_copy, write_policy, tmp_path):
    policy = with_data(demo_copy, write_policy, b"PAR1 this is not parquet", name="data.parquet")
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.parquet", "cannot be read")


def test_unsupported_data_extension(demo_copy, write_policy, tmp_path):
    policy = with_data(demo_copy, write_policy, b"a,b\n1,2\n", name="data.xlsx")
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.xlsx", "unsupported")


def test_truncated_gzip(demo_copy, write_policy, tmp_path):
    blob = gzip.compress((demo_copy / "data" / "credit.csv").read_bytes())[:500]
    policy = with_data(demo_copy, write_policy, blob, name="data.csv.gz")
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.csv.gz")


def test_data_override_missing(write_policy, tmp_path):
    policy = write_policy(NO_CONTRACT)
    result = run_check(policy, tmp_path / "out", "--data", tmp_path / "nope.csv")
    assert_could_not_run(result, tmp_path / "out", "--data", "does not exist")


def test_target_with_one_class(demo_copy, write_policy, tmp_path):
    frame = credit(demo_copy).assign(credit_risk="good")
    policy = with_data(demo_copy, write_policy, frame)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'credit_risk'", "one class")


def test_target_with_three_classes(demo_copy, write_policy, tmp_path):
    frame = credit(demo_copy)
    frame.loc[:10, "credit_risk"] = "unknown"
    policy = with_data(demo_copy, write_policy, frame)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'credit_risk'", "3 classes")


def test_target_with_missing_values(demo_copy, write_policy, tmp_path):
    frame = credit(demo_copy)
    frame.loc[:4, "credit_risk"] = None
    policy = with_data(demo_copy, write_policy, frame)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'credit_risk'", "missing")


def test_positive_label_not_in_data(write_policy, tmp_path):
    policy = write_policy(NO_CONTRACT.replace("positive_label: good", "positive_label: approved"))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'approved'", "positive_label")


def test_sensitive_feature_with_one_group(demo_copy, write_policy, tmp_path):
    policy = with_data(demo_copy, write_policy, credit(demo_copy).assign(sex="male"))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'sex'", "single group")


def test_sensitive_feature_all_missing(demo_copy, write_policy, tmp_path):
    policy = with_data(demo_copy, write_policy, credit(demo_copy).assign(sex=np.nan))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'sex'", "missing in every row")


def test_numbers_stored_as_strings(demo_copy, write_policy, tmp_path):
    frame = credit(demo_copy).astype({"credit_amount": str})
    frame.loc[0, "credit_amount"] = "1.200,50"
    policy = with_data(demo_copy, write_policy, frame, policy=MINIMAL_POLICY)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "credit_model.skops",
                         "failed to predict", "breaks its contract")


def test_infinities(demo_copy, write_policy, tmp_path):
    frame = credit(demo_copy).astype({"age": float})
    frame.loc[0, "age"] = np.inf
    policy = with_data(demo_copy, write_policy, frame)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "credit_model.skops")


# ------------------------------------------------------------------ models

def test_model_file_missing(demo_copy, write_policy, tmp_path):
    policy = write_policy(NO_CONTRACT)
    (demo_copy / "models" / "credit_model.skops").unlink()
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'model.path'", "does not exist")


def test_model_truncated(demo_copy, write_policy, tmp_path):
    path = demo_copy / "models" / "credit_model.skops"
    path.write_bytes(path.read_bytes()[:300])
    assert_could_not_run(run_check(write_policy(NO_CONTRACT), tmp_path / "out"), tmp_path / "out", "credit_model.skops")


def test_model_not_a_model(demo_copy, write_policy, tmp_path):
    (demo_copy / "models" / "m.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    policy = write_policy(NO_CONTRACT.replace("credit_model.skops", "m.pkl"))
    assert_could_not_run(run_check(policy, tmp_path / "out", "--trust-model"), tmp_path / "out", "m.pkl", "no predict")


def test_model_expecting_other_columns(demo_copy, write_policy, tmp_path):
    policy = with_data(demo_copy, write_policy, credit(demo_copy).drop(columns=["purpose", "savings"]))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "credit_model.skops", "purpose", "savings")


class RaisingModel:
    classes_ = np.array(["bad", "good"])
    feature_names_in_ = np.array(["age"])

    def predict_proba(self, X):
        raise RuntimeError("model server unavailable")


def test_model_raising_in_predict(demo_copy, write_policy, tmp_path):
    (demo_copy / "models" / "raising.pkl").write_bytes(pickle.dumps(RaisingModel()))
    policy = write_policy(NO_CONTRACT.replace("credit_model.skops", "raising.pkl"))
    result = run_check(policy, tmp_path / "out", "--trust-model")
    assert_could_not_run(result, tmp_path / "out", "raising.pkl", "failed to predict", "model server unavailable")


def test_pickle_without_trust(demo_copy, write_policy, tmp_path):
    (demo_copy / "models" / "raising.pkl").write_bytes(pickle.dumps(RaisingModel()))
    policy = write_policy(NO_CONTRACT.replace("credit_model.skops", "raising.pkl"))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "raising.pkl", "not trusted")


def test_prediction_labels_the_target_does_not_have(demo_copy, write_policy, tmp_path):
    frame = credit(demo_copy).assign(vendor=lambda f: np.where(f.index % 2, "approve", "decline"))
    text = NO_CONTRACT.replace("  path: models/credit_model.skops\n", "  predictions: {label: vendor}\n")
    text = text.split("rules:")[0] + "rules: []\n"
    policy = with_data(demo_copy, write_policy, frame, policy=text)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'vendor'", "approve")


def test_score_column_not_numeric(demo_copy, write_policy, tmp_path):
    frame = credit(demo_copy).assign(vendor=lambda f: f["credit_risk"], score="high")
    text = NO_CONTRACT.replace("  path: models/credit_model.skops\n", "  predictions: {label: vendor, score: score}\n")
    policy = with_data(demo_copy, write_policy, frame, policy=text.split("rules:")[0] + "rules: []\n")
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "'score'", "not numeric")


# ------------------------------------------------------------------ contracts and outputs

@pytest.mark.parametrize(("text", "needle"), [
    ("columns: [", "malformed YAML"),
    ("not: a schema\n", "not a pandera YAML schema"),
    ("schema_type: dataframe\ncolumns:\n  age:\n    dtype: no_such_type\n", "invalid pandera schema"),
])
def test_invalid_contract(demo_copy, write_policy, tmp_path, text, needle):
    (demo_copy / "schemas" / "german_credit.yaml").write_text(text)
    result = run_check(write_policy(MINIMAL_POLICY), tmp_path / "out")
    assert_could_not_run(result, tmp_path / "out", "german_credit.yaml", needle)


def test_output_folder_is_a_file(write_policy, tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    result = run_check(write_policy(NO_CONTRACT), blocker)
    assert result.exit_code == 2 and "Error: " in result.stderr and "--out" in result.stderr
    assert blocker.read_text() == "not a folder"


def test_contract_violations_are_findings_not_errors(demo_copy, write_policy, tmp_path):
    frame = credit(demo_copy)
    frame.loc[0, "sex"] = "<script>alert(1)</script>"
    frame.loc[1, "age"] = 250
    policy = with_data(demo_copy, write_policy, frame, policy=MINIMAL_POLICY)
    result = run_check(policy, tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert (tmp_path / "out" / "report.html").exists()
