"""The report's view model: a pure function of a ``results.json`` document.

Everything the templates show is prepared here (labels, formatted numbers, chart images);
templates only lay it out. No statistics are computed: values are read from the results.
"""

from __future__ import annotations

from pathlib import Path

from ..vocabulary import AGGREGATE_BASE, define, rule_sentence
from . import charts
from .packs_view import adverse_impact_view, ll144_view, packs_view
from .formatting import fmt_interval, fmt_number, fmt_percent, fmt_threshold, status_icon, status_label

__all__ = ["build_view"]



def build_view(results: dict, *, charts_enabled: bool = True) -> dict:
    """Turn a results document into the report's view model."""
    rules = [_rule_view(r) for r in results.get("rules", [])]
    provenance = results.get("provenance") or {}
    fairness = results.get("fairness")
    explanations = results.get("explanations") or {"status": "skipped"}
    glossary_terms = {"confidence_interval", "inconclusive"}
    if results.get("drift"):
        glossary_terms.update({"psi", "ks", "js"})
    if results.get("data_bias"):
        glossary_terms.update({"share", "base_rate", "missingness_gap"})
    for r in results.get("rules", []):
        glossary_terms.add(r["metric"])
    fairness_view = _fairness_view(fairness, results.get("rules", []), charts_enabled, glossary_terms) if fairness else None
    explain_view = _explanations_view(explanations, results, charts_enabled)
    if explain_view.get("status") == "ok":
        glossary_terms.update({"shap", "shap_share"})
    if results.get("adverse_impact"):
        glossary_terms.update({"fisher_exact", "z_test"})
    if results.get("ll144"):
        glossary_terms.update({"ll144_impact_ratio", "scoring_rate"} if results["ll144"].get("mode") == "scoring"
                              else {"ll144_impact_ratio"})
    summary = results.get("summary") or {}
    model = results.get("model") or {}
    data = results.get("data") or {}
    return {
        "title": f"Audit report — {results.get('policy', {}).get('name', 'audit')}",
        "policy": results.get("policy", {}),
        "status": results.get("status"),
        "verdict": "PASS" if results.get("status") == "passed" else "FAIL",
        "counts": {k: summary.get(k, 0) for k in ("rules", "pass", "fail", "warn", "inconclusive", "waived", "error")},
        "gating_rules": [r for r in rules if r["gating"]],
        "model_name": model.get("description") or "no model (data checks only)",
        "model_path": Path(model["path"]).name if model.get("path") else None,
        "data_name": Path(data.get("path", "")).name,
        "data_rows": fmt_number(data.get("rows")),
        "date": provenance.get("finished_at") or "",
        "rules": rules,
        "contract": _contract_view(results.get("contract")),
        "data": _data_view(data, results.get("data_bias"), fairness),
        "drift": _drift_view(results.get("drift"), results.get("rules", []), charts_enabled),
        "performance": _performance_view(fairness, model),
        "fairness": fairness_view,
        "champion": _champion_view(results.get("champion"), results.get("model") or {}, fairness,
                                   results.get("rules", [])),
        "explanations": explain_view,
        "provenance": _provenance_view(provenance),
        "warnings": results.get("warnings", []),
        "packs": packs_view(results),
        "adverse_impact": adverse_impact_view(results),
        "ll144": ll144_view(results.get("ll144")),
        "glossary": [{"term": t.replace("_", " "), "key": t, "definition": define(t)}
                     for t in sorted(glossary_terms) if define(t)],
        "schema_version": results.get("schema_version"),
    }


def _rule_view(rule: dict) -> dict:
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
        "threshold": fmt_threshold(rule.get("threshold", {})),
        "severity": rule.get("severity"),
        "status": rule["status"],
        "status_label": status_label(rule["status"]),
        "icon": status_icon(rule["status"]),
        "decided_on": rule.get("decided_on", "estimate"),
        "gating": rule.get("gating", False),
        "message": rule.get("message", ""),
        "waiver": rule.get("waiver"),
    }


def _contract_view(contract: dict | None) -> dict | None:
    if contract is None:
        return None
    return {
        "passed": contract["passed"],
        "name": Path(contract["contract"]).name if contract.get("contract") else "contract",
        "rows": fmt_number(contract.get("rows")),
        "total": fmt_number(contract.get("total_failures", 0)),
        "columns_checked": len(contract.get("columns_checked", [])),
        "violations": [{"column": v.get("column") or "(table)", "check": v["check"],
                        "count": fmt_number(v["failure_count"]),
                        "examples": ", ".join("∅" if e is None else str(e) for e in v.get("examples", []))}
                       for v in contract.get("violations", [])],
    }


