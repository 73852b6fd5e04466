"""Threshold remedies: one decision threshold for everyone, or one per group.

Three kinds of threshold rule, all on the model's scores (probability of the positive
outcome):

- one threshold for everyone, swept over a grid (:func:`sweep_single_threshold`);
- fairlearn's randomized group thresholds (Hardt, Price & Srebro 2016): the rule
  ``fairlearn.postprocessing.ThresholdOptimizer`` fits, re-implemented on sorted arrays and
  held in plain arrays (:func:`fit_group_thresholds`, :func:`apply_randomized`,
  :func:`positive_probability`);
- one deterministic threshold per group, the closest to the randomized rule
  (:func:`nearest_deterministic`, :func:`apply_group_thresholds`).

Rows are coded as in the fairness kernel: ``groups`` holds a group code ``0..G-1`` per row and
``labels`` the G group labels. Bad arguments raise :class:`~auditkit.errors.AuditkitError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from auditkit.errors import AuditkitError

__all__ = [
    "CONSTRAINT_OF_METRIC",
    "GroupThresholds",
    "ThresholdSweep",
    "apply_group_thresholds",
    "apply_randomized",
    "constraint_for",
    "fit_group_thresholds",
    "nearest_deterministic",
    "positive_probability",
    "sweep_single_threshold",
]


def _disparities(constraint: str, *bases: str) -> dict[str, str]:
    return {f"{base}_{kind}": constraint for base in bases for kind in ("difference", "ratio")}


#: auditkit metric name -> the fairlearn constraint that equalises it across groups.
CONSTRAINT_OF_METRIC: dict[str, str] = {
    "selection_rate": "demographic_parity",
    **_disparities("demographic_parity", "selection_rate", "demographic_parity"),
    **_disparities("equalized_odds", "equalized_odds"),
    "tpr": "true_positive_rate_parity",
    **_disparities("true_positive_rate_parity", "tpr", "equal_opportunity"),
    "fpr": "false_positive_rate_parity",
    **_disparities("false_positive_rate_parity", "fpr"),
    "tnr": "true_negative_rate_parity",
    **_disparities("true_negative_rate_parity", "tnr"),
    "fnr": "false_negative_rate_parity",
    **_disparities("false_negative_rate_parity", "fnr"),
}

# fairlearn's constraints -> the objectives ThresholdOptimizer accepts with each.
_SIMPLE_OBJECTIVES = (
    "accuracy_score",
    "balanced_accuracy_score",
    "selection_rate",
    "true_positive_rate",
    "true_negative_rate",
)
_OBJECTIVES: dict[str, tuple[str, ...]] = {
    "demographic_parity": _SIMPLE_OBJECTIVES,
    "selection_rate_parity": _SIMPLE_OBJECTIVES,
    "true_positive_rate_parity": _SIMPLE_OBJECTIVES,
    "false_positive_rate_parity": _SIMPLE_OBJECTIVES,
    "true_negative_rate_parity": _SIMPLE_OBJECTIVES,
    "false_negative_rate_parity": _SIMPLE_OBJECTIVES,
    "equalized_odds": ("accuracy_score", "balanced_accuracy_score"),
}

# Each constraint -> the rates a deterministic rule must match (fnr = 1 - tpr, tnr = 1 - fpr).
_MATCHED_RATES: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "selection_rate_parity": ("selection_rate",),
    "true_positive_rate_parity": ("tpr",),
    "false_negative_rate_parity": ("tpr",),
    "false_positive_rate_parity": ("fpr",),
    "true_negative_rate_parity": ("fpr",),
    "equalized_odds": ("tpr", "fpr"),
}


def constraint_for(metric: str) -> str | None:
    """The fairlearn constraint that equalises a metric across groups.

    Parameters
    ----------
    metric : str
        An auditkit metric name, e.g. ``"demographic_parity_ratio"`` or ``"tpr"``.

    Returns
    -------
    str or None
        A ``ThresholdOptimizer`` constraint name, or None when group thresholds cannot target
        the metric (e.g. ``accuracy`` or ``ppv_ratio``).
    """
    return CONSTRAINT_OF_METRIC.get(metric)


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _check_scores(scores) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or scores.size == 0:
        raise AuditkitError("The scores must be a non-empty one-dimensional array.")
    if not np.isfinite(scores).all():
        raise AuditkitError("The scores contain NaN or infinite values; pass finite probabilities.")
    return scores


def _check_labels(y, n_rows: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n_rows,):
        raise AuditkitError(f"The labels y have shape {y.shape} but the scores have {n_rows} rows.")
    if not np.isin(y, (0, 1)).all():
        raise AuditkitError("The labels y must be 0 or 1 (1 = the positive outcome).")
    return y.astype(np.int8)


def _check_groups(groups, n_rows: int, n_groups: int) -> np.ndarray:
    groups = np.asarray(groups)
    if groups.shape != (n_rows,):
        raise AuditkitError(f"The groups have shape {groups.shape} but the scores have {n_rows} rows.")
    if not np.issubdtype(groups.dtype, np.integer):
        raise AuditkitError("The groups must be integer group codes 0..G-1.")
    if n_groups < 1 or groups.min() < 0 or groups.max() >= n_groups:
        raise AuditkitError(f"The group codes must lie in 0..{n_groups - 1}.")
    return groups.astype(np.int64)


def _group_counts(groups: np.ndarray, y: np.ndarray, n_groups: int) -> np.ndarray:
    """Rows per (group, label): an array of shape (G, 2)."""
    return np.bincount(2 * groups + y, minlength=2 * n_groups).reshape(n_groups, 2)


def _require_rows(counts: np.ndarray, labels, *, both_labels: bool) -> None:
    for g, label in enumerate(labels):
        if counts[g].sum() == 0:
            raise AuditkitError(f"Group '{label}' has no rows; pass only groups that occur in the rows.")
        if both_labels and counts[g].min() == 0:
            raise AuditkitError(
                f"Group '{label}' has only one outcome label; group thresholds need positives and "
                "negatives in every group."
            )


# ---------------------------------------------------------------------------------------------
# One threshold for everyone
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdSweep:
    """Rates of the rule ``decision = score >= threshold`` over a grid of thresholds.

    Attributes
    ----------
    thresholds : numpy.ndarray
        Candidate thresholds, ascending, shape (T,).
    accuracy : numpy.ndarray
        Overall accuracy per threshold, shape (T,).
    selection_rate : numpy.ndarray
        Overall share of positive decisions per threshold, shape (T,).
    group_selection_rate : numpy.ndarray
        Shape (T, G).
    group_tpr : numpy.ndarray
        Shape (T, G); NaN where a group has no positives.
    group_fpr : numpy.ndarray
        Shape (T, G); NaN where a group has no negatives.
    """

    thresholds: np.ndarray
    accuracy: np.ndarray
    selection_rate: np.ndarray
    group_selection_rate: np.ndarray
    group_tpr: np.ndarray
    group_fpr: np.ndarray


def _selected_counts(scores, y, groups, n_groups: int, thresholds: np.ndarray) -> np.ndarray:
    """Positive decisions per (threshold, group, label), shape (T, G, 2), without a row loop.

    A row with ``k`` thresholds at or below its score is selected by the first ``k`` of them,
    so one ``searchsorted`` and one ``bincount`` followed by a reversed cumulative sum give the
    counts at every threshold.
    """
    n_at_or_below = np.searchsorted(thresholds, scores, side="right")
    cells = (n_at_or_below * n_groups + groups) * 2 + y
    size = (thresholds.size + 1) * n_groups * 2
    counts = np.bincount(cells, minlength=size).reshape(thresholds.size + 1, n_groups, 2)
    at_least = np.cumsum(counts[::-1], axis=0)[::-1]
    return at_least[1:]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def sweep_single_threshold(scores, y, groups, n_groups: int, *, grid: int = 201) -> ThresholdSweep:
    """Accuracy and group rates of one threshold for everyone, on a grid over [0, 1].

    Vectorised: one binary search of the scores into the grid and one ``bincount``; no loop
    over rows or thresholds.

    Parameters
    ----------
    scores : array-like of float
        Probability of the positive outcome, one per row.
    y : array-like of 0/1
        True labels (1 = positive outcome).
    groups : array-like of int
        Group code ``0..n_groups-1`` per row.
    n_groups : int
        Number of groups G; every group must have rows.
    grid : int, default 201
        Number of thresholds, evenly spaced from 0 to 1 inclusive (201: steps of 0.005).

    Returns
    -------
    ThresholdSweep
        Rates of ``decision = score >= threshold`` at every grid threshold.
    """
    if grid < 2:
        raise AuditkitError(f"The threshold grid needs at least 2 points, not {grid}.")
    scores = _check_scores(scores)
    y = _check_labels(y, scores.size)
    groups = _check_groups(groups, scores.size, n_groups)
    totals = _group_counts(groups, y, n_groups)
    _require_rows(totals, range(n_groups), both_labels=False)
    thresholds = np.linspace(0.0, 1.0, grid)
    selected = _selected_counts(scores, y, groups, n_groups, thresholds)
    true_positives = selected[:, :, 1].sum(axis=1)
    true_negatives = totals[:, 0].sum() - selected[:, :, 0].sum(axis=1)
    return ThresholdSweep(
        thresholds=thresholds,
        accuracy=(true_positives + true_negatives) / scores.size,
        selection_rate=selected.sum(axis=(1, 2)) / scores.size,
        group_selection_rate=selected.sum(axis=2) / totals.sum(axis=1),
        group_tpr=_ratio(selected[:, :, 1], totals[:, 1]),
        group_fpr=_ratio(selected[:, :, 0], totals[:, 0]),
    )


# ---------------------------------------------------------------------------------------------
# fairlearn's randomized group thresholds
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupThresholds:
    """fairlearn's randomized group-threshold rule, in plain arrays (one entry per group).

    For a row of group ``g`` with score ``s``, the probability of a positive decision is
    ``p0[g] * [s op0 threshold0[g]] + p1[g] * [s op1 threshold1[g]]``, where ``op`` is ``">"`` or
    ``"<"``; for equalized odds it is then mixed with a constant:
    ``p_ignore[g] * prediction_constant + (1 - p_ignore[g]) * (...)``. This is exactly
    ``fairlearn.postprocessing.InterpolatedThresholder``'s ``interpolation_dict``.

    Attributes
    ----------
    constraint : str
        The fairlearn constraint, e.g. ``"demographic_parity"``.
    objective : str
        The fairlearn objective, e.g. ``"accuracy_score"``.
    labels : tuple of str
        Group labels; position ``g`` describes group code ``g``.
    p0, p1 : numpy.ndarray
        Weights of the two threshold operations per group (they add up to 1).
    operation0, operation1 : tuple of str
        ``">"`` or ``"<"`` per group (:func:`fit_group_thresholds` gives ``">"``: fairlearn
        without flipping).
    threshold0, threshold1 : numpy.ndarray
        Thresholds per group (may be ``inf``).
    p_ignore : numpy.ndarray or None
        Equalized odds only: per group, the weight of ``prediction_constant``.
    prediction_constant : float
        Equalized odds only: the constant probability mixed in with weight ``p_ignore``.
    """

    constraint: str
    objective: str
    labels: tuple[str, ...]
    p0: np.ndarray
    operation0: tuple[str, ...]
    threshold0: np.ndarray
    p1: np.ndarray
    operation1: tuple[str, ...]
    threshold1: np.ndarray
    p_ignore: np.ndarray | None = None
    prediction_constant: float = 0.0


def _check_constraint(constraint: str, objective: str) -> None:
    if constraint not in _OBJECTIVES:
        raise AuditkitError(
            f"Unknown threshold constraint '{constraint}'; use one of {', '.join(sorted(_OBJECTIVES))}."
        )
    if objective not in _OBJECTIVES[constraint]:
        raise AuditkitError(
            f"Objective '{objective}' is not supported with '{constraint}'; use one of "
            f"{', '.join(_OBJECTIVES[constraint])}."
        )


def _check_group_labels(labels) -> tuple[str, ...]:
    labels = tuple(str(label) for label in labels)
    if len(set(labels)) != len(labels):
        raise AuditkitError("The group labels must be distinct.")
    return labels


# fairlearn's ThresholdOptimizer, re-implemented on sorted arrays. Every formula below keeps
# fairlearn's (0.15) operation order, so the fitted rule is equal to fairlearn's to the bit.

# Simple constraint -> the rate it equalises (fairlearn's SIMPLE_CONSTRAINTS).
_CONSTRAINED_RATE: dict[str, str] = {
    "demographic_parity": "selection_rate",
    "selection_rate_parity": "selection_rate",
    "true_positive_rate_parity": "true_positive_rate",
    "false_positive_rate_parity": "false_positive_rate",
    "true_negative_rate_parity": "true_negative_rate",
    "false_negative_rate_parity": "false_negative_rate",
}


def _confusion_metric(name: str, tp, fp, tn, fn):
    """fairlearn's ``METRIC_DICT[name]`` on confusion counts (arrays or scalars).

    The derived counts are formed as in fairlearn's ``_extend_confusion_matrix``, so float
    counts (equalized odds) round exactly as there.
    """
    if name == "selection_rate":
        return (tp + fp) / (tp + tn + fp + fn)
    if name == "false_positive_rate":
        return fp / (tn + fp)
    if name == "false_negative_rate":
        return fn / (tp + fn)
    if name == "true_positive_rate":
        return tp / (tp + fn)
    if name == "true_negative_rate":
        return tn / (tn + fp)
    if name == "accuracy_score":
        return (tp + tn) / (tp + tn + fp + fn)
    return 0.5 * tp / (tp + fn) + 0.5 * tn / (tn + fp)


@njit(cache=True, nogil=True)
def _upper_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Indices of the upper convex hull of points sorted by (x, y): Andrew's monotone chain.

    The same test, in the same floating-point operations, as fairlearn's
    ``_filter_points_to_get_convex_hull``: the middle point is dropped when it lies on or
    below the line from its predecessor to the next point.
    """
    kept = np.empty(x.size, dtype=np.int64)
    size = 0
    for i in range(x.size):
        while size >= 2:
            a, b = kept[size - 2], kept[size - 1]
            if (y[b] - y[a]) * (x[i] - x[a]) <= (y[i] - y[a]) * (x[b] - x[a]):
                size -= 1
            else:
                break
        kept[size] = i
        size += 1
    return kept[:size]


