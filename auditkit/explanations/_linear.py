"""Exact interventional SHAP of a linear model: ``w_t * (x_t - mean of background_t)``."""

from __future__ import annotations

from typing import Any

import numpy as np


def linear_weights(estimator: Any) -> tuple[np.ndarray, float] | None:
    """Coefficients and intercept of a single-output linear model, or ``None``.

    Parameters
    ----------
    estimator : estimator
        Any fitted estimator.

    Returns
    -------
    (ndarray, float) or None
        ``(w, b)`` with ``w`` of shape (n_inputs,) when the estimator exposes one row of
        ``coef_``; whether its output really is ``X @ w + b`` is checked on data later.
    """
    try:
        coef = getattr(estimator, "coef_", None)
        intercept = getattr(estimator, "intercept_", 0.0)
    except Exception:  # noqa: BLE001 - e.g. SVC(kernel="rbf") raises on coef_
        return None
    if coef is None or hasattr(coef, "toarray"):
        coef = None if coef is None else np.asarray(coef.toarray())
    if coef is None:
        return None
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim == 2 and coef.shape[0] == 1:
        coef = coef[0]
    if coef.ndim != 1:
        return None
    intercept = np.ravel(np.asarray(intercept, dtype=np.float64))
    if intercept.size > 1:
        return None
    return coef, float(intercept[0]) if intercept.size else 0.0


def linear_shap(
    transformed: np.ndarray, background_mean: np.ndarray, weights: np.ndarray, aggregation: np.ndarray
) -> np.ndarray:
    """SHAP values per raw column of a linear model in a transformed space.

    Parameters
    ----------
    transformed : ndarray of shape (n, n_transformed)
        Explained rows in the model's input space.
    background_mean : ndarray of shape (n_transformed,)
        Mean of the background rows in that space.
    weights : ndarray of shape (n_transformed,)
        Coefficients (signed for the explained output).
    aggregation : ndarray of shape (n_transformed, n_raw)
        0/1 matrix assigning transformed columns to raw columns.

    Returns
    -------
    ndarray of shape (n, n_raw)
    """
    # A linear model has no interactions, so per-column values add up exactly per group.
    return (transformed - background_mean) @ (weights[:, None] * aggregation)
