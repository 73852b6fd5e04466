"""Score-based metrics per group: AUC, mean score and calibration, with bootstrap.

Exact point estimates come from each group's table of unique score values. For the
bootstrap, a group's rows are summarised as a histogram of (score cell, label)
with the sum of scores per cell, and replicates are multinomial draws over that
histogram (a row bootstrap of the group with its size fixed). To bound the cost,
a group with more than :data:`MAX_SCORE_CELLS` distinct scores has them merged into
quantile cells nested inside the calibration bins; the AUC replicates are then
shifted by the (tiny) difference between the exact and the merged point estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._bootstrap import count_replicates
from ._metric_formulas import undefined_reason

__all__ = ["CALIBRATION_BINS", "MAX_SCORE_CELLS", "ScoreSummary", "score_cells", "summarise_scores"]

CALIBRATION_BINS = 10
MAX_SCORE_CELLS = 100


@dataclass(frozen=True)
class ScoreSummary:
    """Score metrics of one group (NaN where undefined) and their replicates."""

    values: dict  # "auc", "mean_score", "ece" -> float (NaN if undefined)
    reasons: dict  # metric -> reason, for the undefined ones
    replicates: dict  # metric -> (n_resamples,) array, empty dict without bootstrap
    reliability: tuple  # one dict per calibration bin


def _auc_from_histogram(negatives: np.ndarray, positives: np.ndarray) -> np.ndarray:
    # Cells are in increasing score order along the last axis; a (positive, negative)
    # pair in the same cell is a tie and counts one half, as in roc_auc_score.
    n_pos = positives.sum(axis=-1)
    n_neg = negatives.sum(axis=-1)
    negatives_below = np.cumsum(negatives, axis=-1) - negatives
    if negatives.ndim == 1 and n_pos * n_neg < 2.0**53:
        # Whole counts: every product and partial sum is a whole number of at most
        # n_pos * n_neg, exact below 2**53, so a sum of products without a temporary array
        # gives the sums exactly, whatever its order of summation (einsum, not a BLAS dot,
        # whose threads would compete for the cores).
        wins = np.einsum("i,i->", positives, negatives_below) + 0.5 * np.einsum("i,i->", positives, negatives)
    else:
        wins = (positives * negatives_below).sum(axis=-1) + 0.5 * (positives * negatives).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = wins / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def _calibration_bin(scores: np.ndarray) -> np.ndarray:
    """``clip(floor(scores * CALIBRATION_BINS), 0, CALIBRATION_BINS - 1)`` as int64: clipped
    first, the value is in [0, CALIBRATION_BINS - 1], where truncation is the floor."""
    bins = scores * CALIBRATION_BINS
    np.clip(bins, 0, CALIBRATION_BINS - 1, out=bins)
    return bins.astype(np.int64)


def score_cells(unique: np.ndarray, rows: np.ndarray, calibration: np.ndarray | None = None) -> np.ndarray:
    """Bootstrap cell of every distinct score value.

    Each distinct value is its own cell when there are at most :data:`MAX_SCORE_CELLS`;
    otherwise values are merged into about that many quantile cells, nested inside the
    calibration bins so that a cell never straddles a bin edge.

    Parameters
    ----------
    unique : numpy.ndarray
        Distinct scores in increasing order (non-empty).
    rows : numpy.ndarray
        Number of rows with each distinct score.
    calibration : numpy.ndarray, optional
        The calibration bin of each distinct value, when the caller has it already.

    Returns
    -------
    numpy.ndarray
        int64 cell index per distinct value, non-decreasing, starting at 0.
    """
    starts = _cell_starts(unique, rows, calibration)
    return np.repeat(np.arange(len(starts)), np.diff(starts, append=len(unique)))


def _cell_starts(unique: np.ndarray, rows: np.ndarray, calibration: np.ndarray | None = None) -> np.ndarray:
    """Position of the first distinct value of every cell of :func:`score_cells`.

    A cell is a run of consecutive distinct values with one key (calibration bin, quantile
    cell); both parts never decrease along the sorted values, so the cells start where
    either part rises, found by binary searches instead of a pass per part.
    """
    if len(unique) <= MAX_SCORE_CELLS:
        return np.arange(len(unique))
    # Quantile cell of each distinct value from the rows before it (the cumulative row count
    # minus its own rows, as whole numbers exact), which avoids another pass over the rows.
    cumulative = np.cumsum(rows)
    scale = MAX_SCORE_CELLS / rows.sum()

    def quantile(i: int) -> int:
        return int((cumulative[i] - rows[i]) * scale)  # non-negative: truncation is the floor

    def calibration_bin(i: int) -> int:
        return int(calibration[i]) if calibration is not None else int(_calibration_bin(unique[i : i + 1])[0])

    rises = _rises(quantile, len(unique)) | _rises(calibration_bin, len(unique))
    return np.array(sorted(rises | {0}), dtype=np.int64)


def _rises(key, n: int) -> set[int]:
    """Positions ``i`` in ``[1, n)`` where a non-decreasing integer ``key(i)`` is above ``key(i - 1)``."""
    rises = set()
    start, value = 0, key(0)
    while value != key(n - 1):
        low, high = start, n - 1  # key(low) == value < key(high)
        while high - low > 1:
            middle = (low + high) // 2
            if key(middle) == value:
                low = middle
            else:
                high = middle
        rises.add(high)
        start, value = high, key(high)
    return rises


def summarise_scores(
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator | None,
    where: str = "in this group",
) -> ScoreSummary:
    """Compute AUC, mean score, ECE and a reliability table for one group.

    Parameters
    ----------
    scores : numpy.ndarray
        Float scores (probability of the positive class) of the group's rows.
    labels : numpy.ndarray
        0/1 actual outcomes of the same rows.
    n_resamples : int
        Bootstrap replicates to draw (0 for none).
    rng : numpy.random.Generator or None
        Source of randomness (unused without bootstrap).
    where : str
        Suffix for reasons, e.g. ``"in this group"`` or ``"in the data"``.

    Returns
    -------
    ScoreSummary
    """
    n = len(scores)
    missing = int(np.isnan(scores).sum())
    if n == 0 or missing:
        reason = (
            f"y_score is missing for {missing} of {n} rows {where}" if missing else f"no rows {where}"
        )
        return undefined_summary(reason, n_resamples=n_resamples)

    unique, neg_u, pos_u = _distinct_scores(scores, labels)
    auc = float(_auc_from_histogram(neg_u, pos_u))
    mean_score = float(np.mean(scores))

    bins = _calibration_bin(scores)
    bin_n = np.bincount(bins, minlength=CALIBRATION_BINS)
    bin_score = np.bincount(bins, weights=scores, minlength=CALIBRATION_BINS)
    bin_pos = np.bincount(bins, weights=labels, minlength=CALIBRATION_BINS)
    ece = float(np.abs(bin_score - bin_pos).sum() / n)
    return finish_summary(unique, neg_u, pos_u, bin_n, bin_score, bin_pos, auc=auc, mean_score=mean_score, ece=ece,
                          n=n, n_resamples=n_resamples, rng=rng, where=where)


def _distinct_scores(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct scores in increasing order, and the negative and positive rows of each (float64).

    What ``np.unique(scores, return_inverse=True)`` and bincounts of the labels give. For 0/1
    labels and scores in [0, 2) (probabilities; no NaN, no -0.0) it takes one integer sort
    instead of the argsort behind ``return_inverse``: the bits of such a float, read as an
    integer, order like the float and leave the lowest bit free after a shift, so each row
    is the key ``bits * 2 + label``; equal scores are then one run of keys, the label in the
    lowest bit.
    """
    bits = np.ascontiguousarray(scores, dtype=np.float64).view(np.int64)
    positive = labels == 1
    if (positive | (labels == 0)).all() and bits.min() >= 0 and bits.max() < (1 << 62):
        keys = bits << 1
        keys |= positive
        keys.sort()
        return _runs_of_scores(keys)
    unique, inverse = np.unique(scores, return_inverse=True)
    pos_u = np.bincount(inverse, weights=labels, minlength=len(unique))
    return unique, np.bincount(inverse, minlength=len(unique)) - pos_u, pos_u


