"""The data overview: size, target, and the representation, base rate and missing values of
every sensitive group, before any model; with a declared population, the representativeness
of each group against it."""

from __future__ import annotations

from ..formatting import fmt_interval, fmt_number, fmt_percent

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
            "min_group_size": (bias or {}).get("min_group_size"),
            "representativeness": representativeness_view((bias or {}).get("representativeness"))}


def fmt_p_value(value) -> str:
    """A p-value: three decimals, or three significant digits below 0.001 (never a bare 0.000)."""
    if value is None:
        return "—"
    if 0 < value < 0.001:
        return f"{value:.3g}"
    return fmt_number(value)


def representativeness_view(block) -> dict | None:
    """``data_bias.representativeness``: one row per feature and group, and the fit per feature."""
    if not block:
        return None
    features = []
    for f in block.get("features") or []:
        rows = []
        for g in f.get("groups") or []:
            declared = g.get("expected_share") is not None
            rows.append({"group": g["group"], "n": fmt_number(g.get("n")), "share": fmt_percent(g.get("share")),
                         "share_ci": "[" + ", ".join(fmt_percent(x) for x in g["share_ci"]) + "]" if g.get("share_ci") else "",
                         "expected": fmt_percent(g.get("expected_share")) if declared else "not in the declared population",
                         "ratio": fmt_number(g.get("ratio")), "ratio_ci": fmt_interval(g.get("ratio_ci")),
                         "declared": declared, "lowest": declared and g["group"] == f.get("lowest_group"),
                         "absent": declared and not g.get("n")})
        features.append({"feature": f["feature"], "n": fmt_number(f.get("n")), "groups": rows,
                         "statistic": fmt_number(f.get("statistic")) if f.get("statistic") is not None else "infinite",
                         "df": fmt_number(f.get("df")), "p_value": fmt_p_value(f.get("p_value")),
                         "lowest_ratio": fmt_number(f.get("lowest_ratio")),
                         "lowest_ratio_ci": fmt_interval(f.get("lowest_ratio_ci")), "lowest_group": f.get("lowest_group"),
                         "reason": f.get("reason")})
    confidence = block.get("confidence")
    return {"source": block.get("source"), "features": features,
            "confidence": fmt_percent(confidence, 0) if confidence is not None else "95%"}


def data_terms(results: dict) -> set[str]:
    """With the data-bias stage: group shares, base rates and missingness gaps."""
    bias = results.get("data_bias")
    if not bias:
        return set()
    terms = {"share", "base_rate", "missingness_gap"}
    if bias.get("representativeness"):
        terms |= {"representation_ratio", "representation_gof_pvalue"}
    return terms
