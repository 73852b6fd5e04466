"""Fairness engine: exact per-group metrics, intersections, disparities and intervals.

Every count-based metric is a function of each group's confusion counts, which one
``np.bincount`` pass computes; a row-resampling bootstrap of those metrics is a
multinomial draw over the (group x cell) counts, so intervals cost almost nothing.
See ``docs/fairness.md``.
"""

from __future__ import annotations

from ._compare import compare_fairness
from ._comparison import FairnessComparison, GroupChange
from ._engine import assess_fairness
from ._from_counts import (
    FeatureCounts,
    ScoreHistogram,
    assess_fairness_from_counts,
    counts_from_rows,
)
from ._result import FairnessResult, GroupValue, MetricValue
from ._vocabulary import (
    AGGREGATE_METRICS,
    COUNT_METRICS,
    DEFAULT_METRICS,
    MISSING_GROUP,
    REGRESSION_METRICS,
    SCORE_METRICS,
    is_fairness_metric,
)

__all__ = [
    "AGGREGATE_METRICS",
    "COUNT_METRICS",
    "DEFAULT_METRICS",
    "FairnessComparison",
    "FairnessResult",
    "FeatureCounts",
    "GroupChange",
    "GroupValue",
    "MISSING_GROUP",
    "MetricValue",
    "REGRESSION_METRICS",
    "SCORE_METRICS",
    "ScoreHistogram",
    "assess_fairness",
    "assess_fairness_from_counts",
    "compare_fairness",
    "counts_from_rows",
    "is_fairness_metric",
]
