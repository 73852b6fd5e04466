"""View models of the regulatory packs' report sections (framing, adverse impact, LL144).

Pure functions of a ``results.json`` document, like :mod:`auditkit.report.view`: they read
and format, and compute nothing.
"""

from __future__ import annotations

from .formatting import fmt_interval, fmt_number, fmt_percent, status_icon, status_label

__all__ = ["adverse_impact_view", "ll144_view", "packs_view"]

TEST_LABELS = {"fisher": "Fisher's exact test", "z": "two-proportion z-test"}
DRIVERS = {"practical": "practical test (ratio)", "statistical": "statistical test", "both": "both tests", None: "—"}


def packs_view(results: dict) -> list[dict]:
    """One entry per extended pack: its texts and the statuses of its rules."""
    rules = {r["id"]: r for r in results.get("rules", [])}
    out = []
    for pack in results.get("packs") or []:
        pack_rules = [rules[i] for i in pack.get("rules", []) if i in rules]
        out.append({"name": pack["name"], "title": pack["title"], "description": pack.get("description", ""),
                    "framing": pack.get("framing", ""), "sections": pack.get("sections", []),
                    "rules": [{"id": r["id"], "status": r["status"], "status_label": status_label(r["status"]),
                               "icon": status_icon(r["status"]), "gating": r.get("gating", False)} for r in pack_rules]})
    return out


def adverse_impact_view(results: dict) -> list[dict]:
    """One table per impact_ratio rule: every group with both tests side by side."""
    impact = results.get("adverse_impact") or {}
    features = {f["feature"]: f for f in impact.get("features", [])}
    tables = []
    for rule in results.get("rules", []):
        if rule["metric"] != "impact_ratio":
            continue
        feature = features.get(rule.get("feature")) or {}
        judged = {d["group"]: d for d in rule.get("details") or []}
        test_label = TEST_LABELS.get(rule.get("statistical_test"), rule.get("statistical_test") or "")
        holm = impact.get("adjust") == "holm"
        rows = []
        for g in feature.get("groups", []):
            d = judged.get(g["group"])
            fisher = rule.get("statistical_test") == "fisher"
            p = g.get("fisher_p") if fisher else g.get("z_p")
            p_adjusted = (g.get("fisher_p_adjusted") if fisher else g.get("z_p_adjusted")) if holm else None
            if g.get("is_reference"):
                note, verdict = "reference (highest selection rate)", None
            elif g.get("status") != "ok":
                note, verdict = f"not judged: fewer than {impact.get('min_group_size')} rows", None
            else:
                note, verdict = "", d
            rows.append({
                "group": g["group"], "n": fmt_number(g["n"]), "selected": fmt_number(g["selected"]),
                "rate": fmt_percent(g.get("selection_rate")), "ratio": _fmt_ratio(g.get("impact_ratio")),
                "interval": fmt_interval(g.get("ci")), "p_value": _fmt_p(p),
                "p_adjusted": _fmt_p(p_adjusted) if p_adjusted is not None else None,
                "z": fmt_number(g.get("z"), 2) if rule.get("statistical_test") == "z" else None,
                "practical": verdict["practical"] if verdict else None,
                "statistical": verdict["statistical"] if verdict else None,
                "verdict": verdict["verdict"] if verdict else None,
                "verdict_label": status_label(verdict["verdict"]) if verdict else "",
                "driver": DRIVERS.get(verdict["driver"]) if verdict and verdict["verdict"] == "fail" else "",
                "note": note, "insufficient": g.get("status") != "ok",
            })
        unknown = feature.get("unknown") or {}
        unknown_rows = [{"group": u["group"], "n": fmt_number(u["n"]), "selected": fmt_number(u["selected"]),
                         "rate": fmt_percent(u.get("selection_rate"))} for u in unknown.get("values") or []]
        tables.append({
            "rule_id": rule["id"], "feature": rule.get("feature"), "status": rule["status"],
            "status_label": status_label(rule["status"]), "icon": status_icon(rule["status"]),
            "minimum": fmt_number((rule.get("threshold") or {}).get("min")), "test": rule.get("test"),
            "test_label": test_label, "alpha": fmt_number(rule.get("alpha")), "message": rule.get("message", ""),
            "reference": feature.get("reference_group"), "reason": feature.get("reason"), "rows": rows,
            "confidence": fmt_percent(impact.get("confidence"), 0),
            "interval_method": _interval_label(impact.get("interval_method")),
            "adjust": "holm" if holm else "none",
            "unknown": ({"n": fmt_number(unknown["n"]), "selected": fmt_number(unknown.get("selected")),
                         "rate": fmt_percent(unknown.get("selection_rate")), "rows": unknown_rows}
                        if unknown.get("n") else None),
            "unknown_values": ", ".join(impact.get("unknown_values") or []),
        })
    return tables


def ll144_view(ll144: dict | None) -> dict | None:
    """The LL144 bias audit summary, formatted for the report and the standalone page."""
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


def _interval_label(method: str | None) -> str:
    """Short name of the ratio interval's method (older results.json files used Katz's)."""
    if not method:
        return "Katz log"
    return "Koopman score" if "Koopman" in method else "Katz log" if "Katz" in method else method


def _fmt_ratio(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _fmt_p(p) -> str:
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
