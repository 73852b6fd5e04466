"""Trend rules: judging a metric on its history in the audit ledger.

A trend rule (``trend:`` in a policy rule) reads the values its metric had in earlier audits
of the same policy, as the ledger recorded them, and this audit's value:

* ``widening`` fails when the metric moved in its worse direction by more than ``min_change``
  in each of the last ``audits`` audits, this one included (so ``audits + 1`` values are
  compared, each with the one before);
* ``departs_from_first`` fails when this audit's interval no longer overlaps the interval of
  the first audit the ledger holds for the metric.

Too little history is not a finding: with fewer earlier audits than the rule compares, the
rule passes and says how many more audits it needs. Pure functions of numbers: the history is
read by :mod:`auditkit.stages.history`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .metrics import Judgement, Observation, format_value

__all__ = ["TrendPoint", "judge_trend", "points_of", "trend_sentence"]

#: How many of the latest points a rule's details (and the report's chart) keep.
SHOWN_POINTS = 60


@dataclass(frozen=True)
class TrendPoint:
    """The value a metric had in one audit recorded in the ledger."""

    seq: int
    recorded_at: str | None
    value: float
    ci: tuple[float, float] | None = None


def points_of(records, metric: str, feature: str | None) -> tuple[TrendPoint, ...]:
    """One point per ledger entry whose results hold a rule on ``metric`` (and ``feature``) with a value.

    The points are those of the history page (:func:`auditkit.history.history_points`): rules
    comparing with a champion give none (their value is a change, not the metric), nor do rules
    awaiting labels (no value). When several rules of an entry read the metric, the first with
    an interval is taken (they observe the same number).
    """
    from .history import history_points

    chosen: dict[int, TrendPoint] = {}
    for point in history_points(records):
        if point["metric"] != metric or point["feature"] != feature or point["value"] is None:
            continue
        ci = (point["ci_low"], point["ci_high"]) if point["ci_low"] is not None and point["ci_high"] is not None else None
        found = chosen.get(point["seq"])
        if found is None or (found.ci is None and ci is not None):
            chosen[point["seq"]] = TrendPoint(seq=point["seq"], recorded_at=point["recorded_at"], value=point["value"], ci=ci)
    return tuple(chosen[seq] for seq in sorted(chosen))


def judge_trend(rule, current: Observation, past: Sequence[TrendPoint], *, direction: int) -> Judgement:
    """Judge a trend rule on the earlier points ``past`` (oldest first) and this audit's observation.

    Parameters
    ----------
    rule : auditkit.policy.Rule
        A rule with ``trend`` set.
    current : Observation
        This audit's value of the metric (and its interval).
    past : sequence of TrendPoint
        The metric in earlier audits of the policy, oldest first.
    direction : int
        +1 when a higher value is better, -1 when lower is better.
    """
    scope = f" for {rule.feature}" if rule.feature else ""
    details = _details(past, current)
    if current.value is None:
        return Judgement(current, "error", "history",
                         f"Could not be evaluated: {current.reason or 'the metric is undefined in this audit'}.",
                         details=details)
    if rule.trend.kind == "widening":
        return _widening(rule, current, past, direction, scope, details)
    return _departs(rule, current, past, scope, details)


def trend_sentence(rule) -> str:
    """What a trend rule checks, in plain words (the report's rule text)."""
    name = rule.metric.replace("_", " ")
    scope = f" across the groups of '{rule.feature}'" if rule.feature else ""
    if rule.trend.kind == "widening":
        n = rule.trend.audits
        margin = f" by more than {format_value(rule.trend.min_change)}" if rule.trend.min_change else ""
        return (f"The {name}{scope} must not worsen{margin} in each of {n} consecutive audit{'s' * (n != 1)} "
                "(this one included), as recorded in the audit ledger.")
    return (f"The interval of the {name}{scope} must overlap the interval of the first audit recorded in the "
            "audit ledger.")


def _widening(rule, current, past, direction, scope, details) -> Judgement:
    needed = rule.trend.audits
    if len(past) < needed:
        more = needed - len(past)
        return Judgement(current, "pass", f"history ({len(past)} earlier audit{'s' * (len(past) != 1)})",
                         f"{rule.metric}{scope} is {format_value(current.value)}; a widening over {needed} audits needs "
                         f"{needed} earlier audit{'s' * (needed != 1)} in the ledger and it has {len(past)}, "
                         f"so the trend is judged from {more} audit{'s' * (more != 1)} from now.", details=details)
    values = [p.value for p in past[-needed:]] + [current.value]
    worse = "rose" if direction < 0 else "fell"
    steps = [direction * (b - a) < -rule.trend.min_change for a, b in zip(values, values[1:])]
    path = " → ".join(format_value(x) for x in values)
    since = f"entry #{past[-needed].seq}"
    margin = f" by more than {format_value(rule.trend.min_change)}" if rule.trend.min_change else ""
    if all(steps):
        return Judgement(current, "fail", "history",
                         f"{rule.metric}{scope} {worse}{margin} in each of the last {needed} audits ({path}, from "
                         f"{since} to this audit): the disparity is widening.", details=details)
    held = sum(1 for s in steps if not s)
    return Judgement(current, "pass", "history",
                     f"{rule.metric}{scope} did not widen in each of the last {needed} audits ({path}, from {since} "
                     f"to this audit; {held} step{'s' * (held != 1)} did not worsen{margin}).", details=details)


def _departs(rule, current, past, scope, details) -> Judgement:
    if current.ci is None:
        return Judgement(current, "error", "history",
                         f"Could not be evaluated: {rule.metric}{scope} has no interval in this audit "
                         "(set fairness.bootstrap).", details=details)
    first = next((p for p in past if p.ci is not None), None)
    here = f"[{format_value(current.ci[0])}, {format_value(current.ci[1])}]"
    if first is None:
        return Judgement(current, "pass", "history (first audit with an interval)",
                         f"{rule.metric}{scope} is {format_value(current.value)} {here}; this is the first audit in the "
                         "ledger with an interval, so it is the baseline later audits are compared with.",
                         details=details)
    then = f"[{format_value(first.ci[0])}, {format_value(first.ci[1])}]"
    overlaps = current.ci[0] <= first.ci[1] and first.ci[0] <= current.ci[1]
    if overlaps:
        return Judgement(current, "pass", "history",
                         f"{rule.metric}{scope} is {format_value(current.value)} {here}, which overlaps the first "
                         f"audit's {then} (entry #{first.seq}): no departure the data can show.", details=details)
    return Judgement(current, "fail", "history",
                     f"{rule.metric}{scope} is {format_value(current.value)} {here}, which no longer overlaps the "
                     f"first audit's {then} (entry #{first.seq}): the metric has moved.", details=details)


def _details(past: Sequence[TrendPoint], current: Observation) -> tuple[dict, ...]:
    shown = [{"seq": p.seq, "recorded_at": p.recorded_at, "value": p.value,
              "ci": list(p.ci) if p.ci else None, "current": False} for p in past[-(SHOWN_POINTS - 1):]]
    if current.value is not None:
        shown.append({"seq": None, "recorded_at": None, "value": current.value,
                      "ci": list(current.ci) if current.ci else None, "current": True})
    return tuple(shown)
