"""The ledger store: locations, opening, appending, reading, migrations and errors."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from datetime import date, datetime, timezone

import pytest

from auditkit.errors import LedgerError
from auditkit.ledger import Ledger, LedgerEntry, canonical, redact
from auditkit.ledger._model import GENESIS, compute_entry_hash, signing_message


def test_canonical_is_the_specified_form():
    obj = {"b": [1, 2.5, None], "a": "ü", "c": {"z": True, "y": "x"}}
    assert canonical(obj) == '{"a":"ü","b":[1,2.5,null],"c":{"y":"x","z":true}}'.encode("utf-8")
    with pytest.raises(ValueError):
        canonical({"x": float("nan")})


def test_append_read_verify_round_trip(ledger_path, key, make_body):
    with Ledger(ledger_path, create=True) as ledger:
        assert ledger.head() is None
        assert ledger.verify().ok and ledger.verify().entries == 0
        first = ledger.append(make_body(1, recorded_at="2026-11-30T19:20:00+00:00"), signer=key)
        second = ledger.append(make_body(2, verdict="failed"))
        info = ledger.info
    assert first.seq == 1 and first.prev_hash == GENESIS
    assert second.seq == 2 and second.prev_hash == first.entry_hash
    # the hash is the specified one, over the stored canonical body
    expected = hashlib.sha256(b"auditkit-ledger/1\n1\n" + GENESIS.encode() + b"\n" + first.body_text.encode()).hexdigest()
    assert first.entry_hash == expected == compute_entry_hash(1, GENESIS, first.body_text)
    assert first.body_text.encode() == canonical(first.body)
    assert key.verify(signing_message(first.entry_hash), __import__("base64").b64decode(first.signature))
    assert first.key_fingerprint == key.fingerprint and second.signature is None
    assert first.recorded_at == "2026-11-30T19:20:00+00:00" == first.body["recorded_at"]
    assert first.policy_name == "credit" and second.verdict == "failed" and first.batch_id == "batch-1"
    assert len(info["ledger_id"]) == 32 and info["format"] == "1" and info["created_at"].endswith("+00:00")

    with Ledger(str(ledger_path)) as reader:
        records = reader.records()
        assert records == [first, second]
        assert reader.head() == second
        assert reader.ledger_id == info["ledger_id"]
        result = reader.verify(key)
    assert result.ok and result.entries == 2 and result.head == second.entry_hash and result.signatures_verified == 1


def test_recorded_at_is_set_when_missing_and_body_not_modified(ledger_path, make_body):
    body = make_body(1)
    with Ledger(ledger_path, create=True) as ledger:
        entry = ledger.append(body)
    assert "recorded_at" not in body
    moment = datetime.fromisoformat(entry.recorded_at)
    assert moment.tzinfo is not None and moment.utcoffset().total_seconds() == 0 and moment.microsecond == 0
    assert entry.body["recorded_at"] == entry.recorded_at
    assert abs((datetime.now(timezone.utc) - moment).total_seconds()) < 3600


def test_sqlite_url_forms(tmp_path, make_body):
    path = tmp_path / "a.sqlite"
    with Ledger(f"sqlite:///{path}", create=True) as ledger:
        ledger.append(make_body(1))
    with Ledger(str(path)) as ledger:
        assert len(ledger.records()) == 1


def test_records_filters_and_find_batch(filled, make_body):
    with Ledger(filled, create=True) as ledger:
        pending = ledger.append(make_body(6, batch="B", labels="pending", recorded_at="2026-12-01T00:00:00+00:00"))
        done = ledger.append(make_body(7, batch="B", labels="present", links={"labels_for": pending.entry_hash},
                                       recorded_at="2026-12-02T00:00:00+00:00"))
        assert [e.seq for e in ledger.records(policy="hiring")] == [4]
        assert [e.seq for e in ledger.records(since="2026-11-14")] == [4, 5, 6, 7]
        assert [e.seq for e in ledger.records(since=date(2026, 12, 2))] == [7]
        assert [e.seq for e in ledger.records(since="2026-11-15T12:00:00Z")] == [5, 6, 7]
        assert ledger.find_batch("credit", "B") == pending
        assert ledger.find_batch("credit", "B", labels="present") == done
        assert ledger.find_batch("credit", "nope") is None
        with pytest.raises(LedgerError, match="not a date"):
            ledger.records(since="yesterday")
        frame = ledger.entries()
    assert list(frame.columns) == ["seq", "recorded_at", "policy", "policy_version", "verdict", "exit_code", "rules",
                                   "failed_rules", "model_sha256", "data_sha256", "policy_sha256", "batch_id", "labels",
                                   "labels_for", "completed_by", "signed_by", "entry_hash"]
    assert len(frame) == 7 and str(frame["recorded_at"].dt.tz) == "UTC"
    row3 = frame[frame.seq == 3].iloc[0]
    assert row3.verdict == "failed" and row3.failed_rules == 1 and row3.rules == 2 and row3.exit_code == 1
    assert row3.model_sha256 == f"{3:064x}" and row3.policy_version == "1.0"
    row6, row7 = frame[frame.seq == 6].iloc[0], frame[frame.seq == 7].iloc[0]
    assert row6.labels == "pending" and row6.completed_by == 7
    assert row7.labels_for == 6
    assert frame[frame.seq == 1].iloc[0].signed_by.startswith("SHA256:")


def test_entry_is_frozen_and_body_cached(filled):
    with Ledger(filled) as ledger:
        entry = ledger.head()
    assert isinstance(entry, LedgerEntry)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.seq = 9
    assert entry.body is entry.body


def test_reader_never_writes(filled):
    before = filled.read_bytes()
    with Ledger(filled) as ledger:
        ledger.verify()
        ledger.records()
        with pytest.raises(LedgerError, match="opened for reading"):
            ledger.append({"policy": {"name": "x"}, "verdict": "passed"})
    assert filled.read_bytes() == before


def test_missing_file_is_an_error_for_readers(tmp_path):
    path = tmp_path / "none.db"
    with pytest.raises(LedgerError, match=r"no ledger at .*none\.db; audit check --ledger .* creates one"):
        Ledger(path)
    assert not path.exists()


def test_missing_parent_folder_is_named(tmp_path):
    with pytest.raises(LedgerError, match=r"the folder .*nowhere does not exist"):
        Ledger(tmp_path / "nowhere" / "ledger.db", create=True)
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_is_not_a_ledger(tmp_path):
    with pytest.raises(LedgerError, match="is a folder"):
        Ledger(tmp_path, create=True)


@pytest.mark.parametrize("create", [False, True])
def test_non_sqlite_file(tmp_path, create):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is a text file, not a database\n" * 100)
    with pytest.raises(LedgerError, match="is not a SQLite database") as info:
        Ledger(path, create=create)
    assert "Traceback" not in str(info.value) and "\n" not in str(info.value)


def test_sqlite_database_without_ledger_tables(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(LedgerError, match="not an auditkit ledger"):
        Ledger(path)
    with pytest.raises(LedgerError, match="not an auditkit ledger"):
        Ledger.upgrade(path)


def test_upgrade_at_head_is_a_no_op(filled):
    with sqlite3.connect(filled) as conn:
        assert conn.execute("SELECT version_num FROM auditkit_ledger_version").fetchall() == [("0001",)]
    before = filled.read_bytes()
    assert Ledger.upgrade(filled) == ("0001", "0001")
    with Ledger(filled, create=True) as ledger:
        assert (ledger.revision_before, ledger.revision) == ("0001", "0001")
    assert filled.read_bytes() == before


def test_unknown_future_revision(filled):
    with sqlite3.connect(filled) as conn:
        conn.execute("UPDATE auditkit_ledger_version SET version_num = '9999_future'")
    for create in (False, True):
        with pytest.raises(LedgerError, match="written by a newer auditkit.*upgrade auditkit"):
            Ledger(filled, create=create)
    with pytest.raises(LedgerError, match="newer auditkit"):
        Ledger.upgrade(filled)


def test_older_revision_asks_for_upgrade(filled, monkeypatch):
    from auditkit.ledger import _store

    monkeypatch.setattr(_store, "_script_revisions", lambda: (frozenset({"0001", "0002"}), "0002"))
    with pytest.raises(LedgerError, match=r"older than this auditkit's \(0002\); run: audit ledger upgrade"):
        Ledger(filled)


def test_upgrade_creates_schema_revision_record_from_empty(tmp_path):
    path = tmp_path / "new.db"
    with Ledger(path, create=True) as ledger:
        assert (ledger.revision_before, ledger.revision) == (None, "0001")


@pytest.mark.parametrize("url", ["mysql://u:pw@h/db", "http://example.com/ledger", "foo://bar", "sqlite://"])
def test_unsupported_urls(url):
    with pytest.raises(LedgerError) as info:
        Ledger(url)
    message = str(info.value)
    assert "pw@" not in message
    assert "sqlite:///" in message


def test_redact():
    assert redact("postgresql://alice:s3cr3t@db.example/ledger") == "postgresql://alice:***@db.example/ledger"
    assert redact("ledger.db") == "ledger.db"
    assert "s3cr3t" not in redact("postgresql://alice:s3cr3t@[bad")
    assert "hunter2x" not in redact("mysql://bob:hunter2x@h/db")


def test_password_never_in_connection_errors():
    url = "postgresql://alice:Sup3rSecretPw@127.0.0.1:1/ledger"
    with pytest.raises(LedgerError) as info:
        Ledger(url)
    message = str(info.value)
    assert "Sup3rSecretPw" not in message and "***" in message
    assert "127.0.0.1" in message and "\n" not in message
    with pytest.raises(LedgerError) as info:
        Ledger.upgrade(url)
    assert "Sup3rSecretPw" not in str(info.value)
    with pytest.raises(LedgerError) as info:
        Ledger("mysql://alice:Sup3rSecretPw@127.0.0.1/ledger")
    assert "Sup3rSecretPw" not in str(info.value) and "***" in str(info.value)


def test_display_is_the_redacted_location(filled):
    with Ledger(filled) as ledger:
        assert ledger.display == ledger.url == str(filled)


def test_ledger_repr_hides_password():
    from auditkit.ledger._url import parse_url

    assert "pw123456" not in repr(parse_url("postgresql://u:pw123456@h/db"))


def test_body_over_the_limit_is_refused(filled, monkeypatch):
    from auditkit.ledger import _store

    monkeypatch.setattr(_store, "BODY_LIMIT", 100)
    with Ledger(filled) as ledger:
        with pytest.raises(LedgerError, match="entry 1 of the ledger has a body larger than"):
            ledger.records()
        result = ledger.verify()
    assert not result.ok
    assert result.problems[0].kind == "unreadable" and result.problems[0].seq == 1


def test_hostile_column_types_are_problems(filled):
    with sqlite3.connect(filled) as conn:
        conn.execute("UPDATE ledger_entries SET body = X'00ff' WHERE seq = 2")
    with Ledger(filled) as ledger:
        with pytest.raises(LedgerError, match="entry 2 of the ledger has a body_text that is not text"):
            ledger.records()
        result = ledger.verify()
    assert not result.ok and [p.seq for p in result.problems][0] == 2


def test_append_rejects_bodies_that_are_not_json(ledger_path, make_body):
    body = make_body(1)
    body["results"]["x"] = float("inf")
    with Ledger(ledger_path, create=True) as ledger:
        with pytest.raises(LedgerError, match="not plain JSON"):
            ledger.append(body)
        with pytest.raises(ValueError):
            ledger.append({"verdict": "passed"})
        assert ledger.head() is None


def test_locked_too_long_is_a_ledger_error(filled, make_body, monkeypatch):
    monkeypatch.setenv("AUDITKIT_LEDGER_TIMEOUT", "0")
    monkeypatch.setattr("auditkit.ledger._store.MAX_ATTEMPTS", 2)
    holder = sqlite3.connect(filled, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Ledger(filled) as reader:  # readers are not blocked by a writer that has not committed
            assert len(reader.records()) == 5
        with Ledger(filled, create=True) as ledger:  # at head already: opening takes no write lock
            with pytest.raises(LedgerError, match="locked by another writer .*could not append the audit"):
                ledger.append(make_body(9))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_entry_body_json_round_trip(filled):
    with Ledger(filled) as ledger:
        entry = ledger.records()[0]
    assert json.loads(entry.body_text) == entry.body
    assert entry.body["results"]["note"].startswith("<script>")


def test_trend_is_the_history_trend_frame_of_the_records(filled, monkeypatch):
    import sys
    import types

    calls = []
    fake = types.ModuleType("auditkit.history")
    fake.trend_frame = lambda records, metric, feature=None: calls.append((records, metric, feature)) or "frame"
    monkeypatch.setitem(sys.modules, "auditkit.history", fake)
    with Ledger(filled) as ledger:
        assert ledger.trend("disparate_impact", "sex", policy="hiring") == "frame"
        expected = ledger.records(policy="hiring")
    assert calls == [(expected, "disparate_impact", "sex")]


def test_importing_the_ledger_package_and_cli_stays_light():
    import subprocess
    import sys

    code = ("import sys, auditkit, auditkit.ledger, auditkit.ledger._cli; "
            "heavy = [m for m in ('sqlalchemy', 'alembic', 'pandas', 'psycopg', 'cryptography') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.stdout.strip() == "[]"
