"""Candidate against champion: both models side by side, the change with its paired interval,
the groups where the candidate is worse first."""

from __future__ import annotations

from pathlib import Path

from ...metrics import AGGREGATES, DEFAULT_FAIRNESS_METRICS, get_metric
from ..formatting import fmt_interval, fmt_number
from .bootstrap import bootstrap_view

__all__ = ["champion_view"]

#: Overall metrics compared beside the policy's focus metrics.
OVERALL_EXTRA = ("balanced_accuracy", "auc", "f1")
#: How many worse group metrics the summary box lists.
WORSE_LISTED = 12


def champion_view(results: dict) -> dict | None:
    """The champion section; None without a champion."""
    champion = results.get("champion")
    if not champion:
        return None
    model = results.get("model") or {}
    changes = champion.get("changes") or {}
    focus = list((results.get("fairness") or {}).get("metrics") or DEFAULT_FAIRNESS_METRICS)
    overall = [_cell(c) for c in changes.get("overall", []) if c["metric"] in (*focus, *OVERALL_EXTRA)]
    cells = [dict(_cell(c), feature=c["feature"], group=c["group"], n=fmt_number(c.get("n")),
                  insufficient=c.get("status") != "ok")
             for c in changes.get("groups", []) if c["metric"] in focus]
    worse = sorted((g for g in cells if g["worse"] and not g["insufficient"]), key=lambda g: -g["worse_by"])
    # One row per group, one column per metric; the groups where the candidate is worse come first.
    by_feature: dict[str, dict[str, dict]] = {}
    for c in cells:
        row = by_feature.setdefault(c["feature"], {}).setdefault(c["group"], {
            "group": c["group"], "n": c["n"], "insufficient": c["insufficient"], "cells": {}, "worst": 0.0})
        row["cells"][c["metric"]] = c
        if not c["insufficient"]:
            row["worst"] = max(row["worst"], c["worse_by"])
    groups = {feature: [dict(r, cells=[r["cells"].get(m) for m in focus])
                        for r in sorted(rows.values(), key=lambda r: (r["insufficient"], -r["worst"]))]
              for feature, rows in by_feature.items()}
    compared = {r.get("metric") for r in results.get("rules", []) if r.get("compare")}
    keep = {f"{aggregate}_{kind}" for aggregate in AGGREGATES for kind in ("difference", "ratio")} | compared
    disparities = [_cell(c) | {"feature": c["feature"]} for c in changes.get("disparities", []) if c["metric"] in keep]
    summary = champion.get("model") or {}
    return {
        "candidate_name": model.get("description"), "champion_name": summary.get("description"),
        "champion_path": Path(summary["path"]).name if summary.get("path") else summary.get("uri"),
        "overall": overall, "worse": worse[:WORSE_LISTED], "worse_total": len(worse), "metrics": focus,
        "groups": groups, "disparities": disparities,
        "bootstrap": bootstrap_view(champion.get("bootstrap")),
    }


def _direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither (the metric registry)."""
    definition = get_metric(metric)
    return definition.direction if definition is not None else 0


def _worse_by(metric: str, change) -> float:
    direction = _direction(metric)
    return 0.0 if change is None or direction == 0 else -direction * change


def _cell(c: dict) -> dict:
    worse = _worse_by(c["metric"], c.get("change"))
    ci = c.get("ci")
    sure = bool(ci and ci[0] is not None and _worse_by(c["metric"], ci[1] if _direction(c["metric"]) > 0 else ci[0]) > 0)
    return {"metric": c["metric"], "candidate": fmt_number(c.get("candidate")), "champion": fmt_number(c.get("champion")),
            "change": _signed(c.get("change")), "interval": fmt_interval(ci), "worse": worse > 0, "surely_worse": sure,
            "worse_by": worse}


def _signed(value) -> str:
    if value is None:
        return "—"
    text = fmt_number(abs(value))
    return ("+" if value > 0 else "−" if value < 0 else "±") + text
