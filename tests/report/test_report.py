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
    import auditkit.report.render as render

    def boom(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(render, "render_junit", boom)
    changed = json.loads(json.dumps(demo_results))
    changed["policy"]["name"] = "changed"
    with pytest.raises(RuntimeError):
        write_outputs(changed, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_unwritable_output_is_an_output_error(demo_results, tmp_path):
    from auditkit.errors import OutputError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="choose another output folder"):
        write_outputs(demo_results, blocker / "out")
    with pytest.raises(OutputError, match="--out"):
        write_outputs(demo_results, blocker / "out", hint="choose another folder with --out")


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


# ---------------------------------------------------------------- sections and packs as data


def test_sections_follow_the_core_order_and_absent_ones_are_left_out(demo_results):
    from auditkit.report.sections import CORE_SECTIONS
    from auditkit.report.view import build_view

    assert [s.id for s in CORE_SECTIONS] == ["rules", "packs", "contract", "data", "drift", "performance", "fairness",
                                             "remedies", "champion", "explanations", "reasons", "provenance",
                                             "glossary"]
    view = build_view(demo_results, charts_enabled=False)
    shown = [s["id"] for s in view["sections"]]
    assert "champion" not in shown and "packs" not in shown and view["views"]["champion"] is None
    html = render_html(demo_results)
    nav = html[html.index('<nav class="toc"'):html.index("</nav>")]
    assert [a for a in re.findall(r'href="#([^"]+)"', nav)] == shown
    for section in shown:
        assert f'<section id="{section}" aria-labelledby="{section}-heading">' in html
    assert 'id="champion"' not in html and 'href="#packs"' not in html


def test_a_new_section_is_one_view_one_partial_and_one_line(demo_results, tmp_path, monkeypatch):
    import auditkit.report.sections as sections

    folder = tmp_path / "templates"
    (folder / "partials").mkdir(parents=True)
    (folder / "partials" / "notes.html.j2").write_text("<p>{{ section.note }}</p>\n")
    note = sections.Section("notes", "Notes", "partials/notes.html.j2", lambda results: {"note": "<b>hi</b>"},
                            heading="Reviewer notes", terms=lambda results: {"shap"})
    monkeypatch.setattr(sections, "CORE_SECTIONS", (*sections.CORE_SECTIONS[:-1], note, sections.CORE_SECTIONS[-1]))
    html = render_html(demo_results, templates=folder)
    assert '<a href="#notes">Notes</a><a href="#glossary">' in html
    assert '<h2 id="notes-heading">Reviewer notes</h2>\n<p>&lt;b&gt;hi&lt;/b&gt;</p>' in html
    assert '<dt>shap <code class="muted">shap</code>' in html, "the section's terms reach the glossary"


def test_summary_renders_no_chart(demo_results, monkeypatch):
    from auditkit.report import charts

    def drawn():
        raise AssertionError("summary.md drew a chart")

    monkeypatch.setattr(charts, "_plt", drawn)
    assert render_summary_md(demo_results).startswith("## ")
    with pytest.raises(AssertionError, match="drew a chart"):
        render_html(demo_results)


@pytest.fixture()
def toy_pack(tmp_path, monkeypatch):
    """An installed pack beside the shipped ones: a section, a document, a glossary term, a
    results schema, a command and templates -- every hook the core reads."""
    import click

    import auditkit.packs
    from auditkit.metrics import register_term
    from auditkit.report.sections import Section
    from auditkit.report.templates import environment

    folder = tmp_path / "toy-pack" / "templates"
    folder.mkdir(parents=True)
    (folder / "section.html.j2").write_text('<p class="toy">{{ section.message }}</p>\n')
    (folder / "toy.txt.j2").write_text("toy says {{ v.message }}\n")
    register_term("toy_term", "A term only the toy pack uses.")

    class Toy:
        name = "toy"
        results_key = "toy"
        templates_folder = folder
        document_names = frozenset({"toy.txt"})

        def report_sections(self):
            return (Section("toy", "Toy checks", "packs/toy/section.html.j2",
                            lambda results: results["toy"] if results.get("toy") else None),)

        def documents(self, results, templates):
            text = environment(templates=templates).get_template("packs/toy/toy.txt.j2").render(v=results["toy"])
            return {"toy.txt": text}

        def glossary_terms(self, results):
            return frozenset({"toy_term"}) if results.get("toy") else frozenset()

        def results_schema(self):
            return {"type": ["object", "null"], "required": ["message"],
                    "properties": {"message": {"type": "string"}}}

        def command(self):
            @click.command("toy")
            def toy():
                """Say hello from the toy pack."""
                click.echo("toy command ran")

            return toy

    installed = {**auditkit.packs.plugins(), "toy": Toy()}
    monkeypatch.setattr(auditkit.packs, "plugins", lambda: installed)
    return Toy


def _with_toy(results: dict, message: str = "<b>hello</b>") -> dict:
    document = json.loads(json.dumps(results))
    document["toy"] = {"message": message}
    document["packs"] = [{"name": "toy", "title": "Toy standard", "description": "A pack for tests.",
                          "framing": "What it does not establish: anything.", "sections": ["framing", "toy"],
                          "rules": []}]
    return document


def test_a_pack_reaches_the_report_through_its_plugin(demo_results, toy_pack, tmp_path):
    results = _with_toy(demo_results)
    html = render_html(results)
    packs = html[html.index('<section id="packs"'):html.index('<section id="contract"')]
    assert "<h3>Toy standard" in packs and '<p class="toy">&lt;b&gt;hello&lt;/b&gt;</p>' in packs
    assert '<a href="#packs">Regulatory packs</a>' in html
    assert "<dt>toy term <code class=\"muted\">toy_term</code></dt><dd>A term only the toy pack uses.</dd>" in html
    assert "Toy standard" in render_summary_md(results)

    paths = write_outputs(results, tmp_path / "out")
    assert paths.documents == {"toy.txt": tmp_path / "out" / "toy.txt"} and paths.toy_txt == tmp_path / "out" / "toy.txt"
    assert paths.toy_txt.read_text() == "toy says &lt;b&gt;hello&lt;/b&gt;\n"
    again = write_outputs(demo_results, tmp_path / "out")
    assert again.toy_txt is None and not (tmp_path / "out" / "toy.txt").exists(), "a stale document of the set is removed"
    with pytest.raises(AttributeError):
        again.no_such_txt


def test_a_user_folder_overrides_a_pack_template(demo_results, toy_pack, tmp_path):
    folder = tmp_path / "mine"
    (folder / "packs" / "toy").mkdir(parents=True)
    (folder / "packs" / "toy" / "section.html.j2").write_text(
        '<div class="house">{% include "auditkit/packs/toy/section.html.j2" %}</div>')
    html = render_html(_with_toy(demo_results), templates=folder)
    assert '<div class="house"><p class="toy">&lt;b&gt;hello&lt;/b&gt;</p>\n</div>' in html


def test_a_pack_schema_checks_its_key(demo_results, toy_pack, tmp_path):
    from auditkit.errors import DataError
    from auditkit.report.schema import validate_results

    validate_results(_with_toy(demo_results))
    broken = _with_toy(demo_results)
    broken["toy"]["message"] = 3
    with pytest.raises(DataError, match=r"key 'toy\.message' must be a string, not 3"):
        validate_results(broken)
    with pytest.raises(DataError, match=r"toy\.message"):
        write_outputs(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    unknown = _with_toy(demo_results)
    unknown["packs"][0]["sections"].append("nowhere")
    with pytest.raises(DataError, match=r"packs\[0\]\.sections\[2\]"):
        validate_results(unknown)


def test_a_pack_command_joins_the_command_line(toy_pack):
    from click.testing import CliRunner

    from auditkit.cli import cli

    assert "Say hello from the toy pack." in CliRunner().invoke(cli, ["--help"]).output
    result = CliRunner().invoke(cli, ["toy"])
    assert result.exit_code == 0 and result.output == "toy command ran\n"


def test_write_outputs_refuses_what_is_not_a_results_document(demo_results, tmp_path):
    from auditkit.errors import DataError

    document = json.loads(json.dumps(demo_results))
    document["fairness"]["groups"][0]["metrics"]["tpr"] = float("nan")
    with pytest.raises(DataError, match=r"key 'fairness\.groups\[0\]\.metrics\.tpr' is not a finite number"):
        write_outputs(document, tmp_path / "out")
    with pytest.raises(DataError, match="key 'status' is missing"):
        write_outputs({k: v for k, v in demo_results.items() if k != "status"}, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_report_package_has_no_import_cycle_and_computes_nothing():
    """Rendering modules import no computation module, and no two of them import each other."""
    import ast
    from pathlib import Path

    import auditkit

    package = Path(auditkit.__file__).parent
    computation = ("fairness", "explanations", "contract", "pipeline", "spark", "drift", "data_bias", "predictions",
                   "model", "stages", "engines")
    graph: dict[str, set[str]] = {}
    for path in (package / "report").rglob("*.py"):
        module = ".".join(("auditkit", *path.relative_to(package).with_suffix("").parts)).removesuffix(".__init__")
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        edges = graph.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                root = base[: len(base) - node.level + 1] if node.level else []
                target = ".".join([*root, *(node.module.split(".") if node.module else [])])
                names = [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                target, names = "", [alias.name for alias in node.names]
            else:
                continue
            for name in [target, *names]:
                assert not any(name == f"auditkit.{c}" or name.startswith(f"auditkit.{c}.") for c in computation), \
                    f"{module} imports {name}"
            edges.add((target, tuple(names)))
    modules = set(graph)
    # "from .. import charts" imports the module auditkit.report.charts, not the package's __init__.
    graph = {m: {e for target, names in imports for e in ([n for n in names if n in modules] or [target])
                 if e in modules and e != m} for m, imports in graph.items()}

    def visit(module, trail):
        assert module not in trail, "import cycle: " + " -> ".join([*trail, module])
        for target in graph[module]:
            visit(target, (*trail, module))

    for module in graph:
        visit(module, ())