@dataclass(frozen=True)
class _Curve:
    """One group's trade-off curve on fairlearn's grid (its ``_interpolate_curve`` output).

    At grid point ``k`` the rule is ``p0[k] * [score > threshold0[k]] + p1[k] * [score >
    threshold1[k]]`` and reaches the objective (or TPR) ``y[k]``.
    """

    y: np.ndarray
    p0: np.ndarray
    threshold0: np.ndarray
    p1: np.ndarray
    threshold1: np.ndarray


def _tradeoff_points(scores: np.ndarray, y: np.ndarray, x_metric: str, y_metric: str):
    """fairlearn's ``_calculate_tradeoff_points`` (no flipping) with cumulative sums.

    Thresholds are ``inf`` and, below each distinct score, the midpoint to the next lower one
    (``-inf`` below the lowest); the rule ``score > threshold`` selects every row above.

    Returns
    -------
    tuple of numpy.ndarray
        x, y and threshold per point, sorted by (x, y) with ties in threshold order.
    """
    ranked_order = np.argsort(-scores, kind="stable")
    ranked, labels = scores[ranked_order], y[ranked_order].astype(np.int64)
    run_end = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))
    distinct = ranked[run_end]
    thresholds = np.concatenate(([np.inf], (distinct + np.append(distinct[1:], -np.inf)) / 2))
    tp = np.concatenate(([0], np.cumsum(labels)[run_end]))
    fp = np.concatenate(([0], run_end + 1)) - tp
    n_positive = labels.sum()
    tn, fn = (ranked.size - n_positive) - fp, n_positive - tp
    x_values = _confusion_metric(x_metric, tp, fp, tn, fn)
    y_values = _confusion_metric(y_metric, tp, fp, tn, fn)
    order = np.lexsort((y_values, x_values))
    return x_values[order], y_values[order], thresholds[order]


