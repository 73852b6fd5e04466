"""The champion comparison on Spark: one aggregation of paired counts, then the shared kernel.

Both models' count metrics, every disparity built on them and their paired bootstrap
depend on the rows only through each feature's (group x actual x candidate decision x
champion decision) counts. One ``groupBy`` over the sensitive columns and the three 0/1
columns counts them; the driver codes the groups as on one machine and
:func:`auditkit.fairness.compare_fairness_from_counts` computes the comparison with the
random streams :func:`auditkit.fairness.compare_fairness` uses, so the numbers are equal.

Score metrics of each model come from its exact score histogram (as in
:func:`fairness_spark`). Their *changes* are reported without an interval when both models
are scored: the paired bootstrap of score metrics resamples blocks of rows in row order,
which a Spark table does not have. :data:`SPARK_COMPARISON_METRICS` lists the metrics whose
comparison is complete on Spark, so an engine can refuse the others before any work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from auditkit.errors import AuditkitError, DataError
from auditkit.fairness import (
    AGGREGATE_METRICS,
    COUNT_METRICS,
    DEFAULT_METRICS,
    FairnessComparison,
    PairedFeatureCounts,
    code_groups,
    compare_fairness_from_counts,
    is_fairness_metric,
)

from ._columns import column, require_columns
from ._fairness import MAX_SCORE_CELLS, SCORE_GRID, binary_codes, spark_counts

__all__ = ["SPARK_COMPARISON_METRICS", "compare_fairness_spark"]

#: Focus metrics whose champion comparison -- values, changes and paired intervals --
#: equals the pandas engine's on Spark: the count metrics, the aggregates, and their
#: ``_difference`` / ``_ratio`` disparities. Score metrics (``auc``, ``mean_score``) are not
#: among them: their paired intervals resample rows in row order.
SPARK_COMPARISON_METRICS = tuple(
    list(COUNT_METRICS + AGGREGATE_METRICS)
    + [f"{m}_{kind}" for m in COUNT_METRICS + AGGREGATE_METRICS for kind in ("difference", "ratio")]
)


def _paired_counts(sdf, sensitive_features, intersections, y_true_col, y_pred_col, champion_column):
    """Per feature the (groups, 8) paired counts, and the overall paired counts, from one aggregation."""
    from pyspark.sql import functions as F

    keys = [column(c).alias(f"_s{i}") for i, c in enumerate(sensitive_features)]
    keys += [column(c).cast("int").alias(alias)
             for c, alias in ((y_true_col, "_yt"), (y_pred_col, "_yp"), (champion_column, "_yk"))]
    frame = sdf.groupBy(*keys).agg(F.count(F.lit(1)).alias("_n")).toPandas()
    if frame.empty:
        raise DataError("There are no rows to audit; the Spark data is empty.")
    cells = (4 * binary_codes(frame, "_yt", f"y_true ('{y_true_col}')")
             + 2 * binary_codes(frame, "_yp", f"y_pred ('{y_pred_col}')")
             + binary_codes(frame, "_yk", f"the champion's predictions ('{champion_column}')"))
    weights = frame["_n"].to_numpy(dtype=np.int64)
    columns = {c: frame[f"_s{i}"] for i, c in enumerate(sensitive_features)}
    features = []
    for coding in code_groups(columns, intersections, n_rows=len(frame)):
        k = len(coding.labels)
        counts = np.bincount(coding.codes * 8 + cells, weights=weights, minlength=8 * k)
        features.append(PairedFeatureCounts(coding.name, coding.labels, counts.astype(np.int64).reshape(k, 8)))
    overall = np.bincount(cells, weights=weights, minlength=8).astype(np.int64)
    return features, overall


def compare_fairness_spark(
    scored,
    *,
    champion_column: str,
    sensitive_features: Sequence[str],
    intersections: Sequence[Sequence[str]] = (),
    metrics: Sequence[str] = DEFAULT_METRICS,
    reference_groups: Mapping[str, str] | None = None,
    min_group_size: int = 30,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    y_true_col: str = "y_true",
    y_pred_col: str = "y_pred",
    y_score_col: str | None = None,
    champion_score_col: str | None = None,
    max_score_cells: int = MAX_SCORE_CELLS,
    score_grid: float = SCORE_GRID,
) -> FairnessComparison:
    """Compare a candidate with a champion on a Spark DataFrame holding both models' decisions.

    Equal to :func:`auditkit.fairness.compare_fairness` on the same rows (same seed, same
    random streams), except that when both models are scored the changes of ``auc`` and
    ``mean_score`` carry no interval (``FairnessComparison.method`` says so).

    Parameters
    ----------
    scored : pyspark.sql.DataFrame
        One row per decision: the sensitive columns, 0/1 `y_true_col` and `y_pred_col`
        (the candidate, see :func:`predict_spark`) and 0/1 `champion_column` (e.g.
        ``predict_spark(..., output_columns=("y_true_champion", "y_pred_champion",
        "y_score_champion"))`` applied to the candidate's output).
    champion_column : str
        The champion's 0/1 decisions.
    sensitive_features, intersections, metrics, reference_groups, min_group_size, bootstrap, confidence, seed
        As for :func:`auditkit.fairness.compare_fairness`; focus `metrics` must be among
        :data:`SPARK_COMPARISON_METRICS`.
    y_true_col, y_pred_col : str
        The actual outcome and the candidate's decisions.
    y_score_col, champion_score_col : str, optional
        Each model's score column, for its ``auc``, ``mean_score`` and calibration.
    max_score_cells, score_grid
        As for :func:`fairness_spark`, for each model's scores.

    Returns
    -------
    FairnessComparison

    Raises
    ------
    AuditkitError
        A focus metric whose comparison Spark does not compute completely (a score
        metric), or an argument out of range.
    DataError
        Missing columns, no rows, outcomes or decisions not coded 0/1, an unknown
        reference group or intersection column.
    """
    refused = [m for m in metrics if m not in SPARK_COMPARISON_METRICS and is_fairness_metric(m)]
    if refused:
        raise AuditkitError(
            f"Comparing {', '.join(map(repr, refused))} with the champion is not computed on Spark: the paired "
            "intervals of score metrics resample rows in row order. Focus on count metrics, or use the pandas engine."
        )
    sensitive = [str(c) for c in sensitive_features]
    require_columns(scored, sensitive + [y_true_col, y_pred_col, champion_column]
                    + [c for c in (y_score_col, champion_score_col) if c])
    features, overall = _paired_counts(scored, sensitive, intersections, y_true_col, y_pred_col, champion_column)
    histograms, overall_scores, notes = [None, None], [None, None], [None, None]
    for k, (decisions, score) in enumerate(((y_pred_col, y_score_col), (champion_column, champion_score_col))):
        if score is None:
            continue
        scored_features, _, overall_scores[k], notes[k] = spark_counts(
            scored, sensitive_features=sensitive, intersections=intersections, y_true_col=y_true_col,
            y_pred_col=decisions, y_score_col=score, max_score_cells=max_score_cells, score_grid=score_grid)
        histograms[k] = [f.scores for f in scored_features]
    paired = [
        PairedFeatureCounts(f.name, f.labels, f.counts,
                            candidate_scores=None if histograms[0] is None else histograms[0][i],
                            champion_scores=None if histograms[1] is None else histograms[1][i])
        for i, f in enumerate(features)
    ]
    return compare_fairness_from_counts(
        paired, overall_counts=overall, candidate_overall_scores=overall_scores[0],
        champion_overall_scores=overall_scores[1], metrics=metrics, reference_groups=reference_groups,
        min_group_size=min_group_size, bootstrap=bootstrap, confidence=confidence, seed=seed,
        candidate_method_note=notes[0], champion_method_note=notes[1])
