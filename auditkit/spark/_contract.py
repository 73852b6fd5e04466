"""Contracts on Spark: the same pandera YAML file, violations in the same shape.

The contract is loaded with pandera (``auditkit.contract.load_contract``), exactly as on
one machine. pandera's own PySpark backend (``pandera.pyspark``) reports *whether* each
check failed, not how many rows failed it, so its report cannot give the
``failure_count`` the pandas path reports. The same built-in checks the pandas fast path
evaluates itself -- dtype, nullable, unique, ``in_range``, the comparisons, ``isin``,
``notin``, ``str_matches``, column presence and ``strict`` -- are therefore turned into
Spark column expressions and counted in **one aggregation**; a few distinct failing
values per failed check are then fetched (at most five each). Anything else (custom
checks, ``coerce``, regex column names, dataframe-level checks) is a ContractError that
says so. Row positions are not reported (a Spark table has no row order).
"""

from __future__ import annotations

from pathlib import Path

from auditkit.contract import (
    COMPARISONS,
    MAX_EXAMPLES,
    ContractResult,
    Violation,
    check_label,
    column_is_plain,
    plain_value,
    schema_is_plain,
    schema_violation,
    load_contract,
)
from auditkit.errors import ContractError

from ._columns import column as spark_column

__all__ = ["validate_spark"]

# pandera dtype (as written in the YAML) -> Spark type names that satisfy it
_DTYPES = {
    "int": {"tinyint", "smallint", "int", "bigint"},
    "float": {"float", "double"},
    "str": {"string"},
    "bool": {"boolean"},
    "datetime": {"timestamp", "timestamp_ntz", "date"},
    "category": {"string"},
}


def _dtype_family(dtype) -> str | None:
    text = str(dtype).lower()
    for prefix, family in (("int", "int"), ("uint", "int"), ("float", "float"), ("str", "str"),
                           ("object", "str"), ("bool", "bool"), ("datetime", "datetime"),
                           ("category", "category")):
        if text.startswith(prefix):
            return family
    return None


