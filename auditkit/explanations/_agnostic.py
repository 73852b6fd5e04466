"""Model-agnostic SHAP values for any model, raw string and categorical columns included.

shap's ``Independent`` masker does arithmetic on its data, so it fails on string columns,
and its explainers call the model once or twice per explained row, which makes
scikit-learn Pipelines (a few milliseconds of overhead per call) slow. Here the masked
rows are built directly as raw DataFrames -- each cell taken from the explained row or
from a background row, keeping every column's dtype (``str``, ``category``, NaN) -- and the
model is called on many explained rows at once.

The values are the interventional Shapley values shap's explainers estimate:

* ``exact`` (up to :data:`EXACT_MAX_FEATURES` columns): every coalition is evaluated, as
  in shap's ``ExactExplainer``;
* ``permutation`` (more columns): :data:`PERMUTATIONS` random permutations, each walked
  forwards and backwards, as in shap's ``PermutationExplainer``. The values still add up
  exactly to the explained output; they are estimates of the Shapley values.
"""

from __future__ import annotations

from collections.abc import Callable
from math import factorial

import numpy as np
import pandas as pd

from ._frame import first_occurrence_codes, mix_rows
from ._progress import track

# Model-agnostic explanations evaluate the model on (coalitions x background) rows per
# explained row; these caps keep the default budget in the range of seconds to a minute.
MAX_ROWS = 500
MAX_BACKGROUND = 50
EXACT_MAX_FEATURES = 8
PERMUTATIONS = 10
# Rows handed to the model per call.
BATCH_ROWS = 50_000


def coded_model(pool: pd.DataFrame, fn: Callable[[pd.DataFrame], np.ndarray]):
    """Wrap ``fn`` so that shap's own explainers can mask raw rows holding strings.

    Every cell is encoded as the position of the first row of ``pool`` holding the same
    value; the wrapped function decodes code matrices back to raw DataFrames.

    Parameters
    ----------
    pool : DataFrame
        Rows whose values the codes refer to (positionally indexed).
    fn : callable
        Raw DataFrame -> 1-D output.

    Returns
    -------
    codes : ndarray of shape (len(pool), n_columns)
        The code of every cell of ``pool``.
    wrapped : callable
        Code matrix -> 1-D output.
    """
    codes = first_occurrence_codes(pool)

    def wrapped(coded: np.ndarray) -> np.ndarray:
        positions = np.asarray(np.rint(coded), dtype=np.intp)
        return fn(mix_rows(pool, positions))

    return codes, wrapped


def explain_agnostic(
    fn: Callable[[pd.DataFrame], np.ndarray],
    pool: pd.DataFrame,
    n_explained: int,
    *,
    seed: int,
    progress: bool,
) -> tuple[str, np.ndarray]:
    """SHAP values of ``fn`` for the first ``n_explained`` rows of ``pool``.

    Parameters
    ----------
    fn : callable
        Raw DataFrame -> 1-D model output.
    pool : DataFrame
        Explained rows followed by background rows (positionally indexed).
    n_explained : int
        Number of explained rows.
    seed : int
        Seed for the permutations.
    progress : bool
        Show a progress bar.

    Returns
    -------
    method : str
        ``"exact"`` or ``"permutation"``.
    values : ndarray of shape (n_explained, n_columns)
    """
    n_features = pool.shape[1]
    background = np.arange(n_explained, len(pool))
    if n_features <= EXACT_MAX_FEATURES:
        method = "exact"
        masks = ((np.arange(2**n_features)[:, None] >> np.arange(n_features)) & 1).astype(bool)
        weights = _shapley_matrix(masks)
    else:
        method = "permutation"
        rng = np.random.default_rng(seed)
    per_row = (len(masks) if method == "exact" else 2 * PERMUTATIONS * (n_features + 1)) * len(background)
    chunk = max(1, BATCH_ROWS // per_row)
    starts = range(0, n_explained, chunk)
    values = np.zeros((n_explained, n_features))
    for start in track(starts, total=len(starts), enabled=progress, desc=f"SHAP ({method})"):
        rows = np.arange(start, min(start + chunk, n_explained))
        if method == "exact":
            values[rows] = _coalition_values(fn, pool, rows, background, masks) @ weights
        else:
            orders = np.stack([rng.permutation(n_features) for _ in range(len(rows) * PERMUTATIONS)])
            values[rows] = _permutation_values(fn, pool, rows, background, orders.reshape(len(rows), PERMUTATIONS, -1))
    return method, values


def _shapley_matrix(masks: np.ndarray) -> np.ndarray:
    """``W`` with ``phi = v @ W`` for coalition values ``v`` in the order of ``masks``."""
    n_features = masks.shape[1]
    size = masks.sum(axis=1)[:, None]
    total = factorial(n_features)
    fact = np.array([factorial(k) for k in range(n_features + 1)], dtype=np.float64)
    joined = fact[np.maximum(size - 1, 0)] * fact[n_features - size] / total
    left_out = fact[size] * fact[np.maximum(n_features - size - 1, 0)] / total
    return np.where(masks, joined, -left_out)


def _coalition_values(fn, pool, rows, background, masks) -> np.ndarray:
    """Mean output over the background of every (row, coalition): shape (rows, coalitions)."""
    positions = np.where(masks[None, :, None, :], rows[:, None, None, None], background[None, None, :, None])
    outputs = fn(mix_rows(pool, positions.reshape(-1, masks.shape[1])))
    return np.asarray(outputs, dtype=np.float64).reshape(len(rows), len(masks), len(background)).mean(axis=2)


def _permutation_values(fn, pool, rows, background, orders) -> np.ndarray:
    """Antithetic permutation estimates for ``rows``; ``orders`` has shape (rows, P, features)."""
    n_rows, n_perm, n_features = orders.shape
    chains = np.concatenate([orders, orders[:, :, ::-1]], axis=1)  # forwards and backwards
    # Coalition k of a chain holds the first k features of its order.
    rank = np.argsort(chains, axis=2)
    masks = rank[:, :, None, :] < np.arange(n_features + 1)[None, None, :, None]
    positions = np.where(
        masks[:, :, :, None, :], rows[:, None, None, None, None], background[None, None, None, :, None]
    )
    outputs = fn(mix_rows(pool, positions.reshape(-1, n_features)))
    v = np.asarray(outputs, dtype=np.float64).reshape(n_rows, 2 * n_perm, n_features + 1, len(background))
    gains = np.diff(v.mean(axis=3), axis=2)  # gain of adding chains[..., k]
    values = np.zeros((n_rows, n_features))
    np.add.at(values, (np.arange(n_rows)[:, None, None], chains), gains)
    return values / (2 * n_perm)
