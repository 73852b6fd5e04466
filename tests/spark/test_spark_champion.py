"""The champion comparison from paired counts, and on Spark, equals compare_fairness on the rows.

Everything is equal -- both models' results, every change and every paired interval --
except the intervals of score-metric changes when both models are scored: those resample
blocks of rows in row order, which counts (and Spark tables) do not keep; they are None.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from auditkit.errors import AuditkitError
from auditkit.fairness import (
    SCORE_METRICS,
    PairedFeatureCounts,
    code_groups,
    compare_fairness,
    compare_fairness_from_counts,
    counts_from_rows,
)

from parity import assert_same, to_spark

SCORE_CHANGES = set(SCORE_METRICS) | {f"{m}_{kind}" for m in SCORE_METRICS for kind in ("difference", "ratio")}


def without_score_change_intervals(comparison) -> dict:
    """The comparison's document with the intervals counts cannot give set to None."""
    document = copy.deepcopy(comparison.to_dict())
    for records in document["changes"].values():
        for record in records:
            if record["metric"] in SCORE_CHANGES:
                record["ci"] = None
    return document


def _rows(n: int = 1500, seed: int = 2):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "sex": rng.choice(np.array(["female", "male", "Ünïcödé ✓", None], dtype=object), n, p=[0.45, 0.45, 0.06, 0.04]),
        "age": rng.choice([1.0, 2.0, np.nan], n, p=[0.5, 0.45, 0.05]),
        "region": rng.choice(np.array(["n", "s"], dtype=object), n),
    })
    frame.loc[11, "region"] = "女性"  # a group of one row
    frame["y_true"] = rng.integers(0, 2, n)
    frame["y_score"] = np.round(np.clip(frame["y_true"] * 0.3 + rng.random(n) * 0.7, 0, 1), 3)
    frame["y_score_champion"] = np.round(np.clip(frame["y_true"] * 0.2 + rng.random(n) * 0.8, 0, 1), 3)
    frame["y_pred"] = (frame["y_score"] >= 0.5).astype(int)
    frame["y_pred_champion"] = np.where(rng.random(n) < 0.85, frame["y_pred"], 1 - frame["y_pred"])
    return frame


INTERSECTIONS = [("sex", "age"), ("sex", "age", "region")]
OPTIONS = dict(reference_groups={"sex": "female"}, metrics=("selection_rate", "tpr", "equalized_odds", "accuracy_difference"),
               min_group_size=20, bootstrap=300, confidence=0.9, seed=5)


def _paired_counts(frame, sensitive, intersections, candidate_scores=False, champion_scores=False):
    """Paired counts built independently: the public group coding and one bincount per feature."""
    cells = (4 * frame["y_true"] + 2 * frame["y_pred"] + frame["y_pred_champion"]).to_numpy()
    histograms = {}
    for key, wanted, pred, score in (("candidate", candidate_scores, "y_pred", "y_score"),
                                     ("champion", champion_scores, "y_pred_champion", "y_score_champion")):
        if wanted:
            histograms[key] = counts_from_rows(frame["y_true"], frame[pred], frame[sensitive], y_score=frame[score],
                                               intersections=intersections)
    features = []
    for i, coding in enumerate(code_groups(frame[sensitive], intersections, n_rows=len(frame))):
        counts = np.bincount(coding.codes * 8 + cells, minlength=8 * len(coding.labels)).reshape(-1, 8)
        features.append(PairedFeatureCounts(
            coding.name, coding.labels, counts,
            candidate_scores=histograms["candidate"][0][i].scores if candidate_scores else None,
            champion_scores=histograms["champion"][0][i].scores if champion_scores else None))
    overall = np.bincount(cells, minlength=8)
    return (features, overall, histograms["candidate"][2] if candidate_scores else None,
            histograms["champion"][2] if champion_scores else None)


@pytest.mark.parametrize("scored", [(False, False), (True, False), (False, True)])
def test_from_counts_is_compare_fairness(scored):
    frame = _rows()
    sensitive = ["sex", "age", "region"]
    expected = compare_fairness(frame["y_true"], frame["y_pred"], frame["y_pred_champion"], frame[sensitive],
                                y_score=frame["y_score"] if scored[0] else None,
                                y_score_champion=frame["y_score_champion"] if scored[1] else None, intersections=INTERSECTIONS,
                                **OPTIONS)
    features, overall, candidate, champion = _paired_counts(frame, sensitive, INTERSECTIONS, *scored)
    got = compare_fairness_from_counts(features, overall_counts=overall, candidate_overall_scores=candidate,
                                       champion_overall_scores=champion, **OPTIONS)
    assert_same(expected, got)