def _data_view(data: dict, bias: dict | None, fairness: dict | None) -> dict:
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
    return {"rows": fmt_number(data.get("rows")), "columns": fmt_number(data.get("columns")),
            "target": data.get("target"), "positive_label": data.get("positive_label"),
            "task": data.get("task"), "base_rate": fmt_percent(data.get("base_rate")), "groups": groups,
            "base_rate_disparities": disparities, "missingness": missingness[:20],
            "missingness_hidden": max(0, len(missingness) - 20),
            "min_group_size": (bias or {}).get("min_group_size")}


def _drift_view(drift: dict | None, rules: list[dict], charts_enabled: bool) -> dict | None:
    if not drift:
        return None
    features = sorted(drift.get("features", []), key=lambda f: -(f.get("psi") or 0))
    named = {r.get("feature") for r in rules if r["metric"] in ("psi", "ks", "js") and r.get("feature")}
    to_chart = [f for f in features if (f.get("psi") or 0) >= 0.1 or f["feature"] in named][:6]
    extra = [x for x in (drift.get("target"), drift.get("predictions")) if x]

    def row(f):
        psi = f.get("psi")
        level = "major" if psi is not None and psi > 0.25 else "moderate" if psi is not None and psi >= 0.1 else "small"
        return {"feature": f["feature"], "kind": f.get("kind"), "psi": fmt_number(psi), "ks": fmt_number(f.get("ks")),
                "js": fmt_number(f.get("js")), "unseen": f.get("unseen_categories") or 0, "level": level}

    charts_out = []
    if charts_enabled:
        for f in to_chart + extra:
            uri = charts.drift_chart(f)
            if uri:
                charts_out.append({"feature": f["feature"], "chart": uri,
                                   "alt": f"Share of rows per bin of {f['feature']} in the reference and the audited data."})
    extra_rows = []
    if drift.get("target"):
        extra_rows.append({**row(drift["target"]), "feature": f"{drift['target']['feature']} (target)"})
    if drift.get("predictions"):
        extra_rows.append({**row(drift["predictions"]), "feature": "model output (predictions)"})
    return {"features": [row(f) for f in features], "extra": extra_rows, "charts": charts_out,
            "bins": drift.get("bins")}


def _performance_view(fairness: dict | None, model: dict) -> dict | None:
    if not fairness:
        return None
    overall = fairness.get("overall") or {}
    overall_ci = fairness.get("overall_ci") or {}
    keys = [k for k in ("accuracy", "balanced_accuracy", "tpr", "fpr", "ppv", "npv", "f1", "selection_rate", "auc",
                        "mean_score", "mae", "rmse", "mean_prediction", "mean_target") if overall.get(k) is not None]
    return {
        "metrics": [{"name": k, "value": fmt_number(overall[k]), "interval": fmt_interval(overall_ci.get(k)),
                     "definition": define(k)} for k in keys],
        "confusion": fairness.get("confusion"),
        "threshold": model.get("threshold"),
        "source": model.get("source"),
    }


def _threshold_lines(rules: list[dict], feature: str, groups: list[dict]) -> dict[str, list[tuple[float, str]]]:
    """Where a rule's threshold falls on each metric panel of a feature's chart."""
    lines: dict[str, list[tuple[float, str]]] = {}
    for rule in rules:
        if rule.get("feature") != feature:
            continue
        metric, threshold = rule["metric"], rule.get("threshold", {})
        if metric.endswith("_ratio") or metric.endswith("_difference"):
            base, kind = metric.rsplit("_", 1)
            bases = AGGREGATE_BASE.get(base, [base])
            for b in bases:
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


