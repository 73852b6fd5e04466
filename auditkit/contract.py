"""Data contracts: pandera YAML schemas, validated lazily so every violation is collected."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ContractError

__all__ = ["COMPARISONS", "ContractResult", "Violation", "check_label", "column_is_plain", "load_contract",
           "plain_value", "schema_is_plain", "schema_violation", "validate"]

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Violation:
    """One failed check of the contract: where, which check, how often, a few bad values."""

    column: str | None
    check: str
    failure_count: int
    examples: tuple[Any, ...] = ()
    rows: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return {"column": self.column, "check": self.check, "failure_count": self.failure_count,
                "examples": list(self.examples), "rows": list(self.rows)}


@dataclass(frozen=True)
class ContractResult:
    """The outcome of validating a table against a contract. Violations are findings, not errors."""

    violations: tuple[Violation, ...]
    rows: int
    contract: str | None = None
    columns_checked: tuple[str, ...] = field(default=())
    #: Columns of the contract left out of this run: the target while its labels are pending.
    not_checked: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def total_failures(self) -> int:
        return sum(v.failure_count for v in self.violations)

    def failures_in(self, column: str | None) -> int:
        if column is None:
            return self.total_failures
        return sum(v.failure_count for v in self.violations if v.column == column)

    @property
    def failure_cases(self):
        """Violations as a pandas DataFrame (one row per column and check)."""
        import pandas as pd

        return pd.DataFrame([v.to_dict() for v in self.violations],
                            columns=["column", "check", "failure_count", "examples", "rows"])

    def to_dict(self) -> dict:
        return {"passed": self.passed, "contract": self.contract, "rows": self.rows,
                "columns_checked": list(self.columns_checked),
                "total_failures": self.total_failures,
                "violations": [v.to_dict() for v in self.violations],
                **({"not_checked": list(self.not_checked)} if self.not_checked else {})}

    def _repr_html_(self) -> str:
        from html import escape

        if self.passed:
            return f"<p><strong>Contract holds</strong> on {self.rows} rows.</p>"
        rows = "".join(
            f"<tr><td>{escape(str(v.column))}</td><td>{escape(v.check)}</td><td>{v.failure_count}</td>"
            f"<td>{escape(', '.join(map(str, v.examples)))}</td></tr>" for v in self.violations)
        return ("<table><caption>Contract violations</caption><tr><th>column</th><th>check</th>"
                f"<th>failures</th><th>examples</th></tr>{rows}</table>")


def load_contract(path: str | Path):
    """Load a pandera YAML schema, turning every way it can be broken into a ContractError."""
    from .inputs import read_capped

    path = Path(path)
    raw = read_capped(path, kind="contract", what="the contract file", error=ContractError,
                      hint="check data.contract in the policy or --contract")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ContractError(f"{path}: is not UTF-8 text; save the contract as UTF-8 YAML.") from None
    document = _parse_contract_yaml(text, path)
    if not isinstance(document, dict) or "columns" not in document:
        raise ContractError(f"{path}: is not a pandera YAML schema (expected a mapping with 'schema_type' and 'columns'); draft one with 'audit schema infer'.")
    try:
        from pandera.io.pandas_io import deserialize_schema

        # The document parsed above, never the text: pandera's from_yaml would first try to
        # open the text as a file name, and would parse it again without auditkit's limits.
        return deserialize_schema(document)
    except Exception as exc:  # pandera raises assorted types for a bad schema
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ContractError(f"{path}: invalid pandera schema ({reason}); fix the contract.") from None


#: A contract lists each column with a handful of checks: a few values per column.
CONTRACT_MAX_VALUES = 2_000_000


def _parse_contract_yaml(text: str, path: Path):
    """The contract's YAML, read strictly (duplicate keys, alias bombs and tags are errors)."""
    from .yaml_loader import load_yaml

    return load_yaml(text, path, ContractError, max_nodes=CONTRACT_MAX_VALUES)


def validate(df, contract, *, contract_name: str | None = None) -> ContractResult:
    """Validate a DataFrame against a contract, collecting every violation.

    The common built-in checks (dtype, nullability, uniqueness, ranges and comparisons,
    ``isin``/``notin``, ``str_matches``, column presence, ``strict``) are evaluated directly
    with vectorised pandas/numpy operations, so a million rows take a fraction of a second
    and memory stays bounded however many rows fail. Columns using anything else (custom
    checks, ``coerce``, regex column names, ...) and schemas with dataframe-level options
    are validated by pandera itself; the violations have the same column, check name and
    failure count either way.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    contract : str, Path or pandera.DataFrameSchema
        A pandera YAML file or a schema object.
    contract_name : str, optional
        How the contract is named in the result (defaults to the file path).

    Returns
    -------
    ContractResult
        ``passed`` is False when any check fails; the violations say where and how.

    Raises
    ------
    ContractError
        The contract cannot be loaded or cannot be applied to the data at all.
    """
    if isinstance(contract, (str, Path)):
        contract_name = contract_name or str(contract)
        schema = load_contract(contract)
    else:
        schema = contract
    try:
        if schema_is_plain(schema):
            violations = _fast_validate(df, schema)
        else:
            violations = _pandera_violations(df, schema)
    except ContractError:
        raise
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ContractError(f"{contract_name or 'contract'}: could not be applied to the data ({reason}); check the contract's dtypes and checks.") from None
    columns = tuple(str(c) for c in getattr(schema, "columns", {}) or {})
    return ContractResult(violations=violations, rows=len(df), contract=contract_name, columns_checked=columns)


