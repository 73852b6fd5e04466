"""End to end: audits of successive batches recorded in a ledger, a widening disparity caught by
its trend rule, the history page showing it; the chain verified after each step."""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from auditkit.cli import cli

POLICY = """\
version: 1
name: monitoring
data:
  path: batches/b1.csv
  target: outcome
  positive_label: 1
model:
  predictions: {label: decision, score: score}
sensitive_features: [sex]
fairness:
  bootstrap: 200
ledger: ledger/audits.db
rules:
  - id: dp-cap
    metric: demographic_parity_difference
    feature: sex
    max: 0.5
  - id: dp-not-widening
    metric: demographic_parity_difference
    feature: sex
    trend: widening
    audits: 3
  - id: dp-like-first
    metric: demographic_parity_difference
    feature: sex
    trend: departs_from_first
    severity: warning
"""


def _batch(path, women_rate: float, seed: int) -> float:
    """600 applicants; men selected at 0.6, women at ``women_rate``; returns the exact difference."""
    rng = np.random.default_rng(seed)
    n = 300
    decisions_m = np.r_[np.ones(int(0.6 * n)), np.zeros(n - int(0.6 * n))]
    decisions_f = np.r_[np.ones(int(women_rate * n)), np.zeros(n - int(women_rate * n))]
    frame = pd.DataFrame({
        "sex": ["male"] * n + ["female"] * n,
        "decision": np.r_[decisions_m, decisions_f].astype(int),
        "score": np.r_[decisions_m, decisions_f] * 0.5 + rng.uniform(0, 0.5, 2 * n),
        "outcome": rng.integers(0, 2, 2 * n),
    })
    frame.to_csv(path, index=False)
    return 0.6 - int(women_rate * n) / n


@pytest.fixture()
def monitored(tmp_path):
    (tmp_path / "batches").mkdir()
    (tmp_path / "ledger").mkdir()
    (tmp_path / "audit.yaml").write_text(textwrap.dedent(POLICY), encoding="utf-8")
    return tmp_path


def _check(folder, batch: int):
    runner = CliRunner()
    return runner.invoke(cli, ["check", str(folder / "audit.yaml"), "--data", str(folder / "batches" / f"b{batch}.csv"),
                               "--out", str(folder / f"out{batch}"), "-q"], catch_exceptions=False)


def test_a_widening_disparity_fails_its_trend_rule(monitored):
    rates = [0.55, 0.50, 0.44, 0.36]  # women's selection rate falls batch after batch
    expected = [_batch(monitored / "batches" / f"b{i + 1}.csv", r, seed=i) for i, r in enumerate(rates)]
    codes = [_check(monitored, i + 1).exit_code for i in range(4)]
    assert codes == [0, 0, 0, 1]
    results = json.loads((monitored / "out4" / "results.json").read_text(encoding="utf-8"))
    rules = {r["id"]: r for r in results["rules"]}
    widening = rules["dp-not-widening"]
    assert widening["status"] == "fail" and widening["gating"]
    assert widening["trend"] == {"kind": "widening", "audits": 3, "min_change": 0.0}
    assert [round(p["value"], 10) for p in widening["details"]] == [round(e, 10) for e in expected]
    assert [p["seq"] for p in widening["details"]] == [1, 2, 3, None]
    # the first audit's interval no longer overlaps: a warning, not a block
    assert rules["dp-like-first"]["status"] == "warn"
    assert results["provenance"]["ledger"]["batch"].startswith("sha256:")
    report = (monitored / "out4" / "report.html").read_text(encoding="utf-8")
    assert "trend-chart" in report and "widening" in report

    from auditkit.ledger import Ledger

    ledger = Ledger(monitored / "ledger" / "audits.db", create=False)
    assert ledger.verify().ok
    assert [e.verdict for e in ledger.records()] == ["passed", "passed", "passed", "failed"]
    trend = ledger.trend("demographic_parity_difference", feature="sex")
    assert trend["seq"].drop_duplicates().tolist() == [1, 2, 3, 4]


def test_trend_rules_without_a_ledger_are_refused_before_any_work(monitored):
    text = (monitored / "audit.yaml").read_text(encoding="utf-8").replace("ledger: ledger/audits.db\n", "")
    (monitored / "audit.yaml").write_text(text, encoding="utf-8")
    _batch(monitored / "batches" / "b1.csv", 0.5, seed=0)
    result = CliRunner().invoke(cli, ["check", str(monitored / "audit.yaml"), "--out", str(monitored / "out")])
    assert result.exit_code == 2
    assert "needs a ledger" in result.output and "--ledger" in result.output
    assert not (monitored / "out").exists()


def test_an_edited_history_cannot_steer_a_trend_rule(monitored):
    """A ledger shipped with the audited folder, edited so the disparity seems steady: the chain
    no longer verifies, and the audit stops (exit 2) instead of judging on that history."""
    import sqlite3

    for i, rate in enumerate([0.55, 0.50, 0.44]):
        _batch(monitored / "batches" / f"b{i + 1}.csv", rate, seed=i)
        assert _check(monitored, i + 1).exit_code == 0
    with sqlite3.connect(monitored / "ledger" / "audits.db") as db:
        body = db.execute("SELECT body FROM ledger_entries WHERE seq = 2").fetchone()[0]
        edited = re.sub(r'"observed":[0-9.e-]+', '"observed":0.3', body)
        assert edited != body
        db.execute("UPDATE ledger_entries SET body = ? WHERE seq = 2", (edited,))
    _batch(monitored / "batches" / "b4.csv", 0.36, seed=3)
    result = CliRunner().invoke(cli, ["check", str(monitored / "audit.yaml"), "--data",
                                      str(monitored / "batches" / "b4.csv"), "--out", str(monitored / "out4")])
    assert result.exit_code == 2
    assert "does not verify" in result.output and "entry 2" in result.output.replace("#", "entry ")
    assert not (monitored / "out4").exists()


def test_a_special_file_as_the_policy_ledger_is_refused(monitored):
    import os

    os.mkfifo(monitored / "ledger" / "audits.db")
    _batch(monitored / "batches" / "b1.csv", 0.5, seed=0)
    result = CliRunner().invoke(cli, ["check", str(monitored / "audit.yaml"), "--out", str(monitored / "out")])
    assert result.exit_code == 2
    assert "audits.db" in result.output
