"""Contracts: violations in deliberately corrupted German Credit rows, checked against pandera."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.errors
import pytest

from auditkit.contract import load_contract, validate
from auditkit.demo import german_credit_contract, load_german_credit
from auditkit.errors import ContractError


@pytest.fixture(scope="module")
def credit():
    return load_german_credit()


@pytest.fixture(scope="module")
def contract_file(tmp_path_factory, credit):
    path = tmp_path_factory.mktemp("contract") / "german_credit.yaml"
    path.write_text(german_credit_contract(credit).to_yaml())
    return path


def test_clean_data_holds(credit, contract_file):
    result = validate(credit, contract_file)
    assert result.passed and result.total_failures == 0 and result.rows == 1000


def test_corrupted_rows_are_all_found(credit, contract_file):
    bad = credit.copy()
    bad["age"] = bad["age"].astype("int64")
    bad.loc[[3, 10, 11], "age"] = [200, -1, 150]
    bad.loc[[5, 6], "sex"] = ["unknown", "MALE"]
    bad.loc[[7], "purpose"] = [None]
    bad.loc[[8, 9], "credit_amount"] = [0, 0]
    result = validate(bad, contract_file)
    found = {(v.column, v.check.split("(")[0]): v for v in result.violations}
    assert found[("age", "in_range")].failure_count == 3
    assert sorted(found[("age", "in_range")].examples) == [-1, 150, 200]
    assert found[("sex", "isin")].failure_count == 2
    assert set(found[("sex", "isin")].examples) == {"unknown", "MALE"}
    assert found[("credit_amount", "in_range")].failure_count == 2
    assert ("purpose", "not_nullable") in found

    # Independent reference: pandera's own lazy validation reports the same cases.
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        load_contract(contract_file).validate(bad, lazy=True)
    cases = info.value.failure_cases
    assert result.total_failures == len(cases)
    for (column, check), v in found.items():
        reference = cases[(cases["column"] == column) & cases["check"].str.startswith(check)]
        assert v.failure_count == len(reference)


def test_missing_and_extra_columns(credit, contract_file):
    frame = credit.drop(columns=["age"]).assign(surprise=1)
    result = validate(frame, contract_file)
    checks = {(v.column, v.check) for v in result.violations}
    assert any(c == "column_in_dataframe" for _, c in checks)
    assert any(c == "column_in_schema" for _, c in checks)


def test_examples_are_capped_and_json_safe(credit, contract_file):
    bad = credit.copy()
    bad["age"] = bad["age"].astype(float)
    bad.loc[:, "age"] = np.inf
    result = validate(bad, contract_file)
    for violation in result.violations:
        assert len(violation.examples) <= 5
    import json

    json.dumps(result.to_dict(), allow_nan=False)


def test_failure_cases_frame(credit, contract_file):
    bad = credit.copy()
    bad.loc[0, "sex"] = "x"
    frame = validate(bad, contract_file).failure_cases
    assert isinstance(frame, pd.DataFrame) and list(frame["column"]) == ["sex"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("columns: [unclosed", "malformed YAML"),
        ("just: a mapping\n", "is not a pandera YAML schema"),
        ("schema_type: dataframe\ncolumns:\n  a:\n    dtype: not_a_dtype\n", "invalid pandera schema"),
    ],
)
def test_invalid_contract_is_a_contract_error(tmp_path, text, words):
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    with pytest.raises(ContractError) as info:
        load_contract(path)
    assert words in info.value.message and str(path) in info.value.message


def test_committed_example_contract_matches_the_demo(credit):
    from pathlib import Path

    committed = Path(__file__).resolve().parents[1] / "schemas" / "german_credit.yaml"
    assert committed.read_text() == german_credit_contract(credit).to_yaml()
