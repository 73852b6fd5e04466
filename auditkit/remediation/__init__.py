"""Remedies: changes that would make failing fairness rules pass, verified by the gate.

Each candidate is fitted and judged by cross-fitting over the audit rows (fitted on K-1
folds, decided on the fold it never saw), with the audit's bootstrap intervals, and judged
by the policy's own rules. Nothing is applied automatically: a remedy is a decision for
people. See ``docs/remedies.md``. (The package is named ``remediation`` so that ``auditkit.remedies`` stays the function.)
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["RemedyCandidate", "RemedyResult", "find_remedies", "remedies", "reweigh"]

_LAZY = {
    "RemedyCandidate": "._result",
    "RemedyResult": "._result",
    "find_remedies": "._candidates",
    "remedies": "._api",
    "reweigh": "._reweigh",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