def _fairness_view(fairness: dict, rules: list[dict], charts_enabled: bool, glossary_terms: set) -> dict:
    focus = list(fairness.get("metrics") or ["selection_rate", "tpr", "fpr", "ppv", "accuracy"])
    features = []
    groups_by_feature: dict[str, list[dict]] = {}
    for g in fairness.get("groups", []):
        groups_by_feature.setdefault(g["feature"], []).append(g)
    disparities: dict[str, list[dict]] = {}
    for d in fairness.get("disparities", []):
        disparities.setdefault(d["feature"], []).append(d)
    # Metrics referred to by a rule on a feature are shown even if not in the focus list.
    for feature, groups in groups_by_feature.items():
        wanted = list(focus)
        for rule in rules:
            if rule.get("feature") == feature:
                base = rule["metric"].rsplit("_", 1)[0] if rule["metric"].endswith(("_ratio", "_difference")) else rule["metric"]
                for b in AGGREGATE_BASE.get(base, [base]):
                    if b not in wanted and any(b in (g.get("metrics") or {}) for g in groups):
                        wanted.append(b)
        glossary_terms.update(wanted)
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
        disparity_rows = []
        for d in disparities.get(feature, []):
            if d["metric"] not in wanted and d["metric"] not in AGGREGATE_BASE:
                continue
            if d["metric"] in AGGREGATE_BASE:
                glossary_terms.add(d["metric"])
            disparity_rows.append({
                "metric": d["metric"], "difference": fmt_number(d.get("difference")),
                "difference_ci": fmt_interval(d.get("difference_ci")), "ratio": fmt_number(d.get("ratio")),
                "ratio_ci": fmt_interval(d.get("ratio_ci")), "reference": d.get("reference_group"),
                "compared": d.get("groups_compared"),
            })
        glossary_terms.update({"difference", "ratio"})
        chart = None
        if charts_enabled:
            chart = charts.fairness_chart(feature, groups, wanted, _threshold_lines(rules, feature, groups))
        features.append({
            "name": feature, "is_intersection": " & " in feature, "metrics": wanted, "groups": group_rows,
            "excluded": [g for g in group_rows if g["insufficient"]], "disparities": disparity_rows, "chart": chart,
            "chart_alt": f"Chart of {', '.join(wanted)} for each group of {feature}, with confidence intervals and rule thresholds as dashed lines.",
        })
    return {"features": features, "bootstrap": _bootstrap(fairness.get("bootstrap")), "task": fairness.get("task"),
            "min_group_size": fairness.get("min_group_size"),
            "excluded": fairness.get("excluded_groups", [])}


