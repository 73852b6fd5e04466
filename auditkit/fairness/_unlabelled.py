"""Fairness of decisions whose true outcomes have not arrived: only what needs no labels.

:func:`assess_fairness_without_labels` computes, per group and overall, the metrics whose
formula reads the model's outputs alone -- ``count``, ``selection_rate`` and, with scores,
``mean_score`` (classification); ``count`` and ``mean_prediction`` (regression) -- their
disparities (``demographic_parity`` included) with bootstrap intervals, and the distribution of
the scores per group (quantiles). No label is read or invented: there are no confusion counts,
no calibration, and a metric that needs the true outcomes is reported as not computed.

The point estimates equal those of :func:`assess_fairness` on the same decisions (a selection
rate does not depend on the labels). The intervals resample the same rows, but from the
(group x decision) counts instead of the (group x confusion cell) counts, so their random
draws -- not their meaning -- differ from a labelled run's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from auditkit.errors import AuditkitError, DataError

from ._bootstrap import block_replicate_sums, count_replicates, percentile_interval
from ._fairness_result import FairnessResult
from ._groups import code_groups
from ._kernel import (
    _Table,
    _as_vector,
    _check_arguments,
    _group_slices,
    _is_binary,
    bootstrap_streams,
    check_reference_features,
    result_from_tables,
)
from ._metric_formulas import undefined_reason
from ._scores import score_cells
from ._vocabulary import AGGREGATE_METRICS, DEFAULT_METRICS, LABEL_FREE_METRICS, is_fairness_metric, split_disparity_name

__all__ = ["SCORE_QUANTILES", "assess_fairness_without_labels"]

#: The quantiles of the model's score reported per group (the score distribution).
SCORE_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)

METHOD = ("percentile bootstrap without labels; selection rates: multinomial resampling of each feature's "
          "(group x decision) counts, exactly a row bootstrap; mean scores: multinomial resampling of each "
          "group's score histogram with group size fixed; mean predictions: random-block resampling within "
          "each group")


def _label_free(name: str) -> bool:
    """A focus metric (per-group, aggregate or disparity name) that needs no labels."""
    split = split_disparity_name(name)
    base = split[0] if split is not None else name
    return base in LABEL_FREE_METRICS


def assess_fairness_without_labels(
    y_pred,
    sensitive_features,
    *,
    y_score=None,
    intersections: Sequence[Sequence[str]] = (),
    metrics: Sequence[str] = DEFAULT_METRICS,
    reference_groups: Mapping[str, str] | None = None,
    min_group_size: int = 30,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    task: str = "classification",
) -> FairnessResult:
    """Assess the fairness of decisions whose true outcomes are not known yet.

    Parameters
    ----------
    y_pred : array-like
        The model's decisions, 0/1 for classification (1 = positive outcome), or its
        predicted values for regression.
    sensitive_features : DataFrame, Series or dict of name -> array-like
        As for :func:`auditkit.fairness.assess_fairness`.
    y_score : array-like, optional
        Score (probability of the positive outcome) per row: ``mean_score`` and the score
        distribution per group. NaN scores make a group's score figures undefined.
    intersections, metrics, reference_groups, min_group_size, bootstrap, confidence, seed
        As for :func:`auditkit.fairness.assess_fairness`; focus metrics that need labels
        are dropped from ``metrics``.
    task : {"classification", "regression"}
        What the decisions are.

    Returns
    -------
    FairnessResult
        With ``labels == "pending"``; ``computed_metrics`` holds only label-free metrics.

    Raises
    ------
    DataError
        No rows, decisions that are not 0/1 for classification, a bad sensitive feature or
        reference group.
    """
    if task not in ("classification", "regression"):
        raise AuditkitError(f"task must be 'classification' or 'regression', got {task!r}.")
    _check_arguments(bootstrap, confidence, min_group_size, task, seed)
    bootstrap, min_group_size = int(bootstrap), int(min_group_size)
    y_pred = _as_vector("y_pred", y_pred)
    n_rows = len(y_pred)
    if n_rows == 0:
        raise DataError("There are no rows to audit; the data set is empty.")
    if task == "classification" and not _is_binary(y_pred):
        raise DataError("Classification needs y_pred coded 0/1 (1 = positive outcome); encode the decisions first.")
    scores = None
    if y_score is not None:
        if task != "classification":
            raise DataError("y_score is only used for classification; drop it for regression.")
        scores = np.asarray(y_score, dtype=np.float64).ravel()
        if len(scores) != n_rows:
            raise DataError(f"y_score has {len(scores)} values but y_pred has {n_rows}; pass one per row.")
    unknown = [m for m in (metrics or ()) if not (is_fairness_metric(m) or m in AGGREGATE_METRICS)]
    if unknown:
        raise AuditkitError(f"Unknown fairness metric(s) {', '.join(map(repr, unknown))}.")
    focus = tuple(m for m in (metrics or ()) if _label_free(m))
    if task == "classification":
        computed = ("count", "selection_rate") + (("mean_score",) if scores is not None else ())
    else:
        computed = ("count", "mean_prediction")

    codings = code_groups(sensitive_features, intersections, n_rows=n_rows)
    reference_groups = dict(reference_groups or {})
    names = [c.name for c in codings]
    check_reference_features(reference_groups, names)
    streams = bootstrap_streams(seed, len(codings))

    tables, distribution = [], []
    for i, coding in enumerate(codings):
        n_groups = len(coding.labels)
        order, bounds = _group_slices(coding.codes, n_groups)
        if task == "classification":
            table = _decision_table(coding, y_pred, bootstrap, streams[2 * i])
            if scores is not None:
                _add_mean_scores(table, scores, order, bounds, bootstrap, streams[2 * i + 1])
                distribution += _distribution(coding, scores, order, bounds)
        else:
            table = _prediction_table(coding, y_pred.astype(np.float64), order, bounds, bootstrap, streams[2 * i])
        tables.append(table)

    overall = _overall(task, y_pred, scores, bootstrap, streams[-2:], confidence)
    result = result_from_tables(
        tables, task=task, names=names, focus=focus, n_rows=n_rows, bootstrap=bootstrap, confidence=confidence,
        seed=seed, computed=computed, min_group_size=min_group_size, reference_groups=reference_groups,
        overall=overall, confusion=None, method=METHOD if bootstrap else "none")
    if scores is not None:
        everyone = np.arange(n_rows)
        distribution = _distribution(None, scores, everyone, np.array([0, n_rows])) + distribution
    awaiting = tuple(m for m in (metrics or ()) if not _label_free(m))
    return replace(result, labels="pending", score_distribution=tuple(distribution), awaiting_labels=awaiting)


def _decision_table(coding, y_pred, n_resamples, rng) -> _Table:
    """A feature's rows and positive decisions per group, with bootstrap replicates."""
    n_groups = len(coding.labels)
    counts = np.bincount(coding.codes.astype(np.int64) * 2 + y_pred.astype(np.int64),
                         minlength=2 * n_groups).reshape(n_groups, 2)
    table = _Table(coding=coding, n=counts.sum(axis=1), counts=None)
    table.values = _decision_metrics(counts)
    if n_resamples:
        table.replicates = _decision_metrics(count_replicates(counts, n_resamples=n_resamples, rng=rng))
    table.reasons = {m: [undefined_reason(m) if np.isnan(v) else None for v in values]
                     for m, values in table.values.items()}
    return table


