"""Stage 5: bias in the data itself, before any model (representation, base rates, missingness)."""

from __future__ import annotations

__all__ = ["assess_data"]


def assess_data(plan, data, predicted):
    """The data-bias result, or None without sensitive features."""
    if not plan.policy.sensitive_features:
        return None
    plan.say("representation, base rates and missingness per group")
    return plan.engine.data_bias(data, predicted.target, plan.policy)
