"""The from-counts entry of the fairness engine equals ``assess_fairness`` on the rows.

No Spark needed: this is the contract the Spark engine relies on (same counts and seed in,
same result out), checked on the German Credit demo and on edge cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditkit.fairness import assess_fairness, assess_fairness_from_counts, counts_from_rows

from parity import assert_same


def _case(n=3000, seed=1, scores=True, missing=True):
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["female", "male"], dtype=object), n)
    age = rng.choice([1.0, 2.0, 3.0, np.nan] if missing else [1.0, 2.0, 3.0], n, p=[0.4, 0.4, 0.18, 0.02] if missing else [0.4, 0.4, 0.2])
    region = rng.choice(np.array(["n", "s", "tiny"], dtype=object), n, p=[0.5, 0.49, 0.01])
    y_true = rng.integers(0, 2, n)
    score = np.round(rng.random(n), 3) if scores else None
    y_pred = (rng.random(n) < 0.5).astype(int) if score is None else (score >= 0.5).astype(int)
    return y_true, y_pred, pd.DataFrame({"sex": sex, "age": age, "region": region}), score


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("bootstrap", [0, 200])
def test_from_counts_equals_assess_fairness(scores, bootstrap):
    y_true, y_pred, sensitive, score = _case(scores=scores)
    kwargs = dict(min_group_size=30, bootstrap=bootstrap, confidence=0.9, seed=7,
                  reference_groups={"sex": "female"})
    inter = [("sex", "age"), ("sex", "age", "region")]
    expected = assess_fairness(y_true, y_pred, sensitive, y_score=score, intersections=inter, **kwargs)
    features, overall, overall_scores = counts_from_rows(y_true, y_pred, sensitive, y_score=score,
                                                         intersections=inter)
    got = assess_fairness_from_counts(features, overall_counts=overall, overall_scores=overall_scores, **kwargs)
    assert_same(expected, got)
    assert [f.name for f in features] == list(expected.features)


def test_from_counts_with_many_distinct_scores_and_a_missing_score():
    y_true, y_pred, sensitive, _ = _case(n=5000, scores=False, missing=False)
    score = np.random.default_rng(3).random(5000)
    score[17] = np.nan
    expected = assess_fairness(y_true, y_pred, sensitive, y_score=score, bootstrap=100, seed=1)
    features, overall, overall_scores = counts_from_rows(y_true, y_pred, sensitive, y_score=score)
    got = assess_fairness_from_counts(features, overall_counts=overall, overall_scores=overall_scores,
                                      bootstrap=100, seed=1)
    assert_same(expected, got)


def test_from_counts_german_credit():
    from auditkit.demo import load_german_credit, train_model

    frame = load_german_credit()
    model = train_model(frame)
    from auditkit.demo import model_features

    proba = model.predict_proba(frame[model_features(frame)])[:, list(model.classes_).index("good")]
    y_true = (frame["credit_risk"] == "good").astype(int).to_numpy()
    y_pred = (proba >= 0.5).astype(int)
    sensitive = frame[["sex", "age_group"]]
    expected = assess_fairness(y_true, y_pred, sensitive, y_score=proba, intersections=[("sex", "age_group")],
                               bootstrap=300, seed=0)
    features, overall, overall_scores = counts_from_rows(y_true, y_pred, sensitive, y_score=proba,
                                                         intersections=[("sex", "age_group")])
    got = assess_fairness_from_counts(features, overall_counts=overall, overall_scores=overall_scores,
                                      bootstrap=300, seed=0)
    assert_same(expected, got)


def test_counts_that_disagree_are_an_error():
    from auditkit.errors import DataError

    y_true, y_pred, sensitive, _ = _case(scores=False)
    features, overall, _ = counts_from_rows(y_true, y_pred, sensitive)
    with pytest.raises(DataError, match="add up to"):
        assess_fairness_from_counts(features, overall_counts=overall + 1)
