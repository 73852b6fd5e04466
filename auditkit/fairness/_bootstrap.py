"""Bootstrap machinery: multinomial count resamples, random-block resamples, intervals.

A row-resampling bootstrap (draw ``n`` rows with replacement) changes a feature's
(group, cell) count table into a multinomial draw with ``n`` trials over all its
cells, with probabilities equal to the observed cell shares. Drawing that directly
costs ``O(cells)`` per replicate instead of ``O(rows)``.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "MIN_VALID_SHARE",
    "block_replicate_sums",
    "block_weights",
    "count_replicates",
    "percentile_interval",
]

# An interval is reported only when at least this share of the replicates left the
# statistic defined; otherwise the surviving replicates are a biased, conditional sample.
MIN_VALID_SHARE = 0.5

# Rows are grouped into at most this many random blocks for the regression bootstrap.
MAX_BLOCKS = 400


def count_replicates(counts: np.ndarray, *, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Draw bootstrap replicates of a count table.

    Parameters
    ----------
    counts : numpy.ndarray
        Integer array of any shape (e.g. ``(groups, 4)``); its total is the row count.
    n_resamples : int
        Number of replicates.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_resamples, *counts.shape)``: each slice is the count table of one
        resample of all rows with replacement.
    """
    flat = np.asarray(counts, dtype=np.int64).ravel()
    total = int(flat.sum())
    draws = rng.multinomial(total, flat / total, size=n_resamples)
    return draws.reshape((n_resamples,) + np.shape(counts))


def block_replicate_sums(
    values: np.ndarray, *, n_resamples: int, rng: np.random.Generator, max_blocks: int = MAX_BLOCKS
) -> np.ndarray:
    """Bootstrap column sums of `values` by resampling random blocks of rows.

    Rows are shuffled into ``m = min(n, max_blocks)`` blocks of (nearly) equal size;
    each replicate draws ``m`` blocks with replacement and adds their sums. For sums
    and smooth functions of means this has the variance of the row bootstrap
    (``m`` blocks of ``n/m`` rows), at ``O(n + n_resamples * m)`` cost; with
    ``n <= max_blocks`` it *is* the row bootstrap.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(n, k)``: per-row quantities to sum (include a column of ones for n).
    n_resamples : int
        Number of replicates.
    rng : numpy.random.Generator
        Source of randomness.
    max_blocks : int
        Upper bound on the number of blocks.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_resamples, k)``.
    """
    n, k = values.shape
    block_of_row, weights = block_weights(n, n_resamples=n_resamples, rng=rng, max_blocks=max_blocks)
    m = weights.shape[1]
    block_sums = np.stack(
        [np.bincount(block_of_row, weights=values[:, j], minlength=m) for j in range(k)], axis=1
    )
    return weights @ block_sums


def block_weights(
    n: int, *, n_resamples: int, rng: np.random.Generator, max_blocks: int = MAX_BLOCKS
) -> tuple[np.ndarray, np.ndarray]:
    """Assign rows to random blocks and draw how often each replicate picks each block.

    The random part of :func:`block_replicate_sums`, for callers that sum several
    quantities (e.g. two models' outcomes on the same rows) with the same blocks.

    Parameters
    ----------
    n : int
        Number of rows (at least 1).
    n_resamples : int
        Number of replicates.
    rng : numpy.random.Generator
        Source of randomness.
    max_blocks : int
        Upper bound on the number of blocks.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The block of every row (``(n,)``, in ``[0, m)`` with ``m = min(n, max_blocks)``)
        and the int64 multiplicity of every block in every replicate
        (``(n_resamples, m)``, each row summing to ``m``).
    """
    m = min(n, max_blocks)
    block_of_row = rng.permutation(n) % m
    picks = rng.integers(0, m, size=(n_resamples, m))
    picks += (np.arange(n_resamples) * m)[:, None]
    weights = np.bincount(picks.ravel(), minlength=n_resamples * m).reshape(n_resamples, m)
    return block_of_row, weights


def percentile_interval(
    replicates: np.ndarray, *, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval along axis 0, ignoring NaN (undefined) replicates.

    Parameters
    ----------
    replicates : numpy.ndarray
        Shape ``(n_resamples, ...)``; NaN marks a replicate in which the statistic
        was undefined (it is dropped for that statistic).
    confidence : float
        Coverage in (0, 1), e.g. 0.95 for the 2.5 % and 97.5 % percentiles.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bounds of shape ``replicates.shape[1:]``; NaN where fewer than
        :data:`MIN_VALID_SHARE` of the replicates are defined.
    """
    replicates = np.asarray(replicates, dtype=np.float64)
    alpha = (1.0 - confidence) / 2.0
    valid = ~np.isnan(replicates)
    enough = valid.mean(axis=0) >= MIN_VALID_SHARE
    if valid.all():
        lo, hi = np.quantile(replicates, [alpha, 1.0 - alpha], axis=0)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices are handled below
            lo, hi = np.nanquantile(replicates, [alpha, 1.0 - alpha], axis=0)
    lo = np.where(enough, lo, np.nan)
    hi = np.where(enough, hi, np.nan)
    return lo, hi
