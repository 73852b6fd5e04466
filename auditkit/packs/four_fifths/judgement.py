"""The ``impact_ratio`` metric: its rule keys, how a rule reads, and how a rule is judged.

A rule on ``impact_ratio`` decides with tests of its own (:func:`judge_impact_rule`): every
judged group of the feature gets the practical test (the ratio against ``min``) and the
statistical test (``statistical_test`` at ``alpha``), ``test`` says which of them decide, and
the message names, per flagged group, which test drove the verdict.
"""

from __future__ import annotations

from typing import Any

__all__ = ["IMPACT_TESTS", "RULE_OPTIONS", "STATISTICAL_TESTS", "TEST_NAMES", "describe_impact_rule",
           "impact_rule_sentence", "judge_impact_rule"]

PACK = "four-fifths"
TEST_NAMES = {"fisher": "Fisher's exact test", "z": "the two-proportion z-test"}
IMPACT_TESTS = ("practical", "statistical", "both")
STATISTICAL_TESTS = ("fisher", "z")


# ---------------------------------------------------------------- the rule's own keys


def _test(v, item: dict, key: str, rule_id: str, low, high, decide_on: str) -> str:
    """``test``: which test decides. The rule needs a minimum (and no maximum); ``decide_on: ci``
    uses the ratio's interval, so it applies to the practical test alone."""
    if low is None or high is not None:
        v.fail(key, f"rule '{rule_id}': impact_ratio is judged against a minimum only; give 'min:' (the four-fifths rule uses 0.8)")
    test = v.choice(item.get("test", "both"), f"{key}.test", IMPACT_TESTS)
    if decide_on == "ci" and test != "practical":
        v.fail(f"{key}.decide_on", f"rule '{rule_id}': decide_on: ci applies to the practical test only; set test: practical or decide_on: estimate")
    return test


def _statistical_test(v, item: dict, key: str, rule_id: str, low, high, decide_on: str) -> str:
    return v.choice(item.get("statistical_test", "fisher"), f"{key}.statistical_test", STATISTICAL_TESTS)


def _alpha(v, item: dict, key: str, rule_id: str, low, high, decide_on: str) -> float:
    alpha = v.number(item.get("alpha", 0.05), f"{key}.alpha")
    if not 0.0 < alpha < 0.5:
        v.fail(f"{key}.alpha", f"must be a significance level such as 0.05 (between 0 and 0.5), not {alpha}")
    return alpha


#: The extra keys of an impact_ratio rule, in the order they are validated and reported.
RULE_OPTIONS = {"test": _test, "statistical_test": _statistical_test, "alpha": _alpha}


# ---------------------------------------------------------------- what a rule reads as


def impact_rule_sentence(feature: str | None, bound: str) -> str:
    """What an impact_ratio rule checks, from its feature and bound alone."""
    return (f"For every group of '{feature}', the selection rate divided by the highest group's rate must be {bound}, "
            "and (as the rule's test says) the group's rate must not be significantly lower.")


def describe_impact_rule(rule) -> str:
    """What one impact_ratio rule checks, with its test, statistical test and level."""
    options = rule.options
    test = TEST_NAMES[options["statistical_test"]]
    practical = f"every group's impact ratio (its selection rate over the most selected group's) must be at least {rule.min:g}"
    statistical = f"no group's selection rate may be significantly lower than the most selected group's ({test}, p < {options['alpha']:g})"
    body = {"practical": practical + f"; {test} is shown beside it but does not decide",
            "statistical": statistical + f"; the {rule.min:g} ratio is shown beside it but does not decide",
            "both": f"{practical}, and {statistical}; either finding flags the group"}[options["test"]]
    return f"Across the groups of '{rule.feature}', {body}."


# ---------------------------------------------------------------- judging a rule


