"""``auditkit.reasons``: the principal reasons of each adverse decision.

A reason is a raw model input whose SHAP value pushes the row's score towards the adverse
outcome: the values are exact for trees and linear models (one-hot and other Pipeline columns
summed back to their raw column by the exact fast paths), against an explicit baseline -- the
background population (standard SHAP) or the approved population ("what separates you from a
typical approved applicant").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import AuditkitError
from ._codes import ReasonCodes

__all__ = ["BASELINES", "reasons"]

BASELINES = ("background", "approved")
COLUMNS = ["row", "rank", "column", "code", "statement", "contribution", "value", "score"]


def reasons(model: Any, X: pd.DataFrame, *, k: int = 4, baseline: str = "background", codes=None,
            rows: Any = "adverse", exclude=(), protected=(), allow=(), fallback: str | None = None,
            positive_class: Any = None, threshold: float = 0.5, max_background: int = 200, seed: int = 0,
            progress: bool | None = None) -> pd.DataFrame:
    """The ``k`` principal reasons of each adverse decision (or of the rows asked for).

    Parameters
    ----------
    model : estimator
        A fitted binary classifier (scikit-learn, a Pipeline, LightGBM, XGBoost, ...).
    X : DataFrame
        The rows, with the model's input columns (other columns are ignored).
    k : int
        Most reasons per row (1 to 20).
    baseline : {"background", "approved"}
        The population the row is compared with: a random sample of all rows of ``X``
        (standard SHAP), or of the rows the model approves.
    codes : mapping of column -> "CODE statement", or ReasonCodes, optional
        Reason statements; an input without one is an error naming it unless ``fallback``.
    rows : "adverse", "all", or a boolean mask / index labels of ``X``
        Which rows get reasons; by default those whose score is below ``threshold``.
    exclude : iterable of str
        Inputs never stated.
    protected : iterable of str
        Sensitive features and their proxies: never stated unless ``allow`` names them.
    allow : iterable of str
        Protected inputs that may be stated.
    fallback : str, optional
        Code and statement of inputs the codes do not map.
    positive_class : object, optional
        The favourable class (default: ``model.classes_[1]``).
    threshold : float
        A row is adverse when its probability of the favourable class is below it.
    max_background : int
        Rows of the baseline population sampled (with ``seed``).
    seed : int
        Seed of the baseline sample.
    progress : bool, optional
        Progress bar for long explanations.

    Returns
    -------
    DataFrame
        One row per stated reason: ``row`` (the label in ``X``), ``rank`` (1 = the strongest),
        ``column``, ``code``, ``statement``, ``contribution`` (its SHAP value, negative: how much
        it lowers the score's explained output), ``value`` (the row's raw value) and ``score``.
        Inputs that raise the score are never reasons, so a row may have fewer than ``k``.
        Ties in contribution are broken by the model's column order. ``df.attrs`` holds the
        ``baseline``, its ``baseline_rows`` and the explained ``output``.

    Raises
    ------
    AuditkitError
        Bad arguments, an unmapped input without fallback, or no approved row for
        ``baseline="approved"``.
    ExplanationError
        The model cannot be explained.
    """
    from ..explanations import attribute_rows

    _check(k, baseline, threshold, max_background)
    codes = codes if isinstance(codes, ReasonCodes) else ReasonCodes(
        codes=dict(codes) if codes is not None else None, exclude=tuple(exclude), protected=tuple(protected),
        allow=tuple(allow), fallback=fallback)
    features = _model_columns(model, X)
    codes.check(features)
    stateable = codes.stateable(features)
    scores = positive_scores(model, X[features], positive_class)
    chosen = _chosen_rows(rows, X, scores, threshold)
    background = _baseline_rows(X, scores, baseline, threshold, max_background, seed)
    if not chosen.any():
        return _frame([], baseline, len(background), None)
    attribution = attribute_rows(model, X.loc[chosen, features], X.iloc[background][features],
                                 positive_class=positive_class, seed=seed, progress=progress)
    position, rank, column, contribution = principal_reasons(attribution.values, features, stateable, k)
    frame = X.loc[chosen, features]
    statements = [codes.statement(c) for c in features]
    values = np.empty(len(position), dtype=object)
    for j in np.unique(column):
        at = column == j
        values[at] = frame.iloc[:, j].to_numpy(dtype=object)[position[at]]
    table = pd.DataFrame({
        "row": X.index[chosen][position], "rank": rank, "column": np.array(features, dtype=object)[column],
        "code": np.array([c for c, _ in statements], dtype=object)[column],
        "statement": np.array([t for _, t in statements], dtype=object)[column],
        "contribution": contribution, "value": values, "score": scores[chosen][position],
    }, columns=COLUMNS)
    table.attrs.update({"baseline": baseline, "baseline_rows": len(background), "output": attribution.output.label})
    return table


def principal_reasons(values: np.ndarray, features: list[str], stateable: list[str], k: int):
    """Each row's ``k`` most negative stateable contributions (negative ones only), strongest
    first, ties by column order: arrays ``(row position, rank, column position, contribution)``,
    row by row."""
    allowed = np.isin(np.array(features, dtype=object), np.array(stateable, dtype=object))
    masked = np.where(allowed[None, :] & (values < 0), values, np.inf)
    # A stable sort on the contributions keeps the column order among equal values.
    order = np.argsort(masked, axis=1, kind="stable")[:, :k]
    contribution = np.take_along_axis(masked, order, axis=1)
    position, slot = np.nonzero(np.isfinite(contribution))
    return position, slot + 1, order[position, slot], contribution[position, slot]


def positive_scores(model, frame: pd.DataFrame, positive_class=None) -> np.ndarray:
    """The model's probability of the favourable class for each row (model code guarded)."""
    from ..model import run_model_code

    def call():
        classes = list(model.classes_)
        proba = np.array(model.predict_proba(frame), dtype=np.float64, copy=True)
        return classes, proba

    classes, proba = run_model_code("the model", "predict_proba() failed", call)
    positive = classes[1] if positive_class is None else positive_class
    if positive not in classes:
        raise AuditkitError(f"the favourable class {positive!r} is not among the model's classes {classes!r}; "
                            "pass positive_class.")
    if proba.ndim != 2 or proba.shape != (len(frame), len(classes)) or not np.isfinite(proba).all():
        raise AuditkitError("the model's predict_proba did not return one finite probability per class and row.")
    return proba[:, classes.index(positive)]


