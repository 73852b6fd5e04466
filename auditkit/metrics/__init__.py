"""The metric registry: every metric a rule can judge, defined once.

Each :class:`Metric` carries its name, family, the evidence it is read from, what the policy
must provide for it, its formula, direction (higher or lower is better), glossary text, the
sentence a rule on it reads as, and how a rule observes it. Policy validation, rule
evaluation, the report, ``audit diff`` and ``docs/metrics.md`` all read this registry; packs add
their metrics with :func:`register_metric`.

>>> from auditkit.metrics import get_metric
>>> get_metric("tpr").direction
1
>>> get_metric("selection_rate_ratio").family
'disparity'
"""

from __future__ import annotations

from ._catalog import (
    AGGREGATES,
    COUNT_METRICS,
    DEFAULT_FAIRNESS_METRICS,
    GROUP_METRICS,
    LABEL_FREE_AGGREGATES,
    LABEL_FREE_METRICS,
    MISSING_GROUP,
    REGRESSION_METRICS,
    SCORE_METRICS,
)
from ._metric import FAMILIES, Judgement, Metric, Observation
from ._observe import observe_change
from ._registry import (
    bound_text,
    change_bounds,
    change_sentence,
    define,
    format_value,
    get_metric,
    metric_names,
    metrics,
    register_metric,
    register_term,
    rule_sentence,
)

__all__ = [
    "AGGREGATES",
    "COUNT_METRICS",
    "DEFAULT_FAIRNESS_METRICS",
    "FAMILIES",
    "GROUP_METRICS",
    "Judgement",
    "LABEL_FREE_AGGREGATES",
    "LABEL_FREE_METRICS",
    "MISSING_GROUP",
    "Metric",
    "Observation",
    "REGRESSION_METRICS",
    "SCORE_METRICS",
    "bound_text",
    "change_bounds",
    "change_sentence",
    "define",
    "format_value",
    "get_metric",
    "metric_names",
    "metrics",
    "needs_labels",
    "observe_change",
    "register_metric",
    "register_term",
    "rule_sentence",
]


def needs_labels(metric_name: str) -> bool:
    """Whether a metric needs the true outcomes (the target column's values).

    Declared on the metric (``"labels"`` in :attr:`Metric.needs`): every per-group metric
    whose formula uses the true outcome (``tpr``, ``accuracy``, ``auc``, ``mae``, ``base_rate``
    ...) and their disparities. Selection rates, scores, drift, the contract, explanations,
    reasons and pack metrics (unless the pack declares otherwise) need none. An unknown name
    is a ``KeyError``.

    >>> needs_labels("accuracy"), needs_labels("demographic_parity_ratio")
    (True, False)
    """
    metric = get_metric(metric_name)
    if metric is None:
        raise KeyError(f"unknown metric {metric_name!r}")
    return metric.needs_labels
