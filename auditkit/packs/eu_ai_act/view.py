"""The pack's report section: which parts of the technical documentation are present or missing.

A pure function of ``results.json``.
"""

from __future__ import annotations

__all__ = ["section_view"]


def section_view(results: dict) -> dict:
    from .. import _regulatory as ev
    from .documents import DOCUMENT_NAMES, PARTS

    status = ev.completeness(results, PARTS)
    return {"documents": list(DOCUMENT_NAMES), "missing": status["missing"], "optional_missing": status["optional_missing"],
            "provided": [PARTS[k]["heading"] for k in status["provided"]], "unused": status["unused"],
            "writer": "provider", "accuracy_declared": bool(ev.declared_accuracy_rules(results))}