def test_from_counts_with_both_scores_lacks_only_the_score_change_intervals():
    frame = _rows()
    sensitive = ["sex", "age", "region"]
    expected = compare_fairness(frame["y_true"], frame["y_pred"], frame["y_pred_champion"], frame[sensitive],
                                y_score=frame["y_score"], y_score_champion=frame["y_score_champion"],
                                intersections=INTERSECTIONS, **OPTIONS)
    features, overall, candidate, champion = _paired_counts(frame, sensitive, INTERSECTIONS, True, True)
    got = compare_fairness_from_counts(features, overall_counts=overall, candidate_overall_scores=candidate,
                                       champion_overall_scores=champion, **OPTIONS)
    assert expected.change("auc").ci is not None and got.change("auc").ci is None
    assert got.change("auc").value == pytest.approx(expected.change("auc").value, abs=1e-12)
    document = without_score_change_intervals(expected)
    assert "score-metric changes have no interval" in got.method
    document["bootstrap"]["method"] = got.method
    assert_same(document, got.to_dict())


def test_odd_data_on_spark(spark):
    from auditkit.spark import compare_fairness_spark

    frame = _rows()
    sensitive = ["sex", "age", "region"]
    expected = compare_fairness(frame["y_true"], frame["y_pred"], frame["y_pred_champion"], frame[sensitive],
                                y_score=frame["y_score"], intersections=INTERSECTIONS, **OPTIONS)
    got = compare_fairness_spark(to_spark(spark, frame), champion_column="y_pred_champion",
                                 sensitive_features=sensitive, y_score_col="y_score", intersections=INTERSECTIONS,
                                 **OPTIONS)
    assert_same(expected, got)


def test_the_demo_champion_on_spark(spark):
    """`audit demo --with-champion`: its models, data split and fairness settings."""
    from sklearn.model_selection import train_test_split

    from auditkit.demo import _corrupt_young_labels, load_german_credit, model_features, train_model
    from auditkit.spark import compare_fairness_spark, predict_spark

    frame = load_german_credit()
    train, audit = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["credit_risk"])
    champion, candidate = train_model(train), train_model(_corrupt_young_labels(train))
    features = model_features(frame)
    options = dict(intersections=[("sex", "age_group")], metrics=("selection_rate", "tpr", "fpr", "ppv", "accuracy"),
                   reference_groups={"sex": "male", "age_group": "25 and over"}, min_group_size=30,
                   bootstrap=1000, confidence=0.95, seed=0)

    def scores(model):
        return model.predict_proba(audit[features])[:, list(model.classes_).index("good")]

    y_true = (audit["credit_risk"] == "good").astype(int).to_numpy()
    expected = compare_fairness(y_true, (scores(candidate) >= 0.5).astype(int), (scores(champion) >= 0.5).astype(int),
                                audit[["sex", "age_group"]], y_score=scores(candidate), y_score_champion=scores(champion),
                                **options)

    sdf = to_spark(spark, audit.reset_index(drop=True))
    scored = predict_spark(sdf, candidate, target="credit_risk", positive_label="good", feature_columns=features)
    joint = predict_spark(scored, champion, target="credit_risk", positive_label="good", feature_columns=features,
                          output_columns=("y_true_champion", "y_pred_champion", "y_score_champion"))
    got = compare_fairness_spark(joint, champion_column="y_pred_champion", sensitive_features=["sex", "age_group"],
                                 y_score_col="y_score", champion_score_col="y_score_champion", **options)
    # What the demo's champion rules decide on: identical, intervals included.
    for metric, feature in (("tpr", None), ("accuracy", None), ("equalized_odds_difference", "age_group")):
        ours, theirs = got.change(metric, feature), expected.change(metric, feature)
        assert ours.value == pytest.approx(theirs.value, abs=1e-12) and theirs.ci is not None
        assert ours.ci == pytest.approx(theirs.ci, abs=1e-12) and ours.reason == theirs.reason
    for ours, theirs in zip(got.group_changes("tpr", "age_group"), expected.group_changes("tpr", "age_group")):
        assert (ours.group, ours.change) == (theirs.group, pytest.approx(theirs.change, abs=1e-12))
        assert ours.ci == pytest.approx(theirs.ci, abs=1e-12)
    document = without_score_change_intervals(expected)
    document["bootstrap"]["method"] = got.method
    assert_same(document, got.to_dict())


def test_score_metrics_in_focus_are_refused_up_front(spark):
    from auditkit.spark import SPARK_COMPARISON_METRICS, compare_fairness_spark

    assert {"tpr", "accuracy", "equalized_odds", "equalized_odds_difference", "selection_rate_ratio"} <= set(
        SPARK_COMPARISON_METRICS)
    assert not SCORE_CHANGES & set(SPARK_COMPARISON_METRICS)
    sdf = to_spark(spark, _rows(n=50))
    with pytest.raises(AuditkitError, match="'auc'.* not computed on Spark"):
        compare_fairness_spark(sdf, champion_column="y_pred_champion", sensitive_features=["sex"],
                               metrics=("tpr", "auc"))
    with pytest.raises(AuditkitError, match="Unknown fairness metric"):
        compare_fairness_spark(sdf, champion_column="y_pred_champion", sensitive_features=["sex"],
                               metrics=("tpr", "no_such_metric"), bootstrap=0)
