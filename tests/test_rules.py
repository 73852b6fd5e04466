"""Rule evaluation: estimate vs interval decisions, severities, per-group rules, waivers."""

from __future__ import annotations

from datetime import date

import pytest

from auditkit.policy import Rule, Waiver
from auditkit.rules import Evidence, Observation, evaluate_rules


class FakeEvidence(Evidence):
    def __init__(self, observations):
        super().__init__()
        self.observations = observations

    def observe(self, rule):
        return self.observations[rule.id]


def outcome(rule, observation, **kwargs):
    gate = evaluate_rules([rule], FakeEvidence({rule.id: observation}), **kwargs)
    return gate.outcomes[0], gate


@pytest.mark.parametrize(("value", "status"), [(0.85, "pass"), (0.8, "pass"), (0.79, "fail")])
def test_estimate_against_min(value, status):
    o, gate = outcome(Rule(id="r", metric="demographic_parity_ratio", feature="sex", min=0.8), Observation(value))
    assert o.status == status and o.gating == (status == "fail") and gate.status == ("passed" if status == "pass" else "failed")


@pytest.mark.parametrize(("ci", "status", "gating"), [
    ((0.81, 0.95), "pass", False),
    ((0.60, 0.79), "fail", True),
    ((0.70, 0.90), "inconclusive", True),
])
def test_interval_decisions(ci, status, gating):
    rule = Rule(id="r", metric="demographic_parity_ratio", feature="sex", min=0.8, decide_on="ci")
    o, _ = outcome(rule, Observation(0.85, ci))
    assert (o.status, o.gating, o.decided_on) == (status, gating, "ci")


def test_inconclusive_can_be_a_warning():
    rule = Rule(id="r", metric="equalized_odds_difference", feature="age", max=0.1, decide_on="ci", on_inconclusive="warn")
    o, gate = outcome(rule, Observation(0.05, (0.01, 0.2)))
    assert o.status == "inconclusive" and not o.gating and gate.passed


def test_max_threshold_with_interval():
    rule = Rule(id="r", metric="equalized_odds_difference", feature="age", max=0.1, decide_on="ci")
    assert outcome(rule, Observation(0.2, (0.15, 0.3)))[0].status == "fail"
    assert outcome(rule, Observation(0.05, (0.01, 0.09)))[0].status == "pass"


def test_warning_severity_and_fail_on():
    rule = Rule(id="r", metric="accuracy", min=0.9, severity="warning")
    o, gate = outcome(rule, Observation(0.8))
    assert o.status == "warn" and not o.gating and gate.passed
    o, gate = outcome(rule, Observation(0.8), fail_on="warning")
    assert o.status == "warn" and o.gating and not gate.passed


def test_undefined_metric_fails_closed():
    o, gate = outcome(Rule(id="r", metric="tpr_ratio", feature="sex", min=0.8), Observation(None, reason="no positives"))
    assert o.status == "error" and o.gating and "no positives" in o.message and not gate.passed


def test_per_group_rule_reports_the_worst_group():
    rule = Rule(id="r", metric="tpr", feature="sex", min=0.6)
    groups = [("female", Observation(0.55, group="female")), ("male", Observation(0.7, group="male"))]
    o, _ = outcome(rule, groups)
    assert o.status == "fail" and o.group == "female" and o.observed == 0.55
    groups = [("female", Observation(0.65, group="female")), ("male", Observation(0.7, group="male"))]
    o, _ = outcome(rule, groups)
    assert o.status == "pass" and o.group == "female"


WAIVER = Waiver(reason="retraining scheduled", approved_by="risk committee", expires=date(2026, 12, 31))


def test_active_waiver_does_not_gate():
    rule = Rule(id="r", metric="accuracy", min=0.9, waiver=WAIVER)
    o, gate = outcome(rule, Observation(0.8), today=date(2026, 12, 31))
    assert o.status == "waived" and not o.gating and gate.passed
    assert "risk committee" in o.message and o.to_dict()["waiver"]["expires"] == "2026-12-31"


def test_expired_waiver_gates_again():
    rule = Rule(id="r", metric="accuracy", min=0.9, waiver=WAIVER)
    o, gate = outcome(rule, Observation(0.8), today=date(2027, 1, 1))
    assert o.status == "fail" and o.gating and "expired" in o.message and not gate.passed


def test_waiver_on_passing_rule_changes_nothing():
    rule = Rule(id="r", metric="accuracy", min=0.5, waiver=WAIVER)
    assert outcome(rule, Observation(0.8), today=date(2026, 1, 1))[0].status == "pass"


def test_counts():
    rules = [Rule(id="a", metric="accuracy", min=0.5), Rule(id="b", metric="accuracy", min=0.9),
             Rule(id="c", metric="accuracy", min=0.9, severity="warning")]
    gate = evaluate_rules(rules, FakeEvidence({"a": Observation(0.8), "b": Observation(0.8), "c": Observation(0.8)}))
    assert gate.counts() == {"pass": 1, "fail": 1, "warn": 1, "inconclusive": 0, "waived": 0, "error": 0, "pending": 0}
