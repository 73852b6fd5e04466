"""The data overview: size, target, and the representation, base rate and missing values of
every sensitive group, before any model."""

from __future__ import annotations

from ..formatting import fmt_number, fmt_percent

__all__ = ["data_terms", "data_view"]

#: How many columns with uneven missing values the table lists; the rest are counted.
MISSINGNESS_SHOWN = 20


def data_view(results: dict) -> dict:
    """The data section (always shown): from the data-bias stage, else from the fairness groups."""
    data = results.get("data") or {}
    bias = results.get("data_bias")
    fairness = results.get("fairness")
    groups = []
    missingness = []
    disparities = []
    if bias:
        rates = {(b["feature"], b["group"]): b.get("base_rate") for b in bias.get("base_rates", [])}
        min_size = bias.get("min_group_size") or 0
        for g in bias.get("representation", []):
            groups.append({"feature": g["feature"], "group": g["group"], "n": fmt_number(g["n"]),
                           "share": fmt_percent(g.get("share")),
                           "base_rate": fmt_number(rates.get((g["feature"], g["group"]))),
                           "status": "ok" if g["n"] >= min_size else "insufficient_data"})
        disparities = [{"feature": d["feature"], "difference": fmt_number(d.get("difference")),
                        "ratio": fmt_number(d.get("ratio"))} for d in bias.get("base_rate_disparity", [])]
        for m in sorted(bias.get("missingness", []), key=lambda m: -(m.get("gap") or 0)):
            if not m.get("gap"):
                continue
            missingness.append({"feature": m["feature"], "column": m["column"], "gap": fmt_percent(m.get("gap")),
                                "flagged": m.get("flagged", False),
                                "rates": ", ".join(f"{k}: {fmt_percent(v)}" for k, v in (m.get("rates") or {}).items())})
    elif fairness:
        for g in fairness.get("groups", []):
            m = g.get("metrics") or {}
            groups.append({"feature": g["feature"], "group": g["group"], "n": fmt_number(g["n"]),
                           "share": fmt_percent(g.get("share")), "base_rate": fmt_number(m.get("base_rate")),
                           "status": g.get("status")})
    if data.get("label_status") == "pending":  # no base rate without labels: say so, never a dash that reads as zero
        groups = [{**g, "base_rate": "labels pending"} for g in groups]
    return {"rows": fmt_number(data.get("rows")), "columns": fmt_number(data.get("columns")),
            "target": data.get("target"), "positive_label": data.get("positive_label"),
            "task": data.get("task"), "groups": groups,
            "base_rate": "labels pending" if data.get("label_status") == "pending" else fmt_percent(data.get("base_rate")),
            "base_rate_disparities": disparities, "missingness": missingness[:MISSINGNESS_SHOWN],
            "missingness_hidden": max(0, len(missingness) - MISSINGNESS_SHOWN),
            "min_group_size": (bias or {}).get("min_group_size")}


def data_terms(results: dict) -> set[str]:
    """With the data-bias stage: group shares, base rates and missingness gaps."""
    return {"share", "base_rate", "missingness_gap"} if results.get("data_bias") else set()
