"""The fairness kernel: ``assess_fairness`` on rows, and the tables and records every entry shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from auditkit.errors import AuditkitError, DataError

from ._bootstrap import count_replicates, percentile_interval
from ._confusion_cells import CELLS, cell_codes, group_cell_counts
from ._disparities import Spread, combine_worst_case, spread, versus
from ._groups import GroupCoding, code_groups
from ._metric_formulas import classification_metrics, undefined_reason
from ._regression import regression_summary
from ._fairness_result import FairnessResult
from ._scores import summarise_scores
from ._vocabulary import (
    AGGREGATE_METRICS,
    COUNT_METRICS,
    DEFAULT_METRICS,
    REGRESSION_METRICS,
    SCORE_METRICS,
    is_fairness_metric,
)

__all__ = ["UnknownReferenceGroup", "assess_fairness"]

BOOTSTRAP_METHOD = (
    "percentile bootstrap; count metrics: multinomial resampling of each feature's "
    "(group x confusion cell) counts, exactly a row bootstrap; score metrics: multinomial "
    "resampling of each group's (score cell x label) histogram with group size fixed; "
    "regression metrics: random-block resampling within each group"
)


@dataclass
class _Table:
    """Working state of one feature while the result is assembled."""

    coding: GroupCoding
    n: np.ndarray
    values: dict = field(default_factory=dict)  # metric -> (groups,) float, NaN undefined
    reasons: dict = field(default_factory=dict)  # metric -> list of reason or None
    replicates: dict = field(default_factory=dict)  # metric -> (B, groups)
    counts: np.ndarray | None = None
    calibration: list = field(default_factory=list)


def _as_vector(name: str, values) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
            array = values.to_numpy()
        else:
            try:
                array = values.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise DataError(f"{name} must be numeric (0/1 for classification): {exc}") from None
    elif isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise DataError(f"{name} must be one column, got {values.shape[1]}.")
        return _as_vector(name, values.iloc[:, 0])
    else:
        array = np.asarray(values)
    if array.ndim == 2 and 1 in array.shape:
        array = array.ravel()
    if array.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {array.shape}.")
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(
                f"{name} must be numeric (0/1 for classification); encode labels first."
            ) from None
    if array.dtype.kind == "f":
        missing = int(np.isnan(array).sum())
        if missing:
            raise DataError(
                f"{name} has {missing} missing values; drop or fill those rows before the audit."
            )
    return array


def _is_binary(array: np.ndarray) -> bool:
    return array.dtype == bool or bool(((array == 0) | (array == 1)).all())


def _check_arguments(bootstrap, confidence, min_group_size, task, seed) -> None:
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise AuditkitError(f"bootstrap must be a whole number >= 0, got {bootstrap!r}.")
    if not isinstance(confidence, (int, float)) or not 0.0 < float(confidence) < 1.0:
        raise AuditkitError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}.")
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, (int, np.integer)) or min_group_size < 0:
        raise AuditkitError(f"min_group_size must be a whole number >= 0, got {min_group_size!r}.")
    if task not in ("auto", "classification", "regression"):
        raise AuditkitError(f"task must be 'auto', 'classification' or 'regression', got {task!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise AuditkitError(f"seed must be a whole number, got {seed!r}.")


def _group_slices(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    # A stable order is one order whatever the integer type; in 8 or 16 bits it is a radix sort.
    small = next((t for t in (np.int8, np.int16) if n_groups <= np.iinfo(t).max), None)
    order = np.argsort(codes.astype(small) if small is not None else codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_groups))])
    return order, bounds


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    # NaN is undefined; an infinity can only come from overflow on extreme inputs.
    return value if np.isfinite(value) else None


def _interval(lo, hi) -> list[float] | None:
    lo, hi = _num(lo), _num(hi)
    return None if lo is None or hi is None else [lo, hi]


def assess_fairness(
    y_true,
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
    task: str = "auto",
) -> FairnessResult:
    """Assess a model's fairness across sensitive groups, with bootstrap intervals.

    Parameters
    ----------
    y_true, y_pred : array-like
        Actual and predicted outcomes, one per row. For classification both are 0/1
        (1 = positive outcome); otherwise numeric targets and predictions.
    sensitive_features : DataFrame, Series or dict of name -> array-like
        One column per sensitive feature, any dtype. Group labels are ``str(value)``;
        missing values form the group ``"(missing)"``.
    y_score : array-like, optional
        Score (probability of the positive class) per row, for ``auc``,
        ``mean_score`` and calibration. NaN scores make a group's score metrics null.
    intersections : sequence of tuple of str
        Feature names to cross; the intersection is named ``"a & b"``.
    metrics : sequence of str
        Focus metrics shown in tables. Every applicable metric is computed anyway.
    reference_groups : dict of str to str, optional
        Feature -> reference group label; default the largest group of each feature.
    min_group_size : int
        Groups with fewer rows get status ``insufficient_data`` and are left out of
        disparities.
    bootstrap : int
        Number of bootstrap resamples; 0 turns intervals off.
    confidence : float
        Coverage of the percentile intervals.
    seed : int
        Seed of the bootstrap; same inputs and seed give identical numbers.
    task : {"auto", "classification", "regression"}
        ``"auto"`` means classification when y_true and y_pred are both 0/1.

    Returns
    -------
    FairnessResult

    Raises
    ------
    DataError
        When the inputs cannot be audited: mismatched lengths, no rows, missing or
        non-numeric outcomes, non-binary outcomes for classification, an unknown
        reference group or intersection column.
    AuditkitError
        When an argument is out of range or a focus metric name is unknown.
    """
    _check_arguments(bootstrap, confidence, min_group_size, task, seed)
    bootstrap, min_group_size = int(bootstrap), int(min_group_size)
    y_true = _as_vector("y_true", y_true)
    y_pred = _as_vector("y_pred", y_pred)
    n_rows = len(y_true)
    if len(y_pred) != n_rows:
        raise DataError(f"y_pred has {len(y_pred)} values but y_true has {n_rows}; pass one per row.")
    if n_rows == 0:
        raise DataError("There are no rows to audit; the data set is empty.")
    binary = _is_binary(y_true) and _is_binary(y_pred)
    if task == "auto":
        task = "classification" if binary else "regression"
    elif task == "classification" and not binary:
        raise DataError(
            "Classification needs y_true and y_pred coded 0/1 (1 = positive outcome); "
            "encode the labels first or use task='regression'."
        )
    scores = None
    if y_score is not None:
        if task != "classification":
            raise DataError("y_score is only used for classification; drop it for regression.")
        try:
            scores = np.asarray(
                y_score.to_numpy(dtype=np.float64, na_value=np.nan)
                if isinstance(y_score, (pd.Series, pd.Index))
                else y_score,
                dtype=np.float64,
            ).ravel()
        except (TypeError, ValueError):
            raise DataError("y_score must be numeric (probability of the positive class).") from None
        if len(scores) != n_rows:
            raise DataError(f"y_score has {len(scores)} values but y_true has {n_rows}; pass one per row.")

    focus = tuple(metrics) if metrics is not None else ()
    unknown = [m for m in focus if not (is_fairness_metric(m) or m in AGGREGATE_METRICS)]
    if unknown:
        raise AuditkitError(f"Unknown fairness metric(s) {', '.join(map(repr, unknown))}.")
    if task == "regression" and focus == DEFAULT_METRICS:
        focus = REGRESSION_METRICS
    if task == "classification":
        computed = COUNT_METRICS + (SCORE_METRICS if scores is not None else ())
    else:
        computed = ("count",) + REGRESSION_METRICS

    codings = code_groups(sensitive_features, intersections, n_rows=n_rows)
    reference_groups = dict(reference_groups or {})
    names = [c.name for c in codings]
    check_reference_features(reference_groups, names)
    streams = bootstrap_streams(seed, len(codings))

    if task == "classification":
        cells = cell_codes(y_true, y_pred)
        tables = [
            _classification_table(c, cells, bootstrap, streams[2 * i]) for i, c in enumerate(codings)
        ]
        labels01 = y_true.astype(np.float64) if scores is not None else None
        if scores is not None:
            for i, table in enumerate(tables):
                _add_scores(table, scores, labels01, bootstrap, streams[2 * i + 1])
        overall, confusion = _classification_overall(
            cells, scores, labels01, bootstrap, streams[-2:], confidence
        )
    else:
        yt = y_true.astype(np.float64, copy=False)
        yp = y_pred.astype(np.float64, copy=False)
        tables = [_regression_table(c, yt, yp, bootstrap, streams[2 * i]) for i, c in enumerate(codings)]
        point, reps = regression_summary(yt, yp, n_resamples=bootstrap, rng=streams[-1])
        overall = {}
        for m in computed:
            ci = percentile_interval(reps[m], confidence=confidence) if bootstrap else (np.nan, np.nan)
            reason = undefined_reason(m, where="in the data") if np.isnan(point[m]) else None
            overall[m] = (point[m], ci, reason)
        confusion = None

    return result_from_tables(
        tables, task=task, names=names, focus=focus, n_rows=n_rows, bootstrap=bootstrap,
        confidence=confidence, seed=seed, computed=computed, min_group_size=min_group_size,
        reference_groups=reference_groups, overall=overall, confusion=confusion,
        method=BOOTSTRAP_METHOD if bootstrap else "none",
    )


def bootstrap_streams(seed: int, n_features: int) -> list:
    """Independent random streams: two per feature (counts, scores), then two for the overall."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2 * n_features + 2)]


