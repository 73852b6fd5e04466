"""The metric names the fairness kernel computes, from the metric registry (:mod:`auditkit.metrics`)."""

from __future__ import annotations

from .. import metrics as _metrics

__all__ = [
    "AGGREGATE_METRICS",
    "COUNT_METRICS",
    "DEFAULT_METRICS",
    "GROUP_METRICS",
    "LABEL_FREE_METRICS",
    "MISSING_GROUP",
    "REGRESSION_METRICS",
    "SCORE_METRICS",
    "is_fairness_metric",
    "split_disparity_name",
]

# Defined once, in the metric registry; the kernel computes exactly these.
COUNT_METRICS = _metrics.COUNT_METRICS
SCORE_METRICS = _metrics.SCORE_METRICS
REGRESSION_METRICS = _metrics.REGRESSION_METRICS
AGGREGATE_METRICS = tuple(_metrics.AGGREGATES)
DEFAULT_METRICS = _metrics.DEFAULT_FAIRNESS_METRICS
GROUP_METRICS = _metrics.GROUP_METRICS
MISSING_GROUP = _metrics.MISSING_GROUP
#: The per-group metrics and aggregates computed from the model's outputs alone (no labels).
LABEL_FREE_METRICS = _metrics.LABEL_FREE_METRICS + _metrics.LABEL_FREE_AGGREGATES
_DISPARITY_KINDS = ("difference", "ratio")


def split_disparity_name(name: str) -> tuple[str, str] | None:
    """Split ``"<metric>_difference"`` / ``"<metric>_ratio"`` into ``(metric, kind)``.

    Parameters
    ----------
    name : str
        A candidate disparity name.

    Returns
    -------
    tuple of (str, str) or None
        The base metric (a per-group metric or an aggregate) and ``"difference"`` or
        ``"ratio"``; None when `name` is not a disparity name.
    """
    for kind in _DISPARITY_KINDS:
        suffix = "_" + kind
        if isinstance(name, str) and name.endswith(suffix):
            base = name[: -len(suffix)]
            if base in GROUP_METRICS or base in AGGREGATE_METRICS:
                return base, kind
    return None


def is_fairness_metric(name: str) -> bool:
    """Tell whether `name` is a per-group metric or a disparity name of the kernel.

    Parameters
    ----------
    name : str
        A metric name, e.g. ``"tpr"``, ``"selection_rate_ratio"`` or
        ``"equalized_odds_difference"``.

    Returns
    -------
    bool
        True for every name in :data:`COUNT_METRICS`, :data:`SCORE_METRICS`,
        :data:`REGRESSION_METRICS`, and every ``<metric>_difference`` /
        ``<metric>_ratio`` of those and of :data:`AGGREGATE_METRICS`.
    """
    return isinstance(name, str) and (name in GROUP_METRICS or split_disparity_name(name) is not None)
