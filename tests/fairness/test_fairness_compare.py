"""compare_fairness: changes equal fairlearn's per-model values, paired intervals a row bootstrap."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.errors import DataError
from auditkit.fairness import (
    MISSING_GROUP,
    FairnessComparison,
    GroupChange,
    GroupMetricChange,
    MetricValue,
    assess_fairness,
    compare_fairness,
)

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")

TOL = 1e-12


def _dumps(document) -> str:
    return json.dumps(document, sort_keys=True, allow_nan=False)


# -- a hand-computed case -----------------------------------------------------------------

def test_hand_computed_tiny_case():
    #              group a       group b
    y_true =    [1, 1, 0, 0,  1, 1, 0, 0]
    candidate = [1, 1, 0, 0,  1, 0, 1, 0]  # perfect on a; one miss and one false alarm on b
    champion =  [1, 0, 0, 0,  1, 1, 0, 0]  # one miss on a; perfect on b
    groups = {"g": ["a"] * 4 + ["b"] * 4}
    result = compare_fairness(y_true, candidate, champion, groups, min_group_size=0, bootstrap=0)

    assert isinstance(result, FairnessComparison)
    tpr = {c.group: c for c in result.group_changes("tpr", "g")}
    assert tpr["a"] == GroupMetricChange("a", 4, "ok", 1.0, 0.5, 0.5, None, None)
    assert tpr["b"] == GroupMetricChange("b", 4, "ok", 0.5, 1.0, -0.5, None, None)
    assert GroupChange is GroupMetricChange  # the former name still imports
    fpr = {c.group: c.change for c in result.group_changes("fpr", "g")}
    assert fpr == {"a": 0.0, "b": 0.5}

    # Overall: both models find 3 of 4 positives; accuracy 6/8 against 7/8.
    assert result.change("tpr") == MetricValue(0.0, None, None)
    assert result.change("accuracy").value == pytest.approx(-0.125, abs=TOL)
    # Candidate: tpr 1 and 1/2, fpr 0 and 1/2, selection 1/2 and 1/2.
    # Champion:  tpr 1/2 and 1, fpr 0 and 0,   selection 1/4 and 1/2.
    expected = {
        "tpr_difference": 0.0,
        "fpr_difference": 0.5,
        "equalized_odds_difference": 0.0,
        "demographic_parity_difference": -0.25,
        "selection_rate_ratio": 0.5,
        "tpr_ratio": 0.0,
        # Candidate min(1/2, 0) = 0; the champion's fpr ratio is 0/0 (no disparity), so
        # only its tpr ratio 1/2 binds.
        "equalized_odds_ratio": -0.5,
    }
    for name, change in expected.items():
        assert result.change(name, "g").value == pytest.approx(change, abs=TOL), name
    fpr_ratio = result.change("fpr_ratio", "g")
    assert fpr_ratio.value is None and fpr_ratio.ci is None
    assert fpr_ratio.reason.startswith("undefined for the champion: every compared group has fpr = 0")

    document = result.to_dict()
    _dumps(document)
    assert set(document) == {"candidate", "champion", "changes", "bootstrap"}
    assert document["bootstrap"]["method"] == "none"
    row = next(r for r in document["changes"]["disparities"] if r["metric"] == "fpr_difference")
    assert row == {"feature": "g", "metric": "fpr_difference", "candidate": 0.5, "champion": 0.0,
                   "change": 0.5, "ci": None, "reason": None}
    row = next(r for r in document["changes"]["groups"] if r["group"] == "a" and r["metric"] == "tpr")
    assert row == {"feature": "g", "group": "a", "n": 4, "status": "ok", "metric": "tpr",
                   "candidate": 1.0, "champion": 0.5, "change": 0.5, "ci": None, "reason": None}
    row = next(r for r in document["changes"]["overall"] if r["metric"] == "accuracy")
    assert row == {"metric": "accuracy", "candidate": 0.75, "champion": 0.875, "change": -0.125,
                   "ci": None, "reason": None}


# -- point estimates against fairlearn, on random data with missing groups -----------------

FAIRLEARN_FUNCTIONS = {
    "selection_rate": fairlearn_metrics.selection_rate,
    "tpr": fairlearn_metrics.true_positive_rate,
    "fpr": fairlearn_metrics.false_positive_rate,
    "tnr": fairlearn_metrics.true_negative_rate,
    "ppv": lambda t, p: skm.precision_score(t, p, zero_division=0),
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1": lambda t, p: skm.f1_score(t, p, zero_division=0),
}


def _labels(values) -> pd.Series:
    """The kernel's group labels, built independently with plain pandas."""
    return pd.Series(
        [MISSING_GROUP if pd.isna(v) else str(int(v)) if isinstance(v, float) else str(v) for v in values],
        dtype=object,
    )


