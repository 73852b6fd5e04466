"""Stage 5: bias in the data itself, before any model (representation, base rates, missingness,
and with a declared ``population:`` the representativeness against it)."""

from __future__ import annotations

__all__ = ["assess_data"]


def assess_data(plan, data, predicted):
    """The data-bias result, or None without sensitive features."""
    from ..data_bias import with_representativeness

    if not plan.policy.sensitive_features:
        return None
    plan.say("representation, base rates and missingness per group")
    result = plan.engine.data_bias(data, predicted.target, plan.policy)
    # from the group row counts every engine returns, so every engine gives the same numbers
    return with_representativeness(result, getattr(plan.policy, "population", None))
