"""Stage 9c: the history trend rules judge — earlier values of their metrics, from the audit ledger.

Which ledger: ``audit check --ledger URL`` (or ``AUDITKIT_LEDGER``), else the policy's
``ledger:`` key (a SQLite file in the policy's folder, or ``env:NAME``). The ledger is opened
(created and migrated when new) at plan time, so an unusable one stops the run before any
work; the entry of this audit is appended after its outputs are written (``audit check``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

__all__ = ["HistoryOutcome", "read_history"]


@dataclass(frozen=True)
class HistoryOutcome:
    """Earlier values of each trend rule's metric, by (metric, feature), oldest first."""

    points: Mapping[tuple, tuple] = field(default_factory=dict)
    entries: int = 0  # audits of this policy in the ledger before this one


def read_history(plan) -> HistoryOutcome:
    """The earlier values of the trend rules' metrics; empty when the policy has no trend rule."""
    from ..trends import points_of

    rules = [r for r in plan.policy.rules if r.trend is not None]
    if not rules or plan.ledger is None:
        return HistoryOutcome()
    plan.say("verifying the audit ledger and reading its history for the trend rules")
    _require_intact(plan.ledger)
    records = plan.ledger.records(policy=plan.policy.name)
    points = {}
    for rule in rules:
        key = (rule.metric, rule.feature)
        if key not in points:
            points[key] = points_of(records, rule.metric, rule.feature)
    return HistoryOutcome(points=points, entries=len(records))


def _require_intact(ledger) -> None:
    """Trend rules judge the history, so a history that was edited must not steer the verdict:
    a ledger whose chain does not verify stops the audit (exit 2), naming the first problem."""
    from ..errors import LedgerError

    check = ledger.verify()
    if not check.ok:
        first = check.problems[0]
        more = f" (and {len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
        raise LedgerError(f"{ledger.display}: the ledger's hash chain does not verify, so its history cannot be used "
                          f"by the trend rules: {first.message}{more}; run audit ledger verify {ledger.display}.")
