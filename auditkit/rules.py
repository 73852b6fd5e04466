"""Evaluating policy rules against the audit's evidence, and the gate's verdict.

A rule's raw decision is ``pass``, ``fail``, ``inconclusive`` (``decide_on: ci`` and the
interval straddles the threshold) or ``error`` (the metric could not be computed). Severity
then turns it into the reported status: a failing ``warning`` rule is ``warn``. Whether an
outcome blocks promotion is explicit in ``gating``:

* a failed or un-evaluable ``error`` rule gates (fail closed);
* an inconclusive ``error`` rule gates unless it says ``on_inconclusive: warn``;
* with ``fail_on="warning"`` every non-passing rule gates;
* a rule with an active waiver that would otherwise gate is ``waived`` and does not gate;
  on the day after the waiver expires it gates again, and the message says so;
* with labels pending (``evaluate_rules(..., labels="pending")``), a rule whose metric needs the
  true outcomes (:func:`auditkit.metrics.needs_labels`), or that compares with the champion, is
  ``pending``: not judged and not gating until the labels of the batch arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Mapping

from .metrics import Judgement, Observation, change_sentence, format_value, get_metric, observe_change, rule_sentence
from .policy import Rule

__all__ = ["Evidence", "Gate", "Observation", "RuleOutcome", "evaluate_rules"]


@dataclass(frozen=True)
class RuleOutcome:
    rule: Rule
    status: str  # pass | fail | warn | inconclusive | waived | error | pending
    observed: float | None
    ci: tuple[float, float] | None
    decided_on: str
    gating: bool
    message: str
    group: str | None = None
    details: tuple[dict, ...] = ()  # a metric that judges itself (impact_ratio): every judged group

    def to_dict(self) -> dict:
        r = self.rule
        extra = {}
        if r.options:  # a metric's own rule keys (impact_ratio: test, statistical_test, alpha)
            extra = {**r.options, "details": [dict(d) for d in self.details]}
        if r.trend is not None:  # the history the trend was judged on (the report charts it)
            extra = {**extra, "trend": r.trend.to_dict(), "details": [dict(d) for d in self.details]}
        if r.pack is not None:
            extra["pack"] = r.pack
        return {**self._core(), **extra}

    def _core(self) -> dict:
        r = self.rule
        return {
            "id": r.id, "metric": r.metric, "feature": r.feature, "status": self.status,
            "observed": self.observed, "ci": list(self.ci) if self.ci else None,
            "threshold": r.threshold, "severity": r.severity, "message": self.message,
            "decide_on": r.decide_on, "decided_on": self.decided_on, "on_inconclusive": r.on_inconclusive,
            "gating": self.gating, "group": self.group, "rationale": r.rationale,
            "description": describe_rule(r),
            "waiver": r.waiver.to_dict() if r.waiver else None,
            "compare": r.compare,
            "change_limits": dict(r.change_limits) if r.compare else None,
        }


def describe_rule(rule: Rule) -> str:
    """The plain-language sentence of what a rule checks (the report's rule text)."""
    if rule.compare:
        return change_sentence(rule.metric, rule.feature, rule.change_limits)
    if rule.trend is not None:
        from .trends import trend_sentence

        return trend_sentence(rule)
    metric = get_metric(rule.metric)
    if metric is not None and metric.describe is not None:
        return metric.describe(rule)
    return rule_sentence(rule.metric, rule.feature, rule.threshold)


@dataclass(frozen=True)
class Gate:
    outcomes: tuple[RuleOutcome, ...]
    fail_on: str = "error"

    @property
    def status(self) -> str:
        return "failed" if any(o.gating for o in self.outcomes) else "passed"

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in ("pass", "fail", "warn", "inconclusive", "waived", "error", "pending")}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out