def judge_impact_rule(evidence, rule):
    """The judgement of an impact_ratio rule against the four-fifths evidence.

    Parameters
    ----------
    evidence : auditkit.rules.Evidence
        ``evidence.pack("four-fifths")`` is the :class:`~.impact.AdverseImpactResult`, or None.
    rule : auditkit.policy.Rule

    Returns
    -------
    auditkit.metrics.Judgement
        The flagged (or, if none, the lowest) group's ratio; ``details`` holds every judged group.
    """
    from ...metrics import Judgement, Observation
    from ...metrics import format_value as _fmt
    from .impact import judge_group

    options = rule.options
    test_name = TEST_NAMES[options["statistical_test"]]
    impact = evidence.pack(PACK)
    none = Observation(None)

    def error(message: str, details=()) -> Judgement:
        return Judgement(observation=none, decision="error", decided_on="estimate", message=message, details=details)

    if impact is None:
        return error("Could not be evaluated: adverse impact was not computed (the rule needs the model's decisions).")
    try:
        feature = impact.feature(rule.feature)
    except KeyError as exc:
        return error(f"Could not be evaluated: {exc.args[0]}.")
    if feature.reason is not None:
        return error(" ".join([f"Could not be evaluated: {feature.reason}.", *_unknown_sentence(rule.feature, feature.unknown)]))
    use_interval = rule.decide_on == "ci"
    judged = []
    for g in feature.groups:
        if g.status != "ok" or g.is_reference:
            continue
        j = judge_group(g, minimum=rule.min, test=options["test"], statistical_test=options["statistical_test"],
                        alpha=options["alpha"], reference_rate=feature.reference_rate, use_interval=use_interval,
                        adjust=feature.adjust)
        judged.append((g, j))
    decided_on = ("ci" if use_interval else "estimate") + f"; test: {options['test']} ({test_name}"
    decided_on += ", Holm-adjusted)" if feature.adjust == "holm" else ")"
    details = tuple(j.to_dict(g, test_name) for g, j in judged)
    unknown = _unknown_sentence(rule.feature, feature.unknown)
    if not judged:
        reason = f"only the reference group {feature.reference_group} has enough rows"
        return error(" ".join([f"Could not be evaluated: {reason}.", *unknown]), details)
    order = {"fail": 0, "inconclusive": 1, "pass": 2}
    g, worst = min(judged, key=lambda gj: (order[gj[1].verdict], gj[0].impact_ratio))
    flagged = [(g2, j) for g2, j in judged if j.verdict == "fail"]
    ref = f"{feature.reference_group} (selection rate {_fmt(feature.reference_rate)})"
    parts = [_group_sentence(rule, g2, j, test_name) for g2, j in (flagged or [(g, worst)])]
    if worst.verdict == "fail":
        head = f"Adverse impact indicated for {len(flagged)} of {len(judged)} group(s) of {rule.feature}, against {ref}."
    elif worst.verdict == "inconclusive":
        head = f"Inconclusive for {rule.feature} against {ref}: the interval of the lowest ratio straddles {rule.min:g}."
    else:
        head = (f"No adverse impact indicated for {rule.feature} against {ref} by the rule's test ({options['test']}); "
                "the group nearest the limit:")
    if feature.adjust == "holm":
        parts.append(f"p-values are Holm-adjusted across the {len(judged)} group(s) compared with {feature.reference_group}, "
                     f"so the chance of flagging any of them by chance alone stays below {options['alpha']:g}.")
    return Judgement(observation=Observation(worst.impact_ratio, worst.ci, group=g.group), decision=worst.verdict,
                     decided_on=decided_on, message=" ".join([head, *parts, *unknown]), group=g.group, details=details)


def _unknown_sentence(feature: str, unknown) -> list[str]:
    """The disclosure of the individuals of unknown category (never judged, never the reference)."""
    from ...metrics import format_value as _fmt

    if unknown is None or not unknown.n:
        return []
    shown = sorted(unknown.values, key=lambda v: -v[1])[:5]
    values = ", ".join(f"{label}: {n:,}" for label, n, _ in shown)
    if len(unknown.values) > len(shown):
        values += f" and {len(unknown.values) - len(shown)} more categories"
    return [f"Not judged and not used as the reference: {unknown.n:,} individual(s) of unknown {feature} ({values}), "
            f"selection rate {_fmt(unknown.selection_rate)}."]


def _group_sentence(rule, g, j, test_name: str) -> str:
    from ...metrics import format_value as _fmt

    options: dict[str, Any] = rule.options
    ratio = f"impact ratio {_fmt(j.impact_ratio)}" + (f" (interval {_fmt(j.ci[0])} to {_fmt(j.ci[1])})" if j.ci else "")
    p = f"p = {j.p_value:.3g}"
    if j.p_adjusted is not None:
        p += f", Holm-adjusted {j.p_adjusted:.3g}"
    practical = {"fail": f"below {rule.min:g}", "pass": f"at least {rule.min:g}",
                 "inconclusive": f"interval straddles {rule.min:g}"}[j.practical]
    statistical = (f"significantly lower by {test_name} ({p} < {options['alpha']:g})" if j.statistical == "fail"
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
        text += f" The {ignored} test flags it, but this rule decides on test: {options['test']}."
    return text