def _decision_metrics(counts: np.ndarray) -> dict[str, np.ndarray]:
    """``count`` and ``selection_rate`` from (..., 2) counts of negative and positive decisions."""
    counts = np.asarray(counts, dtype=np.float64)
    n = counts[..., 0] + counts[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n == 0, np.nan, counts[..., 1] / np.where(n == 0, 1.0, n))
    return {"count": np.where(n == 0, np.nan, n), "selection_rate": rate}


def _mean_score(scores: np.ndarray, n_resamples: int, rng, where: str):
    """(mean, replicates, reason) of one group's scores; the bootstrap draws the group's score
    histogram (at most ~100 cells, as for the labelled score metrics) with its size fixed."""
    n = len(scores)
    missing = int(np.isnan(scores).sum())
    if n == 0 or missing:
        reason = f"y_score is missing for {missing} of {n} rows {where}" if missing else f"no rows {where}"
        return np.nan, np.full(n_resamples, np.nan), reason
    unique, rows = np.unique(scores, return_counts=True)
    mean = float(np.mean(scores))
    if not n_resamples:
        return mean, np.empty(0), None
    cells = score_cells(unique, rows)
    n_cells = int(cells[-1]) + 1
    hist = np.bincount(cells, weights=rows, minlength=n_cells)
    sums = np.bincount(cells, weights=rows * unique, minlength=n_cells)
    cell_mean = sums / hist
    draws = count_replicates(np.rint(hist).astype(np.int64), n_resamples=n_resamples, rng=rng).astype(np.float64)
    return mean, draws @ cell_mean / n, None


