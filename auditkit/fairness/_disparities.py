"""Disparities between groups, vectorised over bootstrap replicates.

Between groups (fairlearn's ``method="between_groups"``): difference is the largest
minus the smallest group value, ratio the smallest over the largest. Only groups
with status ok and a defined point value are compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Spread", "combine_worst_case", "spread", "versus"]


@dataclass(frozen=True)
class Spread:
    """A difference and a ratio with reasons (when undefined) and replicates."""

    difference: float
    ratio: float
    difference_reason: str | None
    ratio_reason: str | None
    difference_replicates: np.ndarray | None
    ratio_replicates: np.ndarray | None
    groups_compared: int
    # True when the ratio is undefined only because every compared value is 0: the
    # groups are equal, so in a worst case over several parts this part cannot bind.
    ratio_all_zero: bool = False


def _ratio(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = low / high
    return np.where((high > 0) & (low >= 0), ratio, np.nan)


def spread(
    metric: str, values: np.ndarray, replicates: np.ndarray | None, compared: np.ndarray
) -> Spread:
    """Difference and ratio between the compared groups.

    Parameters
    ----------
    metric : str
        Metric name, for reasons.
    values : numpy.ndarray
        Point value per group (NaN if undefined).
    replicates : numpy.ndarray or None
        ``(n_resamples, groups)`` replicates, or None without bootstrap.
    compared : numpy.ndarray
        Boolean mask of groups with status ok.

    Returns
    -------
    Spread
    """
    compared = compared & ~np.isnan(values)
    k = int(compared.sum())
    if k < 2:
        reason = f"fewer than 2 groups with sufficient data and a defined {metric} ({k})"
        return Spread(np.nan, np.nan, reason, reason, None, None, k)
    chosen = values[compared]
    low, high = chosen.min(), chosen.max()
    difference = float(high - low)
    ratio = float(_ratio(np.array(low), np.array(high)))
    ratio_reason = None
    if np.isnan(ratio):
        ratio_reason = (
            f"every compared group has {metric} = 0, so the ratio is undefined"
            if high == 0
            else f"ratio of {metric} is undefined for negative values"
        )
    diff_reps = ratio_reps = None
    if replicates is not None:
        # max/min propagate NaN, so a replicate where any compared group is undefined
        # is dropped for this disparity.
        sub = replicates[:, compared]
        rep_low, rep_high = sub.min(axis=1), sub.max(axis=1)
        diff_reps = rep_high - rep_low
        ratio_reps = _ratio(rep_low, rep_high)
    all_zero = bool(high == 0 and low == 0)
    return Spread(difference, ratio, None, ratio_reason, diff_reps, ratio_reps, k, all_zero)


def combine_worst_case(name: str, first: Spread, second: Spread) -> Spread:
    """Combine two spreads as fairlearn's ``agg="worst_case"``: max difference, min ratio.

    Defined when both parts are defined; for the ratio, a part whose ratio is
    undefined only because every compared value is 0 (0/0: no disparity) does not
    bind, and the other part's ratio is used (fairlearn returns the same number when
    that part is the fpr; its result then depends on argument order). Otherwise the
    reason names the undefined part.
    """
    if np.isnan(first.difference) or np.isnan(second.difference):
        undefined = first if np.isnan(first.difference) else second
        reason = f"{name} needs both parts: {undefined.difference_reason}"
        return Spread(np.nan, np.nan, reason, reason, None, None,
                      min(first.groups_compared, second.groups_compared))
    difference = max(first.difference, second.difference)
    diff_reps = ratio_reps = None
    if first.difference_replicates is not None and second.difference_replicates is not None:
        diff_reps = np.maximum(first.difference_replicates, second.difference_replicates)
    ratio_reason = None
    if not np.isnan(first.ratio) and not np.isnan(second.ratio):
        ratio = min(first.ratio, second.ratio)
        if diff_reps is not None:
            ratio_reps = np.minimum(first.ratio_replicates, second.ratio_replicates)
    elif not np.isnan(first.ratio) and second.ratio_all_zero:
        ratio, ratio_reps = first.ratio, first.ratio_replicates
    elif not np.isnan(second.ratio) and first.ratio_all_zero:
        ratio, ratio_reps = second.ratio, second.ratio_replicates
    else:
        ratio = np.nan
        undefined = first if np.isnan(first.ratio) else second
        ratio_reason = f"{name} needs both parts: {undefined.ratio_reason}"
    if np.isnan(ratio):
        ratio_reps = None
    return Spread(
        difference,
        ratio,
        None,
        ratio_reason,
        diff_reps,
        ratio_reps,
        min(first.groups_compared, second.groups_compared),
        first.ratio_all_zero and second.ratio_all_zero,
    )


def versus(
    values: np.ndarray, replicates: np.ndarray | None, reference: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Every group against the reference: difference (group - reference), ratio (group / reference).

    Returns per-group arrays and, with replicates, ``(n_resamples, groups)`` arrays.
    The ratio is NaN when the reference value is 0 or negative.
    """
    difference = values - values[reference]
    ratio = _plain_ratio(values, values[reference])
    if replicates is None:
        return difference, ratio, None, None
    reference_reps = replicates[:, reference : reference + 1]
    return difference, ratio, replicates - reference_reps, _plain_ratio(replicates, reference_reps)


def _plain_ratio(numerator, denominator):
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator
    return np.where(denominator > 0, ratio, np.nan)
