"""The regulatory packs: for each pack the policy extends, its title, what its verdict does and
does not establish, the statuses of its rules, and the pack's own sections."""

from __future__ import annotations

from ..formatting import status_icon, status_label
from ..pack_plugins import extended_packs

__all__ = ["pack_rows", "packs_terms", "packs_view"]


def packs_view(results: dict) -> dict | None:
    """The packs section: ``packs``, one entry per extended pack; None without ``extends``."""
    rows = pack_rows(results)
    if not rows:
        return None
    built = {plugin.name: _built_sections(plugin, results) for plugin in extended_packs(results)}
    return {"packs": [dict(row, sections=built.get(row["name"], [])) for row in rows]}


def pack_rows(results: dict) -> list[dict]:
    """One entry per extended pack: its texts and the statuses of its rules (``summary.md`` too)."""
    rules = {r["id"]: r for r in results.get("rules", [])}
    rows = []
    for pack in results.get("packs") or []:
        pack_rules = [rules[i] for i in pack.get("rules", []) if i in rules]
        rows.append({"name": pack["name"], "title": pack["title"], "description": pack.get("description", ""),
                     "framing": pack.get("framing", ""),
                     "rules": [{"id": r["id"], "status": r["status"], "status_label": status_label(r["status"]),
                                "icon": status_icon(r["status"]), "gating": r.get("gating", False)} for r in pack_rules]})
    return rows


def packs_terms(results: dict) -> set[str]:
    """The glossary terms of the extended packs for these results: each plugin's
    ``glossary_terms`` and its sections' ``terms``."""
    terms: set[str] = set()
    for plugin in extended_packs(results):
        terms.update(plugin.glossary_terms(results))
        for section in plugin.report_sections():
            terms.update(section.terms(results))
    return terms


def _built_sections(plugin, results: dict) -> list[dict]:
    """The pack's sections that have something to show, each with its view."""
    built = []
    for section in plugin.report_sections():
        view = section.build(results)
        if view is not None:
            built.append({"id": section.id, "title": section.title, "template": section.template, "view": view})
    return built
