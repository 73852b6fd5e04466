"""Stage 9b: the audit of stated reasons -- with a ``reasons:`` block, every adverse decision's
principal reasons (:mod:`auditkit.adverse_action`), their distribution per sensitive group, their
stability under resampled baselines and whether a protected input is ever stated. The rows are
the engine's explanation rows: every row on pandas, a stratified sample on Spark."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ReasonsOutcome", "audit"]


@dataclass(frozen=True)
class ReasonsOutcome:
    result: object | None    # ReasonsAudit, or None
    reason: str | None       # why there is no result (rules on reasons then cannot be evaluated)


def audit(plan, data, predicted, explained) -> ReasonsOutcome:
    """The audit of reasons, or why it was not computed."""
    policy = plan.policy
    spec = policy.reasons
    if spec is None:
        return ReasonsOutcome(None, "the policy has no 'reasons:' block")
    run = predicted.candidate
    if run is None or run.loaded is None or predicted.target.task != "classification":
        return ReasonsOutcome(None, "reasons need a classifier's model file")
    from ..adverse_action._audit import MAX_ROWS, audit_reasons
    from ..adverse_action._codes import ReasonCodes
    from .explain import flagged_proxies, positive_class

    estimator = run.loaded.estimator
    # Every row on pandas; on Spark, the engine's stratified sample (as for explanations).
    rows = plan.engine.explanation_rows(data, run, policy, rows=MAX_ROWS, seed=plan.seed)
    frame = rows.X
    if rows.sensitive is not None:
        extra = [c for c in rows.sensitive.columns if c not in frame.columns]
        frame = frame.join(rows.sensitive[extra]) if extra else frame
    features = list(run.feature_columns)
    sensitive = [c for c in policy.sensitive_features if c in frame.columns]
    protected = tuple(dict.fromkeys([c for c in sensitive if c in features]
                                    + list(flagged_proxies(explained, features))))
    codes = ReasonCodes(codes=spec.codes, exclude=spec.exclude, protected=protected, allow=spec.allow,
                        fallback=spec.fallback)
    codes.check(features, where=f"{policy.source or 'policy'}: reasons.codes")
    plan.say("auditing the stated reasons of adverse decisions")
    positive = positive_class(run.loaded, predicted.target.positive_label)
    result = audit_reasons(estimator, frame, codes=codes, k=spec.k, baseline=spec.baseline, positive_class=positive,
                           threshold=run.threshold if run.threshold is not None else 0.5, sensitive=sensitive,
                           intersections=policy.intersections, min_group_size=policy.fairness.min_group_size,
                           confidence=policy.fairness.confidence, bootstrap=policy.fairness.bootstrap, seed=plan.seed)
    return ReasonsOutcome(result, None)
