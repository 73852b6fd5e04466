"""What would change the verdict: the remedies found for failing fairness rules (``results["remedies"]``),
each judged on rows it was not fitted on, as a trade-off chart and a table. Nothing is applied
automatically; the section says so first."""

from __future__ import annotations

from .. import charts
from ..formatting import (
    fmt_interval,
    fmt_number,
    fmt_threshold,
    status_icon,
    status_label,
)

__all__ = ["remedies_terms", "remedies_view"]

#: What each candidate kind is, in a few words (an unknown kind is shown by its name).
KIND_LABELS = {
    "current": "the model as audited",
    "single_threshold": "one decision threshold for everyone",
    "group_thresholds": "a decision threshold per group",
    "group_thresholds_randomized": "randomized thresholds per group",
    "neutralize_proxy": "proxy column neutralized (estimate)",
    "reweigh": "model retrained with reweighed rows",
}
#: Parameters shown per candidate at most, and characters per shown value.
MAX_PARAMETERS = 12
MAX_PARAMETER_TEXT = 120


def remedies_view(results: dict) -> dict | None:
    """The remedies section; None when the audit searched for no remedy (``remedies`` missing or null)."""
    remedies = results.get("remedies")
    if not remedies:
        return None
    candidates = [c for c in remedies.get("candidates") or [] if isinstance(c, dict)]
    failing = [r for r in remedies.get("failing_rules") or [] if isinstance(r, dict)]
    rule_ids = _rule_ids(failing, candidates)
    focus = remedies.get("focus") or {}
    numbered = [dict(c, number=i) for i, c in enumerate(candidates, start=1)]
    rows = [_row(c, rule_ids) for c in numbered]
    remedies_found = [r for r in rows if not r["is_current"]]
    return {
        "folds": remedies.get("folds"), "seed": remedies.get("seed"), "rows": fmt_number(remedies.get("rows")),
        "group_feature": remedies.get("group_feature"),
        "triggered_by": list(remedies.get("triggered_by") or []),
        "by_policy": list(remedies.get("triggered_by") or []) == ["policy"],
        "failing_rules": [_failing(r) for r in failing],
        "rule_ids": rule_ids,
        "focus": {"rule": focus.get("rule"), "metric": focus.get("metric"), "feature": focus.get("feature"),
                  "needs": _needs(focus.get("threshold"), _direction(focus, failing))} if focus else None,
        "candidates": rows,
        "none_found": not remedies_found,
        "passing": [r for r in remedies_found if r["passes"]],
        "any_group_aware": any(r["group_aware"] for r in rows),
        "notes": [str(n) for n in remedies.get("notes") or []],
        "chart": charts.remedy_tradeoff_chart(numbered, remedies.get("sweep"), focus, failing),
        "chart_alt": _chart_alt(focus, len(candidates)),
    }


def remedies_terms(results: dict) -> set[str]:
    """Accuracy, the selection rate and the focus rule's metric, when remedies are shown."""
    remedies = results.get("remedies")
    if not remedies:
        return set()
    terms = {"accuracy", "selection_rate"}
    metric = (remedies.get("focus") or {}).get("metric")
    if metric:
        terms.add(metric)
    return terms


def _rule_ids(failing: list[dict], candidates: list[dict]) -> list[str]:
    """The failing rules' ids (a column each), in order; without them, the rules the candidates report."""
    ids = [str(r["id"]) for r in failing if r.get("id") is not None]
    if not ids:
        for c in candidates:
            ids.extend(str(r["id"]) for r in c.get("rules") or [] if isinstance(r, dict) and r.get("id") is not None)
    return list(dict.fromkeys(ids))


def _direction(focus: dict, failing: list[dict]) -> str | None:
    """The focus rule's direction: its own, else its failing rule's (``min``/``max``)."""
    if focus.get("direction"):
        return focus["direction"]
    return next((r.get("direction") for r in failing if r.get("id") == focus.get("rule")), None)


def _needs(threshold, direction: str | None) -> str:
    """What a rule needs, from a threshold that is a number (with a direction) or a rule's
    ``{"min", "max"}`` object."""
    if isinstance(threshold, dict):
        return fmt_threshold(threshold)
    if threshold is None or isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        return ""
    return ("≥ " if direction == "min" else "≤ " if direction == "max" else "") + fmt_number(threshold)


