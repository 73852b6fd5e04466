"""Paired bootstrap replicates: the same resampled rows for a candidate and a champion.

A change (candidate - champion) is estimated on one data set, so its interval must
resample the rows once and evaluate both models on that resample; resampling the two
models independently ignores that they agree on most rows and gives far wider intervals.

* Count metrics: a row's paired cell is ``4 * y_true + 2 * candidate + champion``
  (8 cells). Under a row bootstrap a feature's (group x paired cell) table is exactly a
  multinomial draw, and both models' confusion counts follow from each drawn table.
* Score metrics: rows are shuffled into random blocks; a replicate picks blocks with
  replacement and both models' (score cell x label) histograms and score sums are added
  over the same picks.
* Regression metrics: the same random blocks for the sums of both models' errors.
"""

from __future__ import annotations

import numpy as np

from ._bootstrap import block_replicate_sums, block_weights, count_replicates
from ._metric_formulas import classification_metrics, regression_metrics
from ._scores import _auc_from_histogram, score_cells

__all__ = [
    "PAIRED_CELLS",
    "paired_cell_codes",
    "paired_count_replicates",
    "paired_group_counts",
    "paired_regression_replicates",
    "paired_score_replicates",
    "split_paired_counts",
]

PAIRED_CELLS = 8


def paired_cell_codes(y_true: np.ndarray, y_pred: np.ndarray, y_pred_champion: np.ndarray) -> np.ndarray:
    """Return each row's paired cell ``4 * y_true + 2 * candidate + champion`` as int8."""
    cells = y_true.astype(np.int8, copy=True)
    cells *= 2
    cells += y_pred.astype(np.int8, copy=False)
    cells *= 2
    cells += y_pred_champion.astype(np.int8, copy=False)
    return cells


def paired_group_counts(codes: np.ndarray, cells: np.ndarray, *, n_groups: int) -> np.ndarray:
    """Count rows per (group, paired cell) with one ``np.bincount``: shape ``(n_groups, 8)``."""
    index = codes * PAIRED_CELLS
    index += cells
    return np.bincount(index, minlength=PAIRED_CELLS * n_groups).reshape(n_groups, PAIRED_CELLS)


def split_paired_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both models' confusion counts from paired counts.

    Parameters
    ----------
    counts : numpy.ndarray
        Shape ``(..., 8)`` in paired-cell order (actual, candidate, champion).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Candidate and champion counts, each ``(..., 4)`` in cell order tn, fp, fn, tp.
    """
    counts = np.asarray(counts)
    cube = counts.reshape(counts.shape[:-1] + (2, 2, 2))  # actual, candidate, champion
    lead = counts.shape[:-1] + (4,)
    return cube.sum(axis=-1).reshape(lead), cube.sum(axis=-2).reshape(lead)


def paired_count_replicates(
    counts: np.ndarray, *, n_resamples: int, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Count-metric replicates of both models from one multinomial draw of paired counts.

    Parameters
    ----------
    counts : numpy.ndarray
        Paired counts, ``(groups, 8)`` for a feature or ``(8,)`` overall. The whole
        table is one multinomial (group sizes vary between replicates, as when rows
        are resampled).
    n_resamples : int
        Number of replicates.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    (dict, dict)
        Candidate and champion: metric -> ``(n_resamples, *counts.shape[:-1])`` (NaN
        where undefined).
    """
    draws = count_replicates(counts, n_resamples=n_resamples, rng=rng)
    candidate, champion = split_paired_counts(draws)
    return classification_metrics(candidate), classification_metrics(champion)


def _cells_of_rows(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Bootstrap cell of every row, the number of cells, and the exact-minus-merged AUC."""
    unique, inverse = np.unique(scores, return_inverse=True)
    pos_u = np.bincount(inverse, weights=labels, minlength=len(unique))
    neg_u = np.bincount(inverse, minlength=len(unique)) - pos_u
    cell_u = score_cells(unique, pos_u + neg_u)
    n_cells = int(cell_u.max()) + 1
    exact = float(_auc_from_histogram(neg_u, pos_u))
    merged = float(
        _auc_from_histogram(
            np.bincount(cell_u, weights=neg_u, minlength=n_cells),
            np.bincount(cell_u, weights=pos_u, minlength=n_cells),
        )
    )
    shift = exact - merged if not np.isnan(exact) else 0.0
    return cell_u[inverse], n_cells, shift


def paired_score_replicates(
    scores: np.ndarray,
    scores_champion: np.ndarray,
    labels: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``auc`` and ``mean_score`` replicates of both models on the same random blocks.

    Each model's scores are cut into the cells the kernel uses (distinct values, or
    about 100 quantile cells), each block is summarised by a (cell x label) histogram
    and a score sum per model, and a replicate adds the blocks it picked. AUC
    replicates are shifted by the model's exact-minus-merged AUC, as in the kernel.
    A model with a missing score has NaN replicates.

    Parameters
    ----------
    scores, scores_champion : numpy.ndarray
        Both models' scores on the same rows (at least one row).
    labels : numpy.ndarray
        0/1 actual outcomes as float.
    n_resamples : int
        Number of replicates.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    (dict, dict)
        Candidate and champion: ``"auc"`` / ``"mean_score"`` -> ``(n_resamples,)``.
    """
    n = len(labels)
    block_of_row, weights = block_weights(n, n_resamples=n_resamples, rng=rng)
    m = weights.shape[1]
    label_codes = labels.astype(np.int64)
    columns, layout = [], []
    for model_scores in (scores, scores_champion):
        if np.isnan(model_scores).any():
            layout.append(None)
            continue
        cell_of_row, n_cells, shift = _cells_of_rows(model_scores, labels)
        index = (block_of_row * n_cells + cell_of_row) * 2 + label_codes
        histogram = np.bincount(index, minlength=m * n_cells * 2).reshape(m, n_cells * 2)
        score_sums = np.bincount(block_of_row, weights=model_scores, minlength=m)
        columns += [histogram, score_sums[:, None]]
        layout.append((n_cells, shift))
    sums = weights.astype(np.float64) @ np.hstack(columns) if columns else None
    out, start = [], 0
    for spec in layout:
        if spec is None:
            nan = np.full(n_resamples, np.nan)
            out.append({"auc": nan, "mean_score": nan.copy()})
            continue
        n_cells, shift = spec
        histogram = sums[:, start : start + 2 * n_cells].reshape(n_resamples, n_cells, 2)
        score_sum = sums[:, start + 2 * n_cells]
        start += 2 * n_cells + 1
        rows = histogram.sum(axis=(1, 2))
        out.append(
            {
                "auc": _auc_from_histogram(histogram[..., 0], histogram[..., 1]) + shift,
                "mean_score": score_sum / rows,
            }
        )
    return out[0], out[1]


def paired_regression_replicates(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_pred_champion: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Regression-metric replicates of both models on the same random blocks of rows.

    Returns
    -------
    (dict, dict)
        Candidate and champion: metric -> ``(n_resamples,)``.
    """
    error = y_pred - y_true
    error_champion = y_pred_champion - y_true
    per_row = np.column_stack(
        [
            np.ones_like(y_true), y_pred, y_true, np.abs(error), error * error,
            y_pred_champion, np.abs(error_champion), error_champion * error_champion,
        ]
    )
    sums = block_replicate_sums(per_row, n_resamples=n_resamples, rng=rng)
    # Columns n, sum_pred, sum_true, sum_abs_error, sum_squared_error for each model.
    return regression_metrics(sums[:, [0, 1, 2, 3, 4]]), regression_metrics(sums[:, [0, 5, 2, 6, 7]])
