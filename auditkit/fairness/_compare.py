"""``compare_fairness``: a candidate against a champion on the same rows, paired intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from auditkit.errors import DataError

from ._bootstrap import percentile_interval
from ._comparison import FairnessComparison
from ._disparities import Spread, combine_worst_case, spread
from ._engine import _as_vector, _check_arguments, _group_slices, _interval, _is_binary, _num, assess_fairness
from ._groups import code_groups
from ._paired import (
    paired_cell_codes,
    paired_count_replicates,
    paired_group_counts,
    paired_regression_replicates,
    paired_score_replicates,
)
from ._result import FairnessResult
from ._vocabulary import AGGREGATE_METRICS, COUNT_METRICS, DEFAULT_METRICS, SCORE_METRICS

__all__ = ["compare_fairness"]

PAIRED_METHOD = (
    "paired percentile bootstrap (the same resampled rows for both models); count metrics: "
    "multinomial resampling of each feature's (group x actual x candidate prediction x "
    "champion prediction) counts, exactly a paired row bootstrap; score metrics: random-block "
    "resampling of rows within each group, the same blocks for both models; regression "
    "metrics: random-block resampling within each group, the same blocks for both models"
)

# Spawn key of the paired bootstrap's streams, so that they are independent of the
# streams assess_fairness spawns from the same seed for each model's own intervals.
_PAIRED_STREAMS = 0x70616972  # "pair"

_MODELS = ("candidate", "champion")


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

    results = (candidate, champion)
    if task == "classification":
        computed = COUNT_METRICS + (SCORE_METRICS if scores[0] is not None or scores[1] is not None else ())
    else:
        computed = candidate.computed_metrics
    both_scored = scores[0] is not None and scores[1] is not None

    codings = code_groups(sensitive_features, intersections, n_rows=n_rows)
    streams = [
        np.random.default_rng(s)
        for s in np.random.SeedSequence(seed, spawn_key=(_PAIRED_STREAMS,)).spawn(2 * len(codings) + 2)
    ]

    # Paired replicates: per feature, model -> metric -> (B, groups); overall -> (B,).
    feature_reps: list[tuple[dict, dict]] = []
    overall_reps: tuple[dict, dict] = ({}, {})
    if bootstrap:
        if task == "classification":
            cells = paired_cell_codes(truth, candidate_pred, champion_pred)
            labels = truth.astype(np.float64)
            for i, coding in enumerate(codings):
                counts = paired_group_counts(coding.codes, cells, n_groups=len(coding.labels))
                reps = paired_count_replicates(counts, n_resamples=bootstrap, rng=streams[2 * i])
                if both_scored:
                    _add_score_replicates(reps, coding, scores, labels, bootstrap, streams[2 * i + 1])
                feature_reps.append(reps)
            overall_reps = paired_count_replicates(
                np.bincount(cells, minlength=8), n_resamples=bootstrap, rng=streams[-2]
            )
            if both_scored:
                score_reps = paired_score_replicates(
                    scores[0], scores[1], labels, n_resamples=bootstrap, rng=streams[-1]
                )
                for model, extra in zip(overall_reps, score_reps):
                    model.update(extra)
        else:
            yt = truth.astype(np.float64, copy=False)
            yc = candidate_pred.astype(np.float64, copy=False)
            yk = champion_pred.astype(np.float64, copy=False)
            for i, coding in enumerate(codings):
                feature_reps.append(_regression_replicates(coding, yt, yc, yk, bootstrap, streams[2 * i]))
            overall_reps = paired_regression_replicates(yt, yc, yk, n_resamples=bootstrap, rng=streams[-1])
    else:
        feature_reps = [({}, {}) for _ in codings]

    overall_records = tuple(
        _change_record({"metric": m}, *_overall_values(results, m), _reps_change(overall_reps, m), confidence)
        for m in computed
    )
    group_records, disparity_records = [], []
    for coding, reps in zip(codings, feature_reps):
        _feature_records(
            coding.name, results, computed, task, reps, confidence, group_records, disparity_records
        )

    return FairnessComparison(
        candidate=candidate,
        champion=champion,
        bootstrap=bootstrap,
        confidence=float(confidence),
        seed=seed,
        overall_change_records=overall_records,
        group_change_records=tuple(group_records),
        disparity_change_records=tuple(disparity_records),
        method=PAIRED_METHOD if bootstrap else "none",
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


def _reps_change(reps: tuple[dict, dict], metric: str) -> np.ndarray | None:
    """Replicates of candidate - champion; NaN (dropped) where either is undefined."""
    if metric not in reps[0] or metric not in reps[1]:
        return None
    return reps[0][metric] - reps[1][metric]


def _overall_values(results: tuple[FairnessResult, FairnessResult], metric: str):
    values, reasons = [], []
    for result in results:
        record = result.overall_records.get(metric)
        if record is None:
            values.append(None)
            reasons.append(_missing_input(metric))
        else:
            values.append(record["value"])
            reasons.append(record["reason"])
    return values, reasons


def _missing_input(metric: str) -> str:
    if metric in SCORE_METRICS:
        return f"{metric} needs y_score, which was not given for this model"
    return f"{metric} was not computed"


def _change_reason(values, reasons) -> str | None:
    candidate, champion = values
    if candidate is not None and champion is not None:
        return None
    if candidate is None and champion is None:
        if reasons[0] == reasons[1]:
            return f"undefined for both models: {reasons[0]}"
        return f"undefined for the candidate: {reasons[0]}; and for the champion: {reasons[1]}"
    which = 0 if candidate is None else 1
    return f"undefined for the {_MODELS[which]}: {reasons[which]}"


def _change_record(head: dict, values, reasons, replicates, confidence, index=None) -> dict:
    """A change record; `replicates` is ``(B,)`` or ``(B, groups)`` with `index` the group."""
    candidate, champion = values
    change = None if candidate is None or champion is None else _num(candidate - champion)
    ci = None
    if change is not None and replicates is not None:
        reps = replicates if index is None else replicates[:, index]
        ci = _interval(*percentile_interval(reps, confidence=confidence))
    return {
        **head,
        "candidate": candidate,
        "champion": champion,
        "change": change,
        "ci": ci,
        "reason": _change_reason(values, reasons),
    }


def _feature_records(feature, results, computed, task, reps, confidence, group_records, disparity_records):
    records = [[r for r in result.group_records if r["feature"] == feature] for result in results]
    n_groups = len(records[0])
    ok = np.array([r["status"] == "ok" for r in records[0]])

    # Per-group metric values of each model, as the result reports them (NaN undefined).
    values = [
        {
            m: np.array([np.nan if r["metrics"].get(m) is None else r["metrics"][m] for r in model])
            for m in computed
        }
        for model in records
    ]
    for g in range(n_groups):
        head = {k: records[0][g][k] for k in ("feature", "group", "n", "status")}
        for m in computed:
            group_values, group_reasons = [], []
            for model in records:
                if m in model[g]["metrics"]:
                    group_values.append(model[g]["metrics"][m])
                    group_reasons.append(model[g]["undefined"].get(m))
                else:
                    group_values.append(None)
                    group_reasons.append(_missing_input(m))
            group_records.append(
                _change_record(
                    {**head, "metric": m}, group_values, group_reasons, _reps_change(reps, m), confidence, g
                )
            )

    # Disparities: each model's spread over its own compared groups, on the same replicates.
    spreads = [
        {m: spread(m, values[k][m], reps[k].get(m), ok) for m in computed} for k in range(2)
    ]
    for k in range(2):
        if task == "classification":
            s = spreads[k]
            s["demographic_parity"] = s["selection_rate"]
            s["equalized_odds"] = combine_worst_case("equalized_odds", s["tpr"], s["fpr"])
            s["equal_opportunity"] = s["tpr"]
    bases = computed + (AGGREGATE_METRICS if task == "classification" else ())
    for base in bases:
        for kind in ("difference", "ratio"):
            name = f"{base}_{kind}"
            looked_up = [result.value(name, feature) for result in results]
            found = [spreads[k].get(base) for k in range(2)]
            disparity_records.append(
                _change_record(
                    {"feature": feature, "metric": name},
                    [v.value for v in looked_up],
                    [v.reason for v in looked_up],
                    _spread_change(found, kind),
                    confidence,
                )
            )


def _spread_change(spreads: list[Spread | None], kind: str) -> np.ndarray | None:
    if spreads[0] is None or spreads[1] is None:
        return None
    reps = [getattr(s, f"{kind}_replicates") for s in spreads]
    if reps[0] is None or reps[1] is None:
        return None
    return reps[0] - reps[1]
