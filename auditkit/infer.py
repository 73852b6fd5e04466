"""Drafting a data contract from a table: the pandera YAML that ``audit schema infer`` writes.

The draft states what was *observed* in the data -- dtypes, where nulls occur, numeric
ranges, the categories of low-cardinality text columns, uniqueness of id-like columns --
with a comment above every column saying what was inferred and how to edit it. A person then
turns "what was seen" into "what must hold". The draft always validates the data it came
from; values that look like placeholders for missing data (``?``, ``N/A``, ...) or text with
stray spaces are kept in the allowed lists but called out in a ``NOTE`` comment.

Column names and values come from the data, so the YAML is never built by pasting them into
text: every key and value is written by PyYAML's emitter (:func:`yaml_dump`), a string holding
a line break or control character (``\n``, ``\r``, NEL, U+2028, U+2029, ...) always as an
escaped double-quoted scalar, and comments only ever hold text passed through
:func:`yaml_comment_text`, which shows every such character as a visible escape. The finished
draft is parsed back and compared with what was meant before it is returned.
"""

from __future__ import annotations

import functools
import re
import textwrap
from pathlib import Path
from typing import Any

from .errors import DataError, OutputError

__all__ = ["MISSING_PLACEHOLDERS", "infer_contract", "yaml_comment_text", "yaml_dump"]

#: Text values that usually stand for "missing" (compared case-insensitively, stripped).
MISSING_PLACEHOLDERS = frozenset({"?", "", "-", "--", "na", "n/a", "nan", "null", "none", "missing", "unknown"})

_ID_WORDS = frozenset({"id", "uuid", "guid", "key"})

# Characters that may not appear raw in a YAML comment or an unquoted scalar auditkit writes:
# everything YAML does not print (C0/C1 controls, DEL, surrogates, U+FFFE/U+FFFF), the line
# breaks of YAML 1.1 (\n, \r, NEL U+0085, U+2028, U+2029), tabs, the byte-order mark, and the
# bidirectional marks that can make a line read differently from what it holds.
_UNSAFE_TEXT = re.compile(
    "[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
    "|[\u2028\u2029\ufeff\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def yaml_comment_text(text: Any) -> str:
    """``text`` made safe for a YAML comment: one line, every unsafe character escaped.

    Line breaks of any kind (``\\n``, ``\\r``, ``\\x85``, ``\\u2028``, ``\\u2029``), other control
    characters, characters YAML cannot hold and bidirectional marks become visible escapes
    (``\\x85``, ``\\u2028``), so a value from the data can never end the comment and start a key.
    """
    def escape(match: re.Match) -> str:
        code = ord(match.group(0))
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return _UNSAFE_TEXT.sub(escape, str(text))


@functools.cache
def _dumper():
    import yaml

    class Dumper(yaml.SafeDumper):
        """SafeDumper that writes a string with any unsafe character double-quoted (escaped)."""

        def ignore_aliases(self, data):  # no &id001 anchors in a file meant for people
            return True

    def represent_str(dumper, data):
        # Quoted also when it starts or ends with Unicode whitespace other than space and tab
        # (a no-break space): PyYAML would write it plain, and people and tools trim it.
        # (Edge spaces and tabs PyYAML already quotes itself.)
        style = '"' if _UNSAFE_TEXT.search(data) or data.strip() != data.strip(" \t") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


def yaml_dump(value: Any, *, flow: bool = False) -> str:
    """YAML for ``value`` from PyYAML's emitter, safe to place line by line into a document.

    Strings with line breaks or control characters are escaped double-quoted scalars, lines are
    never folded, and with ``flow`` the result is one line (a scalar, ``[a, b]`` or ``{k: v}``)
    without the document-end marker. The only line breaks in the result separate YAML lines.
    """
    import yaml

    def dump(allow_unicode: bool) -> str:
        return yaml.dump(value, Dumper=_dumper(), default_flow_style=flow,
                         allow_unicode=allow_unicode, sort_keys=False, width=float("inf"))

    text = dump(True)
    if _BIDI.search(text):  # keep reordering marks visible: escape everything that is not ASCII
        text = dump(False)
    if flow:
        text = text.strip(" \n")  # only what the emitter adds: str.strip() would also eat U+00A0
        if text.endswith("\n..."):
            text = text[: -len("\n...")].rstrip(" \n")
        elif text.endswith("..."):
            text = text[: -len("...")].rstrip(" \n")
        if "\n" in text:  # pragma: no cover - a scalar with a line break is always double-quoted
            raise OutputError(f"auditkit could not write {value!r} on one YAML line; please report this bug.")
    return text


def check_round_trip(text: str, expected: dict, what: str) -> None:
    """Refuse YAML that does not read back as ``expected`` (a bug, never a property of the data)."""
    import yaml

    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OutputError(f"the drafted {what} does not parse back ({type(exc).__name__}); nothing was written. "
                          "Please report this auditkit bug with the column names of your data.") from None
    if loaded != expected:
        raise OutputError(f"the drafted {what} does not read back as intended; nothing was written. "
                          "Please report this auditkit bug with the column names of your data.")


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

    from .sanitize import one_line

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
    origin = yaml_comment_text(source) if source is not None else "a DataFrame"
    lines = [
        f"# Data contract drafted by auditkit from {origin}",
        f"# ({rows:,} rows, {df.shape[1]} columns). Every check below was OBSERVED to hold on that data;",
        "# edit it to say what MUST hold: widen ranges to the valid domain, add categories that are",
        "# valid but did not occur, drop checks that are accidents of this sample.",
        "# Format: pandera YAML (https://pandera.readthedocs.io). Validate with:",
        "#   audit validate DATA --contract THIS_FILE",
        "schema_type: dataframe",
        "api: pandas",
        "columns:",
    ]
    columns: dict[str, Any] = {}
    for column in df.columns:
        comments, body = _infer_column(df[column], str(column), rows=rows, max_categories=max_categories)
        columns[str(column)] = body
        for comment in comments:
            lines.extend(f"  # {part}" for part in textwrap.wrap(yaml_comment_text(comment), 96, break_long_words=False))
        try:
            dumped = yaml_dump({str(column): body})
        except yaml.YAMLError:  # e.g. complex numbers: nothing YAML can hold
            raise DataError(f"{where}column {one_line(repr(str(column)), 80)} holds values that cannot be written "
                            "as YAML; convert it to numbers or text before drafting a contract.") from None
        lines.extend("  " + line for line in dumped.rstrip("\n").split("\n"))
    lines += [
        "# strict: a column that is not listed above is a violation; set to false to allow extra columns.",
        "strict: true",
        "coerce: false",
        yaml_dump({"name": name}).rstrip("\n"),
    ]
    text = "\n".join(lines) + "\n"
    check_round_trip(text, {"schema_type": "dataframe", "api": "pandas", "columns": columns, "strict": True,
                            "coerce": False, "name": name}, "contract")
    return text


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
        if not all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
            kind = type(next(v for v in values if not isinstance(v, (str, int, float, bool)))).__name__
            comments.append(f"{name}: categorical of {kind} values, {len(values)} categories observed, {null_note}; "
                            "they cannot be listed in YAML, so no allowed list was drafted.")
            return comments, body
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