def _check(k, baseline, threshold, max_background) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 20:
        raise AuditkitError(f"k is {k!r}; pass a whole number of reasons from 1 to 20.")
    if baseline not in BASELINES:
        raise AuditkitError(f"baseline is {baseline!r}; pass one of {', '.join(BASELINES)}.")
    if not 0.0 <= float(threshold) <= 1.0:
        raise AuditkitError(f"threshold is {threshold!r}; pass a probability from 0 to 1.")
    if isinstance(max_background, bool) or not isinstance(max_background, (int, np.integer)) or max_background < 1:
        raise AuditkitError(f"max_background is {max_background!r}; pass a positive whole number.")


def _model_columns(model, X: pd.DataFrame) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is None and hasattr(model, "steps"):
        names = getattr(model.steps[0][1], "feature_names_in_", None)
    if names is None:
        raise AuditkitError("the model was fitted without column names; reasons name raw columns, so fit it on a DataFrame.")
    names = [str(n) for n in names]
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise AuditkitError(f"X lacks the model input(s) {', '.join(missing[:8])}; pass the rows the model scores.")
    return names


def _chosen_rows(rows, X: pd.DataFrame, scores: np.ndarray, threshold: float) -> np.ndarray:
    if isinstance(rows, str):
        if rows == "adverse":
            return scores < threshold
        if rows == "all":
            return np.ones(len(X), dtype=bool)
        raise AuditkitError(f"rows is {rows!r}; pass 'adverse', 'all', a boolean mask or row labels.")
    if isinstance(rows, pd.Series) and pd.api.types.is_bool_dtype(rows.dtype):
        return rows.reindex(X.index, fill_value=False).to_numpy(dtype=bool)  # aligned on the index
    mask = np.asarray(rows)
    if mask.dtype == bool:
        if mask.shape != (len(X),):
            raise AuditkitError("the boolean mask of rows must have one value per row of X.")
        return mask
    labels = list(rows)
    unknown = [label for label in labels if label not in X.index]
    if unknown:
        raise AuditkitError(f"rows names {len(unknown)} label(s) that X does not have (e.g. {unknown[0]!r}); "
                            "pass labels of X's index.")
    return X.index.isin(labels)


def _baseline_rows(X, scores, baseline, threshold, max_background, seed) -> np.ndarray:
    pool = np.arange(len(X)) if baseline == "background" else np.flatnonzero(scores >= threshold)
    if len(pool) == 0:
        raise AuditkitError("baseline 'approved' needs approved rows, and the model approves none of these; "
                            "use baseline 'background' or more rows.")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(pool, size=min(max_background, len(pool)), replace=False))


def _frame(records, baseline, baseline_rows, output) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=COLUMNS)
    frame.attrs.update({"baseline": baseline, "baseline_rows": baseline_rows, "output": output})
    return frame