def _metric_frame(y_true, y_pred, labels) -> fairlearn_metrics.MetricFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fairlearn_metrics.MetricFrame(
            metrics=FAIRLEARN_FUNCTIONS, y_true=y_true, y_pred=y_pred, sensitive_features=labels
        )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 2**31 - 1),  # data seed
    st.integers(30, 300),  # rows
    st.integers(1, 4),  # groups
    st.sampled_from([0.0, 0.1, 0.3]),  # missing share
    st.sampled_from([0.05, 0.4, 0.9]),  # P(y_true = 1)
    st.sampled_from([0.0, 0.1, 0.5]),  # share of rows where the champion's prediction differs
    st.integers(0, 40),  # min_group_size
)
def test_changes_equal_fairlearn_candidate_minus_champion(seed, n, n_groups, missing, p_true, flip, min_size):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_groups, size=n).astype(float)
    a[rng.random(n) < missing] = np.nan
    y_true = (rng.random(n) < p_true).astype(int)
    candidate = (rng.random(n) < 0.5).astype(int)
    champion = np.where(rng.random(n) < flip, 1 - candidate, candidate)
    score = np.round(rng.random(n), 2)
    score_champion = np.round(np.clip(score + rng.normal(0, 0.1, n), 0, 1), 2)
    result = compare_fairness(
        y_true, candidate, champion, {"a": a}, y_score=score, y_score_champion=score_champion,
        min_group_size=min_size, bootstrap=0,
    )
    labels = _labels(a)
    frames = [_metric_frame(y_true, p, labels) for p in (candidate, champion)]
    sizes = labels.value_counts()
    ok = sorted(g for g in sizes.index if sizes[g] >= min_size)

    for metric in FAIRLEARN_FUNCTIONS:
        for change in result.group_changes(metric, "a"):
            expected = [f.by_group.loc[change.group, metric] for f in frames]
            if change.change is None:
                # Undefined for a model (fairlearn / scikit-learn would fall back to 0).
                assert change.reason.startswith("undefined for the") or change.reason.startswith(
                    "undefined for both models")
            else:
                assert abs(change.change - (expected[0] - expected[1])) <= TOL, (metric, change)
        overall = result.change(metric)
        if overall.value is not None:
            expected = frames[0].overall[metric] - frames[1].overall[metric]
            assert abs(overall.value - expected) <= TOL, metric

        # A disparity's change: each model's largest - smallest over its ok groups with a
        # defined value (the kernel leaves undefined groups out), as fairlearn computes it.
        changes = {c.group: c for c in result.group_changes(metric, "a")}
        spreads = []
        for model, f in zip(("candidate", "champion"), frames):
            defined = [g for g in ok if getattr(changes[g], model) is not None]
            values = f.by_group.loc[defined, metric]
            spreads.append(values.max() - values.min() if len(defined) >= 2 else None)
        change = result.change(f"{metric}_difference", "a")
        if None in spreads:
            assert change.value is None and change.reason
        else:
            assert abs(change.value - (spreads[0] - spreads[1])) <= TOL, metric

    # Aggregates with fairlearn's own functions, on the ok groups' rows, when every ok
    # group has tpr and fpr defined for both models (fairlearn would count 0 otherwise).
    keep = labels.isin(ok).to_numpy()
    rates_defined = all(
        c.candidate is not None and c.champion is not None
        for m in ("tpr", "fpr") for c in result.group_changes(m, "a") if c.status == "ok"
    )
    if len(ok) >= 2 and rates_defined:
        for name, function in {
            "equalized_odds_difference": fairlearn_metrics.equalized_odds_difference,
            "demographic_parity_difference": fairlearn_metrics.demographic_parity_difference,
            "demographic_parity_ratio": fairlearn_metrics.demographic_parity_ratio,
        }.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = [
                    function(y_true[keep], p[keep], sensitive_features=labels[keep])
                    for p in (candidate, champion)
                ]
            change = result.change(name, "a")
            if np.isnan(expected).any():
                assert change.value is None
            else:
                assert abs(change.value - (expected[0] - expected[1])) <= TOL, name

    # Score metrics against scikit-learn / numpy.
    for change in result.group_changes("auc", "a"):
        mask = (labels == change.group).to_numpy()
        if len(set(y_true[mask])) == 2:
            expected = skm.roc_auc_score(y_true[mask], score[mask]) - skm.roc_auc_score(
                y_true[mask], score_champion[mask])
            assert abs(change.change - expected) <= TOL
        else:
            assert change.change is None and change.reason.startswith("undefined for both models")
    expected = score.mean() - score_champion.mean()
    assert abs(result.change("mean_score").value - expected) <= TOL


