"""Data contracts: pandera YAML schemas, validated lazily so every violation is collected."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ContractError

__all__ = ["ContractResult", "Violation", "load_contract", "validate"]

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
                "violations": [v.to_dict() for v in self.violations]}

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
    path = Path(path)
    if not path.exists():
        raise ContractError(f"{path}: contract file not found; check data.contract in the policy or --contract.")
    if path.is_dir():
        raise ContractError(f"{path}: is a folder; give the path of a pandera YAML contract.")
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        document = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise ContractError(f"{path}: is not UTF-8 text; save the contract as UTF-8 YAML.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ContractError(f"{path}: malformed YAML{where}; fix the contract's syntax.") from None
    if not isinstance(document, dict) or "columns" not in document:
        raise ContractError(f"{path}: is not a pandera YAML schema (expected a mapping with 'schema_type' and 'columns'); draft one with 'audit schema infer'.")
    try:
        from pandera.pandas import DataFrameSchema

        return DataFrameSchema.from_yaml(text)
    except Exception as exc:  # pandera raises assorted types for a bad schema
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ContractError(f"{path}: invalid pandera schema ({reason}); fix the contract.") from None


def validate(df, contract, *, contract_name: str | None = None) -> ContractResult:
    """Validate a DataFrame against a contract, collecting every violation.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    contract : str, Path or pandera.DataFrameSchema
        A pandera YAML file or a schema object.

    Returns
    -------
    ContractResult
        ``passed`` is False when any check fails; the violations say where and how.
    """
    import pandera.errors as pa_errors

    if isinstance(contract, (str, Path)):
        contract_name = contract_name or str(contract)
        schema = load_contract(contract)
    else:
        schema = contract
    try:
        schema.validate(df, lazy=True)
        violations: tuple[Violation, ...] = ()
    except pa_errors.SchemaErrors as exc:
        violations = _violations_from(exc.failure_cases)
    except pa_errors.SchemaError as exc:  # raised instead of SchemaErrors for some schema-level failures
        violations = (Violation(column=getattr(exc.schema, "name", None), check=str(exc.check or "schema"),
                                failure_count=1, examples=(_plain(exc.failure_cases),) if exc.failure_cases is not None else ()),)
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ContractError(f"{contract_name or 'contract'}: could not be applied to the data ({reason}); check the contract's dtypes and checks.") from None
    columns = tuple(str(c) for c in getattr(schema, "columns", {}) or {})
    return ContractResult(violations=violations, rows=len(df), contract=contract_name, columns_checked=columns)


def _violations_from(failure_cases) -> tuple[Violation, ...]:
    out = []
    cases = failure_cases.copy()
    cases["column"] = cases["column"].astype(object).where(cases["column"].notna(), None)
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        values = []
        for value in group["failure_case"]:
            plain = _plain(value)
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


def _plain(value):
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
