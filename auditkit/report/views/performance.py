"""Model performance: the overall metrics with their intervals, and the confusion matrix.

With labels pending, the metrics that need the true outcomes are listed as "labels pending"
(never a number), and the score distribution over all rows is shown when the model scores."""

from __future__ import annotations

from ...metrics import define, get_metric
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
    pending = fairness.get("labels") == "pending"
    metrics = [{"name": k, "value": fmt_number(overall[k]), "interval": fmt_interval(overall_ci.get(k)),
                "definition": define(k), "pending": False} for k in SHOWN if overall.get(k) is not None]
    awaiting = [k for k in SHOWN if pending and k not in overall and _applies(k, fairness.get("task"))
                and (k != "auc" or "mean_score" in overall)]
    metrics += [{"name": k, "value": "labels pending", "interval": "", "definition": define(k), "pending": True}
                for k in awaiting]
    overall_scores = [d for d in fairness.get("score_distribution") or [] if d.get("feature") is None]
    return {
        "metrics": metrics,
        "confusion": None if pending else fairness.get("confusion"),
        "threshold": model.get("threshold"),
        "source": model.get("source"),
        "labels_pending": pending,
        "awaiting": awaiting,
        "scores": _score_rows(overall_scores),
    }


def _applies(metric: str, task: str | None) -> bool:
    """A label metric of the audit's task (what a labelled audit of this batch would show)."""
    definition = get_metric(metric)
    if definition is None or not definition.needs_labels:
        return False
    regression = metric in ("mae", "rmse", "mean_target")
    return regression == (task == "regression")


def _score_rows(records: list[dict]) -> list[dict]:
    """Score quantiles per group, formatted (shared with the fairness section)."""
    rows = []
    for d in records:
        q = d.get("quantiles") or {}
        rows.append({"group": d.get("group"), "n": fmt_number(d.get("n")), "mean": fmt_number(d.get("mean")),
                     "quantiles": [fmt_number(q.get(k)) for k in sorted(q)], "labels": [k for k in sorted(q)]})
    return rows
