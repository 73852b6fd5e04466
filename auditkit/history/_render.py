"""The history of a policy's audits as a document: an HTML page, a CSV table or a JSON file.

Pure: ledger entries in, a string out (writing is :mod:`auditkit.outputs`' job). The HTML page
is rendered by the report's sandboxed, autoescaped jinja environment, so every name that came
from the ledger (policy, rule ids, features, batch ids) is text, never markup.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from ._series import POINT_FIELDS, entry_facts, history_points

__all__ = ["FORMATS", "render_history"]

#: The formats :func:`render_history` writes.
FORMATS = ("html", "csv", "json")
#: The ``format`` key of the JSON document.
JSON_FORMAT = "auditkit-history/1"

_CHANGES = (("model_changed", "model"), ("policy_changed", "policy"), ("data_changed", "data"))


def render_history(records: Iterable, *, policy: str | None = None, fmt: str = "html", title: str | None = None,
                   ledger_id: str | None = None) -> str:
    """The history of audits recorded in a ledger, as HTML, CSV or JSON text.

    Parameters
    ----------
    records
        Ledger entries (``LedgerEntry`` or anything with seq, entry_hash, recorded_at,
        policy_name, verdict, batch_id, key_fingerprint and a parsed ``body``).
    policy
        Show only the entries of this policy; None shows every entry given.
    fmt
        ``"html"`` (a self-contained page: overview, verdicts over time, one chart and table
        per metric series), ``"csv"`` (one row per point of :func:`history_points`, cells made
        formula-safe) or ``"json"`` (``{"format": "auditkit-history/1", "policy", "ledger_id",
        "entries", "points"}``).
    title
        The page's title (HTML); by default "Audit history: <policy>".
    ledger_id
        The ledger's id, shown in the overview when known.

    Returns
    -------
    str
        The document's text.

    Raises
    ------
    ValueError
        ``fmt`` is not one of :data:`FORMATS`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    records = [r for r in records if policy is None or r.policy_name == policy]
    points = history_points(records)
    if fmt == "csv":
        return _csv(points)
    entries = entry_facts(records)
    if fmt == "json":
        policies = _policies(entries)
        document = {"format": JSON_FORMAT, "policy": policy if policy is not None else (policies[0] if len(policies) == 1 else None),
                    "ledger_id": ledger_id, "entries": entries, "points": points}
        return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    from ..report.templates import environment

    view = _view(records, entries, points, policy=policy, title=title, ledger_id=ledger_id)
    return environment().get_template("history.html.j2").render(v=view)


def _csv(points: list[dict]) -> str:
    from ..sanitize import csv_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(POINT_FIELDS)
    for point in points:
        writer.writerow([csv_cell(point[key]) for key in POINT_FIELDS])
    return buffer.getvalue()


def _policies(entries: list[dict]) -> list[str]:
    return list(dict.fromkeys(e["policy"] for e in entries))


# ---------------------------------------------------------------- the HTML page's view


def _date(recorded_at: str | None) -> str:
    return (recorded_at or "")[:10] or "date unknown"


def _when(recorded_at: str | None) -> str:
    """``2026-11-30 19:20 UTC`` from an ISO UTC timestamp (anything else shown as it is)."""
    text = recorded_at or ""
    if len(text) >= 16 and text[10] == "T":
        return f"{text[:10]} {text[11:16]} UTC"
    return text or "time unknown"


def _changed(item: dict) -> list[str]:
    return [name for key, name in _CHANGES if item.get(key)]


def _awaits_labels(point: dict) -> bool:
    """The rule has no value because its audit was recorded before the labels arrived."""
    return point["status"] == "pending" or (point["value"] is None and point["labels"] == "pending")


#: Statuses from the worst to the best: an entry whose rules on one metric disagree shows the worst.
_WORST_FIRST = ("fail", "error", "inconclusive", "warn", "pending", "waived", "pass")


