"""Stage 11: remedies -- when a fairness rule fails or is inconclusive (or the policy's
``remedies:`` block asks), the candidate changes that would make it pass, each judged by the
gate's own rules on rows it was not fitted on (:mod:`auditkit.remediation`)."""

from __future__ import annotations

__all__ = ["search"]


def search(plan, data, predicted, verdict, evidence, explained):
    """The :class:`~auditkit.remediation.RemedyResult`, or None when there is nothing to remedy,
    the policy switched remedies off, the labels are pending, or the audit reads no model scores
    on pandas rows."""
    from ..remediation._candidates import judged_rules

    policy = plan.policy
    spec = policy.remedies
    candidate = predicted.candidate
    if not spec.enabled or candidate is None or predicted.target.task != "classification":
        return None
    if getattr(plan, "labels", "present") == "pending":  # remedies are fitted and judged on the true outcomes
        return None
    if not judged_rules(policy, verdict.outcomes) and not spec.requested:
        return None
    if plan.engine.name != "pandas":
        plan.say("remedies are searched on the pandas engine only; skipped")
        return None
    from ..remediation._candidates import RemedyInputs, RemedyOptions, find_remedies
    from .explain import flagged_proxies

    plan.say("searching remedies (cross-fitted)")
    inputs = RemedyInputs(
        policy=policy, evidence=evidence, outcomes=verdict.outcomes, frame=data.native,
        y=predicted.target.native.values, scores=candidate.native.y_score, decisions=candidate.native.y_pred,
        threshold=candidate.threshold if candidate.threshold is not None else 0.5,
        positive_label=predicted.target.positive_label,
        estimator=candidate.loaded.estimator if candidate.loaded is not None else None,
        feature_columns=tuple(candidate.feature_columns),
        champion_decisions=predicted.champion.native.y_pred if predicted.champion is not None else None,
        champion_scores=predicted.champion.native.y_score if predicted.champion is not None else None,
        proxies=flagged_proxies(explained, candidate.feature_columns),
        fairness_keywords=_fairness_keywords(plan),
        fail_on=plan.fail_on, today=plan.today, seed=plan.seed, requested=spec.requested,
        training=_training(plan, spec, predicted.target),
    )
    options = RemedyOptions(candidates=spec.candidates, group_aware=spec.group_aware, folds=spec.folds,
                            objective=spec.objective, train=spec.train)
    return find_remedies(inputs, options, say=plan.say)


def _fairness_keywords(plan) -> dict:
    from ..engines import FairnessOptions

    return FairnessOptions.from_policy(plan.policy, plan.seed).keywords()


def _training(plan, spec, target):
    """Training rows and their 0/1 labels for reweighing: ``remedies.train``, else
    ``data.reference`` when it holds the target; None otherwise."""
    from ..data import load_table
    from ..predictions import encode_target

    policy = plan.policy
    path = spec.train or policy.data.reference
    if path is None or "reweigh" not in spec.candidates:
        return None
    frame = load_table(path)
    frame.columns = [str(c) for c in frame.columns]
    if policy.data.target not in frame.columns:
        return None
    labels = encode_target(frame[policy.data.target], target.positive_label, source=path).values
    return frame, labels
