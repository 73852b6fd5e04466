"""Which raw input column each transformed column comes from.

Rather than reading the internals of every transformer (ColumnTransformer, nested
Pipelines, OneHotEncoder with dropped or infrequent categories, imputers with indicators,
custom FunctionTransformers...), the mapping is observed: swapping one raw column between
rows shows which transformed columns move with it. The mapping is then checked on rows
that mix raw columns of explained and background rows, which is exactly what interventional
SHAP evaluates; if any transformed column depends on more than one raw column (PCA,
polynomial features) the transform is not column-wise and the fast paths do not apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._frame import mix_rows

UNOWNED = -1


class NotColumnwise(Exception):
    """The transform mixes raw columns, so SHAP values cannot be summed back per column."""


@dataclass(frozen=True)
class ColumnMap:
    """Owner raw column of every transformed column.

    Attributes
    ----------
    owner : ndarray of int
        ``owner[t]`` is the raw column index of transformed column ``t``, or ``-1`` when
        the transformed column is constant on all rows involved (it contributes nothing).
    n_raw : int
        Number of raw columns.
    """

    owner: np.ndarray
    n_raw: int

    def one_to_one(self) -> bool:
        """Whether no raw column owns more than one transformed column."""
        owned = self.owner[self.owner >= 0]
        return len(np.unique(owned)) == len(owned)

    def aggregation(self) -> np.ndarray:
        """Matrix of shape (n_transformed, n_raw) summing transformed columns per raw column."""
        matrix = np.zeros((len(self.owner), self.n_raw))
        rows = np.flatnonzero(self.owner >= 0)
        matrix[rows, self.owner[rows]] = 1.0
        return matrix


def dense(values) -> np.ndarray:
    """A transform's output as a 2-D float64 array (sparse matrices and DataFrames too)."""
    if hasattr(values, "toarray"):
        values = values.toarray()
    elif isinstance(values, pd.DataFrame):
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise NotColumnwise(f"the transform returned an array with {array.ndim} dimensions")
    return array


def infer_column_map(
    transform: Callable[[pd.DataFrame], np.ndarray],
    pool: pd.DataFrame,
    transformed: np.ndarray,
    *,
    rng: np.random.Generator,
    n_explained: int,
    n_checks: int = 256,
    n_probe: int = 512,
) -> ColumnMap:
    """Observe the raw column behind every transformed column and verify it.

    Parameters
    ----------
    transform : callable
        Raw DataFrame -> dense float array.
    pool : DataFrame
        Explained rows followed by background rows (positional).
    transformed : ndarray
        ``transform(pool)``.
    rng : Generator
        Random source for the swaps and the checks.
    n_explained : int
        How many leading rows of ``pool`` are explained rows (the rest is background).
    n_checks : int
        Mixed rows used to verify the mapping.
    n_probe : int
        Random rows whose columns are swapped to observe dependencies (rows holding rare
        transformed values are added so that every varying column is probed).

    Returns
    -------
    ColumnMap

    Raises
    ------
    NotColumnwise
        A transformed column depends on several raw columns, or the verification fails.
    """
    n, n_raw = pool.shape
    n_out = transformed.shape[1]
    depends = np.zeros((n_raw, n_out), dtype=bool)
    probe = _probe_rows(transformed, rng=rng, n_random=n_probe)
    base = transformed[probe]
    # Two rounds of swaps: in each, raw column j of the probed rows is taken from other
    # rows, one block of rows per (round, j), all transformed in one call.
    identity = np.tile(probe[:, None], (1, n_raw))
    blocks = []
    for _ in range(2):
        partner = rng.permutation(n)[: len(probe)]
        for j in range(n_raw):
            positions = identity.copy()
            positions[:, j] = partner
            blocks.append(positions)
    swapped = transform(mix_rows(pool, np.concatenate(blocks)))
    for b, block in enumerate(np.split(swapped, len(blocks))):
        depends[b % n_raw] |= ~_same(block, base).all(axis=0)
    owners = depends.sum(axis=0)
    if (owners > 1).any():
        t = int(np.flatnonzero(owners > 1)[0])
        raise NotColumnwise(
            f"transformed column {t} depends on raw columns "
            f"{', '.join(str(pool.columns[j]) for j in np.flatnonzero(depends[:, t]))}"
        )
    owner = np.where(owners == 1, depends.argmax(axis=0), UNOWNED)
    unowned = np.flatnonzero(owner == UNOWNED)
    if len(unowned) and not _same(transformed[:, unowned], transformed[:1, unowned]).all():
        raise NotColumnwise("a transformed column varies but follows no single raw column")
    mapping = ColumnMap(owner=owner, n_raw=n_raw)
    _verify(transform, pool, transformed, mapping, rng=rng, n_explained=n_explained, n_checks=n_checks)
    return mapping


def _probe_rows(transformed: np.ndarray, *, rng: np.random.Generator, n_random: int) -> np.ndarray:
    n = len(transformed)
    if n <= n_random:
        return np.arange(n)
    chosen = set(rng.choice(n, size=n_random, replace=False).tolist())
    # For every column, one row where it differs from row 0 (e.g. a rare category's indicator).
    differs = ~_same(transformed, transformed[:1])
    varying = differs.any(axis=0)
    chosen.update(np.argmax(differs[:, varying], axis=0).tolist())
    return np.array(sorted(chosen), dtype=np.intp)


def _verify(transform, pool, transformed, mapping, *, rng, n_explained, n_checks) -> None:
    n, n_raw = pool.shape
    n_background = n - n_explained
    if n_background == 0 or n_explained == 0:
        return
    x_rows = rng.integers(0, n_explained, size=n_checks)
    b_rows = n_explained + rng.integers(0, n_background, size=n_checks)
    from_x = rng.random((n_checks, n_raw)) < 0.5
    positions = np.where(from_x, x_rows[:, None], b_rows[:, None])
    mixed = transform(mix_rows(pool, positions))
    owner = mapping.owner
    # Expected transformed row: each column taken from whichever row its owner came from.
    take_x = np.zeros((n_checks, len(owner)), dtype=bool)
    owned = owner >= 0
    take_x[:, owned] = from_x[:, owner[owned]]
    expected = np.where(take_x, transformed[x_rows], transformed[b_rows])
    if not _same(mixed, expected).all():
        raise NotColumnwise("mixing raw columns of two rows does not mix their transformed columns")


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
