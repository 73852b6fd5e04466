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


# ---------------------------------------------------------------- fast path == pandera


def _pandera_counts(frame, schema) -> dict:
    """(column, check) -> failure count, from pandera's own lazy validation."""
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        sizes = exc.failure_cases.groupby(["column", "check"], dropna=False).size()
        return {(None if pd.isna(c) else c, str(k)): int(n) for (c, k), n in sizes.items()}
    return {}


def _auditkit_counts(frame, schema) -> dict:
    return {(v.column, v.check): v.failure_count for v in validate(frame, schema).violations}


def _mixed_schema():
    import pandera.pandas as pa

    return pa.DataFrameSchema({
        "id": pa.Column("int64", pa.Check.ge(0), unique=True),
        "age": pa.Column("int64", pa.Check.in_range(18, 99, include_min=False)),
        "score": pa.Column("float64", [pa.Check.gt(0.0), pa.Check.lt(1.0)], nullable=True),
        "strict_na": pa.Column("float64", pa.Check.le(5.0, ignore_na=False), nullable=True),
        "level": pa.Column("int64", [pa.Check.eq(1), pa.Check.ne(2)], required=False),
        "colour": pa.Column("str", pa.Check.isin(["red", "green", "blue"])),
        "banned": pa.Column("str", pa.Check.notin(["x", "y"]), nullable=True),
        "code": pa.Column("str", pa.Check.str_matches(r"^[A-Z]{2}\d+$"), unique=True, report_duplicates="exclude_first"),
        "when": pa.Column("datetime64[ns]", pa.Check.ge(pd.Timestamp("2020-01-01")), nullable=True),
    }, strict=True)


def _mixed_frame(rows: int, rng) -> pd.DataFrame:
    return pd.DataFrame({
        "id": np.arange(rows, dtype="int64"),
        "age": rng.integers(19, 99, rows),
        "score": rng.uniform(0.01, 0.99, rows),
        "strict_na": rng.uniform(0, 5, rows),
        "level": np.ones(rows, dtype="int64"),
        "colour": pd.array(rng.choice(["red", "green", "blue"], rows), dtype="str"),
        "banned": pd.array(rng.choice(["a", "b"], rows), dtype="str"),
        "code": pd.array([f"AB{i}" for i in range(rows)], dtype="str"),
        "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1000, rows), unit="D"),
    })


