"""``audit history`` through click's CliRunner, with a stand-in for the ledger store."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from click.testing import CliRunner
from history_fakes import make_entries, results

import auditkit.ledger
from auditkit.cli import _AuditGroup
from auditkit.history._cli import history

AUDIT = _AuditGroup(name="audit", commands={"history": history})


class FakeLedger:
    """Ledger(url, create=False).records(policy=...) over fixed entries, remembering how it was opened."""

    entries: ClassVar[list] = []
    opened: ClassVar[list] = []

    def __init__(self, url, create=True):
        FakeLedger.opened.append((url, create))
        self.info = {"ledger_id": "0123456789abcdef0123456789abcdef"}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        FakeLedger.opened.append("closed")

    def records(self, policy=None, since=None):
        return [e for e in self.entries if policy is None or e.policy_name == policy]


@pytest.fixture()
def ledger(monkeypatch):
    FakeLedger.entries = make_entries([results(policy=p) for p in ("credit", "hiring", "credit")])
    FakeLedger.opened = []
    monkeypatch.setattr(auditkit.ledger, "Ledger", FakeLedger, raising=False)
    return FakeLedger


def run(*args):
    return CliRunner().invoke(AUDIT, ["history", *args])


def test_writes_html_by_the_suffix(ledger, tmp_path):
    out = tmp_path / "history.html"
    result = run("ledger.db", "--policy", "credit", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"history: {out} (2 audits, 10 metric series, 20 points)\n"
    assert ledger.opened == [("ledger.db", False), "closed"]  # a reader never creates or writes the ledger
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "0123456789abcdef0123456789abcdef" in page


@pytest.mark.parametrize("name, fmt, check", [
    ("h.csv", None, lambda text: text.startswith("seq,recorded_at,policy,rule_id")),
    ("h.json", None, lambda text: json.loads(text)["format"] == "auditkit-history/1"),
    ("h.txt", "json", lambda text: len(json.loads(text)["entries"]) == 3),
])
def test_formats(ledger, tmp_path, name, fmt, check):
    out = tmp_path / name
    result = run("ledger.db", "--out", str(out), *(["--format", fmt] if fmt else []))
    assert result.exit_code == 0, result.output
    assert check(out.read_text(encoding="utf-8"))


def test_a_name_without_a_known_suffix_needs_format(ledger, tmp_path):
    result = run("ledger.db", "--out", str(tmp_path / "history.txt"))
    assert result.exit_code == 2
    assert "end it with .html, .csv or .json, or pass --format" in result.output
    assert not (tmp_path / "history.txt").exists()


def test_an_empty_selection_names_the_policies_there(ledger, tmp_path):
    result = run("ledger.db", "--policy", "lending", "--out", str(tmp_path / "h.html"))
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: no audits of policy 'lending' in ledger.db (policies there: 'credit', "
                                     "'hiring'); choose one with --policy, or record audits with audit check --ledger.")
    assert not (tmp_path / "h.html").exists()


def test_the_password_of_a_ledger_url_is_never_shown(ledger, tmp_path):
    result = run("postgresql://auditor:s3cr3t-pw@db.example/audits", "--policy", "lending", "--out",
                 str(tmp_path / "h.html"))
    assert result.exit_code == 2
    assert "s3cr3t-pw" not in result.output and "auditor:***@db.example" in result.output


def test_an_empty_ledger(ledger, tmp_path):
    ledger.entries = []
    result = run("ledger.db", "--out", str(tmp_path / "h.html"))
    assert result.exit_code == 2
    assert "no audits in ledger.db (policies there: none)" in result.output
