"""Contracts on Spark: the same YAML file gives the same violations as ``auditkit.contract.validate``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyspark")

from auditkit.contract import validate  # noqa: E402

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "german_credit.yaml"


def _summary(result):
    return [(v.column, v.check, v.failure_count) for v in result.violations]


@pytest.fixture(scope="module")
def corrupted():
    from auditkit.demo import load_german_credit

    frame = load_german_credit()
    frame.loc[[3, 10, 11], "duration_months"] = [0, 500, -2]          # in_range
    frame.loc[[5, 6], "purpose"] = ["vacation", "vacation"]           # isin
    frame.loc[[7], "purpose"] = [None]                                 # not_nullable
    frame.loc[[8, 9, 12], "sex"] = ["unknown", None, "x"]             # isin + not_nullable
    frame["extra"] = 1                                                 # strict
    return frame


def test_clean_data_passes(spark):
    from auditkit.demo import load_german_credit
    from auditkit.spark import validate_spark

    frame = load_german_credit()
    result = validate_spark(spark.createDataFrame(frame), SCHEMA)
    assert validate(frame, SCHEMA).passed
    assert result.passed and result.rows == len(frame)


def test_same_violations_as_pandas(spark, corrupted):
    from auditkit.spark import validate_spark

    expected = validate(corrupted, SCHEMA)
    got = validate_spark(spark.createDataFrame(corrupted).repartition(2), SCHEMA)
    assert not got.passed
    assert _summary(got) == _summary(expected)
    for a, b in zip(got.violations, expected.violations):
        missing = {None, "NaN"}  # pandas shows a missing text value as None or NaN, by dtype
        assert {None if e in missing else e for e in a.examples} == {None if e in missing else e for e in b.examples}
    assert got.total_failures == expected.total_failures
    assert set(got.to_dict()) == set(expected.to_dict())


def test_missing_column_dtype_and_uniqueness(spark, tmp_path):
    import pandas as pd

    from auditkit.spark import validate_spark

    contract = tmp_path / "c.yaml"
    contract.write_text(
        "schema_type: dataframe\nversion: 0.35.0\ncolumns:\n"
        "  id:\n    dtype: int64\n    unique: true\n    nullable: false\n"
        "  score:\n    dtype: float64\n    nullable: true\n    in_range: {min_value: 0, max_value: 1}\n"
        "  code:\n    dtype: str\n    nullable: false\n    unique: true\n    str_matches: '^[A-Z]{2}\\d+$'\n"
        "  gone:\n    dtype: int64\n    required: true\n",
        encoding="utf-8",
    )
    frame = pd.DataFrame({"id": [1, 2, 2, 3, 3, 3], "score": [0.1, np.nan, 1.5, -0.2, 0.5, 0.9],
                          "code": ["AB1", "ab2", "XY22", "Q", "AB1", None]})
    expected = validate(frame, contract)
    got = validate_spark(spark.createDataFrame(frame), contract)
    assert _summary(got) == _summary(expected)
    wrong = frame.assign(id=frame["id"].astype(str))
    got = validate_spark(spark.createDataFrame(wrong), contract)
    assert ("id", "dtype('int64')", 1) in _summary(got)


def test_unsupported_check_is_a_contract_error(spark, tmp_path):
    import pandas as pd

    from auditkit.errors import ContractError
    from auditkit.spark import validate_spark

    contract = tmp_path / "c.yaml"
    contract.write_text("schema_type: dataframe\ncolumns:\n  a:\n    dtype: int64\n    coerce: true\n",
                        encoding="utf-8")
    with pytest.raises(ContractError, match="Spark engine does not evaluate"):
        validate_spark(spark.createDataFrame(pd.DataFrame({"a": [1]})), contract)
