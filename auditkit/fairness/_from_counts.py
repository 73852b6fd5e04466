"""``assess_fairness_from_counts``: the engine fed precomputed counts instead of rows.

Every count metric, disparity and count-bootstrap interval depends on the rows only
through each feature's (group x confusion cell) table, and every score metric only
through each group's histogram of (distinct score, actual class). A distributed engine
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

from ._bootstrap import count_replicates, percentile_interval
from ._counts import CELLS, cell_codes, group_cell_counts
from ._engine import (
    BOOTSTRAP_METHOD,
    _assemble_feature,
    _check_arguments,
    _interval,
    _num,
    _Table,
)
from ._groups import GroupCoding, code_groups
from ._metrics import classification_metrics, undefined_reason
from ._result import FairnessResult
from ._scores import CALIBRATION_BINS, ScoreSummary, _auc_from_histogram, _calibration_bin, score_cells
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
        names = ("auc", "mean_score", "ece")
        return ScoreSummary(
            values={m: np.nan for m in names},
            reasons={m: reason for m in names},
            replicates={m: np.full(n_resamples, np.nan) for m in names} if n_resamples else {},
            reliability=(),
        )
    rows_u = pos_u + neg_u
    auc = float(_auc_from_histogram(neg_u, pos_u))
    total = float(histogram.score_sum) if histogram.score_sum is not None else float((unique * rows_u).sum())
    mean_score = total / n

    cal_u = _calibration_bin(unique)
    bin_n = np.bincount(cal_u, weights=rows_u, minlength=CALIBRATION_BINS)
    bin_score = np.bincount(cal_u, weights=unique * rows_u, minlength=CALIBRATION_BINS)
    bin_pos = np.bincount(cal_u, weights=pos_u, minlength=CALIBRATION_BINS)
    ece = float(np.abs(bin_score - bin_pos).sum() / n)
    reliability = tuple(
        {
            "bin_low": b / CALIBRATION_BINS,
            "bin_high": (b + 1) / CALIBRATION_BINS,
            "n": int(bin_n[b]),
            "mean_score": float(bin_score[b] / bin_n[b]) if bin_n[b] else None,
            "fraction_positive": float(bin_pos[b] / bin_n[b]) if bin_n[b] else None,
        }
        for b in range(CALIBRATION_BINS)
    )
    values = {"auc": auc, "mean_score": mean_score, "ece": ece}
    reasons = {"auc": undefined_reason("auc", where=where)} if np.isnan(auc) else {}
    if not n_resamples:
        return ScoreSummary(values, reasons, {}, reliability)

    cell_u = score_cells(unique, rows_u)
    n_cells = int(cell_u.max()) + 1
    hist = np.stack(
        [np.bincount(cell_u, weights=neg_u, minlength=n_cells),
         np.bincount(cell_u, weights=pos_u, minlength=n_cells)],
        axis=-1,
    )
    score_sums = np.stack(
        [np.bincount(cell_u, weights=neg_u * unique, minlength=n_cells),
         np.bincount(cell_u, weights=pos_u * unique, minlength=n_cells)],
        axis=-1,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_mean = np.where(hist > 0, score_sums / hist, 0.0)
    cell_cal = np.zeros(n_cells, dtype=np.int64)
    cell_cal[cell_u] = cal_u

    draws = count_replicates(np.rint(hist).astype(np.int64), n_resamples=n_resamples, rng=rng)
    draws = draws.astype(np.float64)
    auc_shift = auc - float(_auc_from_histogram(hist[:, 0], hist[:, 1])) if not np.isnan(auc) else 0.0
    auc_reps = _auc_from_histogram(draws[..., 0], draws[..., 1]) + auc_shift
    mean_reps = (draws * cell_mean).sum(axis=(1, 2)) / n
    gap = draws[..., 0] * cell_mean[:, 0] + draws[..., 1] * (cell_mean[:, 1] - 1.0)
    to_bins = np.zeros((n_cells, CALIBRATION_BINS))
    to_bins[np.arange(n_cells), cell_cal] = 1.0
    ece_reps = np.abs(gap @ to_bins).sum(axis=1) / n
    replicates = {"auc": auc_reps, "mean_score": mean_reps, "ece": ece_reps}
    return ScoreSummary(values, reasons, replicates, reliability)


def _merge_histograms(histograms: Sequence[ScoreHistogram]) -> ScoreHistogram:
    """The histogram of the union of the groups' rows (for overall score metrics)."""
    present = [h for h in histograms if len(h.scores)]
    missing = sum(int(h.missing) for h in histograms)
    sums = [h.score_sum for h in histograms]
    score_sum = None if any(s is None for s in sums) else float(sum(sums))
    if not present:
        empty = np.zeros(0)
        return ScoreHistogram(empty, empty, empty, missing, score_sum)
    scores = np.concatenate([h.scores for h in present])
    unique, inverse = np.unique(scores, return_inverse=True)
    neg = np.bincount(inverse, weights=np.concatenate([h.negatives for h in present]), minlength=len(unique))
    pos = np.bincount(inverse, weights=np.concatenate([h.positives for h in present]), minlength=len(unique))
    return ScoreHistogram(unique, neg, pos, missing, score_sum)


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
    for feature in reference_groups:
        if feature not in names:
            raise DataError(
                f"reference_groups names feature '{feature}', which is not audited; "
                f"use one of {', '.join(map(repr, names))}."
            )
    streams = [
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2 * len(features) + 2)
    ]

    tables = []
    for i, feature in enumerate(features):
        counts = np.asarray(feature.counts, dtype=np.int64)
        coding = GroupCoding(name=feature.name, codes=np.zeros(0, dtype=np.int64), labels=tuple(feature.labels))
        table = _Table(coding=coding, n=counts.sum(axis=1), counts=counts)
        table.values = classification_metrics(counts)
        if bootstrap:
            table.replicates = classification_metrics(
                count_replicates(counts, n_resamples=bootstrap, rng=streams[2 * i])
            )
        table.reasons = {
            m: [undefined_reason(m) if np.isnan(v) else None for v in values]
            for m, values in table.values.items()
        }
        tables.append(table)
    if with_scores:
        for i, (feature, table) in enumerate(zip(features, tables)):
            rng = streams[2 * i + 1]
            summaries = [summarise_score_histogram(h, n_resamples=bootstrap, rng=rng) for h in feature.scores]
            for m in ("auc", "mean_score", "ece"):
                table.values[m] = np.array([s.values[m] for s in summaries])
                table.reasons[m] = [s.reasons.get(m) for s in summaries]
                if bootstrap:
                    table.replicates[m] = np.stack([s.replicates[m] for s in summaries], axis=1)
            table.calibration = [s.reliability for s in summaries]

    overall_out, confusion = _overall(overall_counts, overall_scores, bootstrap, streams[-2:], confidence)

    groups, excluded, disparities, against, calibration = [], [], [], [], []
    for table in tables:
        _assemble_feature(
            table,
            computed=computed,
            task="classification",
            n_rows=n_rows,
            min_group_size=min_group_size,
            reference=reference_groups.get(table.coding.name),
            confidence=confidence,
            groups=groups,
            excluded=excluded,
            disparities=disparities,
            against=against,
            calibration=calibration,
        )
    method = BOOTSTRAP_METHOD if bootstrap else "none"
    if method_note:
        method = f"{method}; {method_note}"
    return FairnessResult(
        task="classification",
        features=tuple(names),
        metrics=focus,
        n_rows=n_rows,
        bootstrap=bootstrap,
        confidence=float(confidence),
        seed=seed,
        computed_metrics=computed,
        min_group_size=min_group_size,
        overall_records={
            m: overall_out[m] for m in computed
        },
        confusion_counts=confusion,
        group_records=tuple(groups),
        disparity_records=tuple(disparities),
        versus_records=tuple(against),
        calibration_records=tuple(calibration),
        excluded_records=tuple(excluded),
        method=method,
    )


