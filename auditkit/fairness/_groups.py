"""Code sensitive features, their missing values and intersections as integer groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.errors import DataError
from auditkit.sensitive import factorize_sorted

from ._vocabulary import MISSING_GROUP

__all__ = ["GroupCoding", "code_groups"]

INTERSECTION_SEPARATOR = " & "


@dataclass(frozen=True)
class GroupCoding:
    """One sensitive feature (or intersection) coded as integers.

    Attributes
    ----------
    name : str
        Feature name; an intersection's is its parts joined by ``" & "``.
    codes : numpy.ndarray
        Group index of every row, ``0 <= code < len(labels)``.
    labels : tuple of str
        Group labels in display order (natural order of values, ``(missing)`` last).
    """

    name: str
    codes: np.ndarray
    labels: tuple[str, ...]


def _as_columns(sensitive_features, n_rows: int) -> dict[str, object]:
    if isinstance(sensitive_features, pd.DataFrame):
        columns = {str(c): sensitive_features.iloc[:, i] for i, c in enumerate(sensitive_features.columns)}
        if len(set(columns)) != sensitive_features.shape[1]:
            raise DataError("The sensitive features have duplicate column names; rename them.")
    elif isinstance(sensitive_features, pd.Series):
        name = "sensitive_feature" if sensitive_features.name is None else str(sensitive_features.name)
        columns = {name: sensitive_features}
    elif isinstance(sensitive_features, Mapping):
        columns = {str(k): v for k, v in sensitive_features.items()}
    else:
        raise DataError(
            "sensitive_features must be a DataFrame, a Series or a dict of name -> values, "
            f"not {type(sensitive_features).__name__}."
        )
    for name, values in columns.items():
        length = len(values) if hasattr(values, "__len__") else -1
        if length != n_rows:
            raise DataError(
                f"Sensitive feature '{name}' has {length} values but y_true has {n_rows}; "
                "pass one value per row."
            )
    return columns


def _label(value) -> str:
    # Floats that are whole numbers come from integer columns with missing values
    # (pandas upcasts them), so "2.0" is shown as "2".
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _code_column(name: str, values) -> GroupCoding:
    if isinstance(values, pd.Series):
        series = values
    else:
        series = pd.Series(values if hasattr(values, "dtype") else list(values))
    try:
        codes, uniques = factorize_sorted(series)  # the column's codes shared with the other stages
    except TypeError:  # mixed types cannot be sorted by value: sort by label below
        codes, uniques = pd.factorize(series, sort=False, use_na_sentinel=True)
        labels = np.array([_label(u) for u in uniques], dtype=object)
        order = np.argsort(labels, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
        uniques = [uniques[i] for i in order]
    labels = [_label(u) for u in uniques]
    if len(set(labels)) != len(labels):  # e.g. 1 and "1": one group, as the labels say
        merged, merged_labels = pd.factorize(np.array(labels, dtype=object))
        codes = np.where(codes >= 0, merged[np.maximum(codes, 0)], -1)
        labels = [str(x) for x in merged_labels]
    codes = np.asarray(codes, dtype=np.int64)
    missing = codes < 0
    if missing.any():
        if MISSING_GROUP in labels:
            codes[missing] = labels.index(MISSING_GROUP)
        else:
            codes[missing] = len(labels)
            labels.append(MISSING_GROUP)
    return GroupCoding(name=name, codes=codes, labels=tuple(labels))


def _intersect(parts: Sequence[GroupCoding]) -> GroupCoding:
    combined = np.zeros(len(parts[0].codes), dtype=np.int64)
    bound = 1
    for part in parts:
        combined *= len(part.labels)
        combined += part.codes
        bound *= len(part.labels)
    if bound <= min(len(combined), 1 << 16):
        # What pd.factorize(combined, sort=True) gives, from counts instead of a hash table.
        present = np.bincount(combined, minlength=bound) > 0
        uniques = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[combined]
    else:
        codes, uniques = pd.factorize(combined, sort=True)
    labels = []
    for value in uniques:
        pieces = []
        for part in reversed(parts):
            value, code = divmod(int(value), len(part.labels))
            pieces.append(part.labels[code])
        labels.append(INTERSECTION_SEPARATOR.join(reversed(pieces)))
    name = INTERSECTION_SEPARATOR.join(p.name for p in parts)
    if len(set(labels)) != len(labels):
        # ("a & b", "c") and ("a", "b & c") would both read "a & b & c": two groups, one name.
        clash = next(label for label in labels if labels.count(label) > 1)
        raise DataError(
            f"Intersection {name}: two different combinations of values are both written "
            f"'{clash}', because a value contains ' & '; rename those values in the data "
            "(the ' & ' separator is reserved for intersections)."
        )
    return GroupCoding(name=name, codes=np.asarray(codes, dtype=np.int64), labels=tuple(labels))


def code_groups(sensitive_features, intersections, *, n_rows: int) -> list[GroupCoding]:
    """Code every sensitive feature and every requested intersection.

    Parameters
    ----------
    sensitive_features : DataFrame, Series or dict of name -> array-like
        One column per sensitive feature, one value per row, any dtype. Missing values
        (NaN, None, ``pd.NA``) form the group :data:`MISSING_GROUP`.
    intersections : sequence of tuple of str
        Column names to cross, e.g. ``[("sex", "age_band")]``.
    n_rows : int
        Number of rows every column must have.

    Returns
    -------
    list of GroupCoding
        The base features in the given order, then the intersections in the given order;
        empty when no sensitive feature is given (only overall metrics are computed).

    Raises
    ------
    DataError
        When a column has the wrong length or an intersection names an unknown column.
    """
    columns = _as_columns(sensitive_features, n_rows)
    coded = {name: _code_column(name, values) for name, values in columns.items()}
    result = list(coded.values())
    seen = set(coded)
    for parts in intersections or ():
        if isinstance(parts, str):
            raise DataError(
                f"Intersection {parts!r} must be a list of at least two sensitive feature names."
            )
        parts = tuple(str(p) for p in parts)
        unknown = [p for p in parts if p not in coded]
        if unknown:
            raise DataError(
                f"Intersection {' & '.join(parts)} names {', '.join(map(repr, unknown))}, which "
                f"is not a sensitive feature; use one of {', '.join(map(repr, coded))}."
            )
        if len(parts) < 2:
            raise DataError(f"Intersection {parts!r} must name at least two sensitive features.")
        feature = _intersect([coded[p] for p in parts])
        if feature.name in seen:
            continue
        seen.add(feature.name)
        result.append(feature)
    return result
