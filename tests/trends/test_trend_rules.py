"""Trend rules: the policy keys, and the judgement on hand-made histories (computed by hand here)."""

from __future__ import annotations

import pytest

from auditkit.errors import PolicyError
from auditkit.metrics import Observation
from auditkit.policy import Rule, Trend, policy_from_dict
from auditkit.trends import TrendPoint, judge_trend, points_of, trend_sentence


def _policy(rule: dict, **extra) -> dict:
    return {"version": 1, "name": "t", "data": {"path": "d.csv", "target": "y"},
            "model": {"predictions": {"label": "p", "score": "s"}}, "sensitive_features": ["sex"],
            "fairness": {"bootstrap": 100}, "rules": [rule], **extra}


@pytest.fixture()
def parse(tmp_path):
    (tmp_path / "d.csv").write_text("y,p,s,sex\n1,1,0.9,f\n", encoding="utf-8")

    def _parse(document):
        return policy_from_dict(document, source=tmp_path / "audit.yaml")
    return _parse


def _rule(kind="widening", audits=3, min_change=0.0, metric="demographic_parity_difference") -> Rule:
    return Rule(id="r", metric=metric, feature="sex", trend=Trend(kind=kind, audits=audits, min_change=min_change))


def _points(*values, cis=None):
    return tuple(TrendPoint(seq=i + 1, recorded_at=f"2026-0{i + 1}-01", value=v, ci=(cis[i] if cis else None))
                 for i, v in enumerate(values))


# ---------------------------------------------------------------- policy


def test_trend_rule_parses_without_bounds(parse):
    policy = parse(_policy({"id": "dp-widening", "metric": "demographic_parity_difference",
                                       "feature": "sex", "trend": "widening", "audits": 2, "min_change": 0.01}))
    rule = policy.rules[0]
    assert rule.trend == Trend(kind="widening", audits=2, min_change=0.01)
    assert rule.threshold == {}


@pytest.mark.parametrize("rule, message", [
    ({"trend": "widening", "max": 0.1}, "judges a trend over audits, not a bound"),
    ({"trend": "sideways"}, "trend"),
    ({"trend": "widening", "audits": 0}, "between 1 and 100"),
    ({"trend": "widening", "min_change": -1}, "0 or more"),
    ({"audits": 3, "max": 0.1}, "belongs to a trend rule"),
    ({"trend": "departs_from_first", "audits": 3}, "applies to trend: widening only"),
])
def test_trend_rule_mistakes_are_named(rule, message, parse):
    base = {"id": "r", "metric": "demographic_parity_difference", "feature": "sex", **rule}
    with pytest.raises(PolicyError, match=message):
        parse(_policy(base))


def test_trend_on_a_per_group_metric_is_refused(parse):
    with pytest.raises(PolicyError, match="one per group"):
        parse(_policy({"id": "r", "metric": "selection_rate", "feature": "sex", "trend": "widening"}))


def test_departure_needs_intervals(parse):
    doc = _policy({"id": "r", "metric": "demographic_parity_difference", "feature": "sex",
                   "trend": "departs_from_first"})
    doc["fairness"]["bootstrap"] = 0
    with pytest.raises(PolicyError, match="bootstrap"):
        parse(doc)


@pytest.mark.parametrize("value, message", [
    ("postgresql://u:secret@db/audits", "does not belong in the policy"),
    ("/var/lib/audits.db", "inside the policy's folder"),
    ("../audits.db", "inside the policy's folder"),
    ("env:1BAD", "environment variable"),
])
def test_policy_ledger_key_is_confined(value, message, parse):
    with pytest.raises(PolicyError, match=message) as info:
        parse(_policy({"id": "c", "metric": "demographic_parity_difference", "feature": "sex", "max": 0.2},
                      ledger=value))
    assert "secret" not in str(info.value)


def test_policy_ledger_key_accepts_a_file_or_an_env_name(parse, tmp_path):
    rule = {"id": "c", "metric": "demographic_parity_difference", "feature": "sex", "max": 0.2}
    inside = parse(_policy(rule, ledger="ledger/audits.db"))
    assert inside.ledger.path == (tmp_path / "ledger" / "audits.db").resolve()
    assert parse(_policy(rule, ledger="env:AUDITKIT_LEDGER_URL")).ledger.env == "AUDITKIT_LEDGER_URL"


def test_a_link_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "d.csv").write_text("y,p,s,sex\n1,1,0.9,f\n", encoding="utf-8")
    (folder / "ledger").symlink_to(outside)
    rule = {"id": "c", "metric": "demographic_parity_difference", "feature": "sex", "max": 0.2}
    with pytest.raises(PolicyError, match="outside the policy's folder"):
        policy_from_dict(_policy(rule, ledger="ledger/audits.db"), source=folder / "audit.yaml")


# ---------------------------------------------------------------- widening