def _overall(counts, scores, n_resamples, rngs, confidence):
    """Overall metrics exactly as ``_classification_overall`` computes them from rows."""
    values = classification_metrics(counts)
    reps = {}
    if n_resamples:
        reps = classification_metrics(count_replicates(counts, n_resamples=n_resamples, rng=rngs[0]))
    raw = {}
    for m, value in values.items():
        ci = percentile_interval(reps[m], confidence=confidence) if n_resamples else (np.nan, np.nan)
        raw[m] = (float(value), ci, undefined_reason(m, where="in the data") if np.isnan(value) else None)
    if scores is not None:
        summary = summarise_score_histogram(scores, n_resamples=n_resamples, rng=rngs[1], where="in the data")
        for m in ("auc", "mean_score"):
            ci = percentile_interval(summary.replicates[m], confidence=confidence) if n_resamples else (np.nan, np.nan)
            raw[m] = (summary.values[m], ci, summary.reasons.get(m))
    out = {}
    for m, (value, (lo, hi), reason) in raw.items():
        out[m] = {"value": _num(value), "ci": _interval(lo, hi) if _num(value) is not None else None, "reason": reason}
    cells = {name: int(counts[i]) for i, name in enumerate(CELLS)}
    return out, {k: cells[k] for k in ("tp", "fp", "fn", "tn")}
