"""Entry bodies for the ledger tests, and the appender run in spawned processes (importable by them)."""

from __future__ import annotations


def body_for(i: int, *, policy: str = "credit", verdict: str = "passed", recorded_at: str | None = None,
             batch: str | None = None, labels: str = "present", links: dict | None = None, tag: str | None = None) -> dict:
    """A small body shaped like the ones ``audit check`` records."""
    body = {
        "format": 1,
        "policy": {"name": policy, "version": "1.0", "sha256": "a" * 64},
        "verdict": verdict,
        "exit_code": 0 if verdict == "passed" else 1,
        "command": "audit check audit.yaml",
        "git": None,
        "inputs": {"model": {"path": "model.skops", "sha256": f"{i:064x}"},
                   "data": {"path": "data.csv", "sha256": "d" * 64},
                   "policy": {"path": "audit.yaml", "sha256": "a" * 64}},
        "outputs": {"results.json": "e" * 64},
        "output_signature": None,
        "batch": {"id": batch or f"batch-{i}", "labels": labels},
        "links": links or {},
        "results": {"rules": [
            {"id": "di", "metric": "disparate_impact", "feature": "sex", "status": "pass" if verdict == "passed" else "fail",
             "observed": 0.8123, "ci": [0.75, 0.87], "threshold": {"min": 0.8}, "severity": "error", "gating": True,
             "compare": None, "trend": None, "decide_on": "observed"},
            {"id": "auc", "metric": "auc", "feature": None, "status": "pass", "observed": 0.9, "ci": None,
             "threshold": {"min": 0.7}, "severity": "warning", "gating": False, "compare": None, "trend": None,
             "decide_on": "observed"},
        ], "note": "<script>alert('x')</script> ünïcode"},
    }
    if tag is not None:
        body["tag"] = tag
    if recorded_at is not None:
        body["recorded_at"] = recorded_at
    return body


def append_many(url: str, worker: int, count: int, barrier) -> list[int]:
    """Open the ledger (creating it) and append ``count`` entries tagged ``w{worker}-{i}``."""
    from auditkit.ledger import Ledger

    if barrier is not None:
        barrier.wait()
    seqs = []
    with Ledger(url, create=True) as ledger:
        for i in range(count):
            entry = ledger.append(body_for(i, policy=f"p{worker % 3}", tag=f"w{worker}-{i}"))
            seqs.append(entry.seq)
    return seqs


def run_worker(url: str, worker: int, count: int, barrier, queue) -> None:
    try:
        queue.put((worker, append_many(url, worker, count, barrier), None))
    except BaseException as exc:  # report, so the test names the failure
        queue.put((worker, [], f"{type(exc).__name__}: {exc}"))