def _runs_of_scores(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct scores of sorted keys ``score bits * 2 + label``, and the negative and
    positive rows of each (float64).

    Each score is one run of keys, its negatives first. A run whose first key is a positive
    is all positives, one whose last key is a negative all negatives; in a run of both, the
    first positive is found by a binary search.
    """
    n = len(keys)
    values = keys >> 1
    new_value = np.empty(n, dtype=bool)
    new_value[0] = True
    np.not_equal(values[1:], values[:-1], out=new_value[1:])
    if new_value.all():  # every score distinct (continuous scores): one row per run
        pos_u = (keys & 1).astype(np.float64)
        return values.view(np.float64), 1.0 - pos_u, pos_u
    starts = np.flatnonzero(new_value)
    ends = np.append(starts[1:], n)
    rows = ends - starts
    first_positive = (keys[starts] & 1).astype(bool)
    last_positive = (keys[ends - 1] & 1).astype(bool)
    positives = np.where(first_positive, rows, 0)
    mixed = np.flatnonzero(last_positive & ~first_positive)
    positives[mixed] = ends[mixed] - np.searchsorted(keys, keys[ends[mixed] - 1], side="left")
    pos_u = positives.astype(np.float64)
    return values[starts].view(np.float64), rows - pos_u, pos_u


def undefined_summary(reason: str, *, n_resamples: int) -> ScoreSummary:
    """Every score metric undefined for one reason (no rows, missing scores)."""
    names = ("auc", "mean_score", "ece")
    return ScoreSummary(
        values={m: np.nan for m in names},
        reasons={m: reason for m in names},
        replicates={m: np.full(n_resamples, np.nan) for m in names} if n_resamples else {},
        reliability=(),
    )


def finish_summary(unique, neg_u, pos_u, bin_n, bin_score, bin_pos, *, auc: float, mean_score: float, ece: float,
                   n: int, n_resamples: int, rng, where: str) -> ScoreSummary:
    """The reliability table and the bootstrap of a group's score metrics.

    Shared by :func:`summarise_scores` (from rows) and the from-counts entry (from a score
    histogram): from the distinct scores ``unique`` with their negative and positive row
    counts, and the calibration bins' row counts, score sums and positives.
    """
    reliability = tuple(
        {
            "bin_low": b / CALIBRATION_BINS,
            "bin_high": (b + 1) / CALIBRATION_BINS,
            "n": int(bin_n[b]),
            "mean_score": float(bin_score[b] / bin_n[b]) if bin_n[b] else None,
            "fraction_positive": float(bin_pos[b] / bin_n[b]) if bin_n[b] else None,
        }
        for b in range(CALIBRATION_BINS)
    )
    values = {"auc": auc, "mean_score": mean_score, "ece": ece}
    reasons = {"auc": undefined_reason("auc", where=where)} if np.isnan(auc) else {}
    if not n_resamples:
        return ScoreSummary(values, reasons, {}, reliability)

    starts = _cell_starts(unique, pos_u + neg_u)
    n_cells = len(starts)
    cell_u = np.repeat(np.arange(n_cells), np.diff(starts, append=len(unique)))
    # Whole counts per cell: exact in any order of summation.
    hist = np.stack([np.add.reduceat(neg_u, starts), np.add.reduceat(pos_u, starts)], axis=-1)
    score_sums = np.stack(
        [np.bincount(cell_u, weights=neg_u * unique, minlength=n_cells),
         np.bincount(cell_u, weights=pos_u * unique, minlength=n_cells)],
        axis=-1,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_mean = np.where(hist > 0, score_sums / hist, 0.0)
    cell_cal = _calibration_bin(unique[starts])  # a cell never straddles a calibration bin

    draws = count_replicates(np.rint(hist).astype(np.int64), n_resamples=n_resamples, rng=rng)
    draws = draws.astype(np.float64)
    auc_shift = auc - float(_auc_from_histogram(hist[:, 0], hist[:, 1])) if not np.isnan(auc) else 0.0
    auc_reps = _auc_from_histogram(draws[..., 0], draws[..., 1]) + auc_shift
    mean_reps = (draws * cell_mean).sum(axis=(1, 2)) / n
    # Per cell: sum of (score - label); summed per calibration bin, then |.| and / n.
    gap = draws[..., 0] * cell_mean[:, 0] + draws[..., 1] * (cell_mean[:, 1] - 1.0)
    to_bins = np.zeros((n_cells, CALIBRATION_BINS))
    to_bins[np.arange(n_cells), cell_cal] = 1.0
    ece_reps = np.abs(gap @ to_bins).sum(axis=1) / n
    replicates = {"auc": auc_reps, "mean_score": mean_reps, "ece": ece_reps}
    return ScoreSummary(values, reasons, replicates, reliability)
