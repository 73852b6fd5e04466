"""The distinct-score table, the bootstrap cells and the AUC equal their definitions exactly."""

from __future__ import annotations

import numpy as np
import pytest

from auditkit.fairness._scores import (
    CALIBRATION_BINS,
    MAX_SCORE_CELLS,
    _auc_from_histogram,
    _distinct_scores,
    score_cells,
)


def scores_for(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "continuous":
        return rng.random(n)
    if kind == "ties":
        return rng.integers(0, 7, n) / 7
    if kind == "rounded":
        return np.round(rng.random(n), 2)
    return rng.normal(size=n)  # negative scores: the np.unique path


@pytest.mark.parametrize("kind", ["continuous", "ties", "rounded", "negative"])
@pytest.mark.parametrize("seed", range(5))
def test_distinct_scores_are_np_unique_with_label_counts(kind, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    scores = scores_for(kind, n, rng)
    labels = (rng.random(n) < 0.4).astype(np.float64)
    unique, inverse = np.unique(scores, return_inverse=True)
    positives = np.bincount(inverse, weights=labels, minlength=len(unique))
    negatives = np.bincount(inverse, minlength=len(unique)) - positives
    got = _distinct_scores(scores, labels)
    for actual, expected in zip(got, (unique, negatives, positives)):
        assert actual.dtype == np.float64
        np.testing.assert_array_equal(actual, expected)


def cells_by_definition(unique: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One cell per distinct value up to MAX_SCORE_CELLS; else a new cell wherever the
    (calibration bin, quantile of the rows before) key changes."""
    if len(unique) <= MAX_SCORE_CELLS:
        return np.arange(len(unique))
    quantile = np.floor((np.cumsum(rows) - rows) * (MAX_SCORE_CELLS / rows.sum())).astype(np.int64)
    calibration = np.clip(np.floor(unique * CALIBRATION_BINS), 0, CALIBRATION_BINS - 1).astype(np.int64)
    key = calibration * (MAX_SCORE_CELLS + 1) + quantile
    return np.concatenate([[0], np.cumsum(key[1:] != key[:-1])])


@pytest.mark.parametrize("seed", range(8))
def test_score_cells_follow_the_key_definition(seed):
    rng = np.random.default_rng(seed)
    unique = np.unique(np.concatenate([rng.random(int(rng.integers(1, 5000))), [0.0, 0.1, 0.5, 1.0]]))
    rows = rng.integers(1, 50, len(unique)).astype(np.float64)
    np.testing.assert_array_equal(score_cells(unique, rows), cells_by_definition(unique, rows))


@pytest.mark.parametrize("seed", range(5))
def test_auc_of_one_histogram_equals_the_elementwise_sums(seed):
    rng = np.random.default_rng(seed)
    negatives = rng.integers(0, 40, 2000).astype(np.float64)
    positives = rng.integers(0, 40, 2000).astype(np.float64)
    below = np.cumsum(negatives) - negatives
    wins = (positives * below).sum() + 0.5 * (positives * negatives).sum()
    assert _auc_from_histogram(negatives, positives) == wins / (positives.sum() * negatives.sum())
    stacked = _auc_from_histogram(np.stack([negatives, negatives]), np.stack([positives, positives]))
    assert stacked.tolist() == [wins / (positives.sum() * negatives.sum())] * 2
