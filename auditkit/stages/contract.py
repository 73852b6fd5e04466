"""Stage 3: the data contract."""

from __future__ import annotations

from ..paths import policy_relative

__all__ = ["check_contract"]


def check_contract(plan, data):
    """The contract's result, or None when the policy names no contract."""
    policy = plan.policy
    if policy.data.contract is None:
        return None
    plan.say("checking the data contract")
    return plan.engine.validate_contract(data, policy.data.contract,
                                         name=policy_relative(policy.data.contract, policy.folder))