def _interpolation_indices(x_grid: np.ndarray, x_values: np.ndarray) -> np.ndarray:
    """fairlearn's ``_get_interpolation_indices``: ``x[i] < grid <= x[i + 1]``."""
    indices = np.searchsorted(x_values, x_grid, side="right") - 1
    indices[1:] = np.where(x_grid[1:] == x_values[indices[1:]], indices[1:] - 1, indices[1:])
    return indices


def _group_curve(scores, y, x_metric: str, y_metric: str, x_grid: np.ndarray) -> _Curve:
    """One group's convex trade-off curve, interpolated on the grid as fairlearn does."""
    x_values, y_values, thresholds = _tradeoff_points(scores, y, x_metric, y_metric)
    hull = _upper_hull(x_values, y_values)
    x_values, y_values, thresholds = x_values[hull], y_values[hull], thresholds[hull]
    left = _interpolation_indices(x_grid, x_values)
    p0 = (x_values[left + 1] - x_grid) / (x_values[left + 1] - x_values[left])
    p1 = 1 - p0
    return _Curve(
        y=p0 * y_values[left] + p1 * y_values[left + 1],
        p0=p0,
        threshold0=thresholds[left],
        p1=p1,
        threshold1=thresholds[left + 1],
    )


def _group_curves(scores, y, groups, n_groups: int, x_metric: str, y_metric: str, x_grid):
    """Every group's curve (list in group-code order), sorting the rows by group once."""
    by_group = np.argsort(groups, kind="stable")
    bounds = np.cumsum(np.bincount(groups, minlength=n_groups))[:-1]
    return [
        _group_curve(scores[rows], y[rows], x_metric, y_metric, x_grid)
        for rows in np.split(by_group, bounds)
    ]


