"""Cross-fitting folds: every audit row is assigned to one of K folds, stratified by group and
label, so a remedy fitted on the other folds is judged on rows it never saw."""

from __future__ import annotations

import numpy as np

from ..errors import AuditkitError

__all__ = ["fold_ids"]


def fold_ids(y: np.ndarray, groups: np.ndarray, *, n_folds: int, seed: int) -> np.ndarray:
    """The fold (0 .. ``n_folds`` - 1) of every row.

    Rows are shuffled with ``seed`` within each (group, label) cell and dealt to the folds in
    turn, so every fold holds each cell in nearly the same proportion.

    Parameters
    ----------
    y : ndarray of 0/1
        The label of every row.
    groups : ndarray of int
        The group code of every row.
    n_folds : int
        How many folds (at least 2).
    seed : int
        Seed of the shuffle.

    Returns
    -------
    ndarray of int64

    Raises
    ------
    AuditkitError
        Fewer than 2 folds, or fewer rows than folds.
    """
    n = len(y)
    if n_folds < 2:
        raise AuditkitError(f"remedies need at least 2 cross-fitting folds, not {n_folds}; set remedies.folds to 2 or more.")
    if n < n_folds:
        raise AuditkitError(f"{n} rows cannot be split into {n_folds} cross-fitting folds; lower remedies.folds.")
    rng = np.random.default_rng(seed)
    cell = np.asarray(groups, dtype=np.int64) * 2 + np.asarray(y, dtype=np.int64)
    order = rng.permutation(n)
    order = order[np.argsort(cell[order], kind="stable")]  # shuffled within each cell
    folds = np.empty(n, dtype=np.int64)
    # Deal each cell's rows in turn, continuing the rotation from cell to cell.
    folds[order] = np.arange(n) % n_folds
    return folds
