"""Which rows are explained and which rows form the background.

Rows explained are a uniform random sample topped up so that every sensitive group and
intersection has at least ``min_group_rows`` rows (or all of its rows when it is smaller).
The uniform part is remembered: global views use only those rows, so oversampling a small
group does not tilt global importance, while per-group views use every row of the group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ExplanationError

MISSING_LABEL = "(missing)"
JOIN = " & "


def group_labels(
    sensitive_features: pd.DataFrame | pd.Series | None,
    index: pd.Index,
    intersections: Sequence[Sequence[str]] = (),
) -> pd.DataFrame:
    """Turn sensitive features into string group labels, one column per grouping.

    Parameters
    ----------
    sensitive_features : DataFrame, Series or None
        Sensitive columns aligned with ``index``.
    index : Index
        The index of the data being explained.
    intersections : sequence of sequences of str
        Column-name tuples; each adds a column named ``"a & b"`` with values ``"x & y"``.

    Returns
    -------
    DataFrame
        Object-dtype labels indexed like ``index``; ``str(value)`` or ``"(missing)"``.
    """
    if sensitive_features is None:
        if intersections:
            raise ExplanationError(
                "intersections were given without sensitive_features; pass the sensitive columns too."
            )
        return pd.DataFrame(index=index)
    frame = sensitive_features
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(name=frame.name if frame.name is not None else "sensitive")
    if not isinstance(frame, pd.DataFrame):
        raise ExplanationError(
            f"sensitive_features is a {type(frame).__name__}; pass a pandas DataFrame aligned with X."
        )
    if len(frame) != len(index) or not frame.index.equals(index):
        if frame.index.has_duplicates or not index.isin(frame.index).all():
            raise ExplanationError(
                "sensitive_features is not aligned with X (different index); pass a DataFrame with X's index."
            )
        frame = frame.loc[index]
    labels = {}
    for name in frame.columns:
        column = frame[name].astype(object)
        missing = pd.isna(column).to_numpy()
        values = np.array([str(v) for v in column.to_numpy()], dtype=object)
        values[missing] = MISSING_LABEL
        labels[str(name)] = values
    for combo in intersections:
        combo = [str(c) for c in combo]
        unknown = [c for c in combo if c not in labels]
        if unknown:
            raise ExplanationError(
                f"intersection {tuple(combo)} names {', '.join(unknown)} which is not a sensitive feature; "
                "use columns of sensitive_features."
            )
        if len(combo) < 2:
            continue
        joined = labels[combo[0]].copy()
        for c in combo[1:]:
            joined = joined + JOIN + labels[c]
        labels[JOIN.join(combo)] = joined
    return pd.DataFrame(labels, index=index, dtype=object)


@dataclass(frozen=True)
class RowSample:
    """Positions of the explained rows and which of them form the uniform part."""

    positions: np.ndarray
    uniform: np.ndarray


def sample_rows(
    labels: pd.DataFrame, *, max_rows: int, min_group_rows: int, rng: np.random.Generator
) -> RowSample:
    """Sample at most ``max_rows`` rows with a minimum count per group.

    Parameters
    ----------
    labels : DataFrame
        Group labels per row (see :func:`group_labels`); may have no columns.
    max_rows : int
        Upper bound on the rows returned.
    min_group_rows : int
        Minimum rows per group (all rows of smaller groups).
    rng : Generator
        Random source.

    Returns
    -------
    RowSample
        Sorted row positions and a mask of the uniformly sampled ones.
    """
    n = len(labels)
    if n <= max_rows:
        return RowSample(np.arange(n), np.ones(n, dtype=bool))
    rank = np.empty(n, dtype=np.intp)
    rank[rng.permutation(n)] = np.arange(n)
    groups = _groups_by_size(labels, rank)
    topup_budget = 0
    for _ in range(50):
        n_uniform = max_rows - topup_budget
        if n_uniform <= 0:
            break
        selected = rank < n_uniform
        topped = _top_up(selected, groups, min_group_rows, limit=None)
        if topped <= topup_budget:
            uniform = rank < n_uniform
            return _finish(selected, uniform)
        topup_budget = topped
    # Too many groups for the budget: serve the smallest groups first, no uniform part.
    selected = np.zeros(n, dtype=bool)
    _top_up(selected, groups, min_group_rows, limit=max_rows)
    return _finish(selected, np.zeros(n, dtype=bool))


def _groups_by_size(labels: pd.DataFrame, rank: np.ndarray) -> list[np.ndarray]:
    # Each group's member positions ordered by the random rank, smallest groups first.
    groups = []
    for name in labels.columns:
        codes, _ = pd.factorize(labels[name].to_numpy(), use_na_sentinel=False)
        for code in range(codes.max() + 1 if len(codes) else 0):
            members = np.flatnonzero(codes == code)
            groups.append(members[np.argsort(rank[members])])
    groups.sort(key=len)
    return groups


def _top_up(selected: np.ndarray, groups: list[np.ndarray], minimum: int, *, limit: int | None) -> int:
    added = 0
    for members in groups:
        need = min(minimum, len(members)) - int(selected[members].sum())
        if need <= 0:
            continue
        if limit is not None:
            need = min(need, limit - int(selected.sum()))
            if need <= 0:
                break
        candidates = members[~selected[members]][:need]
        selected[candidates] = True
        added += len(candidates)
    return added


def _finish(selected: np.ndarray, uniform: np.ndarray) -> RowSample:
    positions = np.flatnonzero(selected)
    return RowSample(positions, uniform[positions])


def sample_background(n: int, *, max_background: int, rng: np.random.Generator) -> np.ndarray:
    """Uniformly sample at most ``max_background`` row positions out of ``n`` (sorted)."""
    if n <= max_background:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_background, replace=False))
