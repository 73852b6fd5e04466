"""``assess_fairness_from_counts``: the kernel fed precomputed counts instead of rows.

Every count metric, disparity and count-bootstrap interval depends on the rows only
through each feature's (group x confusion cell) table, and every score metric only
through each group's histogram of (distinct score, actual class). A distributed data engine
(Spark) computes those tables with one aggregation and hands them here; the numbers are
then produced by the same functions, with the same random streams, as
:func:`assess_fairness` uses, so equal tables and seed give equal results.

:func:`counts_from_rows` builds the tables from rows with the one-machine coding, which
is how the tests show that both entries agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from auditkit.errors import AuditkitError, DataError

from ._confusion_cells import cell_codes, group_cell_counts
from ._kernel import (
    BOOTSTRAP_METHOD,
    _check_arguments,
    add_score_summaries,
    bootstrap_streams,
    check_reference_features,
    overall_from_counts,
    result_from_tables,
    table_from_counts,
)
from ._groups import GroupCoding, code_groups
from ._fairness_result import FairnessResult
from ._scores import (
    CALIBRATION_BINS,
    ScoreSummary,
    _auc_from_histogram,
    _calibration_bin,
    finish_summary,
    undefined_summary,
)
from ._vocabulary import AGGREGATE_METRICS, COUNT_METRICS, DEFAULT_METRICS, SCORE_METRICS, is_fairness_metric

__all__ = [
    "FeatureCounts",
    "ScoreHistogram",
    "assess_fairness_from_counts",
    "counts_from_rows",
    "summarise_score_histogram",
]


@dataclass(frozen=True)
class ScoreHistogram:
    """One group's scores summarised exactly: rows per (distinct score, actual class).

    Attributes
    ----------
    scores : numpy.ndarray
        Distinct non-missing scores, increasing.
    negatives, positives : numpy.ndarray
        Rows with that score and actual class 0 / 1.
    missing : int
        Rows whose score is missing (NaN or null); any makes the score metrics null.
    score_sum : float or None
        Exact sum of the scores, if known (else ``sum(scores * rows)``).
    """

    scores: np.ndarray
    negatives: np.ndarray
    positives: np.ndarray
    missing: int = 0
    score_sum: float | None = None

    @property
    def n(self) -> int:
        return int(self.negatives.sum() + self.positives.sum()) + int(self.missing)


@dataclass(frozen=True)
class FeatureCounts:
    """One sensitive feature (or intersection): its groups and their confusion counts.

    Attributes
    ----------
    name : str
        Feature name; an intersection's is its parts joined by ``" & "``.
    labels : tuple of str
        Group labels in display order (as ``assess_fairness`` orders them).
    counts : numpy.ndarray
        int64 array ``(groups, 4)``, cells in order tn, fp, fn, tp.
    scores : tuple of ScoreHistogram, optional
        One histogram per group, for ``auc``, ``mean_score`` and calibration.
    """

    name: str
    labels: tuple[str, ...]
    counts: np.ndarray
    scores: tuple[ScoreHistogram, ...] | None = None


def summarise_score_histogram(
    histogram: ScoreHistogram,
    *,
    n_resamples: int,
    rng: np.random.Generator | None,
    where: str = "in this group",
) -> ScoreSummary:
    """Score metrics of one group from its histogram; equal to ``summarise_scores`` on its rows.

    The steps after ``np.unique`` in :func:`auditkit.fairness._scores.summarise_scores`,
    in the same order and with the same random draws.
    """
    unique = np.asarray(histogram.scores, dtype=np.float64)
    neg_u = np.asarray(histogram.negatives, dtype=np.float64)
    pos_u = np.asarray(histogram.positives, dtype=np.float64)
    n = histogram.n
    missing = int(histogram.missing)
    if n == 0 or missing:
        reason = (
            f"y_score is missing for {missing} of {n} rows {where}" if missing else f"no rows {where}"
        )
        return undefined_summary(reason, n_resamples=n_resamples)
    rows_u = pos_u + neg_u
    auc = float(_auc_from_histogram(neg_u, pos_u))
    total = float(histogram.score_sum) if histogram.score_sum is not None else float((unique * rows_u).sum())
    mean_score = total / n

    cal_u = _calibration_bin(unique)
    bin_n = np.bincount(cal_u, weights=rows_u, minlength=CALIBRATION_BINS)
    bin_score = np.bincount(cal_u, weights=unique * rows_u, minlength=CALIBRATION_BINS)
    bin_pos = np.bincount(cal_u, weights=pos_u, minlength=CALIBRATION_BINS)
    ece = float(np.abs(bin_score - bin_pos).sum() / n)
    return finish_summary(unique, neg_u, pos_u, bin_n, bin_score, bin_pos, auc=auc, mean_score=mean_score, ece=ece,
                          n=n, n_resamples=n_resamples, rng=rng, where=where)


def histogram_from_rows(scores: np.ndarray, labels: np.ndarray) -> ScoreHistogram:
    """Exact histogram of one group's rows (scores may hold NaN)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    missing = np.isnan(scores)
    kept, kept_labels = scores[~missing], labels[~missing]
    unique, inverse = np.unique(kept, return_inverse=True)
    pos = np.bincount(inverse, weights=kept_labels, minlength=len(unique))
    neg = np.bincount(inverse, minlength=len(unique)) - pos
    return ScoreHistogram(unique, neg, pos, int(missing.sum()), float(np.sum(kept)))


