"""Outputs: the report holds the verdict and every rule, is self-contained and escaped;
results.json follows its JSON Schema; junit.xml parses as JUnit; writes are atomic."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from auditkit.pipeline import run_audit
from auditkit.report import render_html, render_junit, render_summary_md, write_outputs
from auditkit.report.schema import validate_results
from policies import MINIMAL_POLICY


@pytest.fixture(scope="module")
def demo_results(demo_dir):
    return run_audit(demo_dir / "audit.yaml", explain=False, seed=0).to_dict()


def test_results_follow_the_schema(demo_results):
    validate_results(demo_results)
    json.dumps(demo_results, allow_nan=False)


def test_report_holds_the_verdict_and_every_rule(demo_results):
    html = render_html(demo_results)
    verdict = "PASS" if demo_results["status"] == "passed" else "FAIL"
    assert re.search(rf'class="verdict {demo_results["status"]}"', html)
    assert verdict in html
    for rule in demo_results["rules"]:
        assert f"<code>{rule['id']}</code>" in html
    for section in ("rules", "contract", "data", "performance", "fairness", "explanations", "provenance", "glossary"):
        assert f'id="{section}"' in html


def test_report_is_self_contained(demo_results):
    html = render_html(demo_results)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "no network references"
    assert "<script" not in html
    assert "<link" not in html
    for src in re.findall(r'<img src="([^"]+)"', html):
        assert src.startswith("data:image/svg+xml;base64,")


def test_report_escapes_hostile_values(demo_results):
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    results = json.loads(json.dumps(demo_results))
    results["policy"]["name"] = hostile
    results["rules"][0]["id"] = hostile
    results["rules"][0]["message"] = hostile
    results["fairness"]["groups"][0]["group"] = hostile
    results["contract"]["violations"] = [{"column": hostile, "check": hostile, "failure_count": 1, "examples": [hostile]}]
    results["contract"]["passed"] = False
    html = render_html(results)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    results["rules"][1]["id"] = "ping @security-team"
    md = render_summary_md(results)
    assert "<script>" not in md
    assert "@security-team" not in md, "names from data never notify anyone in a PR comment"
    ET.fromstring(render_junit(results))


def test_junit_has_one_case_per_rule(demo_results):
    root = ET.fromstring(render_junit(demo_results))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r["id"] for r in demo_results["rules"]]
    for case, rule in zip(cases, demo_results["rules"]):
        if rule["status"] == "pass":
            assert len(case) == 0
        elif rule["gating"]:
            assert case.find("failure") is not None or case.find("error") is not None
        else:
            assert case.find("skipped") is not None
    assert int(suite.get("tests")) == len(cases)


def test_summary_md_has_verdict_and_table(demo_results):
    md = render_summary_md(demo_results)
    assert md.startswith("## ")
    assert ("PASS" in md.splitlines()[0]) == (demo_results["status"] == "passed")
    rows = [line for line in md.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(demo_results["rules"])


def test_write_outputs_is_atomic_and_appends_github_summary(demo_results, tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    paths = write_outputs(demo_results, tmp_path / "out")
    # The hidden manifest records the set (docs/ci.md); nothing else is left beside the outputs.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".auditkit-manifest.json", "junit.xml", "report.html",
                                                                  "results.json", "summary.md"]
    assert json.loads(paths.results.read_text()) == demo_results
    assert summary.read_text().startswith("## ")


def test_failed_render_leaves_earlier_outputs(demo_results, tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_outputs(demo_results, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    import auditkit.report.writers as writers

    def boom(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(writers, "render_junit", boom)
    changed = json.loads(json.dumps(demo_results))
    changed["policy"]["name"] = "changed"
    with pytest.raises(RuntimeError):
        write_outputs(changed, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_unwritable_output_is_an_output_error(demo_results, tmp_path):
    from auditkit.errors import OutputError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="--out"):
        write_outputs(demo_results, blocker / "out")


def test_outputs_are_deterministic(write_policy):
    policy = write_policy(MINIMAL_POLICY)
    first = run_audit(policy, explain=False, seed=3).to_dict()
    second = run_audit(policy, explain=False, seed=3).to_dict()
    for doc in (first, second):
        for key in ("started_at", "finished_at"):
            doc["provenance"][key] = ""
    assert json.dumps(first) == json.dumps(second)
    assert render_html(first) == render_html(second)


def test_custom_templates_override_and_extend(demo_results, tmp_path):
    folder = tmp_path / "templates"
    (folder / "partials").mkdir(parents=True)
    (folder / "report.html.j2").write_text(
        '{% extends "auditkit/report.html.j2" %}'
        "{% block header %}<header><h1>ACME Model Risk Review</h1><p>{{ v.policy.name }}</p></header>{% endblock %}"
        "{% block sections %}{{ super() }}<section id=\"sign-off\"><h2>Sign-off</h2></section>{% endblock %}")
    (folder / "partials" / "glossary.html.j2").write_text("<section id=\"glossary\"><h2>Our glossary</h2></section>")
    html = render_html(demo_results, templates=folder)
    assert "ACME Model Risk Review" in html and 'id="sign-off"' in html
    assert "Our glossary" in html
    assert 'id="rules"' in html, "the bundled sections are still there"
    assert "Content-Security-Policy" in html


def test_custom_templates_are_autoescaped(demo_results, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "report.html.j2").write_text("<h1>{{ v.policy.name }}</h1>")
    results = json.loads(json.dumps(demo_results))
    results["policy"]["name"] = "<script>x</script>"
    assert "<script>" not in render_html(results, templates=folder)


def test_policy_templates_reach_the_report(write_policy, tmp_path):
    from click.testing import CliRunner

    from auditkit.cli import cli

    policy = write_policy(MINIMAL_POLICY + "report:\n  templates: my-templates\n")
    folder = policy.parent / "my-templates"
    folder.mkdir()
    (folder / "report.html.j2").write_text('{% extends "auditkit/report.html.j2" %}{% block header %}<h1>House style</h1>{% endblock %}')
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(out), "--no-explain"])
    assert result.exit_code == 0, result.output
    assert "House style" in (out / "report.html").read_text()
