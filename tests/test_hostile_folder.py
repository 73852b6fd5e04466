"""Issue 13, "fail closed": nothing in the audited folder may run code, exhaust memory or time, or
steer what auditkit writes. Three ways in are covered here:

* report templates (``report.templates``, ``--templates``): rendered in a sandbox, loaded only as
  regular files inside their folder, with bounded output, values, steps and time;
* ``audit init`` / ``audit schema infer``: column names and values never inject YAML keys;
* provenance: the git commit is read without running git, so a shipped ``.git/config``
  (``core.fsmonitor``), ``.gitattributes`` filters or hooks never run.

Every refusal is exit code 2 with one ``Error:`` line, no traceback, and no output written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policies import MINIMAL_POLICY

from auditkit.cli import cli

BREAKS = {"LF": "\n", "CR": "\r", "NEL": "\x85", "LS": "\u2028", "PS": "\u2029"}


def invoke(*args, timeout: float = 300):
    """Run the CLI in-process; fail (rather than hang the suite) if it does not return."""
    box = {}

    def run():
        box["result"] = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"audit {' '.join(map(str, args))} did not return within {timeout}s"
    return box["result"]


def assert_refused(result, *needles):
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    err = result.stderr.strip()
    assert err.startswith("Error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    return err


# =================================================================== templates


@pytest.fixture(scope="module")
def results_file(demo_dir, tmp_path_factory) -> Path:
    from auditkit import run_audit

    path = tmp_path_factory.mktemp("results") / "results.json"
    path.write_text(json.dumps(run_audit(demo_dir / "audit.yaml", explain=False, seed=0).to_dict()), encoding="utf-8")
    return path


@pytest.fixture()
def folder(tmp_path, monkeypatch) -> Path:
    """An empty templates folder. (Charts are stubbed: drawing them is slow and beside the point.)"""
    from auditkit.report import charts

    def no_chart(fig) -> str:
        charts._plt().close(fig)
        return "data:image/svg+xml;base64,"

    monkeypatch.setattr(charts, "_to_data_uri", no_chart)
    path = tmp_path / "templates"
    path.mkdir()
    return path


def render(results_file, folder, tmp_path):
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir(exist_ok=True)
    return invoke("report", results_file, "-o", out, "--templates", folder), out


ESCAPES = {
    "cycler globals": "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "self globals": "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch MARKER') }}",
    "subclasses": ("{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'Popen' %}"
                   "{{ c(['touch', 'MARKER']) }}{% endif %}{% endfor %}"),
    "attr filter": "{{ (''|attr('__class__')|attr('__mro__'))[1]|attr('__subclasses__') }}",
    "str.format": "{{ '{0.__class__.__mro__[1].__subclasses__}'.format('') }}",
    "joiner globals": "{{ joiner.__init__.__globals__.os.system('touch MARKER') }}",
    "namespace globals": "{{ namespace.__init__.__globals__.os.system('touch MARKER') }}",
    "lipsum globals": "{{ lipsum.__globals__.os.system('touch MARKER') }}",
    "view internals": "{{ v.__class__.__init__.__globals__ }}",
    "private context": "{{ self._TemplateReference__context.environment }}",
    "list mutation": "{% set rules = v.rules %}{{ rules.append(1) }}{{ v.policy.update(name='x') }}",
    "str.translate": "{{ 'ab'.translate({97: 'x'}) }}",
}


@pytest.mark.parametrize("payload", ESCAPES.values(), ids=list(ESCAPES))
def test_template_sandbox_escapes_fail_closed(payload, results_file, folder, tmp_path):
    marker = tmp_path / "pwned"
    (folder / "report.html.j2").write_text("<h1>{{ v.title }}</h1>\n" + payload.replace("MARKER", str(marker)))
    result, out = render(results_file, folder, tmp_path)
    err = assert_refused(result, "report.html.j2, line 2")
    assert "sandbox" in err or "undefined" in err
    assert not marker.exists(), "the payload ran"
    assert not out.exists()


def test_policy_templates_escape_through_audit_check(write_policy, tmp_path):
    marker = tmp_path / "pwned"
    policy = write_policy(MINIMAL_POLICY + "report:\n  templates: my-templates\n")
    (policy.parent / "my-templates").mkdir()
    (policy.parent / "my-templates" / "summary.md.j2").write_text(
        f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}")
    out = tmp_path / "out"
    result = invoke("check", policy, "--out", out, "--no-explain")
    assert_refused(result, "summary.md.j2, line 1", "sandbox")
    assert not marker.exists()
    assert not out.exists() or not any(p for p in out.iterdir() if not p.name.startswith(".auditkit"))


def test_custom_templates_still_extend_the_bundled_ones(results_file, folder, tmp_path):
    (folder / "partials").mkdir()
    (folder / "report.html.j2").write_text(
        '{% extends "auditkit/report.html.j2" %}{% block header %}<h1>House style {{ v.rules|length }}</h1>'
        "{% for r in v.rules %}{{ loop.index }}/{{ loop.length }}:{{ r.id|upper }} {% endfor %}{% endblock %}")
    (folder / "partials" / "glossary.html.j2").write_text("<p>{{ ', '.join(['a', 'b']) }} {{ '%05.1f' % 3.14159 }}</p>")
    result, out = render(results_file, folder, tmp_path)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "House style" in html and "1/" in html and "<p>a, b 003.1</p>" in html and 'id="rules"' in html


def test_bundled_templates_render_exactly_as_before(results_file):
    """The sandbox changes nothing for the bundled templates: same output as plain jinja2."""
    import jinja2

    from auditkit.report.templates import bundled_templates_dir, markdown_escape
    from auditkit.report.view import build_view
    from auditkit.report import render_html, render_summary_md

    results = json.loads(results_file.read_text(encoding="utf-8"))
    for name, markdown, ours in (("report.html.j2", False, render_html), ("summary.md.j2", True, render_summary_md)):
        plain = jinja2.Environment(loader=jinja2.FileSystemLoader(str(bundled_templates_dir())), autoescape=not markdown,
                                   undefined=jinja2.StrictUndefined, trim_blocks=markdown, lstrip_blocks=markdown,
                                   keep_trailing_newline=True)
        plain.filters["md"] = markdown_escape
        expected = plain.get_template(name).render(v=build_view(results, charts_enabled=not markdown))
        assert ours(results) == expected


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_template_fifo_is_refused_not_read(results_file, folder, tmp_path):
    os.mkfifo(folder / "report.html.j2")
    result, out = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2", "FIFO")
    assert not out.exists()


def test_template_symlink_outside_the_folder_is_refused(results_file, folder, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET {{ v.title }}")
    (folder / "report.html.j2").symlink_to(secret)
    result, _ = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2", "outside the templates folder")
    # a folder symlinked out of the templates folder, and an include that climbs out with ..
    (folder / "report.html.j2").unlink()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "rules.html.j2").write_text("TOP SECRET")
    (folder / "partials").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    result, _ = render(results_file, folder, tmp_path)
    assert_refused(result, "rules.html.j2", "outside the templates folder")
    shutil.rmtree(tmp_path / "elsewhere")
    (folder / "partials").unlink()
    (folder / "report.html.j2").write_text("{% include '../secret.txt' %}")
    result, _ = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2, line 1", "not found")


def test_template_symlink_inside_the_folder_is_fine(results_file, folder, tmp_path):
    (folder / "mine.html.j2").write_text("<h1>{{ v.title }}</h1>")
    (folder / "report.html.j2").symlink_to(folder / "mine.html.j2")
    result, out = render(results_file, folder, tmp_path)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<h1>Audit report")


def test_oversized_and_binary_templates_are_refused(results_file, folder, tmp_path):
    from auditkit.inputs import LIMITS

    (folder / "report.html.j2").write_bytes(b"x" * (LIMITS["template"] + 1))
    result, _ = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2", "limit")
    (folder / "report.html.j2").write_bytes(b"<h1>\xff\xfe</h1>")
    result, _ = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2", "UTF-8")


TEMPLATE_ERRORS = {
    "syntax error": ("<h1>\n\n{% if %}\n", "report.html.j2, line 3", "syntax error"),
    "undefined variable": ("<h1>\n{{ no_such_thing.x }}\n", "report.html.j2, line 2", "undefined"),
    "undefined attribute": ("<h1>\n\n\n{{ v.no_such_key }}\n", "report.html.j2, line 4", "no_such_key"),
    "missing include": ("<h1>\n{% include 'nowhere.html.j2' %}", "report.html.j2, line 2", "'nowhere.html.j2' not found"),
    "include recursion": ("{% include 'report.html.j2' %}", "report.html.j2, line 1", "recursion"),
    "macro recursion": ("{% macro f() %}{{ f() }}{% endmacro %}\n{{ f() }}", "report.html.j2, line 1", "recursion"),
    "error in a partial": ("{% include 'partials/mine.html.j2' %}", "mine.html.j2, line 2", "syntax error"),
    "division by zero": ("<h1>\n{{ 1 / 0 }}", "report.html.j2, line 2", "ZeroDivisionError"),
}


@pytest.mark.parametrize("text, where, what", TEMPLATE_ERRORS.values(), ids=list(TEMPLATE_ERRORS))
def test_template_errors_are_one_line_naming_file_and_line(text, where, what, results_file, folder, tmp_path):
    (folder / "partials").mkdir()
    (folder / "partials" / "mine.html.j2").write_text("ok\n{% for %}\n")
    (folder / "report.html.j2").write_text(text)
    result, out = render(results_file, folder, tmp_path)
    assert_refused(result, where, what)
    assert not out.exists()


def test_endless_output_stops_at_the_cap(results_file, folder, tmp_path):
    (folder / "report.html.j2").write_text(
        "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}")
    result, out = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2", "64 MiB")
    assert not out.exists()


MEMORY_BOMBS = {
    "string repeat": "{{ 'x' * 10**10 }}",
    "list repeat": "{{ ['x' * 1000000] * 100000 }}",
    "huge power": "{{ 10 ** (10 ** 10) }}",
    "squaring loop": "{% set ns = namespace(x=2) %}{% for i in range(64) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
    "concat doubling": "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "center": "{{ 'x'|center(10**10) }}",
    "ljust": "{{ 'x'.ljust(10**10) }}",
    "printf width": "{{ '%1000000000d' % 1 }}",
    "format width": "{{ '{:>1000000000}'.format(1) }}",
    "join": "{{ range(100000)|join('x' * 1000000) }}",
    "batch fill": "{{ [1]|batch(10**9, 'x')|list }}",
    "shared references": "{% set a = ['x' * 1000000] * 10 %}{{ [a, a, a, a, a, a, a, a, a, a]|tojson }}",
}


@pytest.mark.parametrize("payload", MEMORY_BOMBS.values(), ids=list(MEMORY_BOMBS))
def test_memory_bombs_are_refused_before_allocating(payload, results_file, folder, tmp_path):
    (folder / "report.html.j2").write_text("<h1>\n" + payload)
    result, out = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2, line 2", "sandbox")
    assert not out.exists()


CPU_BOMBS = {
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "exponential macro": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "recursive loop": "{% for x in range(100000) recursive %}{% if loop.depth < 3 %}{{ loop(range(100000)) }}{% endif %}{% endfor %}",
}


@pytest.mark.parametrize("payload", CPU_BOMBS.values(), ids=list(CPU_BOMBS))
def test_endless_computation_is_stopped(payload, results_file, folder, tmp_path, monkeypatch):
    from auditkit.report import sandbox

    monkeypatch.setattr(sandbox, "MAX_STEPS", 200_000)  # the real budget: 20 million steps or 30 s
    (folder / "report.html.j2").write_text(payload)
    result, out = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2, line 1", "steps")
    assert not out.exists()


def test_render_time_limit(results_file, folder, tmp_path, monkeypatch):
    from auditkit.report import sandbox

    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.5)
    (folder / "report.html.j2").write_text(
        "{% set big = range(100000)|list %}{% for i in range(100000) %}{{ big|sort|first }}{% endfor %}")
    result, _ = render(results_file, folder, tmp_path)
    assert_refused(result, "report.html.j2, line 1", "seconds")


# =================================================================== audit init / schema infer


def _payload(br: str) -> str:
    return f"x{br}report: {{templates: evil}}{br}version: 99{br}#"


def _frame(br: str) -> tuple[pd.DataFrame, str, str, str]:
    """Data whose target name, a sensitive column name and a category value all carry a payload."""
    target = "outcome" + _payload(br)
    feature = "group" + _payload(br)
    value = "cat" + _payload(br)
    label = "yes" + _payload(br)  # the rarer of two values: inferred as the positive label
    n = 60
    frame = pd.DataFrame({
        target: [label if i % 3 == 0 else "no" for i in range(n)],
        feature: [value if i % 2 else "plain" for i in range(n)],
        "sex": ["f" if i % 2 else "m" for i in range(n)],
    })
    return frame, target, feature, value


@pytest.mark.parametrize("br", BREAKS.values(), ids=list(BREAKS))
def test_audit_init_writes_no_injected_keys(br, tmp_path):
    import auditkit
    from auditkit.contract import load_contract, validate

    frame, target, feature, value = _frame(br)
    data = tmp_path / "data.parquet"
    frame.to_parquet(data)
    result = invoke("init", data, "--target", target, "--sensitive", f"{feature},sex", "--dir", tmp_path)
    assert result.exit_code == 0, result.output
    policy_path, contract_path = tmp_path / "audit.yaml", tmp_path / "schemas" / "data.yaml"
    document = yaml.safe_load(policy_path.read_text(encoding="utf-8"))
    assert set(document) == {"version", "name", "data", "sensitive_features", "fairness", "rules"}
    assert document["version"] == 1
    assert document["data"] == {"path": "data.parquet", "contract": "schemas/data.yaml", "target": target,
                                "positive_label": frame[target].iloc[0]}
    assert document["sensitive_features"] == [feature, "sex"]
    assert {r.get("feature") for r in document["rules"]} == {None, feature, "sex"}
    for line in policy_path.read_text(encoding="utf-8").split("\n"):  # every comment stays one comment
        assert not any(ch in line for ch in "\r\x85\u2028\u2029"), repr(line)
    policy = auditkit.load_policy(policy_path)
    assert policy.report_templates is None
    assert policy.data.target == target and list(policy.sensitive_features) == [feature, "sex"]
    _assert_contract(contract_path, frame, feature, value)
    assert validate(frame, load_contract(contract_path)).passed
    assert not [p for p in tmp_path.rglob(".auditkit-*")], "no temporary files left"


@pytest.mark.parametrize("br", BREAKS.values(), ids=list(BREAKS))
def test_schema_infer_writes_no_injected_keys(br, tmp_path):
    from auditkit.contract import load_contract, validate

    frame, _, feature, value = _frame(br)
    data = tmp_path / ("data" + br + "name: evil.csv" if br == "\n" else "data.parquet")
    frame.to_parquet(data) if data.suffix == ".parquet" else frame.to_csv(data, index=False)
    out = tmp_path / "contract.yaml"
    result = invoke("schema", "infer", data, "-o", out)
    assert result.exit_code == 0, result.output
    _assert_contract(out, frame, feature, value)
    assert validate(frame if data.suffix == ".parquet" else pd.read_csv(data), load_contract(out)).passed


def _assert_contract(path: Path, frame, feature, value):
    text = path.read_text(encoding="utf-8")
    contract = yaml.safe_load(text)
    assert set(contract) == {"schema_type", "api", "columns", "strict", "coerce", "name"}
    assert list(contract["columns"]) == [str(c) for c in frame.columns]
    assert contract["columns"][feature]["isin"] == sorted([value, "plain"])
    assert contract["strict"] is True and contract["coerce"] is False
    for line in text.split("\n"):
        assert not any(ch in line for ch in "\r\x85\u2028\u2029"), repr(line)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(_TEXT, min_size=1, max_size=4, unique=True), values=st.lists(_TEXT, min_size=1, max_size=4))
def test_contract_yaml_keeps_structure_for_any_text(names, values):
    from auditkit.infer import infer_contract

    frame = pd.DataFrame({name: (values * 3)[: max(3, len(values) * 2)] for name in names})
    frame = frame.astype(object)
    contract = yaml.safe_load(infer_contract(frame, name=names[0], source=names[-1]))
    assert set(contract) == {"schema_type", "api", "columns", "strict", "coerce", "name"}
    assert list(contract["columns"]) == names and contract["name"] == names[0]
    for name in names:
        assert contract["columns"][name].get("isin", sorted(set(values))) == sorted(set(values))


@settings(max_examples=60, deadline=None)
@given(features=st.lists(_TEXT.filter(bool), min_size=1, max_size=3, unique=True), target=_TEXT, label=_TEXT,
       data=_TEXT.filter(bool))
def test_policy_yaml_keeps_structure_for_any_text(features, target, label, data):
    from auditkit.scaffold import _policy_text

    text = _policy_text(name="n", data=data, contract="schemas/c.yaml", target=target, label=label,
                        how=f"guessed from {label}", features=features, model=data, pickle=True,
                        notes=[f"check {f}" for f in features])
    document = yaml.safe_load(text)
    assert set(document) == {"version", "name", "data", "model", "sensitive_features", "fairness", "explain", "rules"}
    assert document["data"] == {"path": data, "contract": "schemas/c.yaml", "target": target, "positive_label": label}
    assert document["model"] == {"path": data, "trust": False, "threshold": 0.5}
    assert document["sensitive_features"] == features


def test_audit_init_failing_midway_leaves_nothing(tmp_path, monkeypatch):
    import auditkit.scaffold as scaffold_module
    from auditkit.errors import OutputError

    frame, target, feature, _ = _frame("\n")
    data = tmp_path / "data.parquet"
    frame.to_parquet(data)
    real = scaffold_module._write_new

    def failing(path, text):
        if path.name == "audit.yaml":
            raise OutputError(f"{path}: disk full")
        real(path, text)

    monkeypatch.setattr(scaffold_module, "_write_new", failing)
    result = invoke("init", data, "--target", target, "--sensitive", feature, "--dir", tmp_path / "out")
    assert_refused(result, "disk full")
    assert not (tmp_path / "out" / "schemas").exists() and not (tmp_path / "out" / "audit.yaml").exists()
    assert not [p for p in tmp_path.rglob(".auditkit-*")]


# =================================================================== provenance: no git program


def _git(*args, cwd):
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture()
def hostile_repo(demo_copy, tmp_path):
    """The demo inside a real git repository whose config, attributes and hooks run commands."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = demo_copy
    _git("init", "-q", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "demo", cwd=repo)
    commit = _git("rev-parse", "HEAD", cwd=repo)
    branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=repo)
    markers = {name: tmp_path / f"pwned-{name}" for name in ("fsmonitor", "filter", "hook", "pager")}
    hooks = repo / "evil-hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "pre-commit", "post-index-change", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {markers['hook']}\n")
        (hooks / hook).chmod(0o755)
    with open(repo / ".git" / "config", "a", encoding="utf-8") as config:
        config.write(f"[core]\n\tfsmonitor = touch {markers['fsmonitor']}; echo\n\thooksPath = {hooks}\n"
                     f"\tpager = touch {markers['pager']}\n"
                     f"[filter \"evil\"]\n\tclean = touch {markers['filter']}; cat\n\tsmudge = cat\n")
    (repo / ".gitattributes").write_text("* filter=evil\n")
    return repo, commit, branch, markers


