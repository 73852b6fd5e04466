"""Model performance: the overall metrics with their intervals, and the confusion matrix."""

from __future__ import annotations

from ...metrics import define
from ..formatting import fmt_interval, fmt_number

__all__ = ["performance_view"]

#: The overall metrics shown, in this order, when the results hold them.
SHOWN = ("accuracy", "balanced_accuracy", "tpr", "fpr", "ppv", "npv", "f1", "selection_rate", "auc", "mean_score",
         "mae", "rmse", "mean_prediction", "mean_target")


def performance_view(results: dict) -> dict | None:
    """The performance section; None without a model (no fairness results)."""
    fairness = results.get("fairness")
    if not fairness:
        return None
    model = results.get("model") or {}
    overall = fairness.get("overall") or {}
    overall_ci = fairness.get("overall_ci") or {}
    return {
        "metrics": [{"name": k, "value": fmt_number(overall[k]), "interval": fmt_interval(overall_ci.get(k)),
                     "definition": define(k)} for k in SHOWN if overall.get(k) is not None],
        "confusion": fairness.get("confusion"),
        "threshold": model.get("threshold"),
        "source": model.get("source"),
    }
