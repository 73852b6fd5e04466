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
    "observe_change",
    "register_metric",
    "register_term",
    "rule_sentence",
]
