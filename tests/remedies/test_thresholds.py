"""Threshold remedies: the sweep by brute force, the group thresholds against fairlearn."""

from __future__ import annotations

import numpy as np
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator

from auditkit.errors import AuditkitError
from auditkit.metrics import metric_names
from auditkit.remediation._thresholds import (
    CONSTRAINT_OF_METRIC,
    apply_group_thresholds,
    apply_randomized,
    constraint_for,
    fit_group_thresholds,
    nearest_deterministic,
    positive_probability,
    sweep_single_threshold,
)

LABELS = ["a", "b & x", "c"]


class _PassThrough(BaseEstimator):
    """A fitted "estimator" whose ``predict`` returns the score column it is given."""

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


def shifted_data(n_rows: int = 6000, seed: int = 0, shift: float = 0.15):
    """Three groups whose scores are shifted apart; labels drawn from the scores."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, len(LABELS), n_rows)
    scores = np.clip(rng.normal(0.35 + shift * groups, 0.2), 0.0, 1.0)
    y = (rng.random(n_rows) < scores).astype(np.int8)
    return scores, y, groups


def fairlearn_fit(scores, y, groups, constraint, objective="accuracy_score"):
    optimizer = ThresholdOptimizer(estimator=_PassThrough(), constraints=constraint, objective=objective,
                                   prefit=True, predict_method="predict")
    return optimizer.fit(scores[:, None], y, sensitive_features=np.asarray(LABELS, dtype=object)[groups])


def fairlearn_pmf(optimizer, scores, groups):
    return optimizer._pmf_predict(scores[:, None], sensitive_features=np.asarray(LABELS, dtype=object)[groups])[:, 1]


# --- metric -> constraint --------------------------------------------------------------------


def test_constraint_names():
    assert constraint_for("demographic_parity_ratio") == "demographic_parity"
    assert constraint_for("selection_rate_difference") == "demographic_parity"
    assert constraint_for("equalized_odds_difference") == "equalized_odds"
    assert constraint_for("equal_opportunity_ratio") == "true_positive_rate_parity"
    assert constraint_for("tpr") == "true_positive_rate_parity"
    assert constraint_for("fpr_ratio") == "false_positive_rate_parity"
    assert constraint_for("tnr_difference") == "true_negative_rate_parity"
    assert constraint_for("fnr") == "false_negative_rate_parity"
    assert constraint_for("accuracy") is None
    assert constraint_for("ppv_ratio") is None


def test_every_mapped_metric_is_registered():
    assert set(CONSTRAINT_OF_METRIC) <= set(metric_names())


# --- one threshold for everyone --------------------------------------------------------------


def test_sweep_equals_brute_force():
    scores, y, groups = shifted_data(3000, seed=1)
    scores[:50] = 0.25  # exact grid values: the decision is score >= threshold
    sweep = sweep_single_threshold(scores, y, groups, 3, grid=41)
    assert np.allclose(sweep.thresholds, np.linspace(0, 1, 41))
    for i in (0, 10, 17, 25, 40):
        decision = scores >= sweep.thresholds[i]
        assert sweep.accuracy[i] == pytest.approx(np.mean(decision == y), abs=1e-15)
        assert sweep.selection_rate[i] == pytest.approx(decision.mean(), abs=1e-15)
        for g in range(3):
            member = groups == g
            assert sweep.group_selection_rate[i, g] == pytest.approx(decision[member].mean(), abs=1e-15)
            assert sweep.group_tpr[i, g] == pytest.approx(decision[member & (y == 1)].mean(), abs=1e-15)
            assert sweep.group_fpr[i, g] == pytest.approx(decision[member & (y == 0)].mean(), abs=1e-15)


def test_sweep_shapes_and_missing_positives():
    scores = np.array([0.1, 0.6, 0.9, 0.4])
    y = np.array([0, 0, 1, 1])
    groups = np.array([0, 0, 1, 1])
    sweep = sweep_single_threshold(scores, y, groups, 2, grid=5)
    assert sweep.group_tpr.shape == sweep.group_fpr.shape == sweep.group_selection_rate.shape == (5, 2)
    assert np.isnan(sweep.group_tpr[:, 0]).all() and np.isnan(sweep.group_fpr[:, 1]).all()
    assert sweep.selection_rate[0] == 1.0 and sweep.accuracy[-1] == 0.5


# --- fairlearn's randomized group thresholds -------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "objective"),
    [
        ("demographic_parity", "accuracy_score"),
        ("true_positive_rate_parity", "accuracy_score"),
        ("false_positive_rate_parity", "balanced_accuracy_score"),
        ("equalized_odds", "accuracy_score"),
        ("equalized_odds", "balanced_accuracy_score"),
    ],
)
def test_group_thresholds_equal_fairlearn(constraint, objective):
    scores, y, groups = shifted_data(2000, seed=2)
    gt = fit_group_thresholds(scores, y, groups, LABELS, constraint=constraint, objective=objective)
    reference = fairlearn_fit(scores, y, groups, constraint, objective)
    for g, label in enumerate(LABELS):
        part = reference.interpolated_thresholder_.interpolation_dict[label]
        assert (gt.p0[g], gt.p1[g]) == (part.p0, part.p1)
        assert (gt.operation0[g], gt.threshold0[g]) == (part.operation0.operator, part.operation0.threshold)
        assert (gt.operation1[g], gt.threshold1[g]) == (part.operation1.operator, part.operation1.threshold)
        if constraint == "equalized_odds":
            assert gt.p_ignore[g] == part.p_ignore and gt.prediction_constant == part.prediction_constant
    assert (gt.p_ignore is None) == (constraint != "equalized_odds")
    # decision rates on new rows too
    new_scores, _, new_groups = shifted_data(3000, seed=3)
    expected = fairlearn_pmf(reference, new_scores, new_groups)
    assert np.abs(positive_probability(gt, new_scores, new_groups) - expected).max() <= 1e-12


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_randomized_decisions_follow_the_probabilities(constraint):
    scores, y, groups = shifted_data(4000, seed=4)
    gt = fit_group_thresholds(scores, y, groups, LABELS, constraint=constraint)
    probability = fairlearn_pmf(fairlearn_fit(scores, y, groups, constraint), scores, groups)
    decisions = apply_randomized(gt, scores, groups, np.random.default_rng(7))
    draws = np.random.default_rng(7).random(scores.size)
    assert decisions.dtype == np.int8
    assert np.array_equal(decisions, (probability >= draws).astype(np.int8))
    between = (probability > 0) & (probability < 1)
    assert between.any()  # the rule is randomized somewhere
    assert np.array_equal(decisions[probability == 1], np.ones((probability == 1).sum(), np.int8))
    assert not decisions[probability == 0].any()
    # many draws: the share of positives per row converges to the probability
    rng = np.random.default_rng(8)
    share = np.mean([apply_randomized(gt, scores, groups, rng) for _ in range(400)], axis=0)
    assert np.abs(share - probability).max() < 0.1


# --- one deterministic threshold per group ---------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "rate"),
    [
        ("demographic_parity", lambda d, y, m: d[m].mean()),
        ("true_positive_rate_parity", lambda d, y, m: d[m & (y == 1)].mean()),
        ("false_positive_rate_parity", lambda d, y, m: d[m & (y == 0)].mean()),
    ],
)
def test_nearest_deterministic_meets_the_constraint(constraint, rate):
    scores, y, groups = shifted_data(9000, seed=5, shift=0.2)
    before = apply_group_thresholds(np.full(3, 0.5), scores, groups)
    assert np.ptp([rate(before, y, groups == g) for g in range(3)]) > 0.2  # strong shift
    gt = fit_group_thresholds(scores, y, groups, LABELS, constraint=constraint)
    thresholds = nearest_deterministic(gt, scores, y, groups)
    decisions = apply_group_thresholds(thresholds, scores, groups)
    rates = [rate(decisions, y, groups == g) for g in range(3)]
    assert np.ptp(rates) < 0.01
    expected = [rate(positive_probability(gt, scores, groups), y, groups == g) for g in range(3)]
    assert np.abs(np.array(rates) - expected).max() < 0.005


def test_nearest_deterministic_can_select_nobody_and_everybody():
    scores = np.array([0.2, 0.4, 0.6, 0.8, 0.3, 0.7])
    y = np.array([0, 1, 0, 1, 0, 1])
    groups = np.array([0, 0, 0, 0, 1, 1])
    gt = fit_group_thresholds(scores, y, groups, ["p", "q"], constraint="demographic_parity",
                              objective="selection_rate")
    thresholds = nearest_deterministic(gt, scores, y, groups)
    assert apply_group_thresholds(thresholds, scores, groups).all()
    gt_none = fit_group_thresholds(scores, y, groups, ["p", "q"], constraint="true_negative_rate_parity",
                                   objective="true_negative_rate")
    thresholds = nearest_deterministic(gt_none, scores, y, groups)
    assert np.isfinite(thresholds).all()
    assert not apply_group_thresholds(thresholds, scores, groups).any()


def test_apply_group_thresholds_is_score_at_least_threshold():
    decisions = apply_group_thresholds(np.array([0.5, 0.2]), [0.5, 0.49, 0.2, 0.19], [0, 0, 1, 1])
    assert decisions.dtype == np.int8
    assert decisions.tolist() == [1, 0, 1, 0]


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"constraint": "parity"}, "Unknown threshold constraint 'parity'"),
        ({"constraint": "equalized_odds", "objective": "selection_rate"}, "not supported with 'equalized_odds'"),
        ({"constraint": "demographic_parity", "labels": ["a", "b", "c", "d"]}, "Group 'd' has no rows"),
        ({"constraint": "demographic_parity", "labels": ["a", "a", "c"]}, "must be distinct"),
        ({"constraint": "demographic_parity", "labels": ["a", "b"]}, "must lie in 0..1"),
    ],
)
def test_bad_arguments_raise_auditkit_errors(kwargs, message):
    scores, y, groups = shifted_data(300, seed=6)
    kwargs = {"labels": LABELS, **kwargs}
    with pytest.raises(AuditkitError, match=message):
        fit_group_thresholds(scores, y, groups, kwargs.pop("labels"), **kwargs)


def test_bad_inputs_raise_auditkit_errors():
    scores, y, groups = shifted_data(300, seed=6)
    with pytest.raises(AuditkitError, match="only one outcome label"):
        fit_group_thresholds(scores, np.where(groups == 1, 1, y), groups, LABELS, constraint="demographic_parity")
    with pytest.raises(AuditkitError, match="must be 0 or 1"):
        sweep_single_threshold(scores, y * 2, groups, 3)
    with pytest.raises(AuditkitError, match="NaN or infinite"):
        sweep_single_threshold(np.where(groups == 0, np.nan, scores), y, groups, 3)
    with pytest.raises(AuditkitError, match="but the scores have 300 rows"):
        sweep_single_threshold(scores, y[:10], groups, 3)
    with pytest.raises(AuditkitError, match="Group '3' has no rows"):
        sweep_single_threshold(scores, y, groups, 4)
    with pytest.raises(AuditkitError, match="at least 2 points"):
        sweep_single_threshold(scores, y, groups, 3, grid=1)


# --- the re-implementation against fairlearn on random data ----------------------------------

ALL_PAIRS = [
    (constraint, objective)
    for constraint in ("demographic_parity", "selection_rate_parity", "true_positive_rate_parity",
                       "false_positive_rate_parity", "true_negative_rate_parity", "false_negative_rate_parity")
    for objective in ("accuracy_score", "balanced_accuracy_score", "selection_rate", "true_positive_rate",
                      "true_negative_rate")
] + [("equalized_odds", "accuracy_score"), ("equalized_odds", "balanced_accuracy_score")]


def random_data(seed: int, n_groups: int):
    """Groups of uneven sizes (the last one tiny), scores rounded so that many tie."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(30, 400, n_groups)
    sizes[-1] = 4
    groups = np.repeat(np.arange(n_groups), sizes)
    rng.shuffle(groups)
    scores = np.round(np.clip(rng.normal(0.3 + 0.4 * groups / n_groups, 0.25), 0, 1), rng.integers(1, 4))
    y = (rng.random(groups.size) < scores).astype(np.int8)
    y[np.flatnonzero(groups == n_groups - 1)[:2]] = [0, 1]  # the tiny group has both labels
    labels = [f"g{(7 * g) % n_groups} {g}" for g in range(n_groups)]  # label order != code order
    return scores, y, groups, labels


