"""Reasons for adverse decisions: the audit of the principal reasons stated to applicants
(``results["reasons"]``): what a stated reason is, which inputs are never stated, the most common
reasons, how often each group is told each of them, the largest difference between groups, how
stable the reasons are, and whether a sensitive feature or proxy was stated."""

from __future__ import annotations

from .. import charts
from ..formatting import fmt_interval, fmt_number, fmt_percent

__all__ = ["reasons_terms", "reasons_view"]

#: Reasons charted per group (the most common overall).
TOP_REASONS = 5
#: How each baseline population is described (an unknown one is shown by its name).
BASELINES = {
    "background": "a random sample of all the audited applicants",
    "approved": "a random sample of the applicants the model approves",
}


def reasons_view(results: dict) -> dict | None:
    """The reasons section; None when the audit computed no reasons (``reasons`` missing or null)."""
    reasons = results.get("reasons")
    if not isinstance(reasons, dict) or not reasons:
        return None
    overall = [r for r in reasons.get("overall") or [] if isinstance(r, dict)]
    statements = {str(r.get("code")): r.get("statement") or "" for r in overall}
    groups = [g for g in reasons.get("groups") or [] if isinstance(g, dict)]
    top = [{"code": str(r.get("code")), "statement": r.get("statement") or ""} for r in overall[:TOP_REASONS]]
    baseline = str(reasons.get("baseline") or "")
    protected_stated = reasons.get("protected_stated") if isinstance(reasons.get("protected_stated"), dict) else None
    stated_count = (protected_stated or {}).get("count")
    return {
        "k": reasons.get("k"),
        "baseline": baseline,
        "baseline_text": BASELINES.get(baseline, baseline or "—"),
        "output": reasons.get("output") or "",
        "rows": fmt_number(reasons.get("rows")),
        "adverse": fmt_number(reasons.get("adverse")),
        "explained": fmt_number(reasons.get("explained")),
        "sampled": bool(reasons.get("sampled")),
        "protected": [str(c) for c in reasons.get("protected") or []],
        "excluded": [str(c) for c in reasons.get("excluded") or [] if c not in (reasons.get("protected") or [])],
        "allowed": [str(c) for c in reasons.get("allowed") or []],
        "confidence": fmt_percent(reasons.get("confidence"), 0) if reasons.get("confidence") is not None else "",
        "interval_method": reasons.get("interval_method") or "",
        "overall": [{"code": str(r.get("code")), "statement": r.get("statement") or "", "column": r.get("column") or "",
                     "count": fmt_number(r.get("count")), "share": fmt_percent(r.get("share")),
                     "ci": _percent_interval(r.get("ci"))} for r in overall],
        "top": top,
        "features": _features(groups, top),
        "disparities": [_disparity(d, statements) for d in reasons.get("disparities") or [] if isinstance(d, dict)],
        "stability": _stability(reasons.get("stability")),
        "protected_stated": {
            "count": fmt_number(stated_count), "share": fmt_percent((protected_stated or {}).get("share")),
            "ci": _percent_interval((protected_stated or {}).get("ci")),
            "any": isinstance(stated_count, (int, float)) and stated_count > 0,
            "known": stated_count is not None,
        } if protected_stated else None,
    }


def reasons_terms(results: dict) -> set[str]:
    """SHAP and confidence intervals, and the reason metrics, when reasons are shown."""
    if not isinstance(results.get("reasons"), dict) or not results["reasons"]:
        return set()
    return {"shap", "confidence_interval", "reason_stability", "reason_protected_share", "reason_share_difference"}


def _percent_interval(ci) -> str:
    """An interval of shares as percentages, ``[67.0%, 88.0%]``; '' without one."""
    if not ci or len(ci) != 2 or (ci[0] is None and ci[1] is None):
        return ""
    return f"[{fmt_percent(ci[0])}, {fmt_percent(ci[1])}]"


def _points(value) -> str:
    """A difference of shares in percentage points."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{100 * value:.1f}"


def _features(groups: list[dict], top: list[dict]) -> list[dict]:
    """Per sensitive feature (intersections after the single features): its groups' shares of the
    top reasons as a table, and a chart for a single feature."""
    by_feature: dict[str, list[dict]] = {}
    for g in groups:
        by_feature.setdefault(str(g.get("feature")), []).append(g)
    features = []
    for feature, members in sorted(by_feature.items(), key=lambda item: " & " in item[0]):
        rows = []
        for g in members:
            by_code = {str(r.get("code")): r for r in g.get("reasons") or [] if isinstance(r, dict)}
            rows.append({"group": str(g.get("group")), "n": fmt_number(g.get("n")),
                         "cells": [{"share": fmt_percent((by_code.get(t["code"]) or {}).get("share")),
                                    "ci": _percent_interval((by_code.get(t["code"]) or {}).get("ci"))} for t in top]})
        intersection = " & " in feature
        features.append({
            "feature": feature, "intersection": intersection, "rows": rows,
            "chart": None if intersection else charts.reasons_by_group_chart(feature, members, top),
            "alt": (f"Grouped horizontal bars: for each of the {len(top)} most common reasons, the share of adverse "
                    f"decisions in each group of {feature} that state it, with its confidence interval as a whisker."),
        })
    return features


def _disparity(d: dict, statements: dict[str, str]) -> dict:
    """One feature's largest difference; ``measured`` False (with the audit's ``reason``) when
    there was none to measure."""
    code = "" if d.get("code") is None else str(d.get("code"))
    ci = d.get("ci")
    return {"feature": str(d.get("feature")), "code": code,
            "statement": d.get("statement") or statements.get(code, ""),
            "measured": d.get("difference") is not None, "reason": d.get("reason") or "",
            "difference": _points(d.get("difference")),
            "ci": f"[{_points(ci[0])}, {_points(ci[1])}]" if ci and len(ci) == 2 else "",
            "highest": d.get("highest"), "lowest": d.get("lowest")}


def _stability(stability) -> dict | None:
    if not isinstance(stability, dict):
        return None
    resamples = stability.get("resamples")
    return {"mean": fmt_number(stability.get("mean")), "ci": fmt_interval(stability.get("ci")),
            "share_identical": fmt_percent(stability.get("share_identical")),
            "resamples": fmt_number(resamples),
            "samples_text": (f"{fmt_number(resamples)} other sample{'s' if resamples != 1 else ''}"
                             if isinstance(resamples, int) else "other samples"),
            "method": stability.get("method") or ""}
