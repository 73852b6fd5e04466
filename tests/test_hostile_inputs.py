"""Hostile data and contract files, command lines that talk the gate into exit 0, and what
shared outputs may contain. Each "could not run" case ends with exit 2, one ``Error:`` line
naming the file and the fix, no traceback, and no output files (docs/security.md)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from policies import MINIMAL_POLICY
from test_broken_inputs import NO_CONTRACT, assert_could_not_run, run_check, with_data


def _fifo(path):
    os.mkfifo(path)
    return path


# ------------------------------------------------------------------ special files as inputs

@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_data_path_that_is_not_a_regular_file(kind, demo_copy, write_policy, tmp_path):
    target = demo_copy / "data" / "data.csv"
    if kind == "fifo":
        _fifo(target)
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    policy = write_policy(NO_CONTRACT.replace("data/credit.csv", "data/data.csv"))
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / "out"), "--no-explain",
                                      "--data", str(target)])
    expected = {"fifo": "FIFO", "dev-zero": "device", "folder": "folder"}[kind]
    assert_could_not_run(result, tmp_path / "out", "data.csv", expected)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_contract_that_is_not_a_regular_file(kind, demo_copy, write_policy, tmp_path):
    contract = demo_copy / "schemas" / "german_credit.yaml"
    contract.unlink()
    _fifo(contract) if kind == "fifo" else contract.symlink_to("/dev/zero")
    policy = write_policy(MINIMAL_POLICY)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "german_credit.yaml",
                         "FIFO" if kind == "fifo" else "device")


def test_validate_command_refuses_a_fifo_contract(demo_copy, tmp_path):
    fifo = _fifo(tmp_path / "contract.yaml")
    result = CliRunner().invoke(cli, ["validate", str(demo_copy / "data" / "credit.csv"), "--contract", str(fifo)])
    assert result.exit_code == 2 and "FIFO" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_gzip_bomb_is_refused_before_it_fills_memory(demo_copy, write_policy, tmp_path):
    path = demo_copy / "data" / "bomb.csv.gz"
    header = (demo_copy / "data" / "credit.csv").read_text().splitlines()[0]
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write((header + "\n").encode())
        handle.write(b"\n" * (300 << 20))  # 300 MiB of blank lines: ~300 KiB on disk
    assert path.stat().st_size < 2 << 20
    policy = write_policy(NO_CONTRACT.replace("data/credit.csv", "data/bomb.csv.gz"))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "bomb.csv.gz", "inflates")


def test_parquet_bomb_is_refused_from_its_footer(demo_copy, write_policy, tmp_path):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = demo_copy / "data" / "bomb.parquet"
    pq.write_table(pa.table({"credit_risk": pa.array(np.zeros(60_000_000, dtype=np.int8))}), path, compression="zstd")
    assert path.stat().st_size < 1 << 20
    policy = write_policy(NO_CONTRACT.replace("data/credit.csv", "data/bomb.parquet"))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "bomb.parquet", "cells per byte")


def test_a_header_cell_longer_than_csv_allows(demo_copy, write_policy, tmp_path):
    blob = ("x" * 200_000 + ",y\n1,2\n").encode()
    policy = with_data(demo_copy, write_policy, blob)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "data.csv", "header")


@pytest.mark.parametrize("value", [["a", "b"], {"k": "v"}], ids=["list", "struct"])
def test_nested_column_as_sensitive_feature(value, demo_copy, write_policy, tmp_path):
    frame = pd.read_csv(demo_copy / "data" / "credit.csv")
    frame["sex"] = [value] * len(frame)
    policy = with_data(demo_copy, write_policy, frame, name="nested.parquet")
    kind = type(value).__name__ if isinstance(value, dict) else "ndarray"
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "nested.parquet", "'sex'",
                         "one category per row")
    assert kind  # parquet reads lists back as arrays and structs as dicts: both are refused


def test_contract_that_is_not_utf8(demo_copy, write_policy, tmp_path):
    (demo_copy / "schemas" / "german_credit.yaml").write_bytes("columns: {é: {}}".encode("latin-1"))
    assert_could_not_run(run_check(write_policy(MINIMAL_POLICY), tmp_path / "out"), tmp_path / "out",
                         "german_credit.yaml", "UTF-8")


def test_contract_text_naming_a_file_is_not_opened(demo_copy, write_policy, tmp_path):
    # pandera's from_yaml would try the text as a file name first; auditkit hands it the parsed document.
    (demo_copy / "schemas" / "german_credit.yaml").write_text("/dev/zero\n")
    assert_could_not_run(run_check(write_policy(MINIMAL_POLICY), tmp_path / "out"), tmp_path / "out",
                         "german_credit.yaml", "pandera YAML schema")


# ------------------------------------------------------------------ the command line

@pytest.mark.parametrize("seed", ["-1", "-5", "4294967296", "1e3", "x"])
def test_seed_outside_what_random_generators_take(seed, write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY)
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / "out"), "--seed", seed])
    assert result.exit_code == 2
    assert "--seed" in result.output and "internal error" not in result.output
    assert not (tmp_path / "out").exists()


def test_demo_with_a_negative_seed_builds_nothing(tmp_path):
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "d"), "--seed", "-5"])
    assert result.exit_code == 2 and "--seed" in result.output
    assert not (tmp_path / "d").exists()


def test_sys_exit_from_inside_the_audit_is_exit_2(write_policy, tmp_path, monkeypatch):
    """However code inside the audit ends the process, only auditkit's verdict may set exit 0."""
    def leave(*_args, **_kwargs):
        sys.exit(0)

    monkeypatch.setattr("auditkit.stages.gate.evaluate_rules", leave)
    result = run_check(write_policy(MINIMAL_POLICY), tmp_path / "out")
    assert_could_not_run(result, tmp_path / "out", "SystemExit")


