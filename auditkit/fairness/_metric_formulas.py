"""Metric formulas, vectorised over any leading axes (e.g. a bootstrap axis).

The same functions compute point estimates (no leading axis) and bootstrap
replicates (leading axis of length ``n_resamples``). Undefined values are NaN here;
the result layer turns them into None with the reason from :func:`undefined_reason`.
"""

from __future__ import annotations

import numpy as np

from ._confusion_cells import FN, FP, TN, TP

__all__ = [
    "classification_metrics",
    "regression_metrics",
    "undefined_reason",
]

_REASONS = {
    "count": "no rows",
    "base_rate": "no rows",
    "selection_rate": "no rows",
    "accuracy": "no rows",
    "tpr": "no actual positives",
    "fnr": "no actual positives",
    "fpr": "no actual negatives",
    "tnr": "no actual negatives",
    "ppv": "no predicted positives",
    "npv": "no predicted negatives",
    "balanced_accuracy": "needs both actual positives and actual negatives, found only one class",
    "f1": "no actual positives and no predicted positives",
    "auc": "needs both actual positives and actual negatives, found only one class",
    "mean_score": "no rows",
    "mean_prediction": "no rows",
    "mean_target": "no rows",
    "mae": "no rows",
    "rmse": "no rows",
}


def undefined_reason(metric: str, *, where: str = "in this group") -> str:
    """Return why `metric` is undefined, e.g. ``"no actual positives in this group"``."""
    return f"{_REASONS.get(metric, 'undefined')} {where}"


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / denominator
    return np.where(denominator == 0, np.nan, out)


def classification_metrics(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Compute every count metric from confusion counts.

    Parameters
    ----------
    counts : numpy.ndarray
        Shape ``(..., 4)`` with cells in order tn, fp, fn, tp.

    Returns
    -------
    dict of str to numpy.ndarray
        One float array of shape ``counts.shape[:-1]`` per name in ``COUNT_METRICS``;
        NaN where the metric is undefined.
    """
    counts = np.asarray(counts, dtype=np.float64)
    tn, fp, fn, tp = counts[..., TN], counts[..., FP], counts[..., FN], counts[..., TP]
    n = tn + fp + fn + tp
    positives = tp + fn
    negatives = tn + fp
    tpr = _divide(tp, positives)
    tnr = _divide(tn, negatives)
    return {
        "count": np.where(n == 0, np.nan, n),
        "base_rate": _divide(positives, n),
        "selection_rate": _divide(tp + fp, n),
        "tpr": tpr,
        "fpr": _divide(fp, negatives),
        "fnr": _divide(fn, positives),
        "tnr": tnr,
        "ppv": _divide(tp, tp + fp),
        "npv": _divide(tn, tn + fn),
        "accuracy": _divide(tp + tn, n),
        # NaN propagates: undefined unless both classes are present.
        "balanced_accuracy": (tpr + tnr) / 2.0,
        "f1": _divide(2.0 * tp, 2.0 * tp + fp + fn),
    }


def regression_metrics(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Compute regression metrics from per-group sums.

    Parameters
    ----------
    sums : numpy.ndarray
        Shape ``(..., 5)`` with columns n, sum of predictions, sum of targets, sum of
        absolute errors and sum of squared errors.

    Returns
    -------
    dict of str to numpy.ndarray
        ``count``, ``mean_prediction``, ``mean_target``, ``mae`` and ``rmse``.
    """
    sums = np.asarray(sums, dtype=np.float64)
    n = sums[..., 0]
    return {
        "count": np.where(n == 0, np.nan, n),
        "mean_prediction": _divide(sums[..., 1], n),
        "mean_target": _divide(sums[..., 2], n),
        "mae": _divide(sums[..., 3], n),
        "rmse": np.sqrt(_divide(sums[..., 4], n)),
    }
