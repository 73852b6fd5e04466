"""``compare_fairness_from_counts``: the champion comparison fed paired counts instead of rows.

Every count metric of both models, every disparity built on them and their paired
bootstrap depend on the rows only through each feature's (group x paired cell) table,
the paired cell of a row being ``4 * actual + 2 * candidate + champion``. A distributed
data engine (Spark) counts those tables with one aggregation and hands them here; both models'
results come from :func:`assess_fairness_from_counts` and the paired replicates from the
same functions and random streams :func:`compare_fairness` uses, so equal tables and seed
give an equal :class:`FairnessComparison`.

Score metrics (``auc``, ``mean_score``) of each model come from its score histograms as
in :func:`assess_fairness_from_counts`. Their *changes* have a point value but no interval
when both models are scored: the paired bootstrap of score metrics resamples random
blocks of rows in row order, which counts do not keep (``FairnessComparison.method`` says
so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from auditkit.errors import DataError

from ._assess_from_counts import FeatureCounts, ScoreHistogram, assess_fairness_from_counts
from ._changes import PAIRED_METHOD, comparison_from_replicates, paired_streams
from ._comparison_result import FairnessComparison
from ._kernel import _check_arguments
from ._paired_bootstrap import PAIRED_CELLS, paired_count_replicates, split_paired_counts
from ._vocabulary import COUNT_METRICS, DEFAULT_METRICS, SCORE_METRICS

__all__ = ["PairedFeatureCounts", "compare_fairness_from_counts"]

#: Appended to ``FairnessComparison.method`` when both models are scored.
SCORE_CHANGES_WITHOUT_INTERVALS = (
    "from paired counts: score-metric changes have no interval (their paired bootstrap "
    "resamples blocks of rows in row order)"
)


@dataclass(frozen=True)
class PairedFeatureCounts:
    """One sensitive feature (or intersection): its groups and their paired counts.

    Attributes
    ----------
    name : str
        Feature name; an intersection's is its parts joined by ``" & "``.
    labels : tuple of str
        Group labels in display order (as ``assess_fairness`` orders them).
    counts : numpy.ndarray
        int64 array ``(groups, 8)``: rows per paired cell ``4 * actual + 2 * candidate
        + champion`` (each 0/1), so column 0 is (0, 0, 0) and column 7 is (1, 1, 1).
    candidate_scores, champion_scores : tuple of ScoreHistogram, optional
        One histogram per group of that model's scores, for ``auc``, ``mean_score`` and
        calibration.
    """

    name: str
    labels: tuple[str, ...]
    counts: np.ndarray
    candidate_scores: tuple[ScoreHistogram, ...] | None = None
    champion_scores: tuple[ScoreHistogram, ...] | None = None


def _paired_table(feature: PairedFeatureCounts) -> np.ndarray:
    counts = np.asarray(feature.counts, dtype=np.int64)
    if counts.shape != (len(feature.labels), PAIRED_CELLS):
        raise DataError(
            f"The paired counts of feature '{feature.name}' have shape {counts.shape}; expected "
            f"({len(feature.labels)}, {PAIRED_CELLS}): one row per group, one column per paired cell."
        )
    return counts


def compare_fairness_from_counts(
    features: Sequence[PairedFeatureCounts],
    *,
    overall_counts,
    candidate_overall_scores: ScoreHistogram | None = None,
    champion_overall_scores: ScoreHistogram | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    reference_groups: Mapping[str, str] | None = None,
    min_group_size: int = 30,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    candidate_method_note: str | None = None,
    champion_method_note: str | None = None,
) -> FairnessComparison:
    """Compare a candidate with a champion (classification) from paired counts.

    Given the tables :func:`compare_fairness` would count from the rows (features in the
    same order: base features, then intersections), the result is the same -- both
    models' results, every change and, with the same seed, every paired interval --
    except that score-metric changes have no interval when both models are scored.

    Parameters
    ----------
    features : sequence of PairedFeatureCounts
        Base features first, then intersections, as ``compare_fairness`` orders them.
    overall_counts : array-like
        Paired counts of all rows, 8 cells in the order of ``PairedFeatureCounts.counts``.
    candidate_overall_scores, champion_overall_scores : ScoreHistogram, optional
        Histogram of all rows' scores of that model; given, every feature needs that
        model's per-group histograms.
    metrics, reference_groups, min_group_size, bootstrap, confidence, seed
        As for :func:`compare_fairness`.
    candidate_method_note, champion_method_note : str, optional
        Appended to that model's ``FairnessResult.method`` (e.g. how scores were summarised).

    Returns
    -------
    FairnessComparison

    Raises
    ------
    DataError
        No rows, tables of the wrong shape or that disagree on the row count, or an
        unknown reference group.
    AuditkitError
        An out-of-range argument, an unknown focus metric, or score histograms missing for
        a feature.
    """
    _check_arguments(bootstrap, confidence, min_group_size, "classification", seed)
    bootstrap = int(bootstrap)
    overall = np.asarray(overall_counts, dtype=np.int64).reshape(PAIRED_CELLS)
    tables = [_paired_table(f) for f in features]
    common = dict(metrics=metrics, reference_groups=reference_groups, min_group_size=min_group_size,
                  bootstrap=bootstrap, confidence=confidence, seed=seed)
    models = ((candidate_overall_scores, candidate_method_note), (champion_overall_scores, champion_method_note))
    results = []
    for k, (overall_scores, note) in enumerate(models):  # k: 0 the candidate, 1 the champion
        model_features = [
            FeatureCounts(f.name, tuple(f.labels), split_paired_counts(table)[k],
                          (f.candidate_scores, f.champion_scores)[k] if overall_scores is not None else None)
            for f, table in zip(features, tables)
        ]
        results.append(assess_fairness_from_counts(
            model_features, overall_counts=split_paired_counts(overall)[k], overall_scores=overall_scores,
            method_note=note, **common))
    candidate, champion = results

    scored = [s is not None for s in (candidate_overall_scores, champion_overall_scores)]
    computed = COUNT_METRICS + (SCORE_METRICS if any(scored) else ())
    streams = paired_streams(seed, len(tables))
    feature_reps: list[tuple[dict, dict]] = [({}, {}) for _ in tables]
    overall_reps: tuple[dict, dict] = ({}, {})
    method = "none"
    if bootstrap:
        feature_reps = [paired_count_replicates(t, n_resamples=bootstrap, rng=streams[2 * i])
                        for i, t in enumerate(tables)]
        overall_reps = paired_count_replicates(overall, n_resamples=bootstrap, rng=streams[-2])
        method = PAIRED_METHOD if not all(scored) else f"{PAIRED_METHOD}; {SCORE_CHANGES_WITHOUT_INTERVALS}"
    return comparison_from_replicates(
        candidate, champion, feature_names=[f.name for f in features], computed=computed,
        feature_replicates=feature_reps, overall_replicates=overall_reps, bootstrap=bootstrap,
        confidence=confidence, seed=seed, method=method,
    )