def _best_simple(curves: list[_Curve], sizes: np.ndarray, labels: tuple[str, ...]) -> int:
    """Grid index of the best size-weighted objective (fairlearn: groups summed by label)."""
    overall = None
    for g in sorted(range(len(labels)), key=labels.__getitem__):
        term = (sizes[g] / sizes.sum()) * curves[g].y
        overall = term if overall is None else overall + term
    return int(np.argmax(overall))


def _best_equalized_odds(curves: list[_Curve], y: np.ndarray, objective: str, x_grid) -> tuple[int, float]:
    """Grid index and TPR of the best point on the overlap of the groups' ROC curves."""
    y_min = np.min([curve.y for curve in curves], axis=0)
    n_positive = y.sum(dtype=np.int64)
    n_negative = y.size - n_positive
    objective_values = _confusion_metric(
        objective,
        tp=n_positive * y_min,
        fp=n_negative * x_grid,
        tn=n_negative * (1.0 - x_grid),
        fn=n_positive * (1.0 - y_min),
    )
    best = int(np.argmax(np.around(objective_values, 15)))
    return best, float(y_min[best])


def _p_ignore(curve_y: float, x: float, y_best: float) -> float:
    """Weight of the constant prediction that brings a group's TPR down to ``y_best``."""
    if curve_y == x:
        return 0.0
    return (curve_y - y_best) / (curve_y - x)


