"""The same ledger on a real PostgreSQL server (a throwaway cluster, see conftest.postgres_url)."""

from __future__ import annotations

import pytest

from auditkit.errors import LedgerError
from auditkit.ledger import Ledger, verify_bundle


def _execute(url: str, *statements: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_round_trip_and_verify(pg_url, key, make_body, tmp_path):
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)  # postgresql:// means psycopg
    with Ledger(plain, create=True) as ledger:
        assert (ledger.revision_before, ledger.revision) == (None, "0001")
        first = ledger.append(make_body(1), signer=key)
        ledger.append(make_body(2, verdict="failed", batch="B", labels="pending"))
        ledger.append(make_body(3, policy="hiring"), signer=key)
        assert ledger.find_batch("credit", "B").seq == 2
    with Ledger(pg_url) as reader:
        records = reader.records()
        assert [e.seq for e in records] == [1, 2, 3] and records[0] == first
        assert [e.seq for e in reader.records(policy="hiring")] == [3]
        assert reader.verify(key).ok and reader.verify(key).signatures_verified == 2
        assert len(reader.entries()) == 3
        bundle = reader.export(tmp_path / "bundle")
        with pytest.raises(LedgerError, match="opened for reading"):
            reader.append(make_body(4))
    assert verify_bundle(bundle, public_key=key).ok
    assert Ledger.upgrade(pg_url) == ("0001", "0001")


def test_tampering_is_detected(pg_url, make_body):
    with Ledger(pg_url, create=True) as ledger:
        for i in range(1, 5):
            ledger.append(make_body(i, recorded_at=f"2026-11-0{i}T08:00:00+00:00"))
    _execute(pg_url, "UPDATE ledger_entries SET body = replace(body, '0.8123', '0.9') WHERE seq = 2",
             "DELETE FROM ledger_entries WHERE seq = 3")
    with Ledger(pg_url) as ledger:
        result = ledger.verify()
    assert [(p.seq, p.kind) for p in result.problems] == [(2, "edited"), (3, "missing")]
    assert result.problems[0].message.startswith("entry 2 (2026-11-02T08:00:00+00:00, policy 'credit') was edited")


def test_readers_cannot_write(pg_url, make_body):
    with Ledger(pg_url, create=True) as ledger:
        ledger.append(make_body(1))
    with Ledger(pg_url) as reader:
        with reader._read() as conn:  # the transaction itself is READ ONLY
            with pytest.raises(Exception, match="read-only transaction"):
                conn.exec_driver_sql("DELETE FROM ledger_entries")


def test_database_without_ledger(pg_url):
    with pytest.raises(LedgerError, match="is not an auditkit ledger"):
        Ledger(pg_url)


def test_future_revision(pg_url, make_body):
    with Ledger(pg_url, create=True):
        pass
    _execute(pg_url, "UPDATE auditkit_ledger_version SET version_num = '0099'")
    with pytest.raises(LedgerError, match="newer auditkit"):
        Ledger(pg_url)


def test_wrong_database_name_is_a_ledger_error(postgres_url):
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url).set(database="no_such_database_here", password="Secr3tPassw0rd")
    with pytest.raises(LedgerError) as info:
        Ledger(url.render_as_string(hide_password=False))
    message = str(info.value)
    assert "no_such_database_here" in message and "Secr3tPassw0rd" not in message and "***" in message