def counts_from_rows(
    y_true, y_pred, sensitive_features, *, y_score=None, intersections: Sequence[Sequence[str]] = ()
) -> tuple[list[FeatureCounts], np.ndarray, ScoreHistogram | None]:
    """Count tables of rows, coded exactly as :func:`assess_fairness` codes them.

    Parameters
    ----------
    y_true, y_pred : array-like
        0/1 outcomes, one per row.
    sensitive_features : DataFrame, Series or dict of name -> array-like
        As for :func:`assess_fairness`.
    y_score : array-like, optional
        Scores, one per row.
    intersections : sequence of tuple of str
        Feature names to cross.

    Returns
    -------
    (list of FeatureCounts, numpy.ndarray, ScoreHistogram or None)
        Per feature tables, overall confusion counts (tn, fp, fn, tp) and the overall
        score histogram.
    """
    y_true = np.asarray(y_true).astype(np.int8)
    y_pred = np.asarray(y_pred).astype(np.int8)
    cells = cell_codes(y_true, y_pred)
    scores = None if y_score is None else np.asarray(y_score, dtype=np.float64)
    features = []
    for coding in code_groups(sensitive_features, intersections, n_rows=len(y_true)):
        counts = group_cell_counts(coding.codes, cells, n_groups=len(coding.labels))
        histograms = None
        if scores is not None:
            histograms = tuple(
                histogram_from_rows(scores[coding.codes == g], y_true[coding.codes == g])
                for g in range(len(coding.labels))
            )
        features.append(FeatureCounts(coding.name, coding.labels, counts, histograms))
    overall_scores = None if scores is None else histogram_from_rows(scores, y_true)
    return features, np.bincount(cells, minlength=4), overall_scores


def assess_fairness_from_counts(
    features: Sequence[FeatureCounts],
    *,
    overall_counts,
    overall_scores: ScoreHistogram | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    reference_groups: Mapping[str, str] | None = None,
    min_group_size: int = 30,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    method_note: str | None = None,
) -> FairnessResult:
    """Assess fairness (classification) from per-feature confusion counts.

    Given the tables :func:`assess_fairness` would count from the rows (features in the
    same order: base features, then intersections), the result is the same: counts,
    metrics, disparities and -- with the same seed -- the same bootstrap intervals,
    because the same functions draw from the same random streams.

    Parameters
    ----------
    features : sequence of FeatureCounts
        Base features first, then intersections, as ``assess_fairness`` orders them.
    overall_counts : array-like
        Confusion counts of all rows, in order tn, fp, fn, tp.
    overall_scores : ScoreHistogram, optional
        Histogram of all rows' scores; required when the features carry score histograms.
    metrics, reference_groups, min_group_size, bootstrap, confidence, seed
        As for :func:`assess_fairness`.
    method_note : str, optional
        Appended to ``FairnessResult.method`` (e.g. how scores were summarised).

    Returns
    -------
    FairnessResult

    Raises
    ------
    DataError
        No rows, tables that disagree on the row count, or an unknown reference group.
    AuditkitError
        An out-of-range argument or unknown focus metric.
    """
    _check_arguments(bootstrap, confidence, min_group_size, "classification", seed)
    bootstrap, min_group_size = int(bootstrap), int(min_group_size)
    overall_counts = np.asarray(overall_counts, dtype=np.int64).reshape(4)
    n_rows = int(overall_counts.sum())
    if n_rows == 0:
        raise DataError("There are no rows to audit; the data set is empty.")
    for feature in features:
        if int(np.asarray(feature.counts).sum()) != n_rows:
            raise DataError(
                f"The counts of feature '{feature.name}' add up to {int(np.asarray(feature.counts).sum())} "
                f"rows but the overall counts to {n_rows}; count every feature over the same rows."
            )
    with_scores = overall_scores is not None
    if with_scores and any(f.scores is None for f in features):
        raise AuditkitError("Score histograms are needed for every feature when overall_scores is given.")

    focus = tuple(metrics) if metrics is not None else ()
    unknown = [m for m in focus if not (is_fairness_metric(m) or m in AGGREGATE_METRICS)]
    if unknown:
        raise AuditkitError(f"Unknown fairness metric(s) {', '.join(map(repr, unknown))}.")
    computed = COUNT_METRICS + (SCORE_METRICS if with_scores else ())

    names = [f.name for f in features]
    reference_groups = dict(reference_groups or {})
    check_reference_features(reference_groups, names)
    streams = bootstrap_streams(seed, len(features))

    tables = []
    for i, feature in enumerate(features):
        counts = np.asarray(feature.counts, dtype=np.int64)
        coding = GroupCoding(name=feature.name, codes=np.zeros(0, dtype=np.int64), labels=tuple(feature.labels))
        table = table_from_counts(coding, counts, bootstrap, streams[2 * i])
        tables.append(table)
    if with_scores:
        for i, (feature, table) in enumerate(zip(features, tables)):
            rng = streams[2 * i + 1]
            summaries = [summarise_score_histogram(h, n_resamples=bootstrap, rng=rng) for h in feature.scores]
            add_score_summaries(table, summaries, bootstrap)

    overall, confusion = _overall(overall_counts, overall_scores, bootstrap, streams[-2:], confidence)

    method = BOOTSTRAP_METHOD if bootstrap else "none"
    if method_note:
        method = f"{method}; {method_note}"
    return result_from_tables(
        tables, task="classification", names=names, focus=focus, n_rows=n_rows, bootstrap=bootstrap,
        confidence=confidence, seed=seed, computed=computed, min_group_size=min_group_size,
        reference_groups=reference_groups, overall=overall, confusion=confusion, method=method,
    )


def _overall(counts, scores, n_resamples, rngs, confidence):
    """Overall metrics exactly as ``_classification_overall`` computes them from rows."""
    summary = None
    if scores is not None:
        summary = summarise_score_histogram(scores, n_resamples=n_resamples, rng=rngs[1], where="in the data")
    return overall_from_counts(counts, summary, n_resamples, rngs[0], confidence)