@pytest.mark.parametrize(("seed", "n_groups"), [(10, 2), (11, 3), (12, 5), (13, 8), (14, 8)])
def test_group_thresholds_equal_fairlearn_on_random_data(seed, n_groups):
    scores, y, groups, labels = random_data(seed, n_groups)
    sensitive = np.asarray(labels, dtype=object)[groups]
    for constraint, objective in ALL_PAIRS:
        gt = fit_group_thresholds(scores, y, groups, labels, constraint=constraint, objective=objective,
                                  grid_size=500)
        reference = ThresholdOptimizer(estimator=_PassThrough(), constraints=constraint, objective=objective,
                                       grid_size=500, prefit=True, predict_method="predict")
        reference.fit(scores[:, None], y, sensitive_features=sensitive)
        for g, label in enumerate(labels):
            part = reference.interpolated_thresholder_.interpolation_dict[label]
            assert (gt.p0[g], gt.p1[g]) == (part.p0, part.p1), (constraint, objective, label)
            assert (gt.operation0[g], gt.threshold0[g]) == (part.operation0.operator, part.operation0.threshold)
            assert (gt.operation1[g], gt.threshold1[g]) == (part.operation1.operator, part.operation1.threshold)
            if constraint == "equalized_odds":
                assert gt.p_ignore[g] == part.p_ignore and gt.prediction_constant == part.prediction_constant
        assert (gt.p_ignore is None) == (constraint != "equalized_odds")
        expected = reference._pmf_predict(scores[:, None], sensitive_features=sensitive)[:, 1]
        assert np.abs(positive_probability(gt, scores, groups) - expected).max() <= 1e-12
