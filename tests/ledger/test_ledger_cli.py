"""``audit ledger verify | export | upgrade`` through click's CliRunner (the lead registers the group)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from auditkit.ledger import Ledger
from auditkit.ledger._cli import ledger as ledger_group


def _run(*args):
    return CliRunner().invoke(ledger_group, [str(a) for a in args])


def test_help_explains_what_is_established():
    result = _run("verify", "--help")
    assert result.exit_code == 0
    assert "What it establishes" in result.output and "--expect-head" in result.output
    assert "Verify, export and upgrade an audit ledger." in _run("--help").output


def test_verify_intact(filled):
    with Ledger(filled) as ledger:
        head = ledger.head().entry_hash
    result = _run("verify", filled)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"intact: 5 entries, head {head[:12]} (")
    assert "from the start of the ledger" in result.output
    result = _run("verify", filled, "--expect-head", head[:12])
    assert result.exit_code == 0 and "expected head" in result.output


def test_verify_problems_exit_1(filled):
    with sqlite3.connect(filled) as conn:
        conn.execute("DELETE FROM ledger_entries WHERE seq = 2")
        conn.execute("UPDATE ledger_entries SET verdict = 'passed' WHERE seq = 3")
    result = _run("verify", filled)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("problem: entry 2 is missing (deleted?)")
    assert lines[1].startswith("problem: entry 3 (2026-11-13T12:00:00+00:00, policy 'credit') was edited")
    assert lines[-1].startswith("NOT intact: 2 problems in 4 entries of")


def test_verify_json(filled):
    result = _run("verify", filled, "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["ok"] is True and doc["entries"] == 5 and doc["kind"] == "ledger" and doc["problems"] == []


def test_verify_missing_ledger_exit_2(tmp_path):
    result = _run("verify", tmp_path / "none.db")
    assert result.exit_code == 2
    assert "Error: " in result.output and "no ledger at" in result.output and "Traceback" not in result.output


def test_verify_a_plain_folder_exit_2(tmp_path):
    result = _run("verify", tmp_path)
    assert result.exit_code == 2 and "is a folder without ledger.json" in result.output


def test_verify_bad_expect_head_exit_2(filled):
    result = _run("verify", filled, "--expect-head", "zz")
    assert result.exit_code == 2 and "not an entry hash" in result.output


def test_verify_password_hidden(tmp_path):
    result = _run("verify", "postgresql://bob:TopSecret99@127.0.0.1:1/x")
    assert result.exit_code == 2
    assert "TopSecret99" not in result.output and "***" in result.output


def test_export_and_verify_bundle(filled, tmp_path):
    out = tmp_path / "bundle"
    result = _run("export", filled, "--out", out)
    assert result.exit_code == 0, result.output
    assert "5 entries" in result.output and "seq 1 to 5" in result.output and "entries.jsonl" in result.output
    result = _run("verify", out)
    assert result.exit_code == 0 and result.output.startswith("intact: 5 entries")
    partial = tmp_path / "partial"
    result = _run("export", filled, "--out", partial, "--since", "2026-11-14")
    assert result.exit_code == 0 and "seq 4 to 5" in result.output and "anchored at" in result.output
    result = _run("verify", partial)
    assert result.exit_code == 0 and "from entry 4, anchored at" in result.output
    lines = (out / "entries.jsonl").read_bytes().splitlines(keepends=True)
    lines[0] = b"{broken\n"
    (out / "entries.jsonl").write_bytes(b"".join(lines))
    result = _run("verify", out)
    assert result.exit_code == 1 and "problem: entries.jsonl line 1: is not valid JSON" in result.output


def test_export_bad_since_exit_2(filled, tmp_path):
    result = _run("export", filled, "--out", tmp_path / "b", "--since", "last tuesday")
    assert result.exit_code == 2 and "not a date" in result.output


def test_upgrade(filled, tmp_path):
    result = _run("upgrade", filled)
    assert result.exit_code == 0 and "already at schema revision 0001; nothing to do" in result.output
    result = _run("upgrade", tmp_path / "none.db")
    assert result.exit_code == 2 and "no ledger at" in result.output
    with sqlite3.connect(filled) as conn:
        conn.execute("DELETE FROM auditkit_ledger_version")
    # a ledger whose revision record was lost is not silently re-created
    result = _run("upgrade", filled)
    assert result.exit_code == 2 and "has ledger tables but no auditkit schema revision" in result.output


def test_verify_with_public_key_file(filled, tmp_path, make_body):
    signing = pytest.importorskip("auditkit.signing")
    private, public = signing.generate_keypair()
    path = tmp_path / "ledger2.db"
    with Ledger(path, create=True) as ledger:
        ledger.append(make_body(1), signer=private)
        ledger.append(make_body(2), signer=private)
    pub = tmp_path / "key.pub"
    pub.write_bytes(public.to_pem())
    result = _run("verify", path, "--pub", pub, "--require-signatures")
    assert result.exit_code == 0, result.output
    assert f"2 signatures verified with {public.fingerprint}" in result.output
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE ledger_entries SET key_fingerprint = NULL, signature = NULL WHERE seq = 2")
    result = _run("verify", path, "--pub", pub, "--require-signatures")
    assert result.exit_code == 1 and "entry 2" in result.output and "is not signed" in result.output
    result = _run("verify", path, "--pub", tmp_path / "missing.pub")
    assert result.exit_code == 2 and "Error:" in result.output
