"""Stage 2: the audited rows, read by the engine, and their sensitive features checked."""

from __future__ import annotations

from ..engines import AuditData

__all__ = ["read_data"]


def read_data(plan) -> AuditData:
    """The audited rows (``DataError`` for unreadable data or unusable sensitive features)."""
    data = plan.engine.read(plan.policy, plan.say)
    plan.engine.check_sensitive_features(data, plan.policy)
    return data