def _pick(points: list[dict]) -> dict:
    """The point shown for an entry when several rules of it read the metric: one with a value and
    an interval, else one with a value, else the first; its status is the worst of those rules'
    (a trend rule that failed on a value its bound rule passes shows as failed), and
    ``status_rule`` names the rule it comes from."""
    chosen = next((p for p in points if p["value"] is not None and p["ci_low"] is not None),
                  next((p for p in points if p["value"] is not None), points[0]))
    rank = {status: i for i, status in enumerate(_WORST_FIRST)}
    worst = min(points, key=lambda p: rank.get(p["status"], len(rank)))
    return {**chosen, "status": worst["status"], "status_rule": worst["rule_id"]}


def _series(points: list[dict]) -> list[dict]:
    """Points grouped by (policy, metric, feature) in order of first appearance, one per entry."""
    grouped: dict[tuple, dict[int, list[dict]]] = {}
    for point in points:
        grouped.setdefault((point["policy"], point["metric"], point["feature"]), {}).setdefault(point["seq"], []).append(point)
    return [{"policy": key[0], "metric": key[1], "feature": key[2],
             "rule_ids": list(dict.fromkeys(p["rule_id"] for per in by_seq.values() for p in per if p["rule_id"])),
             "points": [_pick(per) for per in by_seq.values()]}
            for key, by_seq in grouped.items()]


def _direction(metric: str) -> int:
    try:
        from ..metrics import get_metric

        definition = get_metric(metric)
    except Exception:  # noqa: BLE001 - an unknown or pack metric: no direction to state
        return 0
    return int(getattr(definition, "direction", 0) or 0) if definition is not None else 0


def _worsening(points: list[dict], direction: int) -> list[dict]:
    """The latest run of audits in which the value moved in its worse direction at every step
    (audits without a value skipped); empty when the last step did not worsen."""
    valued = [p for p in points if p["value"] is not None]
    run = valued[-1:]
    for before, after in zip(valued[-2::-1], valued[::-1]):
        if direction * (after["value"] - before["value"]) < 0:
            run.insert(0, before)
        else:
            break
    return run if len(run) >= 3 else []


def _threshold_text(point: dict) -> str:
    from ..metrics import format_value

    bounds = []
    if point["threshold_min"] is not None:
        bounds.append(f"at least {format_value(point['threshold_min'])}")
    if point["threshold_max"] is not None:
        bounds.append(f"at most {format_value(point['threshold_max'])}")
    return " and ".join(bounds) or "none"


def _descriptions(records: list) -> dict[tuple, str]:
    """(policy, rule id) → the rule's plain-words description, from the latest entry holding it."""
    found: dict[tuple, str] = {}
    for record in records:
        try:
            body = record.body if isinstance(record.body, dict) else {}
        except (ValueError, TypeError):
            continue
        results = body.get("results") if isinstance(body.get("results"), dict) else {}
        for rule in results.get("rules") or []:
            if isinstance(rule, dict) and isinstance(rule.get("description"), str) and rule.get("id") is not None:
                found[(record.policy_name, str(rule["id"]))] = rule["description"]
    return found


