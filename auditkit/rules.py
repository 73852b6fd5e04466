"""Evaluating policy rules against the audit's evidence, and the gate's verdict.

A rule's raw decision is ``pass``, ``fail``, ``inconclusive`` (``decide_on: ci`` and the
interval straddles the threshold) or ``error`` (the metric could not be computed). Severity
then turns it into the reported status: a failing ``warning`` rule is ``warn``. Whether an
outcome blocks promotion is explicit in ``gating``:

* a failed or un-evaluable ``error`` rule gates (fail closed);
* an inconclusive ``error`` rule gates unless it says ``on_inconclusive: warn``;
* with ``fail_on="warning"`` every non-passing rule gates;
* a rule with an active waiver that would otherwise gate is ``waived`` and does not gate;
  on the day after the waiver expires it gates again, and the message says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from .policy import Rule
from .vocabulary import DRIFT_METRICS, GROUP_DATA_METRICS, LABEL_METRICS, change_sentence, rule_sentence

__all__ = ["Evidence", "Gate", "Observation", "RuleOutcome", "evaluate_rules"]


@dataclass(frozen=True)
class Observation:
    """The measured value a rule is judged on."""

    value: float | None
    ci: tuple[float, float] | None = None
    reason: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class RuleOutcome:
    rule: Rule
    status: str  # pass | fail | warn | inconclusive | error
    observed: float | None
    ci: tuple[float, float] | None
    decided_on: str
    gating: bool
    message: str
    group: str | None = None
    details: tuple[dict, ...] = ()  # impact_ratio: every judged group, with both tests

    def to_dict(self) -> dict:
        r = self.rule
        extra = {}
        if r.test is not None:
            extra = {"test": r.test, "statistical_test": r.statistical_test, "alpha": r.alpha,
                     "details": [dict(d) for d in self.details]}
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
            "description": (change_sentence(r.metric, r.feature, r.change_limits) if r.compare
                            else _impact_sentence(r) if r.test is not None
                            else rule_sentence(r.metric, r.feature, r.threshold)),
            "waiver": r.waiver.to_dict() if r.waiver else None,
            "compare": r.compare,
            "change_limits": dict(r.change_limits) if r.compare else None,
        }


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
        out = {s: 0 for s in ("pass", "fail", "warn", "inconclusive", "waived", "error")}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out


class Evidence:
    """What the rules can look at: the contract result, fairness result and explanations."""

    def __init__(self, *, contract=None, fairness=None, explanations=None, explanation_error: str | None = None,
                 drift=None, data_bias=None, comparison=None, adverse_impact=None, ll144=None):
        self.contract = contract
        self.fairness = fairness
        self.explanations = explanations
        self.explanation_error = explanation_error
        self.drift = drift
        self.data_bias = data_bias
        self.comparison = comparison
        self.adverse_impact = adverse_impact
        self.ll144 = ll144

    def observe(self, rule: Rule) -> Observation | list[tuple[str, Observation]]:
        """An observation, or for a per-group rule one observation per eligible group."""
        metric, feature = rule.metric, rule.feature
        if rule.compare == "champion":
            return self._change(rule)
        if metric == "ll144_impact_ratio":
            if self.ll144 is None:
                return Observation(None, reason="the LL144 bias audit was not computed (extend the nyc-ll144 pack)")
            lowest = self.ll144.lowest_impact_ratio
            if lowest is None:
                return Observation(None, reason="no impact ratio is defined in the LL144 tables")
            table = {"sex": "sex", "race_ethnicity": "race/ethnicity", "intersectional": "intersectional"}[lowest["table"]]
            return Observation(lowest["value"], group=f"{table}: {lowest['category']}")
        if metric == "contract_violations":
            if self.contract is None:
                return Observation(None, reason="no contract was checked")
            return Observation(float(self.contract.failures_in(feature)))
        if metric == "shap_share":
            if self.explanations is None:
                return Observation(None, reason=self.explanation_error or "explanations were not computed")
            return Observation(float(self.explanations.shap_share(feature)))
        if metric in DRIFT_METRICS:
            if self.drift is None:
                return Observation(None, reason="drift was not measured (no reference data)")
            value = self.drift.value(metric, feature)
            reason = None if value is not None else f"{metric} is undefined for {feature or 'every feature'}"
            if feature is None and value is not None:
                top = self.drift.largest(metric)
                return Observation(value, reason=reason, group=top.feature if top else None)
            return Observation(value, reason=reason)
        if metric in GROUP_DATA_METRICS or (metric in LABEL_METRICS and self.fairness is None):
            return self._data_bias(metric, feature)
        if self.fairness is None:
            return Observation(None, reason="no predictions were available for fairness metrics")
        return _group_or_single(metric, feature, self.fairness.value, self.fairness.group_values, "value")


    def _change(self, rule: Rule):
        """The change candidate - champion, overall, of a disparity, or per group."""
        if self.comparison is None:
            return Observation(None, reason="the champion could not be compared")
        return _group_or_single(rule.metric, rule.feature, self.comparison.change, self.comparison.group_changes,
                                "change")

    def _data_bias(self, metric: str, feature: str | None) -> Observation:
        if self.data_bias is None:
            return Observation(None, reason="data bias was not assessed")
        if metric == "base_rate_difference":
            values = [d.difference for d in self.data_bias.base_rate_disparity
                      if d.feature == feature and d.difference is not None]
            value = values[0] if values else None
        else:
            value = self.data_bias.value(metric, feature)
        reason = None if value is not None else f"{metric} is undefined (fewer than two groups with enough rows, or no labels)"
        return Observation(value, reason=reason)


def _group_or_single(metric: str, feature: str | None, single, per_group, attribute: str):
    """One observation (an overall metric or a disparity), or one per group with enough rows.

    ``single(metric, feature)`` returns a MetricValue; ``per_group(metric, feature)`` returns
    records with ``group``, ``status``, ``ci``, ``reason`` and the value under ``attribute``.
    """
    from .vocabulary import is_disparity

    try:
        if is_disparity(metric) or feature is None:
            mv = single(metric, feature)
            return Observation(mv.value, tuple(mv.ci) if mv.ci else None, mv.reason)
        groups = per_group(metric, feature)
    except KeyError as exc:
        return Observation(None, reason=str(exc.args[0]) if exc.args else "metric not available")
    eligible = [g for g in groups if g.status == "ok"]
    if not eligible:
        return Observation(None, reason=f"no group of '{feature}' has enough rows")
    return [(g.group, Observation(getattr(g, attribute), tuple(g.ci) if g.ci else None, g.reason, g.group))
            for g in eligible]


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


def _evaluate(rule: Rule, evidence: Evidence, fail_on: str, today: date) -> RuleOutcome:
    details: tuple[dict, ...] = ()
    if rule.metric == "impact_ratio":
        obs, decision, decided_on, group, message, details = _impact(rule, evidence)
        return _outcome(rule, obs, decision, decided_on, group, message, fail_on, today, details)
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
        if rule.metric == "ll144_impact_ratio":
            group = obs.group
    message = _message(rule, obs, decision, decided_on, group)
    return _outcome(rule, obs, decision, decided_on, group, message, fail_on, today, details)


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


def evaluate_rules(rules, evidence: Evidence, *, fail_on: str = "error", today: date | None = None) -> Gate:
    """Evaluate every rule; never raises for a finding.

    Parameters
    ----------
    rules : sequence of Rule
    evidence : Evidence
    fail_on : {"error", "warning"}
        With ``"warning"``, warning-severity rules gate as well.
    today : date, optional
        The day waivers are judged on (default: today in UTC).
    """
    if fail_on not in ("error", "warning"):
        raise ValueError("fail_on must be 'error' or 'warning'")
    if today is None:
        today = datetime.now(timezone.utc).date()
    return Gate(outcomes=tuple(_evaluate(rule, evidence, fail_on, today) for rule in rules), fail_on=fail_on)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _impact_sentence(rule: Rule) -> str:
    from .adverse_impact import TEST_NAMES

    test = TEST_NAMES[rule.statistical_test]
    practical = f"every group's impact ratio (its selection rate over the most selected group's) must be at least {rule.min:g}"
    statistical = f"no group's selection rate may be significantly lower than the most selected group's ({test}, p < {rule.alpha:g})"
    body = {"practical": practical + f"; {test} is shown beside it but does not decide",
            "statistical": statistical + f"; the {rule.min:g} ratio is shown beside it but does not decide",
            "both": f"{practical}, and {statistical}; either finding flags the group"}[rule.test]
    return f"Across the groups of '{rule.feature}', {body}."


def _impact(rule: Rule, evidence: Evidence):
    """(observation, decision, decided_on, group, message, details) of an impact_ratio rule."""
    from .adverse_impact import TEST_NAMES, judge_group

    test_name = TEST_NAMES[rule.statistical_test]
    none = Observation(None)
    if evidence.adverse_impact is None:
        return none, "error", "estimate", None, "Could not be evaluated: adverse impact was not computed (the rule needs the model's decisions).", ()
    try:
        feature = evidence.adverse_impact.feature(rule.feature)
    except KeyError as exc:
        return none, "error", "estimate", None, f"Could not be evaluated: {exc.args[0]}.", ()
    if feature.reason is not None:
        message = " ".join([f"Could not be evaluated: {feature.reason}.", *_unknown_sentence(rule.feature, feature.unknown)])
        return none, "error", "estimate", None, message, ()
    use_interval = rule.decide_on == "ci"
    judged = []
    for g in feature.groups:
        if g.status != "ok" or g.is_reference:
            continue
        j = judge_group(g, minimum=rule.min, test=rule.test, statistical_test=rule.statistical_test, alpha=rule.alpha,
                        reference_rate=feature.reference_rate, use_interval=use_interval, adjust=feature.adjust)
        judged.append((g, j))
    decided_on = ("ci" if use_interval else "estimate") + f"; test: {rule.test} ({test_name}"
    decided_on += ", Holm-adjusted)" if feature.adjust == "holm" else ")"
    details = tuple(j.to_dict(g, test_name) for g, j in judged)
    unknown = _unknown_sentence(rule.feature, feature.unknown)
    if not judged:
        reason = f"only the reference group {feature.reference_group} has enough rows"
        return none, "error", "estimate", None, " ".join([f"Could not be evaluated: {reason}.", *unknown]), details
    order = {"fail": 0, "inconclusive": 1, "pass": 2}
    g, worst = min(judged, key=lambda gj: (order[gj[1].verdict], gj[0].impact_ratio))
    obs = Observation(worst.impact_ratio, worst.ci, group=g.group)
    flagged = [(g2, j) for g2, j in judged if j.verdict == "fail"]
    ref = f"{feature.reference_group} (selection rate {_fmt(feature.reference_rate)})"
    parts = [_group_sentence(rule, g2, j, test_name) for g2, j in (flagged or [(g, worst)])]
    if worst.verdict == "fail":
        head = f"Adverse impact indicated for {len(flagged)} of {len(judged)} group(s) of {rule.feature}, against {ref}."
    elif worst.verdict == "inconclusive":
        head = f"Inconclusive for {rule.feature} against {ref}: the interval of the lowest ratio straddles {rule.min:g}."
    else:
        head = f"No adverse impact indicated for {rule.feature} against {ref} by the rule's test ({rule.test}); the group nearest the limit:"
    if feature.adjust == "holm":
        parts.append(f"p-values are Holm-adjusted across the {len(judged)} group(s) compared with {feature.reference_group}, "
                     f"so the chance of flagging any of them by chance alone stays below {rule.alpha:g}.")
    return obs, worst.verdict, decided_on, g.group, " ".join([head, *parts, *unknown]), details


def _unknown_sentence(feature: str, unknown) -> list[str]:
    """The disclosure of the individuals of unknown category (never judged, never the reference)."""
    if unknown is None or not unknown.n:
        return []
    shown = sorted(unknown.values, key=lambda v: -v[1])[:5]
    values = ", ".join(f"{label}: {n:,}" for label, n, _ in shown)
    if len(unknown.values) > len(shown):
        values += f" and {len(unknown.values) - len(shown)} more categories"
    return [f"Not judged and not used as the reference: {unknown.n:,} individual(s) of unknown {feature} ({values}), "
            f"selection rate {_fmt(unknown.selection_rate)}."]


def _group_sentence(rule: Rule, g, j, test_name: str) -> str:
    ratio = f"impact ratio {_fmt(j.impact_ratio)}" + (f" (interval {_fmt(j.ci[0])} to {_fmt(j.ci[1])})" if j.ci else "")
    p = f"p = {j.p_value:.3g}"
    if j.p_adjusted is not None:
        p += f", Holm-adjusted {j.p_adjusted:.3g}"
    practical = {"fail": f"below {rule.min:g}", "pass": f"at least {rule.min:g}",
                 "inconclusive": f"interval straddles {rule.min:g}"}[j.practical]
    statistical = (f"significantly lower by {test_name} ({p} < {rule.alpha:g})" if j.statistical == "fail"
                   else f"not significant by {test_name} ({p})")
    text = f"{rule.feature} = {g.group}: selection rate {_fmt(g.selection_rate)} of {g.n:,}, {ratio}, {practical}; {statistical}."
    if j.verdict == "fail":
        drove = {"both": "both tests", "practical": f"the practical test ({rule.min:g} ratio)",
                 "statistical": f"the statistical test ({test_name})"}[j.driver]
        text += f" Verdict driven by {drove}."
        if j.driver == "practical" and j.statistical == "pass":
            text += " The shortfall is not statistically significant; with small numbers it may be chance (29 CFR 1607.4(D))."
        if j.driver == "statistical" and j.practical == "pass":
            text += f" The ratio is above {rule.min:g}, but a significant shortfall can still indicate adverse impact."
    elif j.practical == "fail" or j.statistical == "fail":
        ignored = "practical" if j.practical == "fail" else "statistical"
        text += f" The {ignored} test flags it, but this rule decides on test: {rule.test}."
    return text


def _message(rule: Rule, obs: Observation, decision: str, decided_on: str, group: str | None) -> str:
    scope = f" for {rule.feature}" if rule.feature else ""
    if rule.metric == "ll144_impact_ratio" and decision in ("pass", "fail"):
        bound = _fmt(rule.min) if rule.min is not None else "the limit"
        where = f" ({group})" if group else ""
        verdict = f"below the review flag of {bound}" if decision == "fail" else f"no category below {bound}"
        return (f"The lowest impact ratio in the LL144 tables{where} is {_fmt(obs.value)}: {verdict}. "
                "LL144 requires the ratios to be published and sets no threshold of its own.")
    if group is not None:
        scope = f" for {rule.feature} = {group} (the group nearest the limit)" if decision == "pass" else f" for {rule.feature} = {group}"
    if decision == "error":
        return f"Could not be evaluated: {obs.reason or 'the metric is undefined'}."
    interval = f" (interval {_fmt(obs.ci[0])} to {_fmt(obs.ci[1])})" if obs.ci else ""
    bounds = []
    if rule.min is not None:
        bounds.append(f"minimum {_fmt(rule.min)}")
    if rule.max is not None:
        bounds.append(f"maximum {_fmt(rule.max)}")
    bound = " and ".join(bounds)
    head = f"{rule.metric}{scope} is {_fmt(obs.value)}{interval}"
    if rule.compare:
        head = f"Change in {rule.metric}{scope} (candidate − champion) is {_fmt(obs.value)}{interval}"
    if rule.compare:
        bound = bound.replace("minimum", "allowed change of at least").replace("maximum", "allowed change of at most")
    if decision == "pass":
        how = "the whole interval is within" if decided_on == "ci" else "within"
        return f"{head}: {how} the {bound}."
    if decision == "fail":
        how = "the whole interval is outside" if decided_on == "ci" else "outside"
        return f"{head}: {how} the {bound}."
    return f"{head}: the interval straddles the {bound}, so the data cannot tell whether the rule holds."