class Evidence:
    """What the rules can look at: the stage results of one audit.

    ``packs`` maps a pack's name to the evidence its plugin computed. Which value a rule reads
    is the metric's business (:attr:`auditkit.metrics.Metric.observe`); this class only holds
    the results.
    """

    def __init__(self, *, contract=None, fairness=None, explanations=None, explanation_error: str | None = None,
                 drift=None, data_bias=None, comparison=None, packs: Mapping[str, Any] | None = None,
                 reasons=None, reasons_error: str | None = None, history: Mapping[tuple, Any] | None = None):
        self.reasons = reasons
        # a trend rule's earlier values, by (metric, feature): TrendPoints from the ledger, oldest first
        self.history = dict(history or {})
        self.reasons_error = reasons_error
        self.contract = contract
        self.fairness = fairness
        self.explanations = explanations
        self.explanation_error = explanation_error
        self.drift = drift
        self.data_bias = data_bias
        self.comparison = comparison
        self.packs = dict(packs or {})

    def pack(self, name: str):
        """The evidence of one pack, or None when it was not computed."""
        return self.packs.get(name)

    def observe(self, rule: Rule) -> Observation | list[tuple[str, Observation]]:
        """An observation, or for a per-group rule one observation per eligible group."""
        if rule.compare == "champion":
            return observe_change(self, rule)
        return get_metric(rule.metric).observe(self, rule)

    def judge(self, rule: Rule) -> Judgement | None:
        """The judgement of a metric that decides a rule itself, or None for the others."""
        metric = get_metric(rule.metric)
        if rule.trend is not None:
            from .trends import judge_trend

            current = metric.observe(self, rule)
            return judge_trend(rule, current, self.history.get((rule.metric, rule.feature), ()),
                               direction=metric.direction)
        if rule.compare is None and metric is not None and metric.judge is not None:
            return metric.judge(self, rule)
        return None


def _decide(obs: Observation, rule: Rule) -> tuple[str, str]:
    """(decision, decided_on) for one observation."""
    if obs.value is None:
        return "error", "estimate"
    low, high = rule.min, rule.max
    if rule.decide_on == "ci" and obs.ci is not None:
        lo, hi = obs.ci
        passes = (low is None or lo >= low) and (high is None or hi <= high)
        fails = (low is not None and hi < low) or (high is not None and lo > high)
        return ("pass" if passes else "fail" if fails else "inconclusive"), "ci"
    ok = (low is None or obs.value >= low) and (high is None or obs.value <= high)
    decided_on = "estimate (no interval available)" if rule.decide_on == "ci" else "estimate"
    return ("pass" if ok else "fail"), decided_on


def _distance(obs: Observation, rule: Rule) -> float:
    """How far inside the passing region a value lies (negative: outside). Smaller is worse."""
    value = obs.value
    gaps = []
    if rule.min is not None:
        gaps.append(value - rule.min)
    if rule.max is not None:
        gaps.append(rule.max - value)
    return min(gaps)


def _evaluate(rule: Rule, evidence: Evidence, fail_on: str, today: date, labels: str = "present",
              target: str | None = None) -> RuleOutcome:
    if labels == "pending" and (rule.compare is not None or _needs_labels(rule.metric)
                                or (target is not None and rule.feature == target)):
        return _awaiting_labels(rule, target)
    judgement = evidence.judge(rule)
    if judgement is not None:
        return _outcome(rule, judgement.observation, judgement.decision, judgement.decided_on, judgement.group,
                        judgement.message, fail_on, today, judgement.details)
    observed = evidence.observe(rule)
    group = None
    if isinstance(observed, list):
        decided = [(g, o, *_decide(o, rule)) for g, o in observed if o.value is not None]
        if not decided:
            obs, decision, decided_on = Observation(None, reason=f"'{rule.metric}' is undefined for every group of '{rule.feature}'"), "error", "estimate"
        else:
            order = {"fail": 0, "inconclusive": 1, "pass": 2}
            group, obs, decision, decided_on = min(decided, key=lambda d: (order[d[2]], _distance(d[1], rule)))
    else:
        obs = observed
        decision, decided_on = _decide(obs, rule)
        group = obs.group if obs.group is not None and _reports_group(rule) else None
    message = _message(rule, obs, decision, decided_on, group)
    return _outcome(rule, obs, decision, decided_on, group, message, fail_on, today, ())


def _needs_labels(name: str) -> bool:
    metric = get_metric(name)
    return metric is not None and metric.needs_labels


def _awaiting_labels(rule: Rule, target: str | None = None) -> RuleOutcome:
    """A rule that cannot be judged before the true outcomes arrive: ``pending``, never gating."""
    if target is not None and rule.feature == target and not _needs_labels(rule.metric):
        why = f"'{target}' is the target column, which holds the labels"
    elif rule.compare is not None and not _needs_labels(rule.metric):
        why = (f"the comparison of {rule.metric} with the champion is made on the labelled batch "
               "(the paired comparison is not computed while the labels are pending)")
    else:
        why = f"{rule.metric} needs the true outcomes"
    message = (f"Awaiting labels: {why}; it is judged when the labels of this batch arrive "
               "(audit check --batch ID with the labelled data).")
    return RuleOutcome(rule=rule, status="pending", observed=None, ci=None, decided_on="pending (labels not arrived)",
                       gating=False, message=message)