def _fit_thresholds(scores, y, groups, labels, constraint: str, objective: str, grid_size: int) -> GroupThresholds:
    """fairlearn's ``ThresholdOptimizer`` fit (``flip=False``, no tolerance) on checked inputs."""
    x_grid = np.linspace(0, 1, grid_size + 1)
    equalized_odds = constraint == "equalized_odds"
    x_metric = "false_positive_rate" if equalized_odds else _CONSTRAINED_RATE[constraint]
    y_metric = "true_positive_rate" if equalized_odds else objective
    curves = _group_curves(scores, y, groups, len(labels), x_metric, y_metric, x_grid)
    p_ignore = None
    if equalized_odds:
        best, y_best = _best_equalized_odds(curves, y, objective, x_grid)
        p_ignore = np.array([_p_ignore(c.y[best], x_grid[best], y_best) for c in curves])
    else:
        best = _best_simple(curves, np.bincount(groups, minlength=len(labels)), labels)
    return GroupThresholds(
        constraint=constraint,
        objective=objective,
        labels=labels,
        p0=np.array([c.p0[best] for c in curves]),
        operation0=(">",) * len(labels),
        threshold0=np.array([c.threshold0[best] for c in curves]),
        p1=np.array([c.p1[best] for c in curves]),
        operation1=(">",) * len(labels),
        threshold1=np.array([c.threshold1[best] for c in curves]),
        p_ignore=p_ignore,
        prediction_constant=float(x_grid[best]) if equalized_odds else 0.0,
    )


