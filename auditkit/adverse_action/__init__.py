"""Reasons for individual decisions: the principal reasons of each adverse decision, from exact
SHAP values, mapped to the policy's reason codes (``auditkit.reasons``; docs/reasons.md).

(The package is named ``adverse_action`` so that ``auditkit.reasons`` stays the function.)
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["ReasonCodes", "reasons"]

_LAZY = {"ReasonCodes": "._codes", "reasons": "._api"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
