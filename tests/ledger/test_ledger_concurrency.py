"""Appenders in parallel processes never fork the chain nor lose an entry (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing

import pytest

from auditkit.ledger import Ledger

from _ledger_workers import run_worker


def _run(url: str, workers: int, count: int) -> dict[int, list[int]]:
    """``workers`` spawned processes, released together, each appending ``count`` entries."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    queue = ctx.Queue()
    processes = [ctx.Process(target=run_worker, args=(url, worker, count, barrier, queue)) for worker in range(workers)]
    for process in processes:
        process.start()
    results = {}
    errors = []
    for _ in processes:
        worker, seqs, error = queue.get(timeout=600)
        if error:
            errors.append(f"worker {worker}: {error}")
        results[worker] = seqs
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert not errors, errors
    return results


def _check(url: str, results: dict[int, list[int]], workers: int, count: int) -> None:
    total = workers * count
    with Ledger(url) as ledger:
        records = ledger.records()
        result = ledger.verify()
    assert result.ok, result.problems
    assert result.entries == total
    assert [entry.seq for entry in records] == list(range(1, total + 1))
    # one chain: every entry links to the one before
    for before, after in zip(records, records[1:]):
        assert after.prev_hash == before.entry_hash
    # no entry lost or duplicated: every worker's every append is there exactly once
    tags = sorted(entry.body["tag"] for entry in records)
    assert tags == sorted(f"w{w}-{i}" for w in range(workers) for i in range(count))
    seqs = sorted(seq for worker_seqs in results.values() for seq in worker_seqs)
    assert seqs == list(range(1, total + 1))
    for worker_seqs in results.values():
        assert worker_seqs == sorted(worker_seqs)
    with Ledger(url) as ledger:
        assert len({e.policy_name for e in ledger.records()}) == min(workers, 3)


@pytest.mark.parametrize("workers, count", [(2, 6), (8, 2)], ids=["pair", "burst-of-8"])
def test_parallel_appends_sqlite(tmp_path, workers, count):
    url = str(tmp_path / "ledger.db")  # every process creates it: the first one wins, the others join
    results = _run(url, workers, count)
    _check(url, results, workers, count)


@pytest.mark.parametrize("workers, count", [(2, 6), (8, 2)], ids=["pair", "burst-of-8"])
def test_parallel_appends_postgres(pg_url, workers, count):
    results = _run(pg_url, workers, count)
    _check(pg_url, results, workers, count)
