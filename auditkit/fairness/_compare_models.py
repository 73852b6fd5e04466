"""``compare_fairness``: a candidate against a champion on the same rows, paired intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from auditkit.errors import DataError

from ._changes import PAIRED_METHOD, comparison_from_replicates, paired_streams
from ._comparison_result import FairnessComparison
from ._groups import code_groups
from ._kernel import _as_vector, _check_arguments, _group_slices, _is_binary, assess_fairness
from ._paired_bootstrap import (
    paired_cell_codes,
    paired_count_replicates,
    paired_group_counts,
    paired_regression_replicates,
    paired_score_replicates,
)
from ._vocabulary import COUNT_METRICS, DEFAULT_METRICS, SCORE_METRICS

__all__ = ["compare_fairness"]


def _as_scores(name: str, values, n_rows: int) -> np.ndarray:
    try:
        scores = np.asarray(
            values.to_numpy(dtype=np.float64, na_value=np.nan)
            if isinstance(values, (pd.Series, pd.Index))
            else values,
            dtype=np.float64,
        ).ravel()
    except (TypeError, ValueError):
        raise DataError(f"{name} must be numeric (probability of the positive class).") from None
    if len(scores) != n_rows:
        raise DataError(f"{name} has {len(scores)} values but y_true has {n_rows}; pass one per row.")
    return scores


def _resolve_task(task: str, y_true, y_pred, y_pred_champion) -> str:
    binary = [_is_binary(a) for a in (y_true, y_pred, y_pred_champion)]
    if task == "classification":
        if not binary[2]:
            raise DataError(
                "Classification needs y_pred_champion coded 0/1 (1 = positive outcome); "
                "encode the champion's labels first or use task='regression'."
            )
        return task  # assess_fairness checks y_true and y_pred
    if task == "regression":
        return task
    if all(binary):
        return "classification"
    if binary[0] and binary[1] != binary[2]:
        which = "candidate's" if binary[1] else "champion's"
        other = "champion's" if binary[1] else "candidate's"
        raise DataError(
            f"The {which} predictions are 0/1 but the {other} are not, so the two models cannot "
            "be compared as the same task; threshold the scores into 0/1 predictions, or pass "
            "task='regression' to compare them as numbers."
        )
    return "regression"


def compare_fairness(
    y_true,
    y_pred,
    y_pred_champion,
    sensitive_features,
    *,
    y_score=None,
    y_score_champion=None,
    intersections: Sequence[Sequence[str]] = (),
    metrics: Sequence[str] = DEFAULT_METRICS,
    reference_groups: Mapping[str, str] | None = None,
    min_group_size: int = 30,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    task: str = "auto",
) -> FairnessComparison:
    """Compare a candidate model with a champion on the same rows, with paired intervals.

    Every change is candidate - champion: of each overall metric, of each group's
    metric, and of each disparity (``tpr_difference``, ``equalized_odds_ratio``, ...).
    Its interval comes from a paired bootstrap: each resample draws the rows once and
    evaluates both models on them, so the agreement between the models is kept and the
    interval reflects only how their differences vary.

    Parameters
    ----------
    y_true : array-like
        Actual outcomes, one per row (0/1 for classification).
    y_pred, y_pred_champion : array-like
        The candidate's and the champion's predictions on the same rows.
    sensitive_features : DataFrame, Series or dict of name -> array-like
        As in :func:`assess_fairness`.
    y_score, y_score_champion : array-like, optional
        Both models' scores, for ``auc`` and ``mean_score``. A score metric's change is
        defined only when both are given.
    intersections, metrics, reference_groups, min_group_size, bootstrap, confidence, seed
        As in :func:`assess_fairness`; they apply to both models and to the changes.
    task : {"auto", "classification", "regression"}
        ``"auto"`` means classification when y_true and both models' predictions are 0/1,
        regression when none of the predictions is.

    Returns
    -------
    FairnessComparison

    Raises
    ------
    DataError
        For the inputs :func:`assess_fairness` rejects, and when the champion's
        predictions or scores do not match the rows, or when with ``task="auto"`` one
        model predicts 0/1 and the other does not.
    AuditkitError
        When an argument is out of range or a focus metric name is unknown.
    """
    _check_arguments(bootstrap, confidence, min_group_size, task, seed)
    bootstrap = int(bootstrap)
    truth = _as_vector("y_true", y_true)
    candidate_pred = _as_vector("y_pred", y_pred)
    champion_pred = _as_vector("y_pred_champion", y_pred_champion)
    n_rows = len(truth)
    for name, array in (("y_pred", candidate_pred), ("y_pred_champion", champion_pred)):
        if len(array) != n_rows:
            raise DataError(f"{name} has {len(array)} values but y_true has {n_rows}; pass one per row.")
    if n_rows == 0:
        raise DataError("There are no rows to audit; the data set is empty.")
    task = _resolve_task(task, truth, candidate_pred, champion_pred)
    scores = [None if s is None else _as_scores(name, s, n_rows)
              for name, s in (("y_score", y_score), ("y_score_champion", y_score_champion))]
    if task == "regression" and (scores[0] is not None or scores[1] is not None):
        name = "y_score" if scores[0] is not None else "y_score_champion"
        raise DataError(f"{name} is only used for classification; drop it for regression.")

    common = dict(
        intersections=intersections, metrics=metrics, reference_groups=reference_groups,
        min_group_size=min_group_size, bootstrap=bootstrap, confidence=confidence, seed=seed,
        task=task,
    )
    candidate = assess_fairness(y_true, y_pred, sensitive_features, y_score=y_score, **common)
    champion = assess_fairness(
        y_true, y_pred_champion, sensitive_features, y_score=y_score_champion, **common
    )

    if task == "classification":
        computed = COUNT_METRICS + (SCORE_METRICS if scores[0] is not None or scores[1] is not None else ())
    else:
        computed = candidate.computed_metrics
    both_scored = scores[0] is not None and scores[1] is not None

    codings = code_groups(sensitive_features, intersections, n_rows=n_rows)
    streams = paired_streams(seed, len(codings))

    # Paired replicates: per feature, model -> metric -> (B, groups); overall -> (B,).
    feature_reps: list[tuple[dict, dict]] = [({}, {}) for _ in codings]
    overall_reps: tuple[dict, dict] = ({}, {})
    if bootstrap and task == "classification":
        cells = paired_cell_codes(truth, candidate_pred, champion_pred)
        labels = truth.astype(np.float64)
        for i, coding in enumerate(codings):
            counts = paired_group_counts(coding.codes, cells, n_groups=len(coding.labels))
            feature_reps[i] = paired_count_replicates(counts, n_resamples=bootstrap, rng=streams[2 * i])
            if both_scored:
                _add_score_replicates(feature_reps[i], coding, scores, labels, bootstrap, streams[2 * i + 1])
        overall_reps = paired_count_replicates(np.bincount(cells, minlength=8), n_resamples=bootstrap,
                                               rng=streams[-2])
        if both_scored:
            score_reps = paired_score_replicates(scores[0], scores[1], labels, n_resamples=bootstrap,
                                                 rng=streams[-1])
            for model, extra in zip(overall_reps, score_reps):
                model.update(extra)
    elif bootstrap:
        yt = truth.astype(np.float64, copy=False)
        yc = candidate_pred.astype(np.float64, copy=False)
        yk = champion_pred.astype(np.float64, copy=False)
        feature_reps = [_regression_replicates(c, yt, yc, yk, bootstrap, streams[2 * i]) for i, c in enumerate(codings)]
        overall_reps = paired_regression_replicates(yt, yc, yk, n_resamples=bootstrap, rng=streams[-1])

    return comparison_from_replicates(
        candidate, champion, feature_names=[c.name for c in codings], computed=computed,
        feature_replicates=feature_reps, overall_replicates=overall_reps, bootstrap=bootstrap,
        confidence=confidence, seed=seed, method=PAIRED_METHOD if bootstrap else "none",
    )


def _add_score_replicates(reps, coding, scores, labels, n_resamples, rng) -> None:
    n_groups = len(coding.labels)
    order, bounds = _group_slices(coding.codes, n_groups)
    per_group = []
    for g in range(n_groups):
        rows = order[bounds[g] : bounds[g + 1]]
        per_group.append(
            paired_score_replicates(
                scores[0][rows], scores[1][rows], labels[rows], n_resamples=n_resamples, rng=rng
            )
        )
    for k, model in enumerate(reps):
        for m in SCORE_METRICS:
            model[m] = np.stack([group[k][m] for group in per_group], axis=1)


def _regression_replicates(coding, y_true, y_pred, y_pred_champion, n_resamples, rng):
    n_groups = len(coding.labels)
    order, bounds = _group_slices(coding.codes, n_groups)
    per_group = []
    for g in range(n_groups):
        rows = order[bounds[g] : bounds[g + 1]]
        per_group.append(
            paired_regression_replicates(
                y_true[rows], y_pred[rows], y_pred_champion[rows], n_resamples=n_resamples, rng=rng
            )
        )
    return tuple(
        {m: np.stack([group[k][m] for group in per_group], axis=1) for m in per_group[0][k]}
        for k in range(2)
    )