def validate_spark(sdf, contract, *, contract_name: str | None = None) -> ContractResult:
    """Validate a Spark DataFrame against a pandera YAML contract.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    contract : str, Path or pandera.DataFrameSchema
        The same contract file as for :func:`auditkit.contract.validate`.
    contract_name : str, optional
        How the contract is named in the result (defaults to the file path).

    Returns
    -------
    ContractResult
        Same columns, check names and failure counts as the pandas path; ``examples``
        are up to five distinct failing values (which five may differ), ``rows`` is empty.

    Raises
    ------
    ContractError
        The contract cannot be loaded, or uses a check the Spark engine does not evaluate.
    """
    from pyspark.sql import functions as F

    if isinstance(contract, (str, Path)):
        contract_name = contract_name or str(contract)
        schema = load_contract(contract)
    else:
        schema = contract
    name = contract_name or "contract"
    if not schema_is_plain(schema):
        raise ContractError(f"{name}: uses dataframe-level options the Spark engine does not evaluate (checks, unique, ordered, coerce, index, ...); keep column checks only.")
    types = dict(sdf.dtypes)
    declared = schema.columns
    violations: list[Violation] = []
    if schema.strict is True:
        extra = [c for c in sdf.columns if c not in declared]
        if extra:
            violations.append(schema_violation("column_in_schema", extra))
    missing = [c for c, col in declared.items() if col.required and c not in types]
    if missing:
        violations.append(schema_violation("column_in_dataframe", missing))

    probes = []  # (column, check label, failure expression)
    uniques = []
    for column_name, column in declared.items():
        if column_name not in types:
            continue
        if not column_is_plain(column):
            raise ContractError(f"{name}: column '{column_name}' uses a check the Spark engine does not evaluate (custom check, coerce, regex name, groupby, ...); use built-in checks.")
        spark_type = types[column_name]
        if column.dtype is not None:
            family = _dtype_family(column.dtype)
            if family is None:
                raise ContractError(f"{name}: column '{column_name}' has dtype {column.dtype}, which the Spark engine cannot check; use int64, float64, str, bool or datetime64.")
            base = spark_type.split("(")[0]
            if base not in _DTYPES[family] and not (family == "float" and base.startswith("decimal")):
                violations.append(Violation(column=column_name, check=f"dtype('{column.dtype}')", failure_count=1, examples=(spark_type,)))
                continue
        col = spark_column(column_name)
        numeric = spark_type in ("float", "double")
        isna = (col.isNull() | F.isnan(col)) if numeric else col.isNull()
        if not column.nullable:
            probes.append((column_name, "not_nullable", isna))
        if column.unique:
            uniques.append((column_name, len(probes)))  # reported after not_nullable, before checks
        for check in column.checks:
            stats, kind = check.statistics, check.name
            if kind == "in_range":
                low = col >= stats["min_value"] if stats.get("include_min", True) else col > stats["min_value"]
                high = col <= stats["max_value"] if stats.get("include_max", True) else col < stats["max_value"]
                ok = low & high
            elif kind in COMPARISONS:
                key, op = COMPARISONS[kind]
                value = stats[key]
                ok = {"gt": col > value, "ge": col >= value, "lt": col < value, "le": col <= value,
                      "eq": col == value, "ne": col != value}[op]
            elif kind in ("isin", "notin"):
                values = list(stats["allowed_values" if kind == "isin" else "forbidden_values"])
                ok = col.isin(values) if kind == "isin" else ~col.isin(values)
            elif kind == "str_matches":
                ok = col.rlike("^(?:" + stats["pattern"] + ")")
            else:  # pragma: no cover - filtered by column_is_plain
                continue
            # As on one machine: a null never fails a check that ignores nulls (the default),
            # and otherwise it fails it; NaN counts as null (Spark orders NaN above numbers).
            fails = F.coalesce(~ok, F.lit(True))
            fails = (fails & ~isna) if check.ignore_na else (fails | isna)
            probes.append((column_name, check_label(check), fails))

    found: dict[tuple, Violation] = {}  # (column position, probe sequence) -> violation
    order = {c: i for i, c in enumerate(declared)}
    if probes:
        sums = sdf.agg(*[F.sum(F.when(expr, 1).otherwise(0)).alias(f"_p{i}") for i, (_, _, expr) in enumerate(probes)]).collect()[0]
        for i, (column_name, label, expr) in enumerate(probes):
            count = int(sums[i] or 0)
            if count:
                found[(order[column_name], i)] = Violation(column_name, label, count, _examples(sdf, column_name, expr))
    for column_name, sequence in uniques:
        col = spark_column(column_name)
        dup = sdf.filter(col.isNotNull()).groupBy(col.alias("_v")).count().filter(F.col("count") > 1)
        row = dup.agg(F.sum("count")).collect()[0][0]
        if row:
            examples = tuple(plain_value(r[0]) for r in dup.select("_v").limit(MAX_EXAMPLES).collect())
            found[(order[column_name], sequence - 0.5)] = Violation(column_name, "field_uniqueness", int(row), examples)
    # Table-level violations first, then by column and check, as on one machine.
    by_column = [v for v in violations if v.column is None]
    dtype_errors = [v for v in violations if v.column is not None]
    keyed = [((order[v.column], -1), v) for v in dtype_errors] + list(found.items())
    by_column += [v for _, v in sorted(keyed, key=lambda item: item[0])]
    rows = int(sdf.count())
    return ContractResult(violations=tuple(by_column), rows=rows, contract=contract_name,
                          columns_checked=tuple(str(c) for c in declared))


def _examples(sdf, column_name: str, failing) -> tuple:
    values = sdf.filter(failing).select(spark_column(column_name).alias("_v")).distinct().limit(MAX_EXAMPLES).collect()
    return tuple(plain_value(r[0]) for r in values)  # a missing value is None (pandas shows None or "NaN")
