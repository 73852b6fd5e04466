"""Fake ledger entries for the history tests, built from a real (trimmed) results.json of the demo.

(A module of its own, not conftest.py: several test folders have a conftest.py.)

The ledger store is built elsewhere; these entries have the attributes of ``LedgerEntry`` and a
body as ``audit check --ledger`` records it, with numbers changed per test.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

RESULTS = json.loads((Path(__file__).parent / "results_demo.json").read_text(encoding="utf-8"))
GENESIS = "0" * 64


@dataclass(frozen=True)
class FakeEntry:
    seq: int
    prev_hash: str
    entry_hash: str
    recorded_at: str
    policy_name: str
    verdict: str
    batch_id: str | None
    body_text: str
    signature: str | None = None
    key_fingerprint: str | None = None

    @cached_property
    def body(self) -> dict:
        return json.loads(self.body_text)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def results(*, policy: str = "german-credit-scoring", **observed) -> dict:
    """The demo's results with ``observed`` values by rule id (a value None: the rule awaits labels)."""
    doc = copy.deepcopy(RESULTS)
    doc["policy"]["name"] = policy
    for rule in doc["rules"]:
        if rule["id"] in observed:
            value = observed[rule["id"]]
            rule["observed"] = value
            if value is None:
                rule["status"], rule["ci"] = "pending", None
            elif rule["ci"] is not None:
                rule["ci"] = [value - 0.03, value + 0.03]
    return doc


def add_rule(doc: dict, rule_id: str, metric: str, feature: str | None, value: float | None, *,
             threshold: dict, status: str | None = None, compare=None) -> dict:
    """Append a rule to a results document, with its status from the threshold unless given."""
    if status is None:
        ok = value is not None and value >= threshold.get("min", -1e9) and value <= threshold.get("max", 1e9)
        status = "pending" if value is None else "pass" if ok else "fail"
    doc["rules"].append({
        "id": rule_id, "metric": metric, "feature": feature, "status": status, "observed": value,
        "ci": None if value is None else [round(value - 0.02, 4), round(value + 0.025, 4)],
        "threshold": threshold, "severity": "error", "gating": status == "fail", "compare": compare,
        "trend": None, "decide_on": "estimate",
        "description": f"Across the groups of '{feature}', the difference of demographic parity must be at most "
                       f"{threshold.get('max')}.",
    })
    return doc


def make_entries(docs: list[dict], *, models: list[str] | None = None, data: list[str] | None = None,
                 policies: list[str] | None = None, labels: list[str] | None = None,
                 batches: list[str] | None = None, start: str = "2026-0{m}-15T09:30:00+00:00",
                 signed: bool = True, labels_for: list[int | None] | None = None) -> list[FakeEntry]:
    """A chain of fake entries, one per results document (seq 1, 2, ...); ``labels_for`` names, per
    entry, the seq of the label-pending entry it completes."""
    entries, prev = [], GENESIS
    for i, doc in enumerate(docs):
        failed = any(isinstance(r, dict) and r.get("status") in ("fail", "error") for r in doc["rules"])
        verdict = "failed" if failed else "passed"
        batch = (batches or [f"batch-{i + 1}"] * len(docs))[i]
        body = {
            "format": 1,
            "recorded_at": start.format(m=i + 1),
            "policy": {"name": doc["policy"]["name"], "version": "1", "sha256": sha((policies or ["p"] * len(docs))[i])},
            "verdict": verdict,
            "exit_code": int(failed),
            "command": "audit check audit.yaml --ledger ledger.db",
            "git": None,
            "inputs": {
                "model": {"path": "models/credit_model.skops", "sha256": sha((models or ["m"] * len(docs))[i])},
                "data": {"path": "data/credit.csv", "sha256": sha((data or ["d"] * len(docs))[i])},
                "policy": {"path": "audit.yaml", "sha256": sha((policies or ["p"] * len(docs))[i])},
            },
            "outputs": {"results.json": sha(f"r{i}")},
            "output_signature": None,
            "batch": {"id": batch, "labels": (labels or ["present"] * len(docs))[i]},
            "links": ({"labels_for": entries[labels_for[i] - 1].entry_hash}
                      if labels_for and labels_for[i] is not None else {}),
            "results": doc,
        }
        body_text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        entry_hash = sha(f"{i + 1}\n{prev}\n{body_text}")
        entries.append(FakeEntry(seq=i + 1, prev_hash=prev, entry_hash=entry_hash, recorded_at=body["recorded_at"],
                                 policy_name=doc["policy"]["name"], verdict=verdict, batch_id=batch,
                                 body_text=body_text, signature="c2ln" if signed else None,
                                 key_fingerprint="SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" if signed else None))
        prev = entry_hash
    return entries


def widening_entries() -> list[FakeEntry]:
    """demographic_parity_difference for 'sex' rising 0.05, 0.08, 0.12, 0.17 over four audits
    (threshold at most 0.15, so the last fails), the model replaced at entry 3."""
    docs = [add_rule(results(**{"accuracy-floor": acc}), "dp-gap-sex", "demographic_parity_difference", "sex", value,
                     threshold={"max": 0.15})
            for value, acc in zip((0.05, 0.08, 0.12, 0.17), (0.79, 0.78, 0.80, 0.81))]
    return make_entries(docs, models=["m1", "m1", "m2", "m2"])