# -- each model alone ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def moderate():
    rng = np.random.default_rng(42)
    n = 3000
    sex = rng.choice(np.array(["female", "male"], dtype=object), size=n, p=[0.4, 0.6])
    sex[rng.random(n) < 0.02] = None
    y_true = (rng.random(n) < np.where(sex == "male", 0.45, 0.35)).astype(int)
    latent = rng.normal(0, 1, n) + 1.5 * y_true
    score = 1 / (1 + np.exp(-(latent - 0.75)))
    score_champion = 1 / (1 + np.exp(-(latent + rng.normal(0, 0.3, n) - 0.75)))
    candidate = (score >= 0.5).astype(int)
    champion = (score_champion >= 0.5).astype(int)  # agrees with the candidate on most rows
    return y_true, candidate, champion, score, score_champion, sex


def test_candidate_and_champion_are_assess_fairness_alone(moderate):
    y_true, candidate, champion, score, score_champion, sex = moderate
    options = dict(intersections=[("sex", "band")], reference_groups={"sex": "female"},
                   min_group_size=50, bootstrap=200, confidence=0.9, seed=7)
    frame = pd.DataFrame({"sex": sex, "band": np.arange(len(sex)) % 3})
    result = compare_fairness(y_true, candidate, champion, frame, y_score=score,
                              y_score_champion=score_champion, **options)
    alone = [assess_fairness(y_true, p, frame, y_score=s, **options)
             for p, s in ((candidate, score), (champion, score_champion))]
    assert _dumps(result.candidate.to_dict()) == _dumps(alone[0].to_dict())
    assert _dumps(result.champion.to_dict()) == _dumps(alone[1].to_dict())
    document = result.to_dict()
    assert _dumps(document["candidate"]) == _dumps(alone[0].to_dict())
    assert document["bootstrap"]["method"].startswith("paired")
    assert document["bootstrap"]["resamples"] == 200
    # Same inputs and seed, same numbers.
    again = compare_fairness(y_true, candidate, champion, frame, y_score=score,
                             y_score_champion=score_champion, **options)
    assert _dumps(again.to_dict()) == _dumps(document)


# -- paired intervals against a brute-force paired row bootstrap --------------------------

def _within(ours, theirs, width, share=0.25):
    # Monte-Carlo tolerance, as in test_fairness_intervals.py: a quarter of the width.
    return abs(ours - theirs) <= share * width


def _rates(y_true, y_pred, mask):
    positives, negatives = y_true[mask] == 1, y_true[mask] == 0
    predicted = y_pred[mask] == 1
    return {
        "tpr": predicted[positives].mean(),
        "fpr": predicted[negatives].mean(),
        "selection_rate": predicted.mean(),
        "accuracy": (y_pred[mask] == y_true[mask]).mean(),
    }


def _paired_row_bootstrap(statistic, arrays, n_resamples=400, seed=1):
    """Resample row indices once per replicate; the statistic sees both models on them."""
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    values = []
    for _ in range(n_resamples):
        rows = rng.integers(0, n, n)
        values.append(statistic(*(a[rows] for a in arrays)))
    return np.quantile(values, [0.025, 0.975], axis=0)


def _assert_interval(ours: MetricValue, reference, label):
    lo, hi = reference
    assert ours.ci is not None, label
    if hi == lo:  # e.g. both models agree on every positive of a small group
        assert ours.ci == (lo, hi), label
        return
    assert _within(ours.ci[0], lo, hi - lo), (label, ours.ci, reference)
    assert _within(ours.ci[1], hi, hi - lo), (label, ours.ci, reference)


