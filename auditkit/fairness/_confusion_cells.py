"""Per-group confusion counts in one vectorised pass over the rows."""

from __future__ import annotations

import numpy as np

__all__ = ["CELLS", "FN", "FP", "TN", "TP", "cell_codes", "group_cell_counts"]

# A row's cell is 2 * y_true + y_pred, so these are the column positions of the
# (..., 4) count arrays used throughout the kernel.
TN, FP, FN, TP = 0, 1, 2, 3
CELLS = ("tn", "fp", "fn", "tp")


def cell_codes(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Return each row's confusion cell (0 tn, 1 fp, 2 fn, 3 tp) as int8.

    Parameters
    ----------
    y_true, y_pred : numpy.ndarray
        0/1 arrays of the same length.

    Returns
    -------
    numpy.ndarray
        int8 array of cell codes.
    """
    cells = y_true.astype(np.int8, copy=True)
    cells *= 2
    cells += y_pred.astype(np.int8, copy=False)
    return cells


def group_cell_counts(codes: np.ndarray, cells: np.ndarray, *, n_groups: int) -> np.ndarray:
    """Count rows per (group, cell) with a single ``np.bincount``.

    Parameters
    ----------
    codes : numpy.ndarray
        Group index of every row (int64, in ``[0, n_groups)``).
    cells : numpy.ndarray
        Confusion cell of every row, from :func:`cell_codes`.
    n_groups : int
        Number of groups.

    Returns
    -------
    numpy.ndarray
        int64 array of shape ``(n_groups, 4)`` in cell order tn, fp, fn, tp.
    """
    index = codes * 4  # fresh int64 array; adding in place avoids a second temporary
    index += cells
    return np.bincount(index, minlength=4 * n_groups).reshape(n_groups, 4)
