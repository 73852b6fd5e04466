"""Candidate against champion: the demo's deliberately worse candidate fails on the group it hurts."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.report.schema import validate_results


@pytest.fixture(scope="module")
def champion_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("champion")
    result = CliRunner().invoke(cli, ["demo", str(root / "demo"), "--with-champion"], catch_exceptions=False)
    results = json.loads((root / "demo" / "audit-report" / "results.json").read_text())
    return root / "demo", result, results


def test_worse_candidate_fails_on_the_group_it_hurts(champion_run):
    folder, result, results = champion_run
    assert result.exit_code == 1, result.output
    assert results["status"] == "failed"
    rules = {r["id"]: r for r in results["rules"]}
    hurt = rules["no-worse-for-any-age-group"]
    assert hurt["status"] == "fail" and hurt["group"] == "under 25" and hurt["compare"] == "champion"
    assert hurt["observed"] < -0.05 and hurt["threshold"] == {"min": -0.05}
    validate_results(results)


def test_changes_equal_the_difference_of_the_two_audits(champion_run):
    folder, _, results = champion_run
    champion = results["champion"]
    candidate_groups = {(g["feature"], g["group"]): g["metrics"] for g in results["fairness"]["groups"]}
    champion_groups = {(g["feature"], g["group"]): g["metrics"] for g in champion["fairness"]["groups"]}
    for change in champion["changes"]["groups"]:
        key = (change["feature"], change["group"])
        cand, champ = candidate_groups[key][change["metric"]], champion_groups[key][change["metric"]]
        if cand is None or champ is None:
            continue
        assert change["change"] == pytest.approx(cand - champ, abs=1e-12)


def test_report_shows_the_worse_group_first(champion_run):
    folder, _, _ = champion_run
    html = (folder / "audit-report" / "report.html").read_text()
    assert 'id="champion"' in html and "Where the candidate is worse" in html
    section = html[html.index('id="champion"'):]
    assert section.index("under 25") < section.index("25 and over")


def test_same_model_as_champion_passes_every_comparison(champion_run, tmp_path):
    folder, _, _ = champion_run
    copy = tmp_path / "same"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("audit-report"))
    shutil.copy(copy / "models" / "credit_model.skops", copy / "models" / "candidate.skops")
    result = CliRunner().invoke(cli, ["check", str(copy / "audit.yaml"), "--out", str(tmp_path / "out"), "--no-explain"])
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    for rule in results["rules"]:
        if rule.get("compare"):
            assert rule["observed"] == pytest.approx(0.0, abs=1e-12)
            assert rule["status"] == "pass", rule


def test_diff_shows_the_change(champion_run, demo_dir, tmp_path):
    folder, _, candidate = champion_run
    from auditkit.pipeline import run_audit

    baseline = run_audit(demo_dir / "audit.yaml", explain=False, seed=0).to_dict()
    (tmp_path / "old.json").write_text(json.dumps(baseline))
    (tmp_path / "new.json").write_text(json.dumps(candidate))
    result = CliRunner().invoke(cli, ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "md"])
    assert result.exit_code in (0, 1), result.output
    assert "under 25" in result.output
