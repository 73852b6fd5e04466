"""Regression metrics per group from sums, with a random-block bootstrap."""

from __future__ import annotations

import numpy as np

from ._bootstrap import block_replicate_sums
from ._metric_formulas import regression_metrics

__all__ = ["regression_summary"]


def regression_summary(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator | None,
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Point estimates and bootstrap replicates of the regression metrics of one group.

    Parameters
    ----------
    y_true, y_pred : numpy.ndarray
        Float targets and predictions of the group's rows.
    n_resamples : int
        Replicates to draw (0 for none).
    rng : numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    (dict, dict)
        Metric -> float (NaN if undefined), and metric -> ``(n_resamples,)`` replicates
        (empty without bootstrap).
    """
    error = y_pred - y_true
    per_row = np.column_stack([np.ones_like(y_true), y_pred, y_true, np.abs(error), error * error])
    point = {k: float(v) for k, v in regression_metrics(per_row.sum(axis=0)).items()}
    if not n_resamples or len(y_true) == 0:
        return point, {}
    sums = block_replicate_sums(per_row, n_resamples=n_resamples, rng=rng)
    return point, regression_metrics(sums)