def test_git_config_commands_are_live(hostile_repo):
    """The payload works on git itself, so the audit test below proves something."""
    repo, _, _, markers = hostile_repo
    (repo / "data" / "credit.csv").write_text((repo / "data" / "credit.csv").read_text() + "\n")
    subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, check=False,
                   env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    assert markers["fsmonitor"].exists() or markers["filter"].exists()


def test_audit_check_never_runs_git_and_still_records_the_commit(hostile_repo, tmp_path):
    repo, commit, branch, markers = hostile_repo
    (repo / "audit.yaml").write_text(MINIMAL_POLICY, encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("check", repo / "audit.yaml", "--out", out, "--no-explain")
    assert result.exit_code in (0, 1), result.output
    assert not [m for m in markers.values() if m.exists()], "a command configured by the audited folder ran"
    git = json.loads((out / "results.json").read_text(encoding="utf-8"))["provenance"]["git"]
    assert git["commit"] == commit and git["branch"] == branch
    assert git["dirty"] is None  # not knowable without running git; recorded as unknown


def test_git_commit_reads_packed_refs_worktrees_and_detached_heads(hostile_repo, tmp_path):
    from auditkit.provenance import git_commit

    repo, commit, branch, markers = hostile_repo
    assert git_commit(repo / "data") == {"commit": commit, "branch": branch, "dirty": None}
    # (git itself, run here by the test to set up the layouts, does run the payloads)
    _git("pack-refs", "--all", cwd=repo)
    worktree = tmp_path / "wt"
    _git("worktree", "add", "-q", "--detach", str(worktree), cwd=repo)
    for marker in markers.values():
        marker.unlink(missing_ok=True)
    assert not (repo / ".git" / "refs" / "heads" / branch).exists()
    assert git_commit(repo)["commit"] == commit
    assert (worktree / ".git").is_file()
    assert git_commit(worktree) == {"commit": commit, "branch": None, "dirty": None}
    assert not [m for m in markers.values() if m.exists()]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_git_commit_never_blocks_or_reads_special_files(tmp_path):
    from auditkit.provenance import git_commit

    repo = tmp_path / "repo"
    (repo / ".git" / "refs" / "heads").mkdir(parents=True)
    os.mkfifo(repo / ".git" / "HEAD")
    assert git_commit(repo) is None
    (repo / ".git" / "HEAD").unlink()
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    os.mkfifo(repo / ".git" / "refs" / "heads" / "main")
    os.mkfifo(repo / ".git" / "packed-refs")
    assert git_commit(repo) is None
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/../../../../etc/passwd\n")
    assert git_commit(repo) is None
    other = tmp_path / "other"
    other.mkdir()
    os.mkfifo(other / ".git")
    assert git_commit(other) is None
    (tmp_path / "third").mkdir()
    (tmp_path / "third" / ".git").write_text("gitdir: /dev\n")
    assert git_commit(tmp_path / "third") is None


def test_provenance_runs_no_program(hostile_repo, monkeypatch):
    from auditkit import provenance

    def refuse(*args, **kwargs):
        raise AssertionError(f"a program was started: {args!r}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    for name in ("system", "popen", "posix_spawn", "posix_spawnp", "execv", "execve", "fork"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)
    repo, commit, _, _ = hostile_repo
    assert provenance.git_commit(repo)["commit"] == commit
    info = provenance.platform_info()
    assert info["python"] == sys.version.split()[0] and info["system"]
    assert "auditkit" in provenance.package_versions()
