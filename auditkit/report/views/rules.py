"""The rules table: every rule of the policy, in policy order."""

from __future__ import annotations

from ...metrics import rule_sentence
from ..formatting import fmt_interval, fmt_number, fmt_rule_bound, status_icon, status_label

__all__ = ["rule_rows", "rules_terms", "rules_view"]

#: Glossary terms every report uses: rules are decided on estimates or intervals.
BASE_TERMS = frozenset({"confidence_interval", "inconclusive"})


def rules_view(results: dict) -> dict:
    """The rules section: ``rules``, one row per rule (the section is always shown)."""
    return {"rules": rule_rows(results)}


def rules_terms(results: dict) -> set[str]:
    """The glossary terms of the rules: their metrics, intervals and inconclusive results."""
    return set(BASE_TERMS) | {r["metric"] for r in results.get("rules", [])}


def rule_rows(results: dict) -> list[dict]:
    """One row per rule, as the rules table, the verdict and ``summary.md`` show it."""
    return [_rule_row(rule) for rule in results.get("rules", [])]


def _rule_row(rule: dict) -> dict:
    scope = rule.get("feature") or "all rows"
    if rule.get("group"):
        scope = f"{scope} (worst group: {rule['group']})" if rule["status"] != "pass" else f"{scope}"
    return {
        "id": rule["id"],
        "sentence": rule.get("description") or rule_sentence(rule["metric"], rule.get("feature"), rule.get("threshold", {})),
        "rationale": rule.get("rationale"),
        "metric": rule["metric"],
        "scope": scope,
        "observed": fmt_number(rule.get("observed")),
        "interval": fmt_interval(rule.get("ci")),
        "threshold": fmt_rule_bound(rule),
        "trend_chart": _trend_chart(rule) if rule.get("trend") else None,
        "severity": rule.get("severity"),
        "status": rule["status"],
        "status_label": status_label(rule["status"]),
        "icon": status_icon(rule["status"]),
        "decided_on": rule.get("decided_on", "estimate"),
        "gating": rule.get("gating", False),
        "message": rule.get("message", ""),
        "waiver": rule.get("waiver"),
    }


def _trend_chart(rule: dict) -> str | None:
    """The history a trend rule was judged on, drawn beside it (None without earlier audits)."""
    from ...metrics import get_metric
    from ..charts import history_chart

    points = [p for p in rule.get("details") or [] if isinstance(p, dict) and "value" in p]
    if len(points) < 2:
        return None
    metric = get_metric(rule["metric"])
    series = []
    for p in points:
        ci = p.get("ci") or [None, None]
        series.append({"seq": p.get("seq"), "label": "this audit" if p.get("current") else None,
                       "recorded_at": p.get("recorded_at"),
                       "value": p.get("value"), "ci_low": ci[0], "ci_high": ci[1],
                       "status": rule["status"] if p.get("current") else "earlier"})
    return history_chart(series, metric=rule["metric"], direction=metric.direction if metric is not None else 0)