def _add_mean_scores(table: _Table, scores, order, bounds, n_resamples, rng) -> None:
    values, reasons, reps = [], [], []
    for g in range(len(table.coding.labels)):
        value, rep, reason = _mean_score(scores[order[bounds[g]:bounds[g + 1]]], n_resamples, rng, "in this group")
        values.append(value)
        reasons.append(reason)
        reps.append(rep)
    table.values["mean_score"] = np.array(values, dtype=np.float64)
    table.reasons["mean_score"] = reasons
    if n_resamples:
        table.replicates["mean_score"] = np.stack(reps, axis=1)


def _prediction_table(coding, y_pred, order, bounds, n_resamples, rng) -> _Table:
    """Regression: rows and mean prediction per group (block bootstrap within each group)."""
    n_groups = len(coding.labels)
    table = _Table(coding=coding, n=np.diff(bounds))
    means = np.full(n_groups, np.nan)
    reps = np.full((n_resamples, n_groups), np.nan)
    for g in range(n_groups):
        rows = y_pred[order[bounds[g]:bounds[g + 1]]]
        if len(rows):
            means[g] = float(np.mean(rows))
            if n_resamples:
                sums = block_replicate_sums(np.column_stack([np.ones(len(rows)), rows]), n_resamples=n_resamples, rng=rng)
                with np.errstate(divide="ignore", invalid="ignore"):
                    reps[:, g] = sums[:, 1] / sums[:, 0]
    n = table.n.astype(np.float64)
    table.values = {"count": np.where(n == 0, np.nan, n), "mean_prediction": means}
    if n_resamples:
        table.replicates = {"count": np.broadcast_to(n, (n_resamples, n_groups)).copy(), "mean_prediction": reps}
    table.reasons = {m: [undefined_reason(m) if np.isnan(v) else None for v in values]
                     for m, values in table.values.items()}
    return table


def _overall(task, y_pred, scores, n_resamples, rngs, confidence) -> dict:
    """(value, ci, reason) over all rows of each computed metric."""
    nan_ci = (np.nan, np.nan)

    def entry(value, reps, metric, reason=None):
        ci = percentile_interval(reps, confidence=confidence) if n_resamples and not np.isnan(value) else nan_ci
        if np.isnan(value) and reason is None:
            reason = undefined_reason(metric, where="in the data")
        return float(value), ci, reason

    out = {}
    if task == "classification":
        counts = np.bincount(y_pred.astype(np.int64), minlength=2)
        values = _decision_metrics(counts)
        reps = _decision_metrics(count_replicates(counts, n_resamples=n_resamples, rng=rngs[0])) if n_resamples else {}
        for m in ("count", "selection_rate"):
            out[m] = entry(values[m], reps.get(m), m)
        if scores is not None:
            value, rep, reason = _mean_score(scores, n_resamples, rngs[1], "in the data")
            out["mean_score"] = entry(value, rep, "mean_score", reason)
        return out
    n = len(y_pred)
    out["count"] = (float(n), (float(n), float(n)) if n_resamples else nan_ci, None)
    values = y_pred.astype(np.float64)
    rep = None
    if n_resamples:
        sums = block_replicate_sums(np.column_stack([np.ones(n), values]), n_resamples=n_resamples, rng=rngs[0])
        rep = sums[:, 1] / sums[:, 0]
    out["mean_prediction"] = entry(float(np.mean(values)), rep, "mean_prediction")
    return out


def _distribution(coding, scores, order, bounds) -> list[dict]:
    """The quantiles of the model's score per group (``coding`` None: over all rows)."""
    out = []
    labels = coding.labels if coding is not None else ("all rows",)
    for g, label in enumerate(labels):
        rows = scores[order[bounds[g]:bounds[g + 1]]]
        rows = rows[~np.isnan(rows)]
        quantiles = np.quantile(rows, SCORE_QUANTILES) if len(rows) else [None] * len(SCORE_QUANTILES)
        out.append({
            "feature": coding.name if coding is not None else None,
            "group": label,
            "n": int(len(rows)),
            "mean": float(np.mean(rows)) if len(rows) else None,
            "quantiles": {f"p{round(q * 100):02d}": (float(v) if v is not None else None)
                          for q, v in zip(SCORE_QUANTILES, quantiles)},
        })
    return out