def _failing(rule: dict) -> dict:
    return {"id": rule.get("id"), "metric": rule.get("metric"), "feature": rule.get("feature"),
            "status": status_label(str(rule.get("status") or "")), "status_key": rule.get("status"),
            "observed": fmt_number(rule.get("observed")), "ci": fmt_interval(rule.get("ci")),
            "needs": _needs(rule.get("threshold"), rule.get("direction"))}


def _estimate(value: dict | None) -> dict:
    value = value if isinstance(value, dict) else {}
    return {"value": fmt_number(value.get("value")), "ci": fmt_interval(value.get("ci"))}


def _change(value: dict | None) -> dict:
    value = value if isinstance(value, dict) else {}
    ci = value.get("ci")
    return {"value": _signed(value.get("value")),
            "ci": f"[{_signed(ci[0], zero='0')}, {_signed(ci[1], zero='0')}]" if ci and len(ci) == 2 else ""}


def _row(c: dict, rule_ids: list[str]) -> dict:
    by_id = {str(r.get("id")): r for r in c.get("rules") or [] if isinstance(r, dict)}
    rules = []
    for rule_id in rule_ids:
        r = by_id.get(rule_id)
        status = (r or {}).get("status")
        rules.append({"id": rule_id, "status": status or "", "icon": status_icon(status) if status else "—",
                      "label": status_label(status) if status else "not evaluated",
                      "observed": fmt_number((r or {}).get("observed")), "ci": fmt_interval((r or {}).get("ci")),
                      "blocks": (r or {}).get("gating") is not False})
    kind = str(c.get("kind") or "")
    return {
        "number": c["number"], "id": c.get("id"), "kind": kind, "kind_label": KIND_LABELS.get(kind, kind),
        "title": c.get("title") or c.get("id"), "is_current": kind == "current" or c.get("id") == "current",
        "group_aware": bool(c.get("group_aware")), "estimate": bool(c.get("estimate")),
        "randomized": c.get("deterministic") is False, "passes": bool(c.get("passes")),
        "rules": rules,
        "accuracy": _estimate(c.get("accuracy")), "accuracy_change": _change(c.get("accuracy_change")),
        "selection_rate": _estimate(c.get("selection_rate")),
        "selection_rate_change": _change(c.get("selection_rate_change")),
        "focus": _estimate(c.get("focus")),
        "parameters": _parameters(c.get("parameters")),
        "lawful_use": c.get("lawful_use") or "", "how_to_apply": c.get("how_to_apply") or "",
    }


HIDDEN_PARAMETERS = ("fold_thresholds", "decision_threshold")


def _parameters(parameters) -> list[dict]:
    """A candidate's parameters as (name, text) pairs, numbers formatted, long values cut."""
    if not isinstance(parameters, dict):
        return []
    # The per-fold thresholds and the policy's threshold are for reproducing the search
    # (results.json), not for choosing a remedy.
    parameters = {k: v for k, v in parameters.items() if k not in HIDDEN_PARAMETERS}
    shown = []
    for name, value in list(parameters.items())[:MAX_PARAMETERS]:
        shown.append({"name": str(name), "value": _cut(_plain(value))})
    if len(parameters) > MAX_PARAMETERS:
        shown.append({"name": "…", "value": f"{len(parameters) - MAX_PARAMETERS} more"})
    return shown


def _plain(value, depth: int = 0) -> str:
    if isinstance(value, (dict, list, tuple)) and depth >= 2:
        return "…"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v, depth + 1)}" for k, v in list(value.items())[:MAX_PARAMETERS])
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v, depth + 1) for v in value[:MAX_PARAMETERS])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_number(value)
    return "—" if value is None else str(value)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PARAMETER_TEXT else text[: MAX_PARAMETER_TEXT - 1] + "…"


def _signed(value, zero: str = "±0") -> str:
    """A change with its sign (``−`` for a decrease); ``zero`` for no change."""
    if value is None:
        return "—"
    if value == 0:
        return zero
    return ("+" if value > 0 else "−") + fmt_number(abs(value))


def _chart_alt(focus: dict, n: int) -> str:
    metric = focus.get("metric") or "the focus metric"
    return (f"Scatter chart of accuracy against {metric} for {n} candidate{'s' if n != 1 else ''}, numbered as in the "
            "table, each with its confidence intervals as whiskers; the rule's threshold is a dashed line and the "
            "curve of a single threshold for everyone a thin grey line.")
