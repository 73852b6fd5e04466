"""Explanations: SHAP importance, a beeswarm summary, per-group views and possible proxies."""

from __future__ import annotations

from .. import charts
from ..formatting import fmt_interval, fmt_number, fmt_percent

__all__ = ["explanations_terms", "explanations_view"]

#: Inputs ranked for the per-group views and tables.
TOP_INPUTS = 8
#: Inputs charted per group.
GROUP_INPUTS = 6
#: What each SHAP algorithm measures, as the report says it.
ALGORITHMS = {
    "interventional": (
        "interventional SHAP: each input is switched between the row's value and the values of a "
        "background sample of the audited rows, independently of the other inputs, so the values "
        "describe what the model does with each input"),
    "path_dependent": (
        "path-dependent TreeSHAP: an input left out is averaged over the training data's share of rows in "
        "each branch of the trees, given the inputs split on above it, with no background sample; with "
        "correlated inputs the credit follows the training data's correlations and can differ from "
        "interventional values, which describe what the model does with each input on its own"),
}
#: Possible proxies listed, flagged first.
PROXIES_LISTED = 15


def explanations_view(results: dict) -> dict:
    """The explanations section (always shown: a skipped or failed stage says why)."""
    explanations = results.get("explanations") or {"status": "skipped"}
    status = explanations.get("status", "skipped")
    if status != "ok":
        return {"status": status, "reason": explanations.get("reason", "")}
    sensitive = set((results.get("data") or {}).get("sensitive_features", []))
    importance = explanations.get("importance", [])
    top = [r["feature"] for r in importance[:TOP_INPUTS]][:GROUP_INPUTS]
    by_group: dict[str, list[dict]] = {}
    for g in explanations.get("by_group", []):
        by_group.setdefault(g["feature"], []).append(g)
    group_views = []
    for feature, groups in by_group.items():
        if " & " in feature:
            continue
        group_views.append({
            "feature": feature,
            "chart": charts.group_shap_chart(feature, groups, top),
            "alt": f"Mean SHAP value of the most important inputs for each group of {feature}.",
            "rows": [{"group": g["group"], "n": fmt_number(g.get("n")),
                      "values": [{"feature": v["input_feature"], "mean_abs": fmt_number(v.get("mean_abs_shap")),
                                  "mean": fmt_number(v.get("mean_shap"))}
                                 for v in g.get("values", []) if v["input_feature"] in top]} for g in groups],
            "top": top,
        })
    return {
        "status": "ok",
        "method": explanations.get("method"),
        "algorithm": ALGORITHMS.get(explanations.get("algorithm") or "interventional"),
        "output": explanations.get("output"),
        "rows_explained": fmt_number(explanations.get("rows_explained")),
        "background_rows": fmt_number(explanations.get("background_rows")),
        "additivity": f"{explanations.get('max_additivity_error'):.1e}" if explanations.get("max_additivity_error") is not None else "—",
        "importance": [{"feature": r["feature"], "value": fmt_number(r.get("mean_abs_shap"), 4),
                        "interval": fmt_interval(r.get("ci"), 4), "share": fmt_percent(r.get("share")),
                        "sensitive": r["feature"] in sensitive} for r in importance],
        "importance_chart": charts.importance_chart(importance, sensitive),
        "beeswarm_chart": charts.beeswarm_chart(_beeswarm(explanations.get("beeswarm"))),
        "shap_share": [{"feature": k, "share": fmt_percent(v)} for k, v in (explanations.get("shap_share") or {}).items()],
        "groups": group_views,
        "proxies": [{"input": p["input_feature"], "sensitive": p["sensitive_feature"],
                     "association": fmt_number(p.get("association")), "measure": p.get("measure", ""),
                     "importance": fmt_percent(p.get("importance_share")), "flagged": p.get("flagged", False)}
                    for p in sorted(explanations.get("proxies", []),
                                    key=lambda p: (not p.get("flagged"), -(p.get("association") or 0)))[:PROXIES_LISTED]],
    }


def explanations_terms(results: dict) -> set[str]:
    """With explanations computed: SHAP and the attribution share."""
    return {"shap", "shap_share"} if (results.get("explanations") or {}).get("status") == "ok" else set()


def _beeswarm(beeswarm: dict | None) -> dict | None:
    """The beeswarm sample, with a point's value ranks dropped unless they pair one-to-one with its
    SHAP values (its dots are then grey, as for a categorical input)."""
    if not beeswarm:
        return None
    points = []
    for point in beeswarm.get("points") or []:
        ranks = point.get("value_rank")
        if ranks is not None and len(ranks) != len(point.get("shap") or []):
            point = {**point, "value_rank": None}
        points.append(point)
    return {**beeswarm, "points": points}