class _Escape(BaseException):
    pass


def test_a_custom_base_exception_is_exit_2(write_policy, tmp_path, monkeypatch):
    def escape(*_args, **_kwargs):
        raise _Escape("\x1b[32m PASS")

    monkeypatch.setattr("auditkit.stages.gate.evaluate_rules", escape)
    result = run_check(write_policy(MINIMAL_POLICY), tmp_path / "out")
    assert_could_not_run(result, tmp_path / "out", "_Escape")
    assert "\x1b" not in result.output


def test_an_internal_error_message_is_one_escaped_line(write_policy, tmp_path, monkeypatch):
    def explode(*_args, **_kwargs):
        raise RuntimeError("line one\u2028line two\r\x1b[32m✔ PASS\n" + "x" * 5000)

    monkeypatch.setattr("auditkit.stages.gate.evaluate_rules", explode)
    result = run_check(write_policy(MINIMAL_POLICY), tmp_path / "out")
    assert_could_not_run(result, tmp_path / "out", "internal error")
    assert "\x1b" not in result.stderr and "\u2028" not in result.stderr and "\r" not in result.stderr
    assert len(result.stderr) < 800


def test_usage_errors_escape_what_was_typed(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "audit.yaml"), "--fail-on", "\x1b[32mPASS"])
    assert result.exit_code == 2 and "\x1b" not in result.output


# ------------------------------------------------------------------ what shared outputs hold

def test_outputs_carry_no_absolute_local_paths(demo_copy, write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(out), "--no-explain",
                                      "--data", str(demo_copy / "data" / "credit.csv")])
    assert result.exit_code in (0, 1), result.output
    for name in ("results.json", "report.html", "junit.xml", "summary.md"):
        text = (out / name).read_text()
        assert str(tmp_path) not in text and str(demo_copy) not in text, name
    results = json.loads((out / "results.json").read_text())
    provenance = results["provenance"]
    assert provenance["policy"]["path"] == "audit.yaml"
    assert provenance["data"]["path"] == "data/credit.csv"
    assert provenance["contract"]["path"] == "schemas/german_credit.yaml"
    assert provenance["model"]["path"] == "models/credit_model.skops"
    assert results["data"]["path"] == "data/credit.csv"


