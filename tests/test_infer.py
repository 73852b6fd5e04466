"""Contract inference: the draft loads, validates its own data, and says what it inferred."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.contract import load_contract, validate
from auditkit.demo import load_german_credit
from auditkit.errors import DataError
from auditkit.infer import infer_contract


def _round_trip(tmp_path, frame, **options):
    text = infer_contract(frame, **options)
    path = tmp_path / "contract.yaml"
    path.write_text(text, encoding="utf-8")
    return text, load_contract(path), path


def test_german_credit_draft_validates_its_data(tmp_path):
    credit = load_german_credit()
    text, schema, path = _round_trip(tmp_path, credit, source="credit.csv")
    assert validate(credit, path).passed
    assert schema.strict is True and schema.name == "credit"
    age = schema.columns["age"]
    assert str(age.dtype) == "int64" and not age.nullable
    [check] = age.checks
    assert check.name == "in_range"
    assert (check.statistics["min_value"], check.statistics["max_value"]) == (credit["age"].min(), credit["age"].max())
    sex = schema.columns["sex"]
    assert sex.checks[0].name == "isin" and sorted(sex.checks[0].statistics["allowed_values"]) == ["female", "male"]
    # every column has a comment a person can read right above it
    for column in credit.columns:
        before = text.split(f"\n  {column}:\n")[0].splitlines()[-1]
        assert before.startswith("  # "), column


def test_draft_catches_what_it_did_not_see(tmp_path):
    credit = load_german_credit()
    _, _, path = _round_trip(tmp_path, credit)
    bad = credit.copy()
    bad.loc[0, "age"] = 200
    bad.loc[1, "purpose"] = "yacht"
    bad["surprise"] = 1
    checks = {(v.column, v.check.split("(")[0]) for v in validate(bad, path).violations}
    assert checks == {("age", "in_range"), ("purpose", "isin"), (None, "column_in_schema")}


def test_nullability_uniqueness_and_cardinality(tmp_path):
    rows = 120
    frame = pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + rows) * 7,    # distinct, id-like name
        "row": np.arange(rows),                            # distinct consecutive integers
        "amount": np.linspace(0.5, 99.5, rows),            # distinct, but not an id
        "score": np.where(np.arange(rows) % 10 == 0, np.nan, 0.5),
        "colour": pd.array(["red", "green", None] * 40, dtype="str"),
        "name": pd.array([f"person {i}" for i in range(rows)], dtype="str"),
        "flag": [True, False] * 60,
        "when": pd.date_range("2024-01-01", periods=rows, freq="D"),
        "utc": pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC").as_unit("us"),
        "took": pd.to_timedelta(np.arange(rows), unit="s"),
        "grade": pd.Categorical(["a", "b", "c"] * 40),
        "count": pd.array([1, None] * 60, dtype="Int64"),
        "mixed": [1, "a"] * 60,
    })
    text, schema, path = _round_trip(tmp_path, frame, max_categories=5)
    assert validate(frame, path).passed
    cols = schema.columns
    assert cols["customer_id"].unique and cols["row"].unique and not cols["amount"].unique
    assert not cols["name"].unique and not cols["name"].checks  # 120 values: no allowed list
    assert cols["score"].nullable and not cols["amount"].nullable
    assert cols["colour"].nullable and cols["colour"].checks[0].statistics["allowed_values"] == ["green", "red"]
    assert str(cols["flag"].dtype) == "bool" and str(cols["count"].dtype) == "Int64"
    assert cols["grade"].checks[0].statistics["allowed_values"] == ["a", "b", "c"]
    assert cols["mixed"].dtype is None
    assert str(cols["utc"].dtype) == "datetime64[us, UTC]" and "timedelta" in str(cols["took"].dtype)
    assert "too many for an allowed list" in text and "looks like an id" in text


def test_placeholders_and_padding_are_noted_but_accepted(tmp_path):
    frame = pd.DataFrame({"job": pd.array([" clerk", " ?", " nurse", " clerk"] * 10, dtype="str")})
    text, _, path = _round_trip(tmp_path, frame)
    assert validate(frame, path).passed
    assert "NOTE: ' ?' occurs 10 times and looks like a placeholder" in text
    assert "start or end with spaces" in text


def test_comments_do_not_change_the_schema(tmp_path):
    credit = load_german_credit()
    text = infer_contract(credit)
    stripped = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert yaml.safe_load(text) == yaml.safe_load(stripped)


@pytest.mark.parametrize("frame, words", [
    (pd.DataFrame({"a": []}), "no rows"),
    (pd.DataFrame(index=range(3)), "no columns"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicate column"),
])
def test_unusable_frames(frame, words):
    with pytest.raises(DataError, match=words):
        infer_contract(frame, source="data.csv")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ints=st.lists(st.integers(-10**9, 10**9), min_size=1, max_size=30),
    texts=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", " c", "?", "d'e", "yes", "1", "é"])), min_size=1, max_size=30),
    floats=st.lists(st.one_of(st.none(), st.floats(allow_nan=False, width=32)), min_size=1, max_size=30),
)
def test_any_draft_validates_its_own_data(tmp_path, ints, texts, floats):
    rows = min(len(ints), len(texts), len(floats))
    frame = pd.DataFrame({
        "i": np.array(ints[:rows], dtype="int64"),
        "t": pd.array(texts[:rows], dtype="str"),
        "f": np.array([np.nan if v is None else v for v in floats[:rows]], dtype="float64"),
    })
    _, _, path = _round_trip(tmp_path, frame)
    assert validate(frame, path).passed


def test_data_contract_modules_import_lightly():
    """`audit --help` stays instant: these modules import pandas, pandera, yaml only when used."""
    import subprocess
    import sys

    code = ("import sys, auditkit.contract, auditkit.infer, auditkit.drift, auditkit.data_bias, auditkit.scaffold; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pandera', 'scipy', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
