"""The metric vocabulary of the fairness engine: canonical names and their families."""

from __future__ import annotations

__all__ = [
    "AGGREGATE_METRICS",
    "COUNT_METRICS",
    "DEFAULT_METRICS",
    "GROUP_METRICS",
    "MISSING_GROUP",
    "REGRESSION_METRICS",
    "SCORE_METRICS",
    "is_fairness_metric",
    "split_disparity_name",
]

MISSING_GROUP = "(missing)"

COUNT_METRICS = (
    "count",
    "base_rate",
    "selection_rate",
    "tpr",
    "fpr",
    "fnr",
    "tnr",
    "ppv",
    "npv",
    "accuracy",
    "balanced_accuracy",
    "f1",
)
SCORE_METRICS = ("auc", "mean_score")
REGRESSION_METRICS = ("mean_prediction", "mean_target", "mae", "rmse")
AGGREGATE_METRICS = ("demographic_parity", "equalized_odds", "equal_opportunity")
DEFAULT_METRICS = ("selection_rate", "tpr", "fpr", "ppv", "accuracy")

GROUP_METRICS = COUNT_METRICS + SCORE_METRICS + REGRESSION_METRICS
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
    """Tell whether `name` is a per-group metric or a disparity name of the engine.

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