def test_widening_in_each_of_the_last_three_audits_fails():
    judged = judge_trend(_rule(), Observation(0.17), _points(0.05, 0.08, 0.12), direction=-1)
    assert judged.decision == "fail"
    assert "0.05 → 0.08 → 0.12 → 0.17" in judged.message
    assert [d["value"] for d in judged.details] == [0.05, 0.08, 0.12, 0.17]
    assert judged.details[-1]["current"] is True


def test_one_step_that_did_not_worsen_passes():
    judged = judge_trend(_rule(), Observation(0.17), _points(0.05, 0.12, 0.08), direction=-1)
    assert judged.decision == "pass"
    assert "1 step did not worsen" in judged.message


def test_only_the_last_audits_count():
    # an old improvement does not matter: the last three steps all worsened
    judged = judge_trend(_rule(), Observation(0.2), _points(0.3, 0.05, 0.1, 0.15), direction=-1)
    assert judged.decision == "fail"
    assert "from entry #2" in judged.message


def test_a_ratio_widens_when_it_falls():
    rule = _rule(metric="demographic_parity_ratio")
    assert judge_trend(rule, Observation(0.7), _points(0.95, 0.9, 0.8), direction=1).decision == "fail"
    assert judge_trend(rule, Observation(0.99), _points(0.95, 0.9, 0.8), direction=1).decision == "pass"


def test_min_change_ignores_small_moves():
    rule = _rule(min_change=0.02)
    assert judge_trend(rule, Observation(0.13), _points(0.10, 0.11, 0.12), direction=-1).decision == "pass"
    assert judge_trend(rule, Observation(0.19), _points(0.10, 0.13, 0.16), direction=-1).decision == "fail"


def test_too_little_history_passes_and_says_so():
    judged = judge_trend(_rule(), Observation(0.3), _points(0.1, 0.2), direction=-1)
    assert judged.decision == "pass"
    assert "has 2" in judged.message and "1 audit from now" in judged.message


def test_no_value_now_is_an_error():
    judged = judge_trend(_rule(), Observation(None, reason="a group is too small"), _points(0.1, 0.2, 0.3),
                         direction=-1)
    assert judged.decision == "error"
    assert "a group is too small" in judged.message


# ---------------------------------------------------------------- departure from the first audit


def test_departure_is_judged_on_interval_overlap():
    rule = _rule(kind="departs_from_first")
    past = _points(0.05, 0.06, cis=[(0.02, 0.08), (0.03, 0.09)])
    assert judge_trend(rule, Observation(0.07, ci=(0.08, 0.11)), past, direction=-1).decision == "pass"  # touches
    failed = judge_trend(rule, Observation(0.15, ci=(0.09, 0.2)), past, direction=-1)
    assert failed.decision == "fail" and "entry #1" in failed.message


def test_the_first_audit_is_the_baseline():
    rule = _rule(kind="departs_from_first")
    judged = judge_trend(rule, Observation(0.15, ci=(0.1, 0.2)), (), direction=-1)
    assert judged.decision == "pass" and "baseline" in judged.message


def test_departure_without_an_interval_now_is_an_error():
    rule = _rule(kind="departs_from_first")
    assert judge_trend(rule, Observation(0.15), _points(0.1, cis=[(0.0, 0.2)]), direction=-1).decision == "error"


def test_sentences_say_what_is_checked():
    assert "3 consecutive audits" in trend_sentence(_rule())
    assert "first audit" in trend_sentence(_rule(kind="departs_from_first"))


# ---------------------------------------------------------------- reading points from ledger entries


class _Record:
    def __init__(self, seq, rules):
        self.seq, self.recorded_at = seq, f"2026-11-{seq:02d}T00:00:00+00:00"
        self.entry_hash, self.policy_name, self.verdict, self.batch_id = f"{seq:064x}", "p", "passed", None
        self.key_fingerprint = None
        self.body = {"results": {"rules": rules}}


def test_points_skip_comparisons_pending_rules_and_other_features():
    records = [
        _Record(1, [{"metric": "demographic_parity_difference", "feature": "sex", "observed": 0.1, "ci": None,
                     "compare": None},
                    {"metric": "demographic_parity_difference", "feature": "sex", "observed": 0.1, "ci": [0.05, 0.15],
                     "compare": None}]),
        _Record(2, [{"metric": "demographic_parity_difference", "feature": "sex", "observed": 0.02, "ci": None,
                     "compare": "champion"}]),
        _Record(3, [{"metric": "demographic_parity_difference", "feature": "sex", "observed": None, "ci": None,
                     "compare": None, "status": "pending"}]),
        _Record(4, [{"metric": "demographic_parity_difference", "feature": "age", "observed": 0.3, "ci": None,
                     "compare": None},
                    {"metric": "demographic_parity_difference", "feature": "sex", "observed": 0.2, "ci": None,
                     "compare": None}]),
    ]
    points = points_of(records, "demographic_parity_difference", "sex")
    assert [(p.seq, p.value, p.ci) for p in points] == [(1, 0.1, (0.05, 0.15)), (4, 0.2, None)]