def test_the_recorded_command_shows_paths_relative_to_the_policy(tmp_path):
    from auditkit.paths import relative_command

    folder = tmp_path / "audit"
    line = f"audit check {folder}/audit.yaml --data={folder}/data/x.csv --model {tmp_path}/m.skops --seed 3"
    assert relative_command(line, folder) == "audit check audit.yaml --data=data/x.csv --model ../m.skops --seed 3"
    assert relative_command("audit check 'unbalanced", folder) == "audit check ''\"'\"'unbalanced'"


def test_paths_outside_the_policy_folder_are_relative_too(demo_copy, write_policy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "credit.csv").write_bytes((demo_copy / "data" / "credit.csv").read_bytes())
    policy = write_policy(MINIMAL_POLICY)
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / "out"), "--no-explain",
                                      "--data", str(elsewhere / "credit.csv")])
    assert result.exit_code in (0, 1), result.output
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["provenance"]["data"]["path"] == "../elsewhere/credit.csv"


def test_import_auditkit_and_validating_emit_no_third_party_warnings(demo_dir):
    code = ("import warnings; warnings.simplefilter('error')\n"
            "import auditkit, pandas as pd\n"
            f"auditkit.validate(pd.read_csv({str(demo_dir / 'data' / 'credit.csv')!r}), "
            f"{str(demo_dir / 'schemas' / 'german_credit.yaml')!r})\n"
            "print('quiet')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "quiet", run.stderr[-2000:]
    assert "Warning" not in run.stderr


# ------------------------------------------------------------------ contracts read strictly

@pytest.mark.parametrize("text, needle", [
    ("schema_type: dataframe\ncolumns:\n  age: {dtype: int64}\n  age: {dtype: str}\n", "twice"),
    ("a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
     "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\ncolumns: {}\n", "alias"),
    ("columns: !!python/object/apply:os.system ['touch /tmp/auditkit-pwned']\n", "tag"),
], ids=["duplicate column", "alias bomb", "python tag"])
def test_contract_yaml_tricks(text, needle, demo_copy, write_policy, tmp_path):
    (demo_copy / "schemas" / "german_credit.yaml").write_text(text)
    import time

    started = time.monotonic()
    result = run_check(write_policy(MINIMAL_POLICY), tmp_path / "out")
    assert time.monotonic() - started < 60
    assert_could_not_run(result, tmp_path / "out", "german_credit.yaml")
    assert needle in result.stderr.lower()


# ------------------------------------------------------------------ groups and thresholds

def test_a_reference_group_the_data_lacks_names_the_policy_key(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY.replace("  bootstrap: 200", "  bootstrap: 200\n  reference_groups: {sex: martian}"))
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", str(policy),
                         "fairness.reference_groups.sex", "'martian'")


def test_group_values_that_would_collide_in_an_intersection(demo_copy, write_policy, tmp_path):
    frame = pd.read_csv(demo_copy / "data" / "credit.csv")
    # ("a & b", "c") and ("a", "b & c") would both be written "a & b & c".
    frame["sex"] = ["a & b" if i % 2 else "a" for i in range(len(frame))]
    frame["age_group"] = ["c" if i % 2 else "b & c" for i in range(len(frame))]
    text = NO_CONTRACT.replace("sensitive_features: [sex, age_group]",
                               "sensitive_features: [sex, age_group]\nintersections: [[sex, age_group]]")
    policy = with_data(demo_copy, write_policy, frame, policy=text)
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "sex & age_group", "' & '")


def test_extreme_but_finite_thresholds_fail_cleanly(write_policy, tmp_path):
    text = MINIMAL_POLICY.replace("min: 0.5", "min: 1.0e+308") + (
        "  - {id: eo, metric: equalized_odds_difference, feature: sex, max: -1.0e+308}\n")
    result = run_check(write_policy(text), tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert result.stderr == "", result.stderr  # no matplotlib warnings about infinite positions
    assert "1e+308" in result.stdout and "000,000,000" not in result.stdout
