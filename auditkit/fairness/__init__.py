"""Fairness: exact per-group metrics, intersections, disparities and intervals.

Every count-based metric is a function of each group's confusion counts, which one
``np.bincount`` pass computes; a row-resampling bootstrap of those metrics is a
multinomial draw over the (group x cell) counts, so intervals cost almost nothing.
The same kernel is fed rows (:func:`assess_fairness`, :func:`compare_fairness`) or
counts a data engine made (:func:`assess_fairness_from_counts`,
:func:`compare_fairness_from_counts`). See ``docs/fairness.md``.
"""

from __future__ import annotations

from ._assess_from_counts import (
    FeatureCounts,
    ScoreHistogram,
    assess_fairness_from_counts,
    counts_from_rows,
)
from ._compare_from_counts import PairedFeatureCounts, compare_fairness_from_counts
from ._compare_models import compare_fairness
from ._comparison_result import FairnessComparison, GroupChange, GroupMetricChange
from ._fairness_result import FairnessResult, GroupValue, MetricValue
from ._groups import GroupCoding, code_groups
from ._kernel import UnknownReferenceGroup, assess_fairness
from ._unlabelled import assess_fairness_without_labels
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
    "GroupChange",  # the former name of GroupMetricChange
    "GroupCoding",
    "GroupMetricChange",
    "GroupValue",
    "MISSING_GROUP",
    "MetricValue",
    "PairedFeatureCounts",
    "REGRESSION_METRICS",
    "SCORE_METRICS",
    "ScoreHistogram",
    "UnknownReferenceGroup",
    "assess_fairness",
    "assess_fairness_from_counts",
    "assess_fairness_without_labels",
    "code_groups",
    "compare_fairness",
    "compare_fairness_from_counts",
    "counts_from_rows",
    "is_fairness_metric",
]
