"""Fixtures of the ledger tests: ledgers with a few entries, a test signing key, and a real
PostgreSQL server (a throwaway cluster started for the session when no server is given)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _ledger_workers import body_for
from ledger_fakes import FakeKey


@pytest.fixture()
def key() -> FakeKey:
    return FakeKey()


@pytest.fixture()
def make_body():
    return body_for


@pytest.fixture()
def ledger_path(tmp_path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture()
def filled(ledger_path, key):
    """A SQLite ledger with 5 signed entries (policies credit/hiring, entry 3 failed); returns its path."""
    from auditkit.ledger import Ledger

    with Ledger(ledger_path, create=True) as ledger:
        for i in range(1, 6):
            ledger.append(body_for(i, policy="credit" if i != 4 else "hiring", verdict="failed" if i == 3 else "passed",
                                   recorded_at=f"2026-11-{10 + i}T12:00:00+00:00"), signer=key)
    return ledger_path