def _view(records: list, entries: list[dict], points: list[dict], *, policy, title, ledger_id) -> dict:
    from .._version import __version__
    from ..metrics import format_value
    from ..report.charts import history_chart

    policies = _policies(entries)
    shown_policy = policy if policy is not None else ", ".join(policies) or "none"
    descriptions = _descriptions(records)
    series_views = []
    for number, series in enumerate(_series(points), start=1):
        direction = _direction(series["metric"])
        shown = series["points"]
        valued = [p for p in shown if p["value"] is not None]
        latest = shown[-1]
        rows = []
        for p in reversed(shown):  # the latest audit first
            notes = [f"{', '.join(_changed(p))} changed"] if _changed(p) else []
            rows.append({
                "seq": p["seq"], "date": _date(p["recorded_at"]),
                "value": format_value(p["value"]) if p["value"] is not None else None,
                "interval": (f"{format_value(p['ci_low'])} to {format_value(p['ci_high'])}"
                             if p["ci_low"] is not None else None),
                "status": p["status"] or "unknown", "pending": _awaits_labels(p),
                "threshold": _threshold_text(p), "rule_id": p["rule_id"], "changes": notes,
            })
        run = _worsening(shown, direction)
        description = next((descriptions[(series["policy"], r)] for r in series["rule_ids"]
                            if (series["policy"], r) in descriptions), None)
        series_views.append({
            "id": f"series-{number}",
            "policy": series["policy"], "metric": series["metric"], "feature": series["feature"],
            "rule_ids": series["rule_ids"], "several_rules": len(series["rule_ids"]) > 1,
            "description": description,
            "direction": {1: "higher is better", -1: "lower is better"}.get(direction),
            "latest_status": latest["status"] or "unknown",
            "latest_pending": _awaits_labels(latest),
            "latest": ({"value": format_value(valued[-1]["value"]), "seq": valued[-1]["seq"],
                        "date": _date(valued[-1]["recorded_at"])} if valued else None),
            "first": ({"value": format_value(valued[0]["value"]), "seq": valued[0]["seq"],
                       "date": _date(valued[0]["recorded_at"])} if len(valued) > 1 else None),
            "worsening": ({"audits": len(run), "steps": len(run) - 1,
                           "path": " → ".join(format_value(p["value"]) for p in run),
                           "from_seq": run[0]["seq"], "to_seq": run[-1]["seq"]} if run else None),
            "chart": history_chart(shown, metric=series["metric"], direction=direction),
            "audits": len(shown), "valued": len(valued),
            "rows": rows,
        })
    attention = [s for s in series_views
                 if s["worsening"] or (not s["latest_pending"] and s["latest_status"] in ("fail", "error", "inconclusive"))]
    verdicts = [e["verdict"] for e in entries]
    changes = [{"seq": e["seq"], "date": _date(e["recorded_at"]), "what": _changed(e), "policy": e["policy"]}
               for e in entries if _changed(e)]
    latest = entries[-1] if entries else None
    return {
        "title": title or f"Audit history: {shown_policy}",
        "policy": shown_policy,
        "several_policies": len(policies) > 1,
        "ledger_id": ledger_id,
        "audits": len(entries),
        "passed": verdicts.count("passed"),
        "failed": verdicts.count("failed"),
        "pending": sum(1 for e in entries if e["labels"] == "pending"),
        "signed": sum(1 for e in entries if e["key_fingerprint"]),
        "first": _when(entries[0]["recorded_at"]) if entries else None,
        "last": _when(entries[-1]["recorded_at"]) if entries else None,
        "latest": ({"seq": latest["seq"], "when": _when(latest["recorded_at"]), "verdict": latest["verdict"],
                    "failed": latest["failed"], "rules": latest["rules"]} if latest else None),
        "strip": [{"seq": e["seq"], "verdict": e["verdict"] if e["verdict"] in ("passed", "failed") else "other",
                   "verdict_text": e["verdict"] or "unknown", "pending": e["labels"] == "pending",
                   "when": _when(e["recorded_at"]), "changes": _changed(e)} for e in entries],
        "changes": changes,
        "series": series_views,
        "attention": [{"id": s["id"], "metric": s["metric"], "feature": s["feature"], "status": s["latest_status"],
                       "worsening": s["worsening"] is not None,
                       "policy": s["policy"]} for s in attention],
        "entries": [{**e, "when": _when(e["recorded_at"]), "changes": _changed(e),
                     "model_short": (e["model_sha256"] or "")[:12] or None,
                     "data_short": (e["data_sha256"] or "")[:12] or None,
                     "hash_short": (e["entry_hash"] or "")[:12] or None} for e in reversed(entries)],
        "auditkit_version": __version__,
    }
