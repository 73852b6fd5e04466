"""Fairness: per sensitive feature and intersection, a chart and a table of each group's
metrics, and the disparities between groups. With labels pending: the label-free metrics only,
the policy's label metrics named as awaiting labels, and the score distribution per group."""

from __future__ import annotations

from ...metrics import AGGREGATES, DEFAULT_FAIRNESS_METRICS, LABEL_FREE_AGGREGATES, LABEL_FREE_METRICS
from .. import charts
from ..formatting import fmt_interval, fmt_number, fmt_percent
from .bootstrap import bootstrap_view

__all__ = ["fairness_terms", "fairness_view"]


def fairness_view(results: dict) -> dict | None:
    """The fairness section; None without a model."""
    fairness = results.get("fairness")
    if not fairness:
        return None
    rules = results.get("rules", [])
    pending = fairness.get("labels") == "pending"
    distribution: dict[str, list[dict]] = {}
    for d in fairness.get("score_distribution") or []:
        if d.get("feature") is not None:
            distribution.setdefault(d["feature"], []).append(d)
    disparities: dict[str, list[dict]] = {}
    for d in fairness.get("disparities", []):
        disparities.setdefault(d["feature"], []).append(d)
    features = []
    for feature, groups in _groups_by_feature(fairness).items():
        wanted = _shown_metrics(fairness, rules, feature, groups)
        group_rows = []
        for g in groups:
            metrics = g.get("metrics") or {}
            cis = g.get("ci") or {}
            undefined = g.get("undefined") or {}
            group_rows.append({
                "group": g["group"], "n": fmt_number(g["n"]), "share": fmt_percent(g.get("share")),
                "status": g.get("status"), "insufficient": g.get("status") != "ok",
                "cells": [{"value": fmt_number(metrics.get(m)), "interval": fmt_interval(cis.get(m)),
                           "note": undefined.get(m)} for m in wanted],
            })
        disparity_rows = [{
            "metric": d["metric"], "difference": fmt_number(d.get("difference")),
            "difference_ci": fmt_interval(d.get("difference_ci")), "ratio": fmt_number(d.get("ratio")),
            "ratio_ci": fmt_interval(d.get("ratio_ci")), "reference": d.get("reference_group"),
            "compared": d.get("groups_compared"),
        } for d in disparities.get(feature, []) if d["metric"] in wanted or d["metric"] in AGGREGATES]
        features.append({
            "name": feature, "is_intersection": " & " in feature, "metrics": wanted, "groups": group_rows,
            "excluded": [g for g in group_rows if g["insufficient"]], "disparities": disparity_rows,
            "chart": charts.fairness_chart(feature, groups, wanted, _threshold_lines(rules, feature, groups)),
            "chart_alt": f"Chart of {', '.join(wanted)} for each group of {feature}, with confidence intervals and rule thresholds as dashed lines.",
            "scores": _score_rows(distribution.get(feature, [])),
        })
    return {"features": features, "bootstrap": bootstrap_view(fairness.get("bootstrap")), "task": fairness.get("task"),
            "min_group_size": fairness.get("min_group_size"), "excluded": fairness.get("excluded_groups", []),
            "labels_pending": pending, "awaiting": _awaiting(fairness, rules) if pending else []}


def _awaiting(fairness: dict, rules: list[dict]) -> list[str]:
    """The policy's focus metrics and rule metrics that need labels: shown as awaiting them."""
    free = set(LABEL_FREE_METRICS) | set(LABEL_FREE_AGGREGATES)
    names = list(fairness.get("awaiting_labels") or [])
    for rule in rules:
        if rule.get("status") == "pending" and rule.get("compare") is None and rule.get("metric"):
            metric = rule["metric"]
            names.append(metric.rsplit("_", 1)[0] if metric.endswith(("_ratio", "_difference")) else metric)
    return [n for n in dict.fromkeys(names) if n not in free]


def _score_rows(records: list[dict]) -> list[dict]:
    from .performance import _score_rows as rows

    return rows(records)


def fairness_terms(results: dict) -> set[str]:
    """The metrics shown per feature, the aggregates of the disparities shown, difference and ratio."""
    fairness = results.get("fairness")
    if not fairness:
        return set()
    terms: set[str] = set()
    rules = results.get("rules", [])
    for feature, groups in _groups_by_feature(fairness).items():
        terms.update(_shown_metrics(fairness, rules, feature, groups))
        terms.update(d["metric"] for d in fairness.get("disparities", [])
                     if d["feature"] == feature and d["metric"] in AGGREGATES)
        terms.update({"difference", "ratio"})
    return terms


def _groups_by_feature(fairness: dict) -> dict[str, list[dict]]:
    groups_by_feature: dict[str, list[dict]] = {}
    for g in fairness.get("groups", []):
        groups_by_feature.setdefault(g["feature"], []).append(g)
    return groups_by_feature


def _shown_metrics(fairness: dict, rules: list[dict], feature: str, groups: list[dict]) -> list[str]:
    """The policy's focus metrics, and those a rule on the feature is built on (when computed)."""
    wanted = list(fairness.get("metrics") or DEFAULT_FAIRNESS_METRICS)
    if fairness.get("labels") == "pending":  # only what was computed: the label-free metrics
        computed = set((fairness.get("overall") or {}))
        wanted = [m for m in wanted if m in computed] + [m for m in ("selection_rate", "mean_score", "mean_prediction")
                                                         if m in computed and m not in wanted]
    for rule in rules:
        if rule.get("feature") == feature:
            base = rule["metric"].rsplit("_", 1)[0] if rule["metric"].endswith(("_ratio", "_difference")) else rule["metric"]
            for b in AGGREGATES.get(base, [base]):
                if b not in wanted and any(b in (g.get("metrics") or {}) for g in groups):
                    wanted.append(b)
    return wanted


def _threshold_lines(rules: list[dict], feature: str, groups: list[dict]) -> dict[str, list[tuple[float, str]]]:
    """Where a rule's threshold falls on each metric panel of a feature's chart."""
    lines: dict[str, list[tuple[float, str]]] = {}
    for rule in rules:
        if rule.get("feature") != feature:
            continue
        metric, threshold = rule["metric"], rule.get("threshold", {})
        if metric.endswith("_ratio") or metric.endswith("_difference"):
            base, kind = metric.rsplit("_", 1)
            for b in AGGREGATES.get(base, [base]):
                values = [(g.get("metrics") or {}).get(b) for g in groups if g.get("status") == "ok"]
                values = [v for v in values if v is not None]
                if not values:
                    continue
                top = max(values)
                if kind == "ratio" and threshold.get("min") is not None:
                    lines.setdefault(b, []).append((threshold["min"] * top, f"{rule['id']} limit"))
                if kind == "difference" and threshold.get("max") is not None:
                    lines.setdefault(b, []).append((top - threshold["max"], f"{rule['id']} limit"))
        else:
            for bound in ("min", "max"):
                if threshold.get(bound) is not None:
                    lines.setdefault(metric, []).append((threshold[bound], f"{rule['id']} {bound}"))
    return lines