def check_reference_features(reference_groups, names) -> None:
    """Every feature named in ``reference_groups`` must be one that is audited."""
    for feature in reference_groups:
        if feature not in names:
            raise DataError(
                f"reference_groups names feature '{feature}', which is not audited; "
                f"use one of {', '.join(map(repr, names))}."
            )


def result_from_tables(tables, *, task, names, focus, n_rows, bootstrap, confidence, seed, computed,
                       min_group_size, reference_groups, overall, confusion, method) -> FairnessResult:
    """Assemble a FairnessResult from per-feature tables and the overall (value, ci, reason).

    Shared by the row entry and the from-counts entry, so both give the same records.
    """
    overall_out = {}
    for m in computed:
        value, (lo, hi), reason = overall[m]
        overall_out[m] = {
            "value": _num(value),
            "ci": _interval(lo, hi) if _num(value) is not None else None,
            "reason": reason,
        }

    groups, excluded, disparities, against, calibration = [], [], [], [], []
    for table in tables:
        _assemble_feature(
            table,
            computed=computed,
            task=task,
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

    return FairnessResult(
        task=task,
        features=tuple(names),
        metrics=focus,
        n_rows=n_rows,
        bootstrap=bootstrap,
        confidence=float(confidence),
        seed=seed,
        computed_metrics=computed,
        min_group_size=min_group_size,
        overall_records=overall_out,
        confusion_counts=confusion,
        group_records=tuple(groups),
        disparity_records=tuple(disparities),
        versus_records=tuple(against),
        calibration_records=tuple(calibration),
        excluded_records=tuple(excluded),
        method=method,
    )


def _classification_table(coding, cells, n_resamples, rng) -> _Table:
    counts = group_cell_counts(coding.codes, cells, n_groups=len(coding.labels))
    return table_from_counts(coding, counts, n_resamples, rng)


def table_from_counts(coding, counts, n_resamples, rng) -> _Table:
    """A feature's table of count metrics (and their replicates) from its group x cell counts."""
    table = _Table(coding=coding, n=counts.sum(axis=1), counts=counts)
    table.values = classification_metrics(counts)
    if n_resamples:
        table.replicates = classification_metrics(
            count_replicates(counts, n_resamples=n_resamples, rng=rng)
        )
    table.reasons = {
        m: [undefined_reason(m) if np.isnan(v) else None for v in values]
        for m, values in table.values.items()
    }
    return table


def _add_scores(table: _Table, scores, labels, n_resamples, rng) -> None:
    n_groups = len(table.coding.labels)
    order, bounds = _group_slices(table.coding.codes, n_groups)
    summaries = []
    for g in range(n_groups):
        rows = order[bounds[g] : bounds[g + 1]]
        summaries.append(summarise_scores(scores[rows], labels[rows], n_resamples=n_resamples, rng=rng))
    add_score_summaries(table, summaries, n_resamples)


def add_score_summaries(table: _Table, summaries, n_resamples) -> None:
    """Put each group's score metrics (one ScoreSummary per group) into a feature's table."""
    for m in ("auc", "mean_score", "ece"):
        table.values[m] = np.array([s.values[m] for s in summaries])
        table.reasons[m] = [s.reasons.get(m) for s in summaries]
        if n_resamples:
            table.replicates[m] = np.stack([s.replicates[m] for s in summaries], axis=1)
    table.calibration = [s.reliability for s in summaries]


def _classification_overall(cells, scores, labels, n_resamples, rngs, confidence):
    summary = None
    if scores is not None:
        summary = summarise_scores(scores, labels, n_resamples=n_resamples, rng=rngs[1], where="in the data")
    return overall_from_counts(np.bincount(cells, minlength=4), summary, n_resamples, rngs[0], confidence)


def overall_from_counts(counts, summary, n_resamples, rng, confidence):
    """Overall (value, ci, reason) per metric and the confusion counts, from the four cell counts
    and, with scores, the data's ScoreSummary."""
    values = classification_metrics(counts)
    reps = {}
    if n_resamples:
        reps = classification_metrics(count_replicates(counts, n_resamples=n_resamples, rng=rng))
    out = {}
    for m, value in values.items():
        ci = (np.nan, np.nan)
        if n_resamples:
            ci = percentile_interval(reps[m], confidence=confidence)
        out[m] = (float(value), ci, undefined_reason(m, where="in the data") if np.isnan(value) else None)
    if summary is not None:
        for m in ("auc", "mean_score"):
            ci = (np.nan, np.nan)
            if n_resamples:
                ci = percentile_interval(summary.replicates[m], confidence=confidence)
            out[m] = (summary.values[m], ci, summary.reasons.get(m))
    confusion = {name: int(counts[i]) for i, name in enumerate(CELLS)}
    return out, {k: confusion[k] for k in ("tp", "fp", "fn", "tn")}


def _regression_table(coding, y_true, y_pred, n_resamples, rng) -> _Table:
    n_groups = len(coding.labels)
    order, bounds = _group_slices(coding.codes, n_groups)
    points, reps = [], []
    for g in range(n_groups):
        rows = order[bounds[g] : bounds[g + 1]]
        point, rep = regression_summary(y_true[rows], y_pred[rows], n_resamples=n_resamples, rng=rng)
        points.append(point)
        reps.append(rep)
    table = _Table(coding=coding, n=np.diff(bounds))
    for m in ("count",) + REGRESSION_METRICS:
        table.values[m] = np.array([p[m] for p in points])
        table.reasons[m] = [undefined_reason(m) if np.isnan(p[m]) else None for p in points]
        if n_resamples:
            table.replicates[m] = np.stack([r[m] for r in reps], axis=1)
    return table


def _spread_record(feature, metric, result: Spread, reference, confidence) -> dict:
    diff_ci = ratio_ci = None
    if result.difference_replicates is not None:
        if not np.isnan(result.difference):
            diff_ci = _interval(*percentile_interval(result.difference_replicates, confidence=confidence))
        if not np.isnan(result.ratio):
            ratio_ci = _interval(*percentile_interval(result.ratio_replicates, confidence=confidence))
    undefined = {}
    if result.difference_reason:
        undefined["difference"] = result.difference_reason
    if result.ratio_reason:
        undefined["ratio"] = result.ratio_reason
    return {
        "feature": feature,
        "metric": metric,
        "difference": _num(result.difference),
        "ratio": _num(result.ratio),
        "difference_ci": diff_ci,
        "ratio_ci": ratio_ci,
        "reference_group": reference,
        "groups_compared": result.groups_compared,
        "undefined": undefined,
    }


class UnknownReferenceGroup(DataError):
    """A reference group named for a feature is not one of the feature's groups in the data."""

    def __init__(self, feature: str, reference: str, labels) -> None:
        from ..sanitize import short_repr

        self.feature, self.reference, self.labels = feature, reference, tuple(labels)
        shown = ", ".join(short_repr(label, 40) for label in self.labels[:12])
        more = f" and {len(self.labels) - 12} more" if len(self.labels) > 12 else ""
        super().__init__(f"Reference group {short_repr(reference, 60)} of feature '{feature}' does not occur in "
                         f"the data; use one of {shown}{more}.")


def _reference_index(table: _Table, reference: str | None) -> int:
    labels = table.coding.labels
    if reference is None:
        return int(np.argmax(table.n))  # the largest group; the first one on a tie
    if str(reference) not in labels:
        raise UnknownReferenceGroup(table.coding.name, str(reference), labels)
    return labels.index(str(reference))


def _assemble_feature(
    table: _Table,
    *,
    computed,
    task,
    n_rows,
    min_group_size,
    reference,
    confidence,
    groups,
    excluded,
    disparities,
    against,
    calibration,
) -> None:
    """Append the feature's group, exclusion, disparity and comparison records."""
    ok = table.n >= min_group_size
    ref = _reference_index(table, reference)
    _group_records(table, computed, ok, n_rows, min_group_size, confidence, groups, excluded, calibration)
    _disparity_records(table, computed, task, ok, ref, confidence, disparities)
    _versus_records(table, computed, ok, ref, min_group_size, confidence, against)


def _group_records(table, computed, ok, n_rows, min_group_size, confidence, groups, excluded, calibration):
    name = table.coding.name
    intervals = {
        m: percentile_interval(reps, confidence=confidence) for m, reps in table.replicates.items()
    }

    def interval(metric, g):
        if metric not in intervals or np.isnan(table.values[metric][g]):
            return None
        return _interval(intervals[metric][0][g], intervals[metric][1][g])

    for g, label in enumerate(table.coding.labels):
        status = "ok" if ok[g] else "insufficient_data"
        record = {
            "feature": name,
            "group": label,
            "n": int(table.n[g]),
            "share": float(table.n[g] / n_rows),
            "status": status,
            "metrics": {m: _num(table.values[m][g]) for m in computed},
            "ci": {m: interval(m, g) for m in computed},
            "undefined": {m: table.reasons[m][g] for m in computed if table.reasons[m][g]},
        }
        if table.counts is not None:
            cells = dict(zip(CELLS, (int(c) for c in table.counts[g])))
            record["counts"] = {k: cells[k] for k in ("tp", "fp", "fn", "tn")}
        groups.append(record)
        if not ok[g]:
            excluded.append(
                {
                    "feature": name,
                    "group": label,
                    "n": int(table.n[g]),
                    "reason": f"fewer than {min_group_size} rows",
                }
            )
        if table.calibration:
            calibration.append(
                {
                    "feature": name,
                    "group": label,
                    "n": int(table.n[g]),
                    "status": status,
                    "ece": _num(table.values["ece"][g]),
                    "ece_ci": interval("ece", g),
                    "reliability": [dict(row) for row in table.calibration[g]],
                    "undefined": table.reasons["ece"][g],
                }
            )


def _disparity_records(table, computed, task, ok, ref, confidence, disparities):
    name, reference = table.coding.name, table.coding.labels[ref]
    spreads = {m: spread(m, table.values[m], table.replicates.get(m), ok) for m in computed}
    for m in computed:
        disparities.append(_spread_record(name, m, spreads[m], reference, confidence))
    if task == "classification":
        aggregates = {
            "demographic_parity": lambda: spreads["selection_rate"],
            "equalized_odds": lambda: combine_worst_case("equalized_odds", spreads["tpr"], spreads["fpr"]),
            "equal_opportunity": lambda: spreads["tpr"],
        }
        needs = {"demographic_parity": ("selection_rate",), "equalized_odds": ("tpr", "fpr"),
                 "equal_opportunity": ("tpr",)}
        for m in AGGREGATE_METRICS:
            if all(part in spreads for part in needs[m]):  # without labels: demographic parity only
                disparities.append(_spread_record(name, m, aggregates[m](), reference, confidence))


def _versus_records(table, computed, ok, ref, min_group_size, confidence, against):
    name, labels = table.coding.name, table.coding.labels
    reference = labels[ref]
    nan = np.full(len(labels), np.nan)
    compared = {}
    for m in computed:
        difference, ratio, diff_reps, ratio_reps = versus(table.values[m], table.replicates.get(m), ref)
        diff_ci = nan, nan
        ratio_ci = nan, nan
        if diff_reps is not None:
            diff_ci = percentile_interval(diff_reps, confidence=confidence)
            ratio_ci = percentile_interval(ratio_reps, confidence=confidence)
        compared[m] = (difference, ratio, diff_ci, ratio_ci)

    for g, label in enumerate(labels):
        if g == ref or not ok[g]:
            continue
        for m in computed:
            values, reasons = table.values[m], table.reasons[m]
            difference, ratio, diff_ci, ratio_ci = compared[m]
            difference, ratio = difference[g], ratio[g]
            undefined = {}
            if not ok[ref]:
                difference = ratio = np.nan
                undefined["difference"] = undefined["ratio"] = (
                    f"reference group '{reference}' has fewer than {min_group_size} rows"
                )
            for kind, value in (("difference", difference), ("ratio", ratio)):
                if kind in undefined or not np.isnan(value):
                    continue
                if np.isnan(values[g]):
                    undefined[kind] = f"{m} is undefined for this group: {reasons[g]}"
                elif np.isnan(values[ref]):
                    undefined[kind] = f"{m} is undefined for the reference group: {reasons[ref]}"
                else:
                    undefined[kind] = f"the reference group's {m} is not positive, so the ratio is undefined"
            against.append(
                {
                    "feature": name,
                    "group": label,
                    "reference_group": reference,
                    "metric": m,
                    "difference": _num(difference),
                    "ratio": _num(ratio),
                    "difference_ci": None if np.isnan(difference) else _interval(diff_ci[0][g], diff_ci[1][g]),
                    "ratio_ci": None if np.isnan(ratio) else _interval(ratio_ci[0][g], ratio_ci[1][g]),
                    "undefined": undefined,
                }
            )