def _pandera_violations(df, schema) -> tuple[Violation, ...]:
    """Plain pandera lazy validation, its failure cases summarised into violations."""
    import pandera.errors as pa_errors

    try:
        schema.validate(df, lazy=True)
    except pa_errors.SchemaErrors as exc:
        return _violations_from(exc.failure_cases)
    except pa_errors.SchemaError as exc:  # raised instead of SchemaErrors for some schema-level failures
        return (Violation(column=getattr(exc.schema, "name", None), check=str(exc.check or "schema"),
                          failure_count=1, examples=(plain_value(exc.failure_cases),) if exc.failure_cases is not None else ()),)
    return ()


# ---------------------------------------------------------------- fast path
#
# Only what pandera's pandas backend does for these checks is reproduced here, operation
# for operation (``Series.isin``, ``Series >= value``, ``Series.str.match(na=False)``,
# ``Series.duplicated``), so the failure counts are pandera's. tests/test_contract.py
# compares them against ``SchemaErrors.failure_cases`` on corrupted data.

COMPARISONS = {
    "greater_than": ("min_value", "gt"),
    "greater_than_or_equal_to": ("min_value", "ge"),
    "less_than": ("max_value", "lt"),
    "less_than_or_equal_to": ("max_value", "le"),
    "equal_to": ("value", "eq"),
    "not_equal_to": ("value", "ne"),
}
# check name -> the statistics it must carry (a custom check reusing a built-in name goes to pandera)
_FAST_CHECKS = {**{name: {key} for name, (key, _) in COMPARISONS.items()},
                "in_range": {"min_value", "max_value"}, "isin": {"allowed_values"},
                "notin": {"forbidden_values"}, "str_matches": {"pattern"}}
_SCHEMA_DEFAULTS = {"dtype": None, "coerce": False, "ordered": False, "unique": None, "index": None,
                    "add_missing_columns": False, "drop_invalid_rows": False, "unique_column_names": False}
_EXAMPLE_SCAN = 1000  # failing rows scanned for distinct examples


def schema_is_plain(schema) -> bool:
    """True when no dataframe-level option needs pandera's own machinery."""
    if type(schema).__name__ != "DataFrameSchema" or not isinstance(getattr(schema, "columns", None), dict):
        return False
    if getattr(schema, "checks", None) or getattr(schema, "parsers", None):
        return False
    if getattr(schema, "strict", False) not in (True, False):  # "filter" drops columns
        return False
    return all(getattr(schema, key, default) == default for key, default in _SCHEMA_DEFAULTS.items())


def column_is_plain(column) -> bool:
    if column.coerce or column.regex or column.parsers or column.default is not None or column.drop_invalid_rows:
        return False
    for check in column.checks:
        if type(check).__name__ != "Check" or check.name not in _FAST_CHECKS:
            return False
        if not _FAST_CHECKS[check.name] <= set(check.statistics or {}):
            return False
        if check.groupby is not None or check.element_wise or check.raise_warning or check.n_failure_cases is not None:
            return False
    return True


def _fast_validate(df, schema) -> tuple[Violation, ...]:
    import pandas as pd

    out: list[Violation] = []
    declared = schema.columns
    if schema.strict is True:
        extra = [c for c in df.columns if c not in declared]
        if extra:
            out.append(schema_violation("column_in_schema", extra))
    missing = [name for name, col in declared.items() if col.required and name not in df.columns]
    if missing:
        out.append(schema_violation("column_in_dataframe", missing))

    slow = []
    for name, column in declared.items():
        if name not in df.columns:
            continue
        if not isinstance(df[name], pd.Series) or not column_is_plain(column):
            slow.append(name)
            continue
        series = df[name]
        if column.dtype is not None and not _dtype_matches(column, series):
            slow.append(name)  # pandera reports element-level cases for a wrong dtype
            continue
        try:
            column_out = _fast_column(series, column)
        except (TypeError, ValueError):  # e.g. a date compared with a number: pandera reports it
            column_out = None
        if column_out is None:
            slow.append(name)
        else:
            out.extend(column_out)
    if slow:
        import pandera.pandas as pa

        sub = pa.DataFrameSchema({name: declared[name] for name in slow})
        out.extend(_pandera_violations(df[slow], sub))
    position = {str(name): i for i, name in enumerate(declared)}
    return tuple(sorted(out, key=lambda v: -1 if v.column is None else position.get(v.column, len(position))))


