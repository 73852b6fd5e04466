"""What a sensitive feature must be: one category per row, and at least two groups to compare."""

from __future__ import annotations

from typing import Any

from .errors import DataError

__all__ = ["require_categories", "require_groups"]

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
