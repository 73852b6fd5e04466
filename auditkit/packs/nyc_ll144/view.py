"""The LL144 bias audit summary's view, shared by the report section and the standalone page.

Pure functions of a ``results.json`` document: they read and format, and compute nothing.
"""

from __future__ import annotations

__all__ = ["ll144_section_view", "ll144_view"]


def ll144_section_view(results: dict) -> dict | None:
    """The report section's view: the summary of ``results["ll144"]`` (None without one)."""
    return ll144_view(results.get("ll144"))


def ll144_view(ll144: dict | None) -> dict | None:
    """The LL144 bias audit summary, formatted for the report and the standalone page."""
    from ...report.formatting import fmt_number, fmt_percent

    if not ll144:
        return None
    scoring = ll144["mode"] == "scoring"
    tables = []
    for t in ll144["tables"]:
        rows = []
        for c in t["categories"]:
            rows.append({"sex": c.get("sex") or "", "race_ethnicity": c.get("race_ethnicity") or "",
                         "n": fmt_number(c["n"]), "selected": fmt_number(c["selected"]),
                         "rate": fmt_percent(c["rate"]), "share": fmt_percent(c["share"], 2),
                         "ratio": _fmt_ratio(c["impact_ratio"]) if not c["excluded"] else "excluded",
                         "excluded": c["excluded"], "reference": c.get("is_reference", False)})
        tables.append({"name": t["name"], "title": t["title"], "rows": rows, "unknown": fmt_number(t["unknown"]),
                       "excluded": t["excluded"], "reference": t.get("reference"), "reason": t.get("reason"),
                       "show_sex": t["name"] != "race_ethnicity", "show_race": t["name"] != "sex"})
    lowest = ll144.get("lowest_impact_ratio")
    return {
        "mode": ll144["mode"], "scoring": scoring,
        "rate_name": ll144["rate_name"], "rate_title": "Scoring rate" if scoring else "Selection rate",
        "outcome_title": "Scoring above median" if scoring else "Selected",
        "median_score": fmt_number(ll144.get("median_score"), 4), "total": fmt_number(ll144["total"]),
        "exclude_below": fmt_percent(ll144["exclude_below"], 0),
        "exclusion_justification": ll144.get("exclusion_justification"),
        "unknown_values": ", ".join(ll144.get("unknown_values") or []),
        "audit_date": ll144.get("audit_date"), "data_source": ll144.get("data_source"),
        "data_kind": ll144.get("data_kind"), "test_data_reason": ll144.get("test_data_reason"),
        "tool": ll144.get("tool"), "auditor": ll144.get("auditor"), "columns": ll144.get("columns") or {},
        "data_file": ll144.get("data_file"), "tables": tables,
        "any_excluded": any(t["excluded"] for t in tables),
        "lowest": ({"value": fmt_number(lowest["value"]), "table": lowest["table"].replace("_", "/"),
                    "category": lowest["category"]} if lowest else None),
    }


def _fmt_ratio(value) -> str:
    return "—" if value is None else f"{value:.3f}"
