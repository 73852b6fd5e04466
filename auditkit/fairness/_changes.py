"""Candidate-minus-champion change records, from both models' results and paired replicates.

The kernel shared by :func:`compare_fairness` (rows) and :func:`compare_fairness_from_counts`
(paired counts): each entry computes the two models' :class:`FairnessResult` and the paired
bootstrap replicates its inputs allow, and this module turns them into one
:class:`FairnessComparison`, so both entries give the same records for the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._bootstrap import percentile_interval
from ._comparison_result import FairnessComparison
from ._disparities import Spread, combine_worst_case, spread
from ._fairness_result import FairnessResult
from ._kernel import _interval, _num
from ._vocabulary import AGGREGATE_METRICS, SCORE_METRICS

__all__ = ["PAIRED_METHOD", "comparison_from_replicates", "paired_streams"]

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


def paired_streams(seed: int, n_features: int) -> list[np.random.Generator]:
    """The paired bootstrap's random streams: two per feature (counts, scores), then two overall.

    Parameters
    ----------
    seed : int
        The comparison's seed.
    n_features : int
        Number of features and intersections compared.

    Returns
    -------
    list of numpy.random.Generator
        ``2 * n_features + 2`` independent generators.
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(_PAIRED_STREAMS,))
    return [np.random.default_rng(s) for s in sequence.spawn(2 * n_features + 2)]


def comparison_from_replicates(
    candidate: FairnessResult,
    champion: FairnessResult,
    *,
    feature_names: Sequence[str],
    computed: Sequence[str],
    feature_replicates: Sequence[tuple[dict, dict]],
    overall_replicates: tuple[dict, dict],
    bootstrap: int,
    confidence: float,
    seed: int,
    method: str,
) -> FairnessComparison:
    """Assemble the comparison from both models' results and their paired replicates.

    Parameters
    ----------
    candidate, champion : FairnessResult
        Each model's own result, with the same arguments.
    feature_names : sequence of str
        Features then intersections, in the results' order.
    computed : sequence of str
        Per-group metrics whose changes are reported.
    feature_replicates : sequence of (dict, dict)
        Per feature, candidate and champion: metric -> ``(n_resamples, groups)`` paired
        replicates. A metric missing from either dict gets no interval.
    overall_replicates : (dict, dict)
        Candidate and champion: metric -> ``(n_resamples,)`` paired replicates.
    bootstrap, confidence, seed : int, float, int
        As given to the comparison.
    method : str
        How the intervals were computed (``FairnessComparison.method``).

    Returns
    -------
    FairnessComparison
    """
    results = (candidate, champion)
    computed = tuple(computed)
    overall_records = tuple(
        _change_record({"metric": m}, *_overall_values(results, m), _replicate_change(overall_replicates, m),
                       confidence)
        for m in computed
    )
    group_records, disparity_records = [], []
    for name, replicates in zip(feature_names, feature_replicates):
        _feature_records(name, results, computed, candidate.task, replicates, confidence, group_records,
                         disparity_records)
    return FairnessComparison(
        candidate=candidate,
        champion=champion,
        bootstrap=bootstrap,
        confidence=float(confidence),
        seed=seed,
        overall_change_records=overall_records,
        group_change_records=tuple(group_records),
        disparity_change_records=tuple(disparity_records),
        method=method,
    )


def _replicate_change(replicates: tuple[dict, dict], metric: str) -> np.ndarray | None:
    """Replicates of candidate - champion; NaN (dropped) where either is undefined."""
    if metric not in replicates[0] or metric not in replicates[1]:
        return None
    return replicates[0][metric] - replicates[1][metric]


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


def _feature_records(feature, results, computed, task, replicates, confidence, group_records, disparity_records):
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
                _change_record({**head, "metric": m}, group_values, group_reasons,
                               _replicate_change(replicates, m), confidence, g)
            )

    # Disparities: each model's spread over its own compared groups, on the same replicates.
    spreads = [
        {m: spread(m, values[k][m], replicates[k].get(m), ok) for m in computed} for k in range(2)
    ]
    if task == "classification":
        for s in spreads:
            s["demographic_parity"] = s["selection_rate"]
            s["equalized_odds"] = combine_worst_case("equalized_odds", s["tpr"], s["fpr"])
            s["equal_opportunity"] = s["tpr"]
    bases = tuple(computed) + (AGGREGATE_METRICS if task == "classification" else ())
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
    replicates = [getattr(s, f"{kind}_replicates") for s in spreads]
    if replicates[0] is None or replicates[1] is None:
        return None
    return replicates[0] - replicates[1]