def _champion_view(champion: dict | None, model: dict, fairness: dict | None, rules: list[dict]) -> dict | None:
    """Side by side: candidate and champion, the change with its paired interval, worse groups first."""
    if not champion:
        return None
    from ..vocabulary import metric_direction

    changes = champion.get("changes") or {}
    focus = list((fairness or {}).get("metrics") or ["selection_rate", "tpr", "fpr", "ppv", "accuracy"])

    def worse_by(metric: str, change) -> float:
        direction = metric_direction(metric)
        return 0.0 if change is None or direction == 0 else -direction * change

    def cell(c: dict) -> dict:
        worse = worse_by(c["metric"], c.get("change"))
        ci = c.get("ci")
        sure = bool(ci and ci[0] is not None and worse_by(c["metric"], ci[1] if metric_direction(c["metric"]) > 0 else ci[0]) > 0)
        return {"metric": c["metric"], "candidate": fmt_number(c.get("candidate")), "champion": fmt_number(c.get("champion")),
                "change": _signed(c.get("change")), "interval": fmt_interval(ci), "worse": worse > 0, "surely_worse": sure,
                "worse_by": worse}

    overall = [cell(c) for c in changes.get("overall", []) if c["metric"] in focus + ["balanced_accuracy", "auc", "f1"]]
    cells = [dict(cell(c), feature=c["feature"], group=c["group"], n=fmt_number(c.get("n")),
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
    compared = {r.get("metric") for r in rules if r.get("compare")}
    keep = {"demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
            "equalized_odds_ratio", "equal_opportunity_difference", "equal_opportunity_ratio"} | compared
    disparities = [cell(c) | {"feature": c["feature"]} for c in changes.get("disparities", []) if c["metric"] in keep]
    summary = champion.get("model") or {}
    return {
        "candidate_name": model.get("description"), "champion_name": summary.get("description"),
        "champion_path": Path(summary["path"]).name if summary.get("path") else summary.get("uri"),
        "overall": overall, "worse": worse[:12], "worse_total": len(worse), "metrics": focus,
        "groups": groups, "disparities": disparities,
        "bootstrap": _bootstrap(champion.get("bootstrap")),
    }


def _bootstrap(bootstrap: dict | None) -> dict:
    """The bootstrap settings with every key the templates read (a results file may omit them)."""
    bootstrap = bootstrap or {}
    return {"resamples": bootstrap.get("resamples") or 0, "confidence": bootstrap.get("confidence"),
            "seed": bootstrap.get("seed"), "method": bootstrap.get("method")}


def _signed(value) -> str:
    if value is None:
        return "—"
    text = fmt_number(abs(value))
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def _explanations_view(explanations: dict, results: dict, charts_enabled: bool) -> dict:
    status = explanations.get("status", "skipped")
    if status != "ok":
        return {"status": status, "reason": explanations.get("reason", "")}
    sensitive = set((results.get("data") or {}).get("sensitive_features", []))
    importance = explanations.get("importance", [])
    top = [r["feature"] for r in importance[:8]]
    by_group: dict[str, list[dict]] = {}
    for g in explanations.get("by_group", []):
        by_group.setdefault(g["feature"], []).append(g)
    group_views = []
    for feature, groups in by_group.items():
        if " & " in feature:
            continue
        group_views.append({
            "feature": feature,
            "chart": charts.group_shap_chart(feature, groups, top[:6]) if charts_enabled else None,
            "alt": f"Mean SHAP value of the most important inputs for each group of {feature}.",
            "rows": [{"group": g["group"], "n": fmt_number(g.get("n")),
                      "values": [{"feature": v["input_feature"], "mean_abs": fmt_number(v.get("mean_abs_shap")),
                                  "mean": fmt_number(v.get("mean_shap"))}
                                 for v in g.get("values", []) if v["input_feature"] in top[:6]]} for g in groups],
            "top": top[:6],
        })
    return {
        "status": "ok",
        "method": explanations.get("method"),
        "output": explanations.get("output"),
        "rows_explained": fmt_number(explanations.get("rows_explained")),
        "background_rows": fmt_number(explanations.get("background_rows")),
        "additivity": f"{explanations.get('max_additivity_error'):.1e}" if explanations.get("max_additivity_error") is not None else "—",
        "importance": [{"feature": r["feature"], "value": fmt_number(r.get("mean_abs_shap"), 4),
                        "interval": fmt_interval(r.get("ci"), 4), "share": fmt_percent(r.get("share")),
                        "sensitive": r["feature"] in sensitive} for r in importance],
        "importance_chart": charts.importance_chart(importance, sensitive) if charts_enabled else None,
        "beeswarm_chart": charts.beeswarm_chart(_beeswarm(explanations.get("beeswarm"))) if charts_enabled else None,
        "shap_share": [{"feature": k, "share": fmt_percent(v)} for k, v in (explanations.get("shap_share") or {}).items()],
        "groups": group_views,
        "proxies": [{"input": p["input_feature"], "sensitive": p["sensitive_feature"],
                     "association": fmt_number(p.get("association")), "measure": p.get("measure", ""),
                     "importance": fmt_percent(p.get("importance_share")), "flagged": p.get("flagged", False)}
                    for p in sorted(explanations.get("proxies", []), key=lambda p: (not p.get("flagged"), -(p.get("association") or 0)))[:15]],
    }


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


def _git_line(git: dict) -> str:
    """The commit of the policy's folder, and what is known of uncommitted changes."""
    if not git:
        return "not a git work tree"
    branch = f" on {git['branch']}" if git.get("branch") else ""
    dirty = git.get("dirty")
    state = (" (uncommitted changes)" if dirty else " (no uncommitted changes)" if dirty is False
             else " (uncommitted changes not checked: auditkit runs no git in the audited folder)")
    return f"{git.get('commit', '')}{branch}{state}"


def _provenance_view(provenance: dict) -> dict:
    files = []
    for kind in ("policy", "data", "reference", "contract", "model"):
        item = provenance.get(kind)
        if item and item.get("path"):
            files.append({"kind": kind, "path": item["path"], "sha256": item.get("sha256") or "—",
                          "rows": fmt_number(item.get("rows")) if item.get("rows") is not None else ""})
    git = provenance.get("git") or {}
    return {
        "files": files,
        "versions": sorted((provenance.get("versions") or {}).items()),
        "seed": provenance.get("seed"),
        "command": provenance.get("command") or "(Python API)",
        "git": _git_line(git),
        "started_at": provenance.get("started_at", ""),
        "finished_at": provenance.get("finished_at", ""),
        "platform": {"system": "", "machine": "", **(provenance.get("platform") or {})},
    }
