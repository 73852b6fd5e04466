"""The four-fifths report section's view: a pure function of a ``results.json`` document.

It reads and formats (``adverse_impact`` and the impact_ratio rules); it computes nothing.
"""

from __future__ import annotations

__all__ = ["adverse_impact_view"]

TEST_LABELS = {"fisher": "Fisher's exact test", "z": "two-proportion z-test"}
DRIVERS = {"practical": "practical test (ratio)", "statistical": "statistical test", "both": "both tests", None: "—"}


def adverse_impact_view(results: dict) -> dict:
    """One table per impact_ratio rule (``tables``): every group with both tests side by side."""
    from ...report.formatting import fmt_interval, fmt_number, fmt_percent, status_icon, status_label

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
    return {"tables": tables}


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
