"""The report's view model: a pure function of a ``results.json`` document.

Everything the templates show is prepared here and in :mod:`auditkit.report.views` (labels,
formatted numbers, chart images); templates only lay it out. No statistics are computed:
values are read from the results.
"""

from __future__ import annotations

from pathlib import Path

from . import charts, sections
from .formatting import fmt_number
from .views.packs import pack_rows
from .views.provenance import auditkit_version
from .views.rules import rule_rows

__all__ = ["build_view"]

#: The rule counts the verdict shows, by status.
COUNTED = ("rules", "pass", "fail", "warn", "inconclusive", "waived", "error", "pending")


def build_view(results: dict, *, charts_enabled: bool = True) -> dict:
    """Turn a results document into the report's view model ``v``.

    ``v`` holds what the page shows outside the sections (title, verdict, counts, ``rules``,
    the extended ``packs``); ``sections``, the shown sections in order, each with ``id``,
    ``title``, ``heading``, ``template`` and its ``view``; and ``views``, every section's view
    by id (None for a section not shown). Without ``charts_enabled`` no chart is drawn
    (``summary.md`` shows none).
    """
    if charts_enabled:
        built = _built_sections(results)
    else:
        with charts.charts_disabled():
            built = _built_sections(results)
    summary = results.get("summary") or {}
    model = results.get("model") or {}
    data = results.get("data") or {}
    rules = rule_rows(results)
    return {
        "title": f"Audit report — {results.get('policy', {}).get('name', 'audit')}",
        "policy": results.get("policy", {}),
        "status": results.get("status"),
        "verdict": "PASS" if results.get("status") == "passed" else "FAIL",
        "counts": {k: summary.get(k, 0) for k in COUNTED},
        "gating_rules": [r for r in rules if r["gating"]],
        "rules": rules,
        "model_name": model.get("description") or "no model (data checks only)",
        "model_path": Path(model["path"]).name if model.get("path") else None,
        "data_name": Path(data.get("path", "")).name,
        "data_rows": fmt_number(data.get("rows")),
        "labels_pending": data.get("label_status") == "pending",
        "date": (results.get("provenance") or {}).get("finished_at") or "",
        "warnings": results.get("warnings", []),
        "packs": pack_rows(results),
        "auditkit_version": auditkit_version(results),
        "schema_version": results.get("schema_version"),
        "sections": [s for s in built if s["view"] is not None],
        "views": {s["id"]: s["view"] for s in built},
    }


def _built_sections(results: dict) -> list[dict]:
    return [{"id": s.id, "title": s.title, "heading": s.heading or s.title, "template": s.template,
             "view": s.build(results)} for s in sections.CORE_SECTIONS]