def fit_group_thresholds(
    scores,
    y,
    groups,
    labels,
    *,
    constraint: str,
    objective: str = "accuracy_score",
    grid_size: int = 1000,
) -> GroupThresholds:
    """fairlearn's ``ThresholdOptimizer`` rule on given scores, computed without fairlearn.

    Equal to ``ThresholdOptimizer(constraints=constraint, objective=objective,
    grid_size=grid_size, prefit=True)`` fitted on the scores themselves with each row's group
    label as the sensitive feature (same weights, operations and thresholds), in a fraction of
    its time: per group, one sort, cumulative confusion counts at every distinct score, a
    compiled convex hull and a vectorised interpolation on fairlearn's grid.

    Parameters
    ----------
    scores : array-like of float
        Probability of the positive outcome, one per row.
    y : array-like of 0/1
        True labels.
    groups : array-like of int
        Group code per row, ``0 <= code < len(labels)``.
    labels : sequence of str
        The group labels; every group needs positive and negative rows.
    constraint : str
        A fairlearn constraint: ``demographic_parity`` (alias ``selection_rate_parity``),
        ``true_positive_rate_parity``, ``false_positive_rate_parity``,
        ``true_negative_rate_parity``, ``false_negative_rate_parity`` or ``equalized_odds``.
    objective : str, default "accuracy_score"
        ``accuracy_score`` or ``balanced_accuracy_score``; for all but equalized odds also
        ``selection_rate``, ``true_positive_rate`` or ``true_negative_rate``.
    grid_size : int, default 1000
        fairlearn's grid over the constrained rate.

    Returns
    -------
    GroupThresholds
        The fitted randomized rule.
    """
    _check_constraint(constraint, objective)
    labels = _check_group_labels(labels)
    scores = _check_scores(scores)
    y = _check_labels(y, scores.size)
    groups = _check_groups(groups, scores.size, len(labels))
    _require_rows(_group_counts(groups, y, len(labels)), labels, both_labels=True)
    return _fit_thresholds(scores, y, groups, labels, constraint, objective, grid_size)


def _operate(operations: tuple[str, ...], thresholds: np.ndarray, scores, groups) -> np.ndarray:
    greater = np.array([op == ">" for op in operations])[groups]
    cut = thresholds[groups]
    return np.where(greater, scores > cut, scores < cut)


def positive_probability(gt: GroupThresholds, scores, groups) -> np.ndarray:
    """Per row, the probability that the randomized rule decides positive.

    Equal to the second column of fairlearn's ``ThresholdOptimizer._pmf_predict``.

    Parameters
    ----------
    gt : GroupThresholds
        The fitted rule.
    scores : array-like of float
        Scores of the rows to decide on.
    groups : array-like of int
        Group code per row, ``0 <= code < len(gt.labels)``.

    Returns
    -------
    numpy.ndarray
        float64 probabilities, one per row.
    """
    scores = _check_scores(scores)
    groups = _check_groups(groups, scores.size, len(gt.labels))
    passes0 = _operate(gt.operation0, gt.threshold0, scores, groups)
    passes1 = _operate(gt.operation1, gt.threshold1, scores, groups)
    probability = gt.p0[groups] * passes0 + gt.p1[groups] * passes1
    if gt.p_ignore is None:
        return probability
    ignore = gt.p_ignore[groups]
    return ignore * gt.prediction_constant + (1 - ignore) * probability


def apply_randomized(gt: GroupThresholds, scores, groups, rng: np.random.Generator) -> np.ndarray:
    """Randomized decisions, drawn as fairlearn draws them: positive when ``p >= u``.

    Parameters
    ----------
    gt : GroupThresholds
        The fitted rule.
    scores : array-like of float
        Scores of the rows to decide on.
    groups : array-like of int
        Group code per row.
    rng : numpy.random.Generator
        Source of the uniform draws ``u`` (one per row, in row order).

    Returns
    -------
    numpy.ndarray
        int8 decisions (1 = positive), one per row.
    """
    probability = positive_probability(gt, scores, groups)
    return (probability >= rng.random(probability.size)).astype(np.int8)