def test_count_intervals_match_a_paired_row_bootstrap(moderate):
    y_true, candidate, champion, _, _, sex = moderate
    groups = np.where(pd.isna(sex), MISSING_GROUP, sex).astype(str)
    result = compare_fairness(y_true, candidate, champion, {"sex": sex}, bootstrap=1000, seed=0)
    names = ["female", "male", MISSING_GROUP]
    assert [c.status for c in result.group_changes("tpr", "sex")] == ["ok"] * 3

    def statistics(t, c, k, g):
        out = {}
        per_model = []
        for p in (c, k):
            per_model.append({name: _rates(t, p, g == name) for name in names})
        for name in names:
            out[("tpr", name)] = per_model[0][name]["tpr"] - per_model[1][name]["tpr"]
        spreads = []
        for model in per_model:
            spread = {m: max(model[x][m] for x in names) - min(model[x][m] for x in names)
                      for m in ("tpr", "fpr", "selection_rate")}
            spread["selection_rate_ratio"] = (min(model[x]["selection_rate"] for x in names)
                                              / max(model[x]["selection_rate"] for x in names))
            spreads.append(spread)
        out["tpr_difference"] = spreads[0]["tpr"] - spreads[1]["tpr"]
        out["equalized_odds_difference"] = (max(spreads[0]["tpr"], spreads[0]["fpr"])
                                            - max(spreads[1]["tpr"], spreads[1]["fpr"]))
        out["selection_rate_ratio"] = spreads[0]["selection_rate_ratio"] - spreads[1]["selection_rate_ratio"]
        out["accuracy"] = (c == t).mean() - (k == t).mean()
        return out

    keys = list(statistics(y_true, candidate, champion, groups))
    reference = _paired_row_bootstrap(
        lambda *a: [statistics(*a)[key] for key in keys], (y_true, candidate, champion, groups)
    )
    for i, key in enumerate(keys):
        if isinstance(key, tuple):
            metric, group = key
            ours = next(c for c in result.group_changes(metric, "sex") if c.group == group)
            ours = MetricValue(ours.change, ours.ci, ours.reason)
        elif key == "accuracy":
            ours = result.change(key)
        else:
            ours = result.change(key, "sex")
        _assert_interval(ours, reference[:, i], key)


def test_score_intervals_match_a_paired_row_bootstrap(moderate):
    y_true, candidate, champion, score, score_champion, _ = moderate
    n = len(y_true)
    groups = np.where(np.arange(n) < 2000, "big", "small")
    result = compare_fairness(
        y_true, candidate, champion, {"g": groups}, y_score=score, y_score_champion=score_champion,
        bootstrap=1000, seed=0,
    )

    def auc_change(t, s, k):
        return skm.roc_auc_score(t, s) - skm.roc_auc_score(t, k)

    big = groups == "big"
    reference = _paired_row_bootstrap(auc_change, (y_true[big], score[big], score_champion[big]))
    ours = next(c for c in result.group_changes("auc", "g") if c.group == "big")
    _assert_interval(MetricValue(ours.change, ours.ci, None), reference, "auc big")
    reference = _paired_row_bootstrap(lambda s, k: s.mean() - k.mean(), (score, score_champion))
    _assert_interval(result.change("mean_score"), reference, "mean_score")
    reference = _paired_row_bootstrap(auc_change, (y_true, score, score_champion))
    _assert_interval(result.change("auc"), reference, "auc")


def test_regression_intervals_match_a_paired_row_bootstrap():
    rng = np.random.default_rng(3)
    n = 3000
    y = rng.gamma(2.0, 2.0, n)
    candidate = y + rng.standard_t(4, n)
    champion = candidate + rng.normal(0.1, 0.3, n)
    result = compare_fairness(y, candidate, champion, {"all": np.repeat("x", n)}, bootstrap=1000, seed=0)
    assert result.task == "regression"
    checks = {
        "mae": lambda t, c, k: np.abs(c - t).mean() - np.abs(k - t).mean(),
        "rmse": lambda t, c, k: np.sqrt(((c - t) ** 2).mean()) - np.sqrt(((k - t) ** 2).mean()),
        "mean_prediction": lambda t, c, k: c.mean() - k.mean(),
    }
    for metric, statistic in checks.items():
        assert abs(result.change(metric).value - statistic(y, candidate, champion)) <= 1e-9
        _assert_interval(result.change(metric), _paired_row_bootstrap(statistic, (y, candidate, champion)),
                         metric)
        group = result.group_changes(metric, "all")[0]
        _assert_interval(MetricValue(group.change, group.ci, None),
                         _paired_row_bootstrap(statistic, (y, candidate, champion)), metric)


