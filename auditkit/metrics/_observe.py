"""How a rule observes the core metrics: reading one value (or one per group) from the evidence.

``evidence`` is :class:`auditkit.rules.Evidence` (the stage results of one audit); these
functions only read it. Missing evidence is an :class:`Observation` with a reason, never an
exception: the rule then reports ``error`` and fails closed.
"""

from __future__ import annotations

from ._metric import Observation

__all__ = ["observe_contract", "observe_data_bias", "observe_drift", "observe_explanation", "observe_fairness",
           "observe_reasons",
           "observe_representativeness", "observe_change", "observe_label_disparity"]


def observe_contract(evidence, rule) -> Observation:
    if evidence.contract is None:
        return Observation(None, reason="no contract was checked")
    return Observation(float(evidence.contract.failures_in(rule.feature)))


def observe_explanation(evidence, rule) -> Observation:
    if evidence.explanations is None:
        return Observation(None, reason=evidence.explanation_error or "explanations were not computed")
    return Observation(float(evidence.explanations.shap_share(rule.feature)))


def observe_reasons(evidence, rule) -> Observation:
    """The audit of stated reasons: stability, protected inputs stated, or the largest
    difference between the groups of a feature in the share told one reason."""
    audit = getattr(evidence, "reasons", None)
    if audit is None:
        return Observation(None, reason=getattr(evidence, "reasons_error", None) or "reasons were not audited")
    if rule.metric == "reason_stability":
        s = audit.stability
        return Observation(s["mean"], ci=tuple(s["ci"]) if s["ci"] else None,
                           reason=None if s["mean"] is not None else "no adverse decision to explain")
    if rule.metric == "reason_protected_share":
        p = audit.protected_stated
        return Observation(p["share"], ci=tuple(p["ci"]) if p["ci"] else None,
                           reason=None if p["share"] is not None else "no adverse decision to explain")
    d = audit.disparity(rule.feature)
    if d is None or d["difference"] is None:
        return Observation(None, reason=(d or {}).get("reason") or f"no reasons audited for '{rule.feature}'")
    return Observation(d["difference"], ci=tuple(d["ci"]) if d["ci"] else None,
                       group=f"{d['code']}: {d['highest']} vs {d['lowest']}")


def observe_drift(evidence, rule) -> Observation:
    metric, feature = rule.metric, rule.feature
    if evidence.drift is None:
        return Observation(None, reason="drift was not measured (no reference data)")
    value = evidence.drift.value(metric, feature)
    reason = None if value is not None else f"{metric} is undefined for {feature or 'every feature'}"
    if feature is None and value is not None:
        top = evidence.drift.largest(metric)
        return Observation(value, reason=reason, group=top.feature if top else None)
    return Observation(value, reason=reason)


def observe_data_bias(evidence, rule) -> Observation:
    metric, feature = rule.metric, rule.feature
    if evidence.data_bias is None:
        return Observation(None, reason="data bias was not assessed")
    if metric == "base_rate_difference":
        values = [d.difference for d in evidence.data_bias.base_rate_disparity
                  if d.feature == feature and d.difference is not None]
        value = values[0] if values else None
    else:
        value = evidence.data_bias.value(metric, feature)
    reason = None if value is not None else f"{metric} is undefined (fewer than two groups with enough rows, or no labels)"
    return Observation(value, reason=reason)


def observe_representativeness(evidence, rule) -> Observation:
    """``representation_ratio`` (the lowest observed/expected share ratio of the feature's declared
    groups, with its Wilson interval divided by the expected share) or ``representation_gof_pvalue``."""
    feature = rule.feature
    if evidence.data_bias is None:
        return Observation(None, reason="data bias was not assessed")
    assessed = getattr(evidence.data_bias, "representativeness", None)
    found = assessed.feature(feature) if assessed is not None else None
    if found is None:
        return Observation(None, reason=f"the policy declares no population shares for '{feature}'; "
                                        f"add them under population.shares.{feature}")
    if rule.metric == "representation_gof_pvalue":
        return Observation(found.p_value, reason=None)
    return Observation(found.lowest_ratio, ci=tuple(found.lowest_ratio_ci), group=found.lowest_group)


def observe_fairness(evidence, rule):
    """A per-group metric (overall, or one observation per group) or a disparity."""
    if evidence.fairness is None:
        return Observation(None, reason="no predictions were available for fairness metrics")
    return _group_or_single(rule, evidence.fairness, evidence.fairness.value, evidence.fairness.group_values, "value")


def observe_label_disparity(evidence, rule):
    """``base_rate_ratio`` / ``base_rate_difference``: from the fairness result when there are
    predictions, otherwise from the labels alone (data bias)."""
    if evidence.fairness is None:
        return observe_data_bias(evidence, rule)
    return observe_fairness(evidence, rule)


def observe_change(evidence, rule):
    """``compare: champion``: the change candidate - champion, overall, of a disparity, or per group."""
    comparison = evidence.comparison
    if comparison is None:
        return Observation(None, reason="the champion could not be compared")
    return _group_or_single(rule, comparison, comparison.change, comparison.group_changes, "change")


def _group_or_single(rule, result, single, per_group, attribute: str):
    """One observation (an overall metric or a disparity), or one per group with enough rows.

    ``single(metric, feature)`` returns a MetricValue; ``per_group(metric, feature)`` returns
    records with ``group``, ``status``, ``ci``, ``reason`` and the value under ``attribute``.
    """
    from ._registry import get_metric

    metric, feature = rule.metric, rule.feature
    if feature is not None and feature not in result.features:
        return Observation(None, reason=f"'{feature}' was not among the audited features")
    if feature is None or get_metric(metric).family == "disparity":
        mv = single(metric, feature)
        return Observation(mv.value, tuple(mv.ci) if mv.ci else None, mv.reason)
    eligible = [g for g in per_group(metric, feature) if g.status == "ok"]
    if not eligible:
        return Observation(None, reason=f"no group of '{feature}' has enough rows")
    return [(g.group, Observation(getattr(g, attribute), tuple(g.ci) if g.ci else None, g.reason, g.group))
            for g in eligible]
