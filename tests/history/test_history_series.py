"""history_points, entry_facts and trend_frame on fake ledger entries."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from history_fakes import add_rule, make_entries, results, widening_entries

from auditkit.history import history_points, trend_frame
from auditkit.history._series import POINT_FIELDS, entry_facts


@pytest.fixture()
def widening() -> list:
    """demographic_parity_difference for 'sex' rising 0.05, 0.08, 0.12, 0.17, the model replaced at entry 3."""
    return widening_entries()


def dp_points(points):
    return [p for p in points if p["metric"] == "demographic_parity_difference"]


def test_one_point_per_entry_and_rule(widening):
    points = history_points(widening)
    assert len(points) == 4 * 11  # the demo's 10 rules and the added one, in each of four entries
    assert all(set(p) == set(POINT_FIELDS) for p in points)
    dp = dp_points(points)
    assert [p["value"] for p in dp] == [0.05, 0.08, 0.12, 0.17]
    assert [p["seq"] for p in dp] == [1, 2, 3, 4]
    assert [p["status"] for p in dp] == ["pass", "pass", "pass", "fail"]
    assert [p["verdict"] for p in dp] == ["passed", "passed", "passed", "failed"]
    first = dp[0]
    assert first["rule_id"] == "dp-gap-sex" and first["feature"] == "sex" and first["policy"] == "german-credit-scoring"
    assert (first["ci_low"], first["ci_high"]) == (0.03, 0.075)
    assert (first["threshold_min"], first["threshold_max"]) == (None, 0.15)
    assert first["labels"] == "present" and first["recorded_at"] == "2026-01-15T09:30:00+00:00"
    assert first["entry_hash"] == widening[0].entry_hash and first["batch_id"] == "batch-1"


def test_points_are_ordered_by_seq_whatever_the_input_order(widening):
    assert history_points(list(reversed(widening))) == history_points(widening)


def test_change_markers_compare_with_the_previous_entry_of_the_same_policy(widening):
    dp = dp_points(history_points(widening))
    assert [p["model_changed"] for p in dp] == [False, False, True, False]
    assert not any(p["policy_changed"] or p["data_changed"] for p in dp)

    docs = [results() for _ in range(4)]
    entries = make_entries(docs, data=["d1", "d2", "d2", "d2"], policies=["p1", "p1", "p1", "p2"])
    facts = entry_facts(entries)
    assert [f["data_changed"] for f in facts] == [False, True, False, False]
    assert [f["policy_changed"] for f in facts] == [False, False, False, True]
    assert [f["model_changed"] for f in facts] == [False] * 4


def test_change_markers_are_kept_per_policy():
    # Two policies interleaved, each with its own model: no change within either.
    docs = [results(policy=name) for name in ("credit", "hiring", "credit", "hiring")]
    entries = make_entries(docs, models=["mc", "mh", "mc", "mh"])
    assert [f["model_changed"] for f in entry_facts(entries)] == [False, False, False, False]
    entries = make_entries(docs, models=["mc", "mh", "mc", "mh2"])
    assert [f["model_changed"] for f in entry_facts(entries)] == [False, False, False, True]


def test_champion_comparisons_are_not_points():
    doc = add_rule(results(), "no-worse-than-champion", "demographic_parity_difference", "sex", 0.01,
                   threshold={"max": 0.02}, compare="champion")
    points = history_points(make_entries([doc]))
    assert "no-worse-than-champion" not in {p["rule_id"] for p in points}
    assert len(points) == 10


def test_a_label_pending_entry_has_no_value_not_zero():
    docs = [results(**{"accuracy-floor": 0.79}), results(**{"accuracy-floor": None}),
            results(**{"accuracy-floor": 0.81})]
    entries = make_entries(docs, labels=["present", "pending", "present"])
    accuracy = [p for p in history_points(entries) if p["metric"] == "accuracy"]
    assert [p["value"] for p in accuracy] == [0.79, None, 0.81]
    assert [p["labels"] for p in accuracy] == ["present", "pending", "present"]
    assert accuracy[1]["status"] == "pending" and accuracy[1]["ci_low"] is None
    frame = trend_frame(entries, "accuracy")
    assert math.isnan(frame["value"][1]) and frame["value"][0] == 0.79


def test_a_completing_entry_names_the_pending_one():
    docs = [results(**{"accuracy-floor": None}), results()]
    entries = make_entries(docs, labels=["pending", "present"], batches=["b7", "b7"], labels_for=[None, 1])
    facts = entry_facts(entries)
    assert [f["labels"] for f in facts] == ["pending", "present"]
    assert [f["labels_for"] for f in facts] == [None, 1]


def test_trend_frame_of_one_metric_and_feature(widening):
    frame = trend_frame(list(reversed(widening)), "demographic_parity_difference", "sex")
    assert list(frame.columns) == list(POINT_FIELDS)
    assert frame["seq"].tolist() == [1, 2, 3, 4]
    assert frame["value"].tolist() == [0.05, 0.08, 0.12, 0.17]
    assert str(frame["recorded_at"].dt.tz) == "UTC"
    assert frame["recorded_at"][0] == pd.Timestamp("2026-01-15T09:30:00Z")


def test_trend_frame_of_a_metric_on_several_features(widening):
    frame = trend_frame(widening, "demographic_parity_ratio")
    assert sorted(set(frame["feature"])) == ["age_group", "sex"]
    assert len(frame) == 8 and frame["seq"].is_monotonic_increasing
    assert len(trend_frame(widening, "demographic_parity_ratio", "sex")) == 4


def test_trend_frame_of_an_unknown_metric_is_empty(widening):
    frame = trend_frame(widening, "no_such_metric")
    assert frame.empty and list(frame.columns) == list(POINT_FIELDS)


@pytest.mark.parametrize("observed, ci", [("0.5", "0.1,0.2"), (True, None), (float("nan"), [0.1]),
                                          (1e400, ["a", "b"]), (None, {"lo": 1})])
def test_hostile_numbers_become_none(observed, ci):
    doc = results()
    doc["rules"][1].update(observed=observed, ci=ci)
    doc["rules"].append("not a rule")
    doc["rules"].append({"id": "no-metric"})
    point = next(p for p in history_points(make_entries([doc])) if p["rule_id"] == "four-fifths-sex")
    assert point["value"] is None and point["ci_low"] is None and point["ci_high"] is None
