"""A metric's history across the audits of a ledger: one point per (entry, rule), as plain data.

Every value comes from an entry's body, which a hostile database could fill with anything: the
numbers are kept only when they are finite numbers, the names are made text, and a malformed
rule is skipped rather than trusted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["POINT_FIELDS", "entry_facts", "history_points", "trend_frame"]

#: The keys of a point, in the order of the CSV columns.
POINT_FIELDS = (
    "seq", "recorded_at", "policy", "rule_id", "metric", "feature", "value", "ci_low", "ci_high", "status",
    "gating", "threshold_min", "threshold_max", "verdict", "labels", "model_changed", "policy_changed",
    "data_changed", "batch_id", "entry_hash",
)

_INPUTS = ("model", "policy", "data")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _body(record) -> dict:
    try:
        return _dict(record.body)
    except (ValueError, TypeError):  # a body that is not JSON: an entry with nothing to show
        return {}


def _input_sha(body: dict, name: str) -> str | None:
    """The sha256 of one input (``inputs.<name>``; the results' provenance when the entry has no inputs)."""
    found = _dict(_dict(body.get("inputs")).get(name)).get("sha256")
    if found is None:
        found = _dict(_dict(_dict(body.get("results")).get("provenance")).get(name)).get("sha256")
    return _text(found)


def _ordered(records: Iterable) -> list:
    records = list(records)
    return sorted(records, key=lambda r: r.seq if isinstance(r.seq, int) else 0)


def entry_facts(records: Iterable) -> list[dict]:
    """One dict per entry, ordered by seq: what the history shows of the audit as a whole.

    Keys: seq, entry_hash, recorded_at, policy, policy_version, verdict, batch_id, labels
    ("present"/"pending"), labels_for (the seq of the label-pending entry this one completes, or
    None), key_fingerprint, model_sha256, policy_sha256, data_sha256, model_changed,
    policy_changed, data_changed (the input's sha256 differs from the previous entry of the same
    policy; False for a policy's first entry), rules and failed (counts of the results' rules).
    """
    records = _ordered(records)
    seq_of_hash = {r.entry_hash: r.seq for r in records}
    previous: dict[str, dict] = {}
    facts = []
    for record in records:
        body = _body(record)
        policy = _text(record.policy_name) or _text(_dict(body.get("policy")).get("name")) or ""
        shas = {name: _input_sha(body, name) for name in _INPUTS}
        before = previous.get(policy)
        changed = {f"{name}_changed": before is not None and before[name] != shas[name] for name in _INPUTS}
        previous[policy] = shas
        rules = [r for r in _dict(body.get("results")).get("rules") or [] if isinstance(r, dict)]
        labels = _dict(body.get("batch")).get("labels")
        linked = _dict(body.get("links")).get("labels_for")
        facts.append({
            "seq": record.seq,
            "entry_hash": _text(record.entry_hash),
            "recorded_at": _text(record.recorded_at),
            "policy": policy,
            "policy_version": _text(_dict(body.get("policy")).get("version")),
            "verdict": _text(record.verdict) or _text(body.get("verdict")),
            "batch_id": _text(record.batch_id),
            "labels": "pending" if labels == "pending" else "present",
            "labels_for": seq_of_hash.get(linked) if isinstance(linked, str) else None,
            "key_fingerprint": _text(getattr(record, "key_fingerprint", None)),
            "model_sha256": shas["model"],
            "policy_sha256": shas["policy"],
            "data_sha256": shas["data"],
            **changed,
            "rules": len(rules),
            "failed": sum(1 for r in rules if r.get("status") in ("fail", "error")),
        })
    return facts


def history_points(records: Iterable) -> list[dict]:
    """One point per (entry, rule) for the rules that judge a metric on its own (``compare`` None).

    Parameters
    ----------
    records
        Ledger entries (``LedgerEntry`` or anything with seq, entry_hash, recorded_at,
        policy_name, verdict, batch_id and a parsed ``body``), in any order.

    Returns
    -------
    list of dict
        Ordered by seq, then by the rule's position in the entry. Keys: seq, recorded_at,
        policy, rule_id, metric, feature, value (the observed value; None when the entry
        awaits labels or the metric was undefined -- never zero), ci_low, ci_high, status,
        gating, threshold_min, threshold_max, verdict, labels ("present"/"pending"),
        model_changed, policy_changed, data_changed, batch_id, entry_hash. A series is the
        points sharing (policy, metric, feature); several rules may share one.
    """
    records = _ordered(records)
    facts = {id(r): f for r, f in zip(records, entry_facts(records))}
    points = []
    for record in records:
        entry = facts[id(record)]
        for rule in _dict(_body(record).get("results")).get("rules") or []:
            if not isinstance(rule, dict) or rule.get("compare") is not None or rule.get("metric") is None:
                continue
            ci = rule.get("ci")
            low, high = (_number(ci[0]), _number(ci[1])) if isinstance(ci, list) and len(ci) == 2 else (None, None)
            threshold = _dict(rule.get("threshold"))
            points.append({
                "seq": entry["seq"],
                "recorded_at": entry["recorded_at"],
                "policy": entry["policy"],
                "rule_id": _text(rule.get("id")),
                "metric": str(rule["metric"]),
                "feature": _text(rule.get("feature")),
                "value": _number(rule.get("observed")),
                "ci_low": low if low is not None and high is not None else None,
                "ci_high": high if low is not None and high is not None else None,
                "status": _text(rule.get("status")),
                "gating": rule.get("gating") if isinstance(rule.get("gating"), bool) else None,
                "threshold_min": _number(threshold.get("min")),
                "threshold_max": _number(threshold.get("max")),
                "verdict": entry["verdict"],
                "labels": entry["labels"],
                "model_changed": entry["model_changed"],
                "policy_changed": entry["policy_changed"],
                "data_changed": entry["data_changed"],
                "batch_id": entry["batch_id"],
                "entry_hash": entry["entry_hash"],
            })
    return points


def trend_frame(records: Iterable, metric: str, feature: str | None = None):
    """The history of one metric as a DataFrame, one row per (entry, rule), sorted by seq.

    Parameters
    ----------
    records
        Ledger entries, as for :func:`history_points`.
    metric
        The metric's name, e.g. ``"demographic_parity_difference"``.
    feature
        Keep only the rules on this sensitive feature; when None, the rules on every feature
        (tell them apart by the ``feature`` column).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`POINT_FIELDS`; ``recorded_at`` is a timezone-aware datetime and
        ``value`` is NaN where the entry awaits labels. Empty (with those columns) when no
        entry holds a rule on the metric.
    """
    import pandas as pd

    rows = [p for p in history_points(records)
            if p["metric"] == metric and (feature is None or p["feature"] == feature)]
    frame = pd.DataFrame(rows, columns=list(POINT_FIELDS))
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True, errors="coerce")
    for column in ("value", "ci_low", "ci_high", "threshold_min", "threshold_max"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame.sort_values("seq", kind="stable").reset_index(drop=True)
