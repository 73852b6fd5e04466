"""Fairness on Spark: one aggregation of (group, confusion cell) counts, then the shared fairness kernel.

The aggregation groups the rows by every sensitive column together with y_true and
y_pred; its result has one row per combination of values that occurs (times at most
four cells), so it is small whatever the number of rows. On the driver each feature and
intersection is coded with the one-machine coding (``code_groups``) over those distinct
combinations and its counts are summed, which gives exactly the tables
``assess_fairness`` counts from rows, in the same order; ``assess_fairness_from_counts``
then computes metrics, disparities and the bootstrap with the same random streams.

With a score column the same aggregation also groups by the distinct score (and sums the
scores), which gives every group's exact (score, actual class) histogram. When that has
at most ``max_score_cells`` rows the score metrics are exact; otherwise the aggregation
is repeated with scores rounded down to a grid of ``score_grid`` (stated in
``FairnessResult.method``): AUC then counts pairs inside one grid cell as ties, ECE bins
use the rounded scores, and ``mean_score`` stays exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from auditkit.errors import DataError
from auditkit.fairness import DEFAULT_METRICS, FeatureCounts, ScoreHistogram, assess_fairness_from_counts, code_groups

from ._columns import column, require_columns

__all__ = ["MAX_SCORE_CELLS", "SCORE_GRID", "binary_codes", "fairness_spark", "spark_counts"]

MAX_SCORE_CELLS = 2_000_000
SCORE_GRID = 1e-4


def binary_codes(frame, column_name: str, name: str) -> np.ndarray:
    """An aggregated 0/1 column as int64; DataError when it holds missing or other values."""
    values = frame[column_name]
    if values.isna().any():
        raise DataError(f"{name} has missing values in the Spark data; drop or fill those rows before the audit.")
    array = values.to_numpy()
    if not np.isin(array, (0, 1)).all():
        raise DataError(
            f"The Spark engine audits classification: {name} must be coded 0/1 "
            "(1 = positive outcome); encode the labels first (predict_spark does)."
        )
    return array.astype(np.int64)


def spark_counts(
    sdf,
    *,
    sensitive_features: Sequence[str],
    intersections: Sequence[Sequence[str]] = (),
    y_true_col: str = "y_true",
    y_pred_col: str = "y_pred",
    y_score_col: str | None = None,
    max_score_cells: int = MAX_SCORE_CELLS,
    score_grid: float = SCORE_GRID,
):
    """Count tables of a Spark DataFrame, as ``counts_from_rows`` gives them for pandas.

    One aggregation: rows per (sensitive values, y_true, y_pred), plus the distinct score
    when `y_score_col` is given. If that has more than `max_score_cells` rows, it is
    repeated with scores rounded down to `score_grid` (the note says so).

    Returns
    -------
    (list of FeatureCounts, numpy.ndarray, ScoreHistogram or None, str or None)
        Per-feature tables (base features, then intersections), overall confusion counts
        (tn, fp, fn, tp), the overall score histogram, and a note when scores were rounded.
    """
    from pyspark.sql import functions as F

    sensitive_features = [str(c) for c in sensitive_features]
    needed = sensitive_features + [y_true_col, y_pred_col] + ([y_score_col] if y_score_col else [])
    require_columns(sdf, needed)
    keys = [column(c).alias(f"_s{i}") for i, c in enumerate(sensitive_features)]
    keys += [column(y_true_col).cast("int").alias("_yt"), column(y_pred_col).cast("int").alias("_yp")]
    note = None
    if not y_score_col:
        frame = sdf.groupBy(*keys).agg(F.count(F.lit(1)).alias("_n")).toPandas()
    else:
        raw = column(y_score_col).cast("double")
        clean = F.when(raw.isNull() | F.isnan(raw), F.lit(None)).otherwise(raw)

        def aggregate(score_key):
            return sdf.groupBy(*keys, score_key.alias("_score")).agg(
                F.count(F.lit(1)).alias("_n"), F.sum(clean).alias("_sum")
            )

        limit = None if max_score_cells is None else int(max_score_cells)
        exact = aggregate(clean)
        frame = (exact if limit is None else exact.limit(limit + 1)).toPandas()
        if limit is not None and len(frame) > limit:
            grid = float(score_grid)
            frame = aggregate(F.floor(clean / F.lit(grid)) * F.lit(grid)).toPandas()
            note = (
                f"score metrics from scores rounded down to a grid of {grid:g} (more than "
                f"{limit:,} distinct (group, outcome, score) cells): AUC counts pairs within a "
                "grid cell as ties, ECE bins use the rounded scores, mean_score is exact"
            )
        frame["_sum"] = frame["_sum"].fillna(0.0)
    if frame.empty:
        raise DataError("There are no rows to audit; the Spark data is empty.")
    true = binary_codes(frame, "_yt", f"y_true ('{y_true_col}')")
    pred = binary_codes(frame, "_yp", f"y_pred ('{y_pred_col}')")
    cells = 2 * true + pred
    weights = frame["_n"].to_numpy(dtype=np.int64)
    columns = {c: frame[f"_s{i}"] for i, c in enumerate(sensitive_features)}
    codings = code_groups(columns, intersections, n_rows=len(frame))
    overall = np.bincount(cells, weights=weights, minlength=4).astype(np.int64)
    if y_score_col:
        score = frame["_score"].to_numpy(dtype=np.float64)
        sums = frame["_sum"].to_numpy(dtype=np.float64)
    features = []
    for coding in codings:
        n_groups = len(coding.labels)
        counts = np.bincount(coding.codes * 4 + cells, weights=weights, minlength=4 * n_groups)
        histograms = None
        if y_score_col:
            histograms = tuple(
                _histogram(score[m], true[m], weights[m], sums[m])
                for m in (coding.codes == g for g in range(n_groups))
            )
        features.append(FeatureCounts(coding.name, coding.labels, counts.astype(np.int64).reshape(n_groups, 4), histograms))
    overall_scores = _histogram(score, true, weights, sums) if y_score_col else None
    return features, overall, overall_scores, note


def _histogram(score, label, rows, sums) -> ScoreHistogram:
    missing_rows = np.isnan(score)
    missing = int(rows[missing_rows].sum())
    score, label, rows, sums = score[~missing_rows], label[~missing_rows], rows[~missing_rows], sums[~missing_rows]
    unique, inverse = np.unique(score, return_inverse=True)
    positives = np.bincount(inverse, weights=rows * (label == 1), minlength=len(unique))
    negatives = np.bincount(inverse, weights=rows * (label == 0), minlength=len(unique))
    return ScoreHistogram(unique, negatives, positives, missing, float(sums.sum()))


def fairness_spark(
    sdf,
    *,
    sensitive_features: Sequence[str],
    intersections: Sequence[Sequence[str]] = (),
    y_true_col: str = "y_true",
    y_pred_col: str = "y_pred",
    y_score_col: str | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    reference_groups: Mapping[str, str] | None = None,
    min_group_size: int = 30,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    max_score_cells: int = MAX_SCORE_CELLS,
    score_grid: float = SCORE_GRID,
):
    """Assess fairness of a Spark DataFrame; equal to ``assess_fairness`` on the same rows.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
        One row per decision, with the sensitive columns and 0/1 ``y_true_col`` and
        ``y_pred_col`` (see :func:`predict_spark`), optionally a score column.
    sensitive_features : sequence of str
        Sensitive column names. A null or NaN value is the group ``(missing)``.
    intersections, metrics, reference_groups, min_group_size, bootstrap, confidence, seed
        As for :func:`auditkit.assess_fairness`.
    y_score_col : str, optional
        Score (probability of the positive class) column, for ``auc``, ``mean_score``, ECE.
    max_score_cells : int
        Largest score histogram counted exactly (rows per group x class x distinct score).
    score_grid : float
        Grid the scores are rounded down to beyond that size.

    Returns
    -------
    FairnessResult
        Classification only. ``method`` states when scores were rounded.

    Raises
    ------
    DataError
        Missing columns, no rows, y_true / y_pred not coded 0/1 or with nulls, an unknown
        reference group or intersection column.
    """
    features, overall, overall_scores, note = spark_counts(
        sdf,
        sensitive_features=sensitive_features,
        intersections=intersections,
        y_true_col=y_true_col,
        y_pred_col=y_pred_col,
        y_score_col=y_score_col,
        max_score_cells=max_score_cells,
        score_grid=score_grid,
    )
    return assess_fairness_from_counts(
        features,
        overall_counts=overall,
        overall_scores=overall_scores,
        metrics=metrics,
        reference_groups=reference_groups,
        min_group_size=min_group_size,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        method_note=note,
    )