def test_paired_intervals_are_much_narrower_than_unpaired(moderate):
    y_true, candidate, champion, _, _, sex = moderate
    assert (candidate == champion).mean() > 0.9
    result = compare_fairness(y_true, candidate, champion, {"sex": sex}, bootstrap=1000, seed=0)

    def width(interval):
        return interval[1] - interval[0]

    for metric in ("tpr", "accuracy", "selection_rate"):
        paired = width(result.change(metric).ci)
        unpaired = np.hypot(width(result.candidate.value(metric).ci), width(result.champion.value(metric).ci))
        assert paired < 0.5 * unpaired, metric
    paired = width(result.change("tpr_difference", "sex").ci)
    unpaired = np.hypot(width(result.candidate.value("tpr_difference", "sex").ci),
                        width(result.champion.value("tpr_difference", "sex").ci))
    assert paired < 0.6 * unpaired


# -- undefined changes, look-ups and errors -----------------------------------------------

def test_undefined_for_one_model_names_it_and_the_reason():
    rng = np.random.default_rng(0)
    n = 400
    groups = np.repeat(["a", "b"], n // 2)
    y_true = (rng.random(n) < 0.5).astype(int)
    candidate = (rng.random(n) < 0.5).astype(int)
    champion = candidate.copy()
    champion[groups == "b"] = 0  # no predicted positives in b: its ppv is undefined
    result = compare_fairness(y_true, candidate, champion, {"g": groups}, y_score=rng.random(n),
                              bootstrap=100)
    ppv_b = next(c for c in result.group_changes("ppv", "g") if c.group == "b")
    assert ppv_b.champion is None and ppv_b.change is None and ppv_b.ci is None
    assert ppv_b.reason == "undefined for the champion: no predicted positives in this group"
    assert result.change("ppv_difference", "g").value is None
    assert result.change("ppv_difference", "g").reason.startswith("undefined for the champion")
    # Scores for the candidate only: score metrics cannot be compared.
    auc = result.change("auc")
    assert auc.value is None and "champion" in auc.reason and "y_score" in auc.reason
    assert result.change("auc_difference", "g").value is None
    # Metrics unaffected by the model change by exactly 0 in every replicate.
    assert result.change("base_rate") == MetricValue(0.0, (0.0, 0.0), None)

    frames = [result.by_group, result.overall_changes, result.disparity_changes]
    assert list(frames[0].columns) == ["feature", "group", "n", "status", "metric", "candidate",
                                       "champion", "change", "change_ci_low", "change_ci_high"]
    assert list(frames[1].columns) == ["metric", "candidate", "champion", "change",
                                       "change_ci_low", "change_ci_high"]
    assert list(frames[2].columns) == ["feature", "metric", "candidate", "champion", "change",
                                       "change_ci_low", "change_ci_high"]
    for frame in frames:
        assert frame["change"].dtype == np.float64
    _dumps(result.to_dict())
    assert "Candidate" in result._repr_html_()


def test_lookups_follow_fairness_result():
    y = np.array([0, 1] * 40)
    result = compare_fairness(y, y, 1 - y, {"s": ["x", "y"] * 40}, bootstrap=0)
    with pytest.raises(KeyError, match="group_changes"):
        result.change("tpr", "s")
    with pytest.raises(KeyError, match="needs a feature"):
        result.change("tpr_difference")
    with pytest.raises(KeyError, match="Unknown feature"):
        result.change("tpr_difference", "nope")
    with pytest.raises(KeyError, match="Unknown"):
        result.change("nonsense")
    assert result.change("mae").value is None  # regression metric of a classification
    changes = result.group_changes("auc", "s")
    assert [c.group for c in changes] == ["x", "y"]
    assert all(c.change is None and "y_score" in c.reason for c in changes)
    assert result.change("accuracy").value == 1.0


def test_inputs_that_cannot_be_compared_are_data_errors():
    y = np.array([0, 1] * 40)
    groups = {"s": ["x", "y"] * 40}
    with pytest.raises(DataError, match="y_pred_champion has 79 values"):
        compare_fairness(y, y, y[:-1], groups)
    with pytest.raises(DataError, match="y_score_champion has 3 values"):
        compare_fairness(y, y, y, groups, y_score=np.zeros(80), y_score_champion=[0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="champion's are not"):
        compare_fairness(y, y, y + 0.5, groups)
    with pytest.raises(DataError, match="y_pred_champion coded 0/1"):
        compare_fairness(y, y, y + 0.5, groups, task="classification")
    regression = compare_fairness(y, y, y + 0.5, groups, task="regression", bootstrap=0)
    assert regression.change("mae").value == pytest.approx(-0.5)