def _corrupt(frame: pd.DataFrame, rng) -> pd.DataFrame:
    bad = frame.copy()
    rows = len(bad)

    def some():
        return rng.choice(rows, size=int(rng.integers(0, rows // 3 + 1)), replace=False)

    bad.loc[some(), "id"] = 7
    bad.loc[some(), "age"] = rng.choice([18, 100, -3])
    bad.loc[some(), "score"] = rng.choice([0.0, 1.0, np.nan, 5.0])
    bad.loc[some(), "strict_na"] = rng.choice([np.nan, 6.0])
    bad.loc[some(), "level"] = rng.choice([2, 3])
    bad.loc[some(), "colour"] = rng.choice(["RED", "purple"])
    bad.loc[some(), "colour"] = None
    bad.loc[some(), "banned"] = rng.choice(["x", "y", None])
    bad.loc[some(), "code"] = rng.choice(["AB1", "ab2", "A"])
    bad.loc[some(), "when"] = rng.choice([pd.Timestamp("2019-05-01"), pd.NaT])
    return bad


@pytest.mark.parametrize("seed", range(12))
def test_fast_path_counts_equal_pandera_failure_cases(seed):
    rng = np.random.default_rng(seed)
    schema = _mixed_schema()
    bad = _corrupt(_mixed_frame(200, rng), rng)
    if seed % 3 == 0:
        bad = bad.drop(columns=["level"]).assign(extra=1)
    if seed % 4 == 1:
        bad = bad.drop(columns=["colour"])
    expected = _pandera_counts(bad, schema)
    assert expected, "the corruption should break something"
    assert _auditkit_counts(bad, schema) == expected


def test_fallback_columns_match_pandera():
    """Custom checks, coerce and a wrong dtype go to pandera for that column only."""
    import pandera.pandas as pa

    schema = pa.DataFrameSchema({
        "even": pa.Column("int64", pa.Check(lambda s: s % 2 == 0, name="is_even")),
        "coerced": pa.Column("int64", pa.Check.ge(0), coerce=True),
        "wrong_dtype": pa.Column("int64", pa.Check.ge(0), nullable=True),
        "text_range": pa.Column(None, pa.Check.in_range(0, 10)),
        "fast": pa.Column("int64", pa.Check.le(3)),
    })
    frame = pd.DataFrame({
        "even": [1, 2, 3, 4], "coerced": ["1", "-2", "3", "4"], "wrong_dtype": [1.0, np.nan, -1.0, 2.5],
        "text_range": pd.array(["a", "b", "c", "d"], dtype="str"), "fast": [1, 5, 6, 2],
    })
    expected = _pandera_counts(frame, schema)
    assert {c for c, _ in expected} == {"even", "coerced", "wrong_dtype", "text_range", "fast"}
    assert _auditkit_counts(frame, schema) == expected


def test_every_row_failing_stays_bounded():
    import json

    import pandera.pandas as pa

    rows = 200_000
    schema = pa.DataFrameSchema({
        "n": pa.Column("int64", pa.Check.in_range(0, 10)),
        "c": pa.Column("str", pa.Check.isin(["a"])),
        "u": pa.Column("int64", unique=True),
    })
    frame = pd.DataFrame({"n": np.arange(rows) + 100, "c": pd.array(["b"] * rows, dtype="str"),
                          "u": np.zeros(rows, dtype="int64")})
    result = validate(frame, schema)
    counts = {(v.column, v.check.split("(")[0]): v.failure_count for v in result.violations}
    assert counts == {("n", "in_range"): rows, ("c", "isin"): rows, ("u", "field_uniqueness"): rows}
    assert all(len(v.examples) <= 5 and len(v.rows) <= 5 for v in result.violations)
    assert len(json.dumps(result.to_dict())) < 2000


def test_nan_and_inf_examples_are_json_safe():
    import json

    import pandera.pandas as pa

    schema = pa.DataFrameSchema({"x": pa.Column("float64", pa.Check.le(1.0), nullable=False)})
    result = validate(pd.DataFrame({"x": [np.nan, np.inf, -np.inf, 2.0]}), schema)
    found = {v.check: v for v in result.violations}
    assert found["not_nullable"].failure_count == 1 and found["not_nullable"].examples == ("NaN",)
    assert found["less_than_or_equal_to(1.0)"].failure_count == 2
    json.dumps(result.to_dict(), allow_nan=False)


def _edge_cases():
    import pandera.pandas as pa

    return [
        (pd.DataFrame({"x": pd.array([1, None, 5, -1], dtype="Int64")}),
         pa.Column("Int64", [pa.Check.ge(0, ignore_na=False), pa.Check.in_range(0, 3)], nullable=True)),
        (pd.DataFrame({"x": pd.Categorical(["a", "b", None, "z"])}), pa.Column(None, pa.Check.isin(["a", "b"]))),
        (pd.DataFrame({"x": pd.Series(["a", "b", None, "z"], dtype=object)}),
         pa.Column("str", [pa.Check.isin(["a", "b"]), pa.Check.str_matches("^[ab]")])),
        (pd.DataFrame({"x": [1.0, np.nan, np.nan, 2.0]}),
         pa.Column("float64", pa.Check.isin([1.0]), unique=True, nullable=True)),
        (pd.DataFrame({"x": pd.array(["a", "b", None, "z"], dtype="str")}),
         pa.Column("str", pa.Check.isin(["a", "b"], ignore_na=False), nullable=True)),
        (pd.DataFrame({"x": [True, False, True]}), pa.Column("bool", pa.Check.eq(True))),
        (pd.DataFrame({"x": [1, 2, 3]}), pa.Column("float64", pa.Check.ge(2))),
        (pd.DataFrame({"x": pd.to_datetime(["2020-01-01", "2021-01-01"])}), pa.Column(None, pa.Check.in_range(0, 10))),
        (pd.DataFrame({"x": [1, 2, 3]}), pa.Column("int64", pa.Check(lambda s: s < 2, name="isin"))),
    ]


@pytest.mark.parametrize("case", range(9))
def test_edge_dtypes_match_pandera(case):
    import pandera.pandas as pa

    frame, column = _edge_cases()[case]
    schema = pa.DataFrameSchema({"x": column})
    expected = _pandera_counts(frame, schema)
    assert expected
    assert _auditkit_counts(frame, schema) == expected
