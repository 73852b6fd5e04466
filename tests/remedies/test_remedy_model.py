"""The remedy's model file: decisions follow each group's threshold, it loads safely with
auditkit (its own wrapper trusted by name, the wrapped model checked type by type), and the
folds are stratified and reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from auditkit.remediation._folds import fold_ids
from auditkit.remediation._models import TRUSTED_TYPES, GroupThresholdClassifier, adjust_scores


def test_adjusted_scores_reach_the_target_exactly_when_the_score_reaches_its_threshold():
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.random(5000), [0.0, 1.0, 0.3, np.nextafter(0.3, 0), np.nextafter(0.3, 1)]])
    for target in (0.5, 0.2, 0.9):
        for t in (0.0, 0.3, 0.7, 1.0, 1.2):
            moved = adjust_scores(scores, np.full(len(scores), t), target)
            np.testing.assert_array_equal(moved >= target, scores >= t)
            assert ((0 <= moved) & (moved <= 1)).all()
            order = np.argsort(scores, kind="stable")
            assert (np.diff(moved[order]) >= 0).all()  # the ranking is kept


@pytest.fixture()
def fitted():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.normal(size=400), "z": rng.normal(size=400)})
    group = np.where(rng.random(400) < 0.4, "a", "b")
    y = np.where(X["x"] + (group == "a") * 0.8 + rng.normal(scale=0.5, size=400) > 0, "good", "bad")
    model = LogisticRegression().fit(X, y)
    frame = X.assign(group=group)
    return model, frame


def test_decisions_follow_each_groups_threshold(fitted):
    model, frame = fitted
    wrapped = GroupThresholdClassifier(estimator=model, positive_label="good", group_columns=["group"],
                                       group_labels=["a", "b"], thresholds=[0.7, 0.3], default_threshold=0.5,
                                       decision_threshold=0.5)
    raw = model.predict_proba(frame[["x", "z"]])[:, list(model.classes_).index("good")]
    expected = np.where(frame["group"] == "a", raw >= 0.7, raw >= 0.3)
    assert list(wrapped.feature_names_in_) == ["x", "z", "group"]
    np.testing.assert_array_equal(wrapped.predict_proba(frame)[:, 1] >= 0.5, expected)
    np.testing.assert_array_equal(wrapped.predict(frame) == "good", expected)
    unknown = frame.assign(group="c")  # a group never seen: the default threshold
    np.testing.assert_array_equal(wrapped.predict(unknown) == "good", raw >= 0.5)


def test_the_wrapper_loads_with_auditkit_without_trusting_anything(fitted, tmp_path):
    import skops.io as sio

    from auditkit import load_model

    model, frame = fitted
    wrapped = GroupThresholdClassifier(estimator=model, positive_label="good", group_columns=["group"],
                                       group_labels=["a", "b"], thresholds=[0.6, 0.4], decision_threshold=0.5)
    path = tmp_path / "remedied.skops"
    sio.dump(wrapped, path)
    assert set(sio.get_untrusted_types(file=path)) == set(TRUSTED_TYPES)
    loaded = load_model(path).estimator
    np.testing.assert_array_equal(loaded.predict(frame), wrapped.predict(frame))


def test_the_trusted_name_is_the_wrappers():
    from auditkit.model import AUDITKIT_TYPES

    assert set(AUDITKIT_TYPES) == set(TRUSTED_TYPES)


def test_folds_are_stratified_and_reproducible():
    rng = np.random.default_rng(3)
    y = (rng.random(1000) < 0.3).astype(int)
    groups = rng.integers(0, 4, 1000)
    folds = fold_ids(y, groups, n_folds=5, seed=7)
    np.testing.assert_array_equal(folds, fold_ids(y, groups, n_folds=5, seed=7))
    assert not np.array_equal(folds, fold_ids(y, groups, n_folds=5, seed=8))
    for g in range(4):
        for label in (0, 1):
            counts = np.bincount(folds[(groups == g) & (y == label)], minlength=5)
            assert counts.max() - counts.min() <= 1


def test_folds_refuse_too_few_rows():
    from auditkit.errors import AuditkitError

    with pytest.raises(AuditkitError, match="cross-fitting folds"):
        fold_ids(np.array([0, 1]), np.array([0, 0]), n_folds=5, seed=0)