# ---------------------------------------------------------------------------------------------
# One deterministic threshold per group
# ---------------------------------------------------------------------------------------------


def _expected_rates(gt: GroupThresholds, scores, y, groups) -> dict[str, np.ndarray]:
    """The randomized rule's expected selection rate, TPR and FPR per group on these rows."""
    probability = positive_probability(gt, scores, groups)
    n_groups = len(gt.labels)
    totals = _group_counts(groups, y, n_groups)
    expected = np.bincount(2 * groups + y, weights=probability, minlength=2 * n_groups)
    expected = expected.reshape(n_groups, 2)
    return {
        "selection_rate": expected.sum(axis=1) / totals.sum(axis=1),
        "tpr": expected[:, 1] / totals[:, 1],
        "fpr": expected[:, 0] / totals[:, 0],
    }


def _candidate_rates(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One group's thresholds ``score >= t`` (descending, first selects nobody) and their rates."""
    order = np.argsort(-scores, kind="stable")
    ranked, labels = scores[order], y[order]
    run_end = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))
    positives = np.concatenate(([0], np.cumsum(labels)[run_end]))
    selected = np.concatenate(([0], run_end + 1))
    negatives = selected - positives
    thresholds = np.concatenate(([np.nextafter(ranked[0], np.inf)], ranked[run_end]))
    rates = {
        "selection_rate": selected / scores.size,
        "tpr": positives / positives[-1],
        "fpr": negatives / negatives[-1],
    }
    return thresholds, rates


def nearest_deterministic(gt: GroupThresholds, scores, y, groups) -> np.ndarray:
    """One threshold per group: the deterministic rule closest to the randomized one.

    The rule: on the given rows, take the randomized rule's expected rate(s) per group -- the
    selection rate for demographic parity, the TPR for true positive (false negative) rate
    parity, the FPR for false positive (true negative) rate parity, both TPR and FPR for
    equalized odds. Among the thresholds ``score >= t`` with ``t`` one of the group's scores
    (or just above its highest, selecting nobody), pick the one whose rate(s) are nearest:
    the smallest largest absolute gap over the matched rates. Ties go to the higher threshold.

    Parameters
    ----------
    gt : GroupThresholds
        The fitted randomized rule.
    scores : array-like of float
        Scores of the rows to match on (usually the rows the rule was fitted on).
    y : array-like of 0/1
        True labels of those rows; every group needs positives and negatives.
    groups : array-like of int
        Group code per row, ``0 <= code < len(gt.labels)``.

    Returns
    -------
    numpy.ndarray
        float64 thresholds, one per group, for :func:`apply_group_thresholds`.
    """
    scores = _check_scores(scores)
    y = _check_labels(y, scores.size)
    groups = _check_groups(groups, scores.size, len(gt.labels))
    _require_rows(_group_counts(groups, y, len(gt.labels)), gt.labels, both_labels=True)
    targets = _expected_rates(gt, scores, y, groups)
    matched = _MATCHED_RATES[gt.constraint]
    chosen = np.empty(len(gt.labels))
    for g in range(len(gt.labels)):
        in_group = groups == g
        thresholds, rates = _candidate_rates(scores[in_group], y[in_group])
        gap = np.max([np.abs(rates[name] - targets[name][g]) for name in matched], axis=0)
        chosen[g] = thresholds[np.argmin(gap)]
    return chosen


def apply_group_thresholds(thresholds: np.ndarray, scores, groups) -> np.ndarray:
    """Deterministic decisions ``score >= thresholds[group]``.

    Parameters
    ----------
    thresholds : numpy.ndarray
        One threshold per group.
    scores : array-like of float
        Scores of the rows to decide on.
    groups : array-like of int
        Group code per row, ``0 <= code < len(thresholds)``.

    Returns
    -------
    numpy.ndarray
        int8 decisions (1 = positive), one per row.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    scores = _check_scores(scores)
    groups = _check_groups(groups, scores.size, thresholds.size)
    return (scores >= thresholds[groups]).astype(np.int8)
