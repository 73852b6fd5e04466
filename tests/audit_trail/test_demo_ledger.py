"""Issue 18's "done when", on the real demo: ten `audit check` runs appended concurrently in pairs
leave one intact chain (SQLite and PostgreSQL); one edited byte of a stored entry or of a signed
output is detected and named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli


def _audit(*args: str, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "auditkit", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def _ten_in_pairs(demo_dir: Path, out: Path, ledger: str) -> list[tuple[int, str]]:
    """Ten audits of the demo, started two at a time; (exit code, stderr) of each."""
    finished = []
    for pair in range(5):
        running = [_audit("check", str(demo_dir / "audit.yaml"), "--out", str(out / f"run{pair}-{i}"), "-q",
                          "--no-explain", "--ledger", ledger) for i in range(2)]
        for process in running:
            _, err = process.communicate(timeout=600)
            finished.append((process.returncode, err))
    return finished


def _assert_one_chain(ledger_url: str, out: Path) -> None:
    from auditkit.ledger import Ledger

    ledger = Ledger(ledger_url, create=False)
    check = ledger.verify()
    assert check.ok, check.problems
    records = ledger.records()
    assert [r.seq for r in records] == list(range(1, 11))
    assert len({r.entry_hash for r in records}) == 10
    # every run's outputs are committed to by exactly one entry
    recorded = {r.body["outputs"]["results.json"] for r in records}
    import hashlib

    written = {hashlib.sha256((folder / "results.json").read_bytes()).hexdigest() for folder in out.iterdir()}
    assert recorded == written


def test_ten_demo_audits_in_pairs_on_sqlite(demo_dir, tmp_path):
    ledger = str(tmp_path / "audits.db")
    finished = _ten_in_pairs(demo_dir, tmp_path / "out", ledger)
    assert [code for code, _ in finished] == [0] * 10, [err for _, err in finished]
    _assert_one_chain(ledger, tmp_path / "out")


def test_ten_demo_audits_in_pairs_on_postgresql(demo_dir, tmp_path, pg_url):
    finished = _ten_in_pairs(demo_dir, tmp_path / "out", pg_url)
    assert [code for code, _ in finished] == [0] * 10, [err for _, err in finished]
    _assert_one_chain(pg_url, tmp_path / "out")


def test_an_edited_entry_is_named(demo_dir, tmp_path):
    import sqlite3

    ledger = tmp_path / "audits.db"
    runner = CliRunner()
    for i in range(3):
        result = runner.invoke(cli, ["check", str(demo_dir / "audit.yaml"), "--out", str(tmp_path / f"o{i}"), "-q",
                                     "--no-explain", "--ledger", str(ledger)])
        assert result.exit_code == 0, result.output
    ok = runner.invoke(cli, ["ledger", "verify", str(ledger)])
    assert ok.exit_code == 0 and "3 entries" in ok.output
    with sqlite3.connect(ledger) as db:  # one byte of entry 2's stored results: a verdict rewritten
        body = db.execute("SELECT body FROM ledger_entries WHERE seq = 2").fetchone()[0]
        db.execute("UPDATE ledger_entries SET body = ? WHERE seq = 2", (body.replace('"status":"passed"', '"status":"failed"', 1),))
    broken = runner.invoke(cli, ["ledger", "verify", str(ledger)])
    assert broken.exit_code == 1
    assert "entry 2" in broken.output or "#2" in broken.output


def test_signed_outputs_detect_one_changed_byte(demo_dir, tmp_path):
    runner = CliRunner()
    keys = tmp_path / "keys" / "auditor"
    keys.parent.mkdir()
    made = runner.invoke(cli, ["keygen", "--out", str(keys)])
    assert made.exit_code == 0, made.output
    private = keys.with_suffix(".key").read_text(encoding="ascii")
    out = tmp_path / "signed"
    result = runner.invoke(cli, ["check", str(demo_dir / "audit.yaml"), "--out", str(out), "--no-explain",
                                 "--sign-key", str(keys.with_suffix(".key"))])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    fingerprint = results["provenance"]["signature"]["key_fingerprint"]
    assert fingerprint.startswith("SHA256:")
    assert fingerprint in (out / "report.html").read_text(encoding="utf-8")
    key_body = "".join(line for line in private.splitlines() if "-----" not in line)
    for name in os.listdir(out):  # the private key is nowhere in the outputs
        if (out / name).is_file():
            assert key_body[:40] not in (out / name).read_text(encoding="utf-8", errors="replace")
    assert key_body[:40] not in result.output
    verified = runner.invoke(cli, ["verify", str(out), "--pub", str(keys.with_suffix(".pub"))])
    assert verified.exit_code == 0, verified.output
    for name in ("report.html", "results.json", "junit.xml", "summary.md"):
        data = bytearray((out / name).read_bytes())
        original = bytes(data)
        data[len(data) // 2] ^= 0x01
        (out / name).write_bytes(bytes(data))
        changed = runner.invoke(cli, ["verify", str(out), "--pub", str(keys.with_suffix(".pub"))])
        assert changed.exit_code == 1 and name in changed.output
        (out / name).write_bytes(original)


def test_a_labelled_audit_completes_the_pending_audit_of_its_batch(demo_copy, tmp_path):
    """A production batch audited before its outcomes exist (the target column not even in the file),
    then again once they arrive: the ledger links the two entries."""
    import pandas as pd

    data = pd.read_csv(demo_copy / "data" / "credit.csv")
    data.drop(columns=["credit_risk"]).to_csv(demo_copy / "data" / "batch-unlabelled.csv", index=False)
    ledger = str(tmp_path / "audits.db")
    runner = CliRunner()
    first = runner.invoke(cli, ["check", str(demo_copy / "audit.yaml"), "--data", str(demo_copy / "data" / "batch-unlabelled.csv"),
                                "--labels", "pending", "--batch", "2026-11", "--ledger", ledger, "--out", str(tmp_path / "a"),
                                "--no-explain"])
    assert first.exit_code == 0, first.output
    assert "awaiting labels" in first.output.lower() or "pending" in first.output.lower()
    pending = json.loads((tmp_path / "a" / "results.json").read_text(encoding="utf-8"))
    assert pending["data"]["label_status"] == "pending"
    assert pending["provenance"]["ledger"] == {"url": ledger, "id": pending["provenance"]["ledger"]["id"],
                                               "batch": "2026-11", "labels_for": None}
    second = runner.invoke(cli, ["check", str(demo_copy / "audit.yaml"), "--batch", "2026-11", "--ledger", ledger,
                                 "--out", str(tmp_path / "b"), "--no-explain"])
    assert second.exit_code == 0, second.output
    labelled = json.loads((tmp_path / "b" / "results.json").read_text(encoding="utf-8"))
    assert labelled["provenance"]["ledger"]["labels_for"] == 1
    assert "completes entry #1" in (tmp_path / "b" / "report.html").read_text(encoding="utf-8")

    from auditkit.ledger import Ledger

    with Ledger(ledger) as opened:
        records = opened.records()
        assert records[1].body["links"] == {"labels_for": records[0].entry_hash}
        frame = opened.entries()
        assert frame["labels"].tolist() == ["pending", "present"]
        assert frame["completed_by"].tolist()[0] == 2 and frame["labels_for"].tolist()[1] == 1
        assert opened.verify().ok
