"""Drafting a data contract from a table: the pandera YAML that ``audit schema infer`` writes.

The draft states what was *observed* in the data -- dtypes, where nulls occur, numeric
ranges, the categories of low-cardinality text columns, uniqueness of id-like columns --
with a comment above every column saying what was inferred and how to edit it. A person then
turns "what was seen" into "what must hold". The draft always validates the data it came
from; values that look like placeholders for missing data (``?``, ``N/A``, ...) or text with
stray spaces are kept in the allowed lists but called out in a ``NOTE`` comment.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from .errors import DataError

__all__ = ["MISSING_PLACEHOLDERS", "infer_contract"]

#: Text values that usually stand for "missing" (compared case-insensitively, stripped).
MISSING_PLACEHOLDERS = frozenset({"?", "", "-", "--", "na", "n/a", "nan", "null", "none", "missing", "unknown"})

_ID_WORDS = frozenset({"id", "uuid", "guid", "key"})


def infer_contract(df, *, name: str | None = None, max_categories: int = 50, source: str | Path | None = None) -> str:
    """Draft a pandera YAML contract, with comments, from a DataFrame.

    Parameters
    ----------
    df : pandas.DataFrame
        The data to describe, typically read with :func:`auditkit.data.load_table`.
    name : str, optional
        The contract's name; defaults to the stem of ``source`` or ``"contract"``.
    max_categories : int, default 50
        A text column with at most this many distinct values (and at least one value that
        repeats) gets an ``isin`` list of the values observed.
    source : str or Path, optional
        Where the data came from; named in the header comment.

    Returns
    -------
    str
        YAML text loadable by :func:`auditkit.contract.load_contract`. Inferred checks:

        - ``dtype``: the column's dtype (``int64``, ``float64``, ``bool``, ``str``,
          ``datetime64[...]``); omitted for mixed-type columns.
        - ``nullable``: true only where a null occurs.
        - ``in_range``: numeric columns, from the observed minimum to the observed maximum,
          deliberately not widened: the comment asks the editor to widen it to the valid
          domain, so nothing unseen is accepted silently.
        - ``isin``: low-cardinality text and categorical columns, the values observed.
        - ``unique``: where every value is distinct *and* the column looks like an id
          (its name ends in ``id``/``key``/``uuid``, or it is an integer row number).
        - ``strict: true``: a column not in the contract is a violation.

    Raises
    ------
    DataError
        The frame has no rows, no columns, or duplicate column names.
    """
    import yaml

    where = f"{source}: " if source is not None else ""
    if df.shape[1] == 0:
        raise DataError(f"{where}the data has no columns; a contract needs at least one column.")
    if len(df) == 0:
        raise DataError(f"{where}the data has no rows; draft the contract from a file with data in it.")
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        dups = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"{where}duplicate column name(s) {', '.join(map(repr, dups))}; give every column a unique name.")
    if max_categories < 1:
        raise ValueError("max_categories must be at least 1")

    if name is None:
        name = _stem(source) if source is not None else "contract"
    rows = len(df)
    lines = [
        f"# Data contract drafted by auditkit from {source if source is not None else 'a DataFrame'}",
        f"# ({rows:,} rows, {df.shape[1]} columns). Every check below was OBSERVED to hold on that data;",
        "# edit it to say what MUST hold: widen ranges to the valid domain, add categories that are",
        "# valid but did not occur, drop checks that are accidents of this sample.",
        "# Format: pandera YAML (https://pandera.readthedocs.io). Validate with:",
        "#   audit validate DATA --contract THIS_FILE",
        "schema_type: dataframe",
        "api: pandas",
        "columns:",
    ]
    for column in df.columns:
        comments, body = _infer_column(df[column], str(column), rows=rows, max_categories=max_categories)
        for comment in comments:
            lines.extend(f"  # {part}" for part in textwrap.wrap(comment, 96, break_long_words=False))
        dumped = yaml.safe_dump({str(column): body}, sort_keys=False, default_flow_style=False,
                                allow_unicode=True, width=1000)
        lines.extend("  " + line for line in dumped.rstrip("\n").splitlines())
    lines += [
        "# strict: a column that is not listed above is a violation; set to false to allow extra columns.",
        "strict: true",
        "coerce: false",
        yaml.safe_dump({"name": name}, allow_unicode=True).rstrip("\n"),
    ]
    return "\n".join(lines) + "\n"


def _stem(source) -> str:
    base = Path(str(source)).name
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq", ".gz"):
        if base.lower().endswith(suffix):
            return base[: -len(suffix)] or "contract"
    return base or "contract"


def _infer_column(series, name: str, *, rows: int, max_categories: int) -> tuple[list[str], dict[str, Any]]:
    """Comment lines and the YAML body (check name -> value) of one column."""
    import pandas as pd
    from pandas.api import types

    nulls = int(series.isna().sum())
    present = series.dropna()
    body: dict[str, Any] = {}
    comments: list[str] = []
    null_note = f"{nulls:,} missing ({nulls / rows:.1%}), so nullable" if nulls else "no missing values, so not nullable"
    dtype = series.dtype

    if types.is_bool_dtype(dtype):
        body["dtype"] = "bool"
        comments.append(f"{name}: true/false, {null_note}.")
        body["nullable"] = bool(nulls)
        return comments, body

    if isinstance(dtype, pd.CategoricalDtype):
        body["nullable"] = bool(nulls)
        values = sorted((_plain(v) for v in present.unique().tolist()), key=str)
        comments.append(f"{name}: categorical, {len(values)} categories observed, {null_note}; "
                        "a value outside this list is a violation.")
        body["isin"] = values
        return comments, body

    if types.is_numeric_dtype(dtype):
        body["dtype"] = str(dtype)
        body["nullable"] = bool(nulls)
        kind = "integer" if types.is_integer_dtype(dtype) else "number"
        if len(present):
            low, high = _plain(present.min()), _plain(present.max())
            unique = _looks_like_id(name, series, integer=types.is_integer_dtype(dtype))
            comments.append(f"{name}: {kind}, {null_note}; range {low} to {high} as observed in the data "
                            "(widen it to the values you consider valid).")
            body["in_range"] = {"min_value": low, "max_value": high}
            if unique:
                comments.append("Every value is distinct and the column looks like an id: unique.")
                body["unique"] = True
        else:
            comments.append(f"{name}: {kind}, every value is missing; no range could be inferred.")
        return comments, body

    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        body["dtype"] = str(dtype)
        body["nullable"] = bool(nulls)
        kind = "date/time" if types.is_datetime64_any_dtype(dtype) else "duration"
        span = f"; observed from {present.min()} to {present.max()}" if len(present) else ""
        comments.append(f"{name}: {kind}, {null_note}{span} "
                        "(add greater_than_or_equal_to / less_than_or_equal_to if needed).")
        return comments, body

    texts = (types.is_string_dtype(dtype) and not types.is_object_dtype(dtype)) or bool(present.map(type).eq(str).all())
    if not texts:
        comments.append(f"{name}: mixed types (not all text), {null_note}; no dtype checked.")
        return comments, {"nullable": bool(nulls)}
    body["dtype"] = "str"
    body["nullable"] = bool(nulls)
    counts = present.value_counts(sort=True)
    distinct = len(counts)
    if not distinct:
        comments.append(f"{name}: every value is missing; no categories could be inferred.")
    elif distinct <= max_categories and distinct < len(present):
        comments.append(f"{name}: text, {distinct} categories observed, {null_note}; "
                        "a value outside this list is a violation (add valid values that did not occur).")
        body["isin"] = sorted(str(v) for v in counts.index)
        comments.extend(_text_notes(counts))
    else:
        comments.append(f"{name}: text, {distinct:,} distinct values (too many for an allowed list), {null_note}; "
                        "add str_matches if the values follow a pattern.")
        if distinct == len(present) and nulls == 0 and _looks_like_id(name, series, integer=False):
            comments.append("Every value is distinct and the column looks like an id: unique.")
            body["unique"] = True
    return comments, body


def _text_notes(counts) -> list[str]:
    notes = []
    placeholders = [(v, n) for v, n in counts.items() if str(v).strip().lower() in MISSING_PLACEHOLDERS]
    for value, n in placeholders:
        notes.append(f"NOTE: {value!r} occurs {n:,} times and looks like a placeholder for a missing value; "
                     "remove it from the list to make it a violation, or read the file with it as missing.")
    padded = [v for v in counts.index if str(v) != str(v).strip()]
    if padded:
        notes.append(f"NOTE: {len(padded)} value(s) start or end with spaces (e.g. {padded[0]!r}); "
                     "the file may need its spaces stripped when read.")
    return notes


def _looks_like_id(name: str, series, *, integer: bool) -> bool:
    """Every value distinct and non-null, and the name or the values say 'identifier'."""
    if len(series) < 2 or series.isna().any() or not series.is_unique:
        return False
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).lower()
    words = re.split(r"[^a-z0-9]+", words)
    words = [w for w in words if w]
    if words and (words[-1] in _ID_WORDS or words[0] == "id"):
        return True
    if integer:  # a row number: consecutive integers
        low, high = int(series.min()), int(series.max())
        return high - low + 1 == len(series)
    return False


def _plain(value):
    """A YAML-safe Python scalar from a numpy/pandas scalar."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value