def _reports_group(rule: Rule) -> bool:
    """A metric whose single observation names the group it came from (a pack's lowest ratio)."""
    metric = get_metric(rule.metric)
    return metric is not None and metric.family == "pack" and rule.compare is None


def _outcome(rule, obs, decision, decided_on, group, message, fail_on, today, details) -> RuleOutcome:
    severity = rule.severity
    if decision == "pass":
        status, gating = "pass", False
    elif decision == "fail":
        status = "fail" if severity == "error" else "warn"
        gating = severity == "error" or fail_on == "warning"
    elif decision == "inconclusive":
        status = "inconclusive"
        gating = (severity == "error" and rule.on_inconclusive == "fail") or fail_on == "warning"
    else:
        status = "error"
        gating = severity == "error" or fail_on == "warning"
    if rule.waiver is not None and status != "pass":
        w = rule.waiver
        if w.active(today):
            status, gating = "waived", False
            message += f" Waived until {w.expires.isoformat()} by {w.approved_by}: {w.reason}"
        else:
            message += f" The waiver by {w.approved_by} expired on {w.expires.isoformat()}, so the rule counts again."
    return RuleOutcome(rule=rule, status=status, observed=obs.value, ci=obs.ci, decided_on=decided_on,
                       gating=gating, message=message, group=group, details=details)


def evaluate_rules(rules, evidence: Evidence, *, fail_on: str = "error", today: date | None = None,
                   labels: str = "present", target: str | None = None) -> Gate:
    """Evaluate every rule; never raises for a finding.

    Parameters
    ----------
    rules : sequence of Rule
    evidence : Evidence
    fail_on : {"error", "warning"}
        With ``"warning"``, warning-severity rules gate as well.
    today : date, optional
        The day waivers are judged on (default: today in UTC).
    labels : {"present", "pending"}
        With ``"pending"``, a rule on a metric that needs the true outcomes (or comparing with
        the champion) is ``pending`` and does not gate.
    target : str, optional
        The target column: with labels pending, a rule on it (its drift, its contract checks)
        is ``pending`` too.
    """
    if fail_on not in ("error", "warning"):
        raise ValueError("fail_on must be 'error' or 'warning'")
    if labels not in ("present", "pending"):
        raise ValueError("labels must be 'present' or 'pending'")
    if today is None:
        today = datetime.now(timezone.utc).date()
    return Gate(outcomes=tuple(_evaluate(rule, evidence, fail_on, today, labels, target) for rule in rules), fail_on=fail_on)


def _message(rule: Rule, obs: Observation, decision: str, decided_on: str, group: str | None) -> str:
    scope = f" for {rule.feature}" if rule.feature else ""
    metric = get_metric(rule.metric)
    if metric is not None and metric.message is not None and rule.compare is None:
        own = metric.message(rule, obs, decision, decided_on, group)
        if own is not None:
            return own
    if group is not None:
        scope = f" for {rule.feature} = {group} (the group nearest the limit)" if decision == "pass" else f" for {rule.feature} = {group}"
    if decision == "error":
        return f"Could not be evaluated: {obs.reason or 'the metric is undefined'}."
    interval = f" (interval {format_value(obs.ci[0])} to {format_value(obs.ci[1])})" if obs.ci else ""
    bounds = []
    if rule.min is not None:
        bounds.append(f"minimum {format_value(rule.min)}")
    if rule.max is not None:
        bounds.append(f"maximum {format_value(rule.max)}")
    bound = " and ".join(bounds)
    head = f"{rule.metric}{scope} is {format_value(obs.value)}{interval}"
    if rule.compare:
        head = f"Change in {rule.metric}{scope} (candidate − champion) is {format_value(obs.value)}{interval}"
    if rule.compare:
        bound = bound.replace("minimum", "allowed change of at least").replace("maximum", "allowed change of at most")
    if decision == "pass":
        how = "the whole interval is within" if decided_on == "ci" else "within"
        return f"{head}: {how} the {bound}."
    if decision == "fail":
        how = "the whole interval is outside" if decided_on == "ci" else "outside"
        return f"{head}: {how} the {bound}."
    return f"{head}: the interval straddles the {bound}, so the data cannot tell whether the rule holds."
