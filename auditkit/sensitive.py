"""What a sensitive feature must be: one category per row, and at least two groups to compare."""

from __future__ import annotations

import weakref
from typing import Any

from .errors import DataError

__all__ = ["GROUP_JOIN", "MISSING_GROUP", "factorize", "factorize_sorted", "group_labels", "require_categories",
           "require_groups"]

# id of a column's Arrow data -> (weak reference to the data, its read-only factorization); an
# entry is dropped when the data are freed. By identity: Arrow arrays are not hashable.
_FACTORIZED: dict[int, tuple] = {}

#: The group of a missing sensitive value, and what joins the groups of an intersection.
MISSING_GROUP = "(missing)"
GROUP_JOIN = " & "

_CATEGORY_KINDS = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float", "decimal", "boolean",
                             "datetime", "datetime64", "date", "timedelta", "categorical", "bytes"})


def require_groups(feature: str, path, *, all_missing: bool, groups: int, first: Any) -> None:
    """A sensitive feature must split the rows into at least two groups to be compared."""
    if all_missing:
        raise DataError(f"{path}: sensitive feature '{feature}' is missing in every row; fill the column or remove it from sensitive_features.")
    if groups < 2:
        raise DataError(f"{path}: sensitive feature '{feature}' has a single group ('{first}'); fairness compares groups, so audit data that holds every group or remove the feature.")


def require_categories(column, feature: str, path) -> None:
    """A sensitive feature holds one category per row: text, a number, a flag or a date, never a list or mapping."""
    import numpy as np
    import pandas as pd

    if not pd.api.types.is_object_dtype(column) and not isinstance(column.dtype, pd.ArrowDtype):
        return
    if pd.api.types.infer_dtype(column, skipna=True) in _CATEGORY_KINDS:  # one C-level pass in the usual case
        return
    for position, value in enumerate(column.to_numpy()):
        if value is None or isinstance(value, (str, bool, int, float, np.generic, pd.Timestamp)):
            continue
        if value is pd.NA or value is pd.NaT:
            continue
        raise DataError(f"{path}: sensitive feature '{feature}' holds {type(value).__name__} values (row {position}); "
                        "a sensitive feature must hold one category per row, so flatten the column to text before auditing.")


def _arrow_data(values):
    """The immutable Arrow data behind a pandas column (None for any other column)."""
    import pandas as pd
    from pandas.arrays import ArrowExtensionArray

    array = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    return array.__arrow_array__() if isinstance(array, ArrowExtensionArray) else None


def factorize(values):
    """``pd.factorize(values, use_na_sentinel=True)``: codes in order of first appearance (-1 for
    a missing value) and the distinct values.

    The stages code the same sensitive columns several times (their groups checked, data bias,
    fairness); for an Arrow-backed column (text read from Parquet) the result is computed once
    and kept, read-only, while the column's Arrow data live. Arrow data are immutable: a
    column that is written to gets new data, so a kept result is never stale.
    """
    import pandas as pd

    data = _arrow_data(values)
    if data is None:
        return pd.factorize(values, use_na_sentinel=True)
    key = id(data)
    kept = _FACTORIZED.get(key)
    if kept is not None and kept[0]() is data:
        return kept[1]
    codes, uniques = pd.factorize(values.array if isinstance(values, (pd.Series, pd.Index)) else values,
                                  use_na_sentinel=True)
    codes.flags.writeable = False
    try:
        ref = weakref.ref(data, lambda _, key=key: _FACTORIZED.pop(key, None))
    except TypeError:  # data that cannot be referenced weakly are not kept
        return codes, uniques
    _FACTORIZED[key] = (ref, (codes, uniques))
    return codes, uniques


def factorize_sorted(values):
    """``pd.factorize(values, sort=True, use_na_sentinel=True)``, from :func:`factorize`: the
    distinct values sorted as pandas sorts them (it sorts the distinct values too), each row's
    code mapped to its value's rank. Returns a new, writable codes array.

    Raises
    ------
    TypeError
        The distinct values cannot be sorted (as ``pd.factorize`` would).
    """
    import numpy as np
    import pandas as pd

    if _arrow_data(values) is None:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), uniques
    codes, uniques = factorize(values)
    if len(uniques) == 0:
        return np.array(codes, dtype=np.int64), uniques
    rank, ordered = pd.factorize(uniques, sort=True, use_na_sentinel=True)
    return np.where(codes >= 0, rank[codes], -1).astype(np.int64), ordered


def group_labels(frame, columns):
    """Each row's group label, as auditkit's fairness results write it: ``str(value)`` per
    column (``"(missing)"`` for a missing one), the columns of an intersection joined with
    ``" & "``. An object array, one label per row (empty strings without columns)."""
    import numpy as np
    import pandas as pd

    joined = None
    for column in columns:
        values = frame[column]
        text = values.astype(object).map(str).to_numpy(dtype=object)
        text[pd.isna(values).to_numpy()] = MISSING_GROUP
        joined = text if joined is None else joined + GROUP_JOIN + text
    return np.full(len(frame), "", dtype=object) if joined is None else joined