def _dtype_matches(column, series) -> bool:
    import numpy as np
    from pandera.engines.pandas_engine import Engine

    result = column.dtype.check(Engine.dtype(series.dtype), series)
    if isinstance(result, (bool, np.bool_)):
        return bool(result)
    # Some dtypes (pandera's "str") answer element by element; any failing element means
    # pandera's element-level failure cases, so the column goes to pandera.
    return bool(np.asarray(result, dtype=bool).all())


def _fast_column(series, column) -> list[Violation] | None:
    """Violations of one column, or None when a check cannot be evaluated here."""
    import numpy as np

    name = str(column.name)
    out = []
    isna = series.isna().to_numpy(dtype=bool)
    any_na = bool(isna.any())
    if not column.nullable and any_na:
        out.append(_violation(name, "not_nullable", series, isna))
    if column.unique:
        from pandera.backends.utils import convert_uniquesettings

        keep = convert_uniquesettings(column.report_duplicates)
        dup = series.duplicated(keep=keep).to_numpy(dtype=bool)
        dup = dup & ~isna  # pandera drops null duplicates from the failure cases
        if dup.any():
            out.append(_violation(name, "field_uniqueness", series, dup))
    numeric = _is_comparable(series)
    for check in column.checks:
        stats = check.statistics
        kind = check.name
        if kind in COMPARISONS or kind == "in_range":
            if not numeric:
                return None
            if kind == "in_range":
                low = series >= stats["min_value"] if stats.get("include_min", True) else series > stats["min_value"]
                high = series <= stats["max_value"] if stats.get("include_max", True) else series < stats["max_value"]
                ok = low & high
            else:
                key, op = COMPARISONS[kind]
                ok = getattr(series, op)(stats[key])
        elif kind in ("isin", "notin"):
            allowed = stats["allowed_values" if kind == "isin" else "forbidden_values"]
            ok = series.isin(allowed)
            if kind == "notin":
                ok = ~ok
        elif kind == "str_matches":
            if not _is_text(series):
                return None
            ok = series.str.match(stats["pattern"], na=False)
        else:  # pragma: no cover - filtered by column_is_plain
            return None
        # A masked (nullable-dtype) comparison gives <NA> for a null; pandera selects failures
        # with ``data[~output]``, which skips <NA>, so a null never fails a comparison here.
        bad = ~np.asarray(ok.to_numpy(dtype=bool, na_value=True), dtype=bool)
        if check.ignore_na and any_na:
            bad = bad & ~isna
        if bad.any():
            out.append(_violation(name, check_label(check), series, bad))
    return out


def _is_comparable(series) -> bool:
    from pandas.api import types

    return (types.is_numeric_dtype(series.dtype) or types.is_datetime64_any_dtype(series.dtype)
            or types.is_timedelta64_dtype(series.dtype)) and not types.is_object_dtype(series.dtype)


def _is_text(series) -> bool:
    from pandas.api import types

    return types.is_string_dtype(series.dtype) and not types.is_object_dtype(series.dtype)


def check_label(check) -> str:
    return check.error if check.error is not None else check.name


def schema_violation(check: str, names: list) -> Violation:
    return Violation(column=None, check=check, failure_count=len(names),
                     examples=tuple(plain_value(n) for n in names[:MAX_EXAMPLES]))


def _violation(column: str, check: str, series, bad) -> Violation:
    """A violation from a boolean mask of failing rows; only a few rows become Python objects."""
    import numpy as np

    count = int(np.count_nonzero(bad))
    positions = np.flatnonzero(bad)[:_EXAMPLE_SCAN]
    sample = series.iloc[positions]
    examples: list = []
    for value in sample.drop_duplicates().head(MAX_EXAMPLES).tolist():
        plain = plain_value(value)
        if plain not in examples:
            examples.append(plain)
    labels = series.index[positions[:MAX_EXAMPLES]]
    rows = tuple(int(i) if isinstance(i, (int, np.integer)) else int(p) for i, p in zip(labels, positions[:MAX_EXAMPLES]))
    return Violation(column=column, check=check, failure_count=count, examples=tuple(examples), rows=rows)


def _violations_from(failure_cases) -> tuple[Violation, ...]:
    out = []
    cases = failure_cases.copy()
    cases["column"] = cases["column"].astype(object).where(cases["column"].notna(), None)
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        values = []
        for value in group["failure_case"]:
            plain = plain_value(value)
            if plain not in values:
                values.append(plain)
            if len(values) >= MAX_EXAMPLES:
                break
        rows = [int(i) for i in group["index"].dropna().head(MAX_EXAMPLES)] if "index" in group else []
        out.append(Violation(column=None if column is None or _isnan(column) else str(column), check=str(check),
                             failure_count=int(len(group)), examples=tuple(values), rows=tuple(rows)))
    return tuple(out)


def _isnan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def plain_value(value):
    """JSON-safe scalar for a failure example."""
    if value is None:
        return None
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, (int, bool, str)):
        return value
    return str(value)
