"""Stage 3: the data contract."""

from __future__ import annotations

from ..paths import policy_relative

__all__ = ["check_contract"]


def check_contract(plan, data):
    """The contract's result, or None when the policy names no contract.

    With labels pending, the target column's checks are left out (the column is not audited),
    and the result names it in ``not_checked``.
    """
    policy = plan.policy
    if policy.data.contract is None:
        return None
    plan.say("checking the data contract")
    name = policy_relative(policy.data.contract, policy.folder)
    if getattr(plan, "labels", "present") != "pending":
        return plan.engine.validate_contract(data, policy.data.contract, name=name)
    from dataclasses import replace

    from ..contract import load_contract

    schema = load_contract(policy.data.contract)
    target = policy.data.target
    if target not in (schema.columns or {}):
        return plan.engine.validate_contract(data, schema, name=name)
    result = plan.engine.validate_contract(data, schema.remove_columns([target]), name=name)
    return replace(result, not_checked=(target,))
