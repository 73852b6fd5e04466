"""The eu-ai-act and colorado-sb24-205 packs: loading, the example, and their documents.

The documents are pure functions of results.json, so most tests render them from the results
of the two example audits (run once, in a temporary copy of examples/eu-credit/) with the
``documentation`` key changed: missing parts, hostile text, numbers traced back to results.json.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.packs import plugins
from auditkit.report.formatting import fmt_number

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "eu-credit"
PACKS = ROOT / "auditkit" / "packs"
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
DOCS = {"eu-ai-act": ("audit.yaml", "technical-documentation"),
        "colorado-sb24-205": ("audit-colorado.yaml", "impact-assessment")}


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example, built and audited from a clean copy: {pack: (exit code, output folder, results)}."""
    import importlib.util

    folder = tmp_path_factory.mktemp("eu-credit")
    for name in ("audit.yaml", "audit-colorado.yaml", "make_example.py", "README.md"):
        shutil.copy(EXAMPLE / name, folder / name)
    spec = importlib.util.spec_from_file_location("make_example", folder / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.main(folder)) == set(module.FILES)
    assert module.main(folder) == []  # idempotent: nothing missing the second time
    runs = {}
    for pack, (policy, _) in DOCS.items():
        out = folder / f"out-{pack}"
        run = CliRunner().invoke(cli, ["check", str(folder / policy), "--out", str(out), "--quiet"])
        runs[pack] = (run.exit_code, out, json.loads((out / "results.json").read_text(encoding="utf-8")), run.output)
    return runs


def _render(pack: str, results: dict) -> dict[str, str]:
    return plugins()[pack].documents(results, None)


# ---------------------------------------------------------------- the packs


@pytest.mark.parametrize("name,folder", [("eu-ai-act", "eu_ai_act"), ("colorado-sb24-205", "colorado_sb24_205")])
def test_each_pack_loads_and_is_listed(name, folder):
    plugin = plugins()[name]
    assert plugin.package == f"auditkit.packs.{folder}"
    assert plugin.definition.sections == ("framing", name)
    assert "not legal advice" in plugin.definition.framing
    for rule in plugin.definition.rules:
        assert rule.get("rationale"), rule["id"]
        assert "not" in rule["rationale"], f"{rule['id']}: a rationale says what the rule does not establish"
    listing = CliRunner().invoke(cli, ["packs"])
    assert listing.exit_code == 0 and name in listing.output
    shown = CliRunner().invoke(cli, ["packs", name])
    assert shown.exit_code == 0 and "not legal advice" in shown.output, shown.output


def test_pyproject_ships_both_packages():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"auditkit.packs.eu_ai_act"' in text and '"auditkit.packs.colorado_sb24_205"' in text
    assert '"*/pack.yaml", "*/results.schema.json", "*/templates/*.j2"' in text


def test_a_policy_extending_the_pack_validates_and_needs_a_population(example):
    from auditkit.errors import PolicyError
    from auditkit.policy import load_policy

    folder = example["eu-ai-act"][1].parent
    policy = load_policy(folder / "audit.yaml")
    assert [r.id for r in policy.rules][:3] == ["eu-ai-act-contract", "eu-ai-act-label-bias:sex",
                                                "eu-ai-act-label-bias:age_group"]
    text = (folder / "audit.yaml").read_text(encoding="utf-8")
    start, end = text.index("population:\n"), text.index("rules:\n")
    (folder / "no-population.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    load_policy(folder / "no-population.yaml")  # valid: the pack's representativeness rules report the gap
    run = CliRunner().invoke(cli, ["check", str(folder / "no-population.yaml"), "--out", str(folder / "no-pop"), "--quiet"])
    results = json.loads((folder / "no-pop" / "results.json").read_text(encoding="utf-8"))
    rules = {r["id"]: r for r in results["rules"]}
    for feature in ("sex", "age_group"):
        rule = rules[f"eu-ai-act-representativeness:{feature}"]
        assert rule["status"] == "error" and f"population.shares.{feature}" in rule["message"], rule
    assert run.exit_code == 0, run.output  # the pack's data rules warn: they do not gate, even in error
    html = (folder / "no-pop" / "technical-documentation.html").read_text(encoding="utf-8")
    assert "No reference population was declared" in html
    gaps = html[html.index('id="gaps"'):]
    assert "population:" in gaps[:gaps.index("</ul>")]
    with pytest.raises(PolicyError, match="population"):  # a policy's own rule on it needs the block
        bad = (text[:start] + text[end:]).replace(
            "rules:\n", "rules:\n  - {id: rep, metric: representation_ratio, feature: sex, min: 0.8}\n", 1)
        (folder / "bad.yaml").write_text(bad, encoding="utf-8")
        load_policy(folder / "bad.yaml")


# ---------------------------------------------------------------- the example


@pytest.mark.parametrize("pack", list(DOCS))
def test_the_example_runs_and_writes_the_documents(example, pack):
    code, out, results, output = example[pack]
    assert code == 0, output          # the data rules warn (women under-represented), nothing gates
    stem = DOCS[pack][1]
    assert (out / f"{stem}.html").is_file() and (out / f"{stem}.md").is_file()
    assert [p["name"] for p in results["packs"]] == [pack]
    assert results["documentation"], "the example fills its documentation: block"
    rules = {r["id"]: r for r in results["rules"]}
    prefix = "eu-ai-act" if pack == "eu-ai-act" else "colorado"
    assert rules[f"{prefix}-representativeness:sex"]["status"] == "warn"
    assert rules[f"{prefix}-contract"]["status"] == "pass"
    assert rules["declared-accuracy"]["decided_on"] == "ci"
    # the documents on disk are the pure functions of results.json
    again = _render(pack, results)
    assert again[f"{stem}.html"] == (out / f"{stem}.html").read_text(encoding="utf-8")
    assert again[f"{stem}.md"] == (out / f"{stem}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("pack", list(DOCS))
def test_a_complete_documentation_block_leaves_no_part_missing(example, pack):
    _, out, _, _ = example[pack]
    html = (out / f"{DOCS[pack][1]}.html").read_text(encoding="utf-8")
    assert "Every required part has been provided" in html
    assert ">NOT PROVIDED<" not in html  # optional parts may still be open


# ---------------------------------------------------------------- missing parts


@pytest.mark.parametrize("pack", list(DOCS))
def test_missing_required_parts_are_listed_and_never_invented(example, pack):
    from importlib import import_module

    _, _, results, _ = example[pack]
    parts = import_module(f"{plugins()[pack].package}.documents").PARTS
    given = dict(results["documentation"])
    dropped = [k for k, p in parts.items() if p["required"]][:3]
    for key in dropped:
        given.pop(key)
    docs = _render(pack, {**results, "documentation": given})
    html, md = docs[f"{DOCS[pack][1]}.html"], docs[f"{DOCS[pack][1]}.md"]
    box = html[html.index('class="missing-box"'):html.index("</section>", html.index('class="missing-box"'))]
    assert f"Missing parts ({len(dropped)})" in box
    for key in dropped:
        assert f"documentation.{key}</code>" in box
        writer = "provider" if pack == "eu-ai-act" else "deployer"
        assert f"Not provided — the {writer} must write this (documentation.{key})" in html
        assert f"Not provided — the {writer} must write this (documentation.{key.replace('_', chr(92) + '_')})" in md
    # with no documentation at all, every required part is listed
    none = _render(pack, {**results, "documentation": None})
    required = [k for k, p in parts.items() if p["required"]]
    assert f"Missing parts ({len(required)})" in none[f"{DOCS[pack][1]}.html"]
    assert ">PROVIDED<" not in none[f"{DOCS[pack][1]}.html"]


def test_the_report_section_lists_the_missing_parts(example):
    from auditkit.packs.eu_ai_act.view import section_view

    _, out, results, _ = example["eu-ai-act"]
    assert section_view(results)["missing"] == []
    view = section_view({**results, "documentation": {"provider": "Acme"}})
    assert "intended_purpose" in [m["key"] for m in view["missing"]] and "provider" not in [m["key"] for m in view["missing"]]
    assert "Annex IV technical documentation" in (out / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the law's words


def test_the_eu_document_follows_annex_iv_with_its_exact_headings(example):
    from auditkit.packs.eu_ai_act.documents import ANNEX_IV

    _, out, _, _ = example["eu-ai-act"]
    html = (out / "technical-documentation.html").read_text(encoding="utf-8")
    assert [n for n, _, _ in ANNEX_IV] == [str(i) for i in range(1, 10)]
    positions = [html.index(f'id="point-{n}"') for n, _, _ in ANNEX_IV]
    assert positions == sorted(positions)
    assert "A general description of the AI system including:" in html
    assert ("A copy of the EU declaration of conformity referred to in Article 47;") in html
    assert "does not replace a conformity assessment" in html and "not legal advice" in html


def test_the_colorado_document_says_its_headings_are_not_quotations(example):
    _, out, _, _ = example["colorado-sb24-205"]
    html = (out / "impact-assessment.html").read_text(encoding="utf-8")
    assert "they are not quotations of the statute" in html
    assert "(3)(b)" not in html  # no unverified pinpoint citation
    assert "does not replace the deployer&#39;s own judgement" in html or "does not replace the deployer's own judgement" in html


# ---------------------------------------------------------------- every number traced to results.json

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?")
_SPAN = re.compile(r'<span class="num" title="results\.json: ([^"]+)">([^<]*)</span>')
_HEX = re.compile(r"\b[0-9a-f]{64}\b")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?)?")
#: Numbers a document may print that are not values of results.json: the law's numbers
#: (Regulation (EU) 2024/1689, Annex IV points 1-9 and their letters, Articles 9, 10(2), 10(3), 11(1),
#: 13(3), 14, 15(3), 47, 72(3); C.R.S. 6-1-1701(1)(a), 6-1-1703(1), SB 24-205, February 1, 2026),
#: section and subsection numbers (1.1, 2.7, ...), and counts of list items ("Missing parts (3)").
_LAW = {"2024", "1689", "9", "10", "11", "13", "14", "15", "47", "72", "3", "2", "1", "6", "1701", "1703", "1707",
        "24", "205", "2026", "4", "5", "7", "8", "0.25", "256"}  # 0.25: the PSI benchmark in a fixed sentence;
#                                                                256: "SHA-256", the name of the hash
_SECTION = re.compile(r"^\d\.\d{1,2}$")


def _resolve(results, path: str):
    value = results
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


def _text_numbers(results) -> set[str]:
    """Numbers inside the text values of results.json (documentation, paths, versions): copied text."""
    found: set[str] = set()

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str):
            found.update(_NUMBER.findall(x))
    walk(results)
    return found


def _value_texts(results) -> set[str]:
    """Every numeric value of results.json as the documents format it (3 and 4 decimals, integers)."""
    out: set[str] = set()

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            out.update({fmt_number(x), fmt_number(x, 4)})
    walk(results)
    return out


def _check_span(results, path: str, text: str, bound: bool = False):
    value = _resolve(results, path)
    if bound:
        assert value < float(text), (path, value, text)
    else:
        assert text in (fmt_number(value), fmt_number(value, 4)), (path, value, text)


@pytest.mark.parametrize("pack", list(DOCS))
def test_every_number_in_the_html_is_a_value_of_results_json(example, pack):
    _, out, results, _ = example[pack]
    html = (out / f"{DOCS[pack][1]}.html").read_text(encoding="utf-8")
    body = html[html.index("<body>"):]
    spans = _SPAN.findall(body)
    assert len(spans) > 150
    for path, text in spans:
        _check_span(results, path, text, bound=body.count(f"&lt; <span class=\"num\" title=\"results.json: {path}\">") > 0)
    # outside the number spans, only the explicit exceptions and copied text
    rest = _SPAN.sub(" ", body)
    rest = re.sub(r"&#?\w+;", " ", re.sub(r"<[^>]+>", " ", rest))
    rest = _TIMESTAMP.sub(" ", _HEX.sub(" ", rest))
    allowed = _LAW | _text_numbers(results)
    for token in _NUMBER.findall(rest):
        assert token in allowed or _SECTION.match(token), token


@pytest.mark.parametrize("pack", list(DOCS))
def test_every_number_in_the_markdown_is_a_value_of_results_json(example, pack):
    _, out, results, _ = example[pack]
    md = (out / f"{DOCS[pack][1]}.md").read_text(encoding="utf-8")
    md = re.sub(r"&#?\w+;", " ", _TIMESTAMP.sub(" ", _HEX.sub(" ", md)))
    allowed = _value_texts(results) | _LAW | _text_numbers(results) | {"0.0001"}
    tokens = _NUMBER.findall(md)
    assert len(tokens) > 150
    for token in tokens:
        assert token in allowed or _SECTION.match(token), token
    # the HTML's traced numbers all appear in the Markdown too (same evidence, same formatting)
    html = (out / f"{DOCS[pack][1]}.html").read_text(encoding="utf-8")
    assert {t for _, t in _SPAN.findall(html)} <= set(tokens)


def test_a_tiny_p_value_is_shown_as_below_a_bound_never_as_zero(example):
    _, _, results, _ = example["eu-ai-act"]
    p = results["data_bias"]["representativeness"]["features"][0]["p_value"]
    assert p < 0.0001  # women: 0.303 of the data against a declared 0.48
    html = _render("eu-ai-act", results)["technical-documentation.html"]
    assert '&lt; <span class="num" title="results.json: data_bias.representativeness.features[0].p_value">0.0001</span>' in html


# ---------------------------------------------------------------- hostile text, CSP, offline, print

HOSTILE = {
    "intended_purpose": "<script>alert(1)</script> # Heading\n\n## Another | cell | break `code` [link](javascript:alert(1)) @team",
    "provider": "![img](http://evil.example/x.png) <img src=x onerror=alert(1)>",
    "data_provenance": ["- item | pipe", "# not a heading", "<a href='javascript:alert(1)'>x</a>", "[x]: javascript:alert(1)"],
}


@pytest.mark.parametrize("pack", list(DOCS))
def test_hostile_documentation_text_is_escaped(example, pack):
    _, _, results, _ = example[pack]
    given = {**results["documentation"], **HOSTILE}
    if pack == "colorado-sb24-205":
        given = {**given, "purpose": HOSTILE["intended_purpose"], "deployer": HOSTILE["provider"],
                 "input_categories": HOSTILE["data_provenance"]}
    docs = _render(pack, {**results, "documentation": given})
    html, md = docs[f"{DOCS[pack][1]}.html"], docs[f"{DOCS[pack][1]}.md"]
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in re.sub(r"&[a-z#0-9]+;", "", "".join(re.findall(r'(?:href|src)="[^"]*"', html)))
    # Markdown: no line a provider wrote becomes a heading, a table row, a link, an image or raw HTML
    for line in md.splitlines():
        if "alert" in line or "evil" in line or "not a heading" in line or "pipe" in line:
            assert not line.lstrip("> ").startswith("#"), line
            assert "](" not in line.replace("\\](", ""), line
            assert "<script" not in line and "<img" not in line and "<a " not in line, line
            assert "|" not in line.replace("\\|", ""), line
            assert "`" not in line.replace("\\`", ""), line
            assert "@team" not in line
    assert not re.search(r"^\[x\]:", md, re.MULTILINE)


@pytest.mark.parametrize("pack", list(DOCS))
def test_documents_are_offline_with_the_report_csp_and_printable(example, pack):
    _, out, _, _ = example[pack]
    html = (out / f"{DOCS[pack][1]}.html").read_text(encoding="utf-8")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", html)
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html)
    assert "url(" not in html.split("<body>")[1]
    css = html[html.index("<style>"):html.index("</style>")]
    assert "@media print" in css and "break-before: page" in css and "break-inside: avoid" in css
    assert "overflow-wrap: anywhere" in css  # long cells wrap instead of scrolling sideways


@pytest.mark.parametrize("pack", list(DOCS))
def test_an_audit_with_little_evidence_still_renders_and_says_what_is_missing(example, pack):
    _, _, results, _ = example[pack]
    bare = {**results, "fairness": None, "data_bias": None, "contract": None, "drift": None, "remedies": None,
            "reasons": None, "documentation": None, "rules": [], "explanations": None}
    docs = _render(pack, bare)
    html, md = docs[f"{DOCS[pack][1]}.html"], docs[f"{DOCS[pack][1]}.md"]
    assert "The model&#39;s outputs were not evaluated" in html or "The model's outputs were not evaluated" in html
    assert "No data contract was checked" in html and "No data contract was checked" in md
    assert "Evidence the audit could not give" in html
    if pack == "eu-ai-act":
        assert "A declared level of accuracy (Art. 15(3))" in html


def test_the_example_readme_quotes_the_audit(example):
    """Every figure examples/eu-credit/README.md quotes, against the fresh run."""
    _, _, results, _ = example["eu-ai-act"]
    text = " ".join((EXAMPLE / "README.md").read_text(encoding="utf-8").split())
    rules = {r["id"]: r for r in results["rules"]}
    rep = rules["eu-ai-act-representativeness:sex"]
    women = next(g for g in results["data_bias"]["representativeness"]["features"][0]["groups"] if g["group"] == "female")
    assert f"women are {100 * women['share']:.1f}% of the audited applicants against a declared {100 * women['expected_share']:.0f}%" in text
    assert (f"a ratio of {fmt_number(rep['observed'])} (interval {fmt_number(rep['ci'][0])} to "
            f"{fmt_number(rep['ci'][1])}, below the 0.8 flag)") in text and rep["status"] == "warn"
    assert results["data_bias"]["representativeness"]["features"][0]["p_value"] < 0.0001 and "p < 0.0001" in text
    eo = rules["equal-opportunity-sex"]
    assert eo["status"] == "inconclusive"
    assert f"is {fmt_number(eo['observed'])}, with an interval ({fmt_number(eo['ci'][0])} to {fmt_number(eo['ci'][1])})" in text
    acc = rules["declared-accuracy"]
    assert acc["status"] == "pass"
    assert f"{fmt_number(acc['observed'])}, interval {fmt_number(acc['ci'][0])} to {fmt_number(acc['ci'][1])}" in text
    assert "Both audits pass (exit 0) with one warning and one inconclusive rule" in text
    for pack in DOCS:
        summary = example[pack][2]["summary"]
        assert (example[pack][0], summary["warn"], summary["inconclusive"], summary["fail"]) == (0, 1, 1, 0)


def test_a_missing_required_part_is_a_warning_of_the_audit(example, tmp_path):
    """Beside the document's own list: results.json's warnings and the terminal name each missing part."""
    _, out, results, _ = example["eu-ai-act"]
    assert not [w for w in results["warnings"] if w.startswith("eu-ai-act:")]  # the example provides them all
    policy_path = out.parent / "audit.yaml"
    text = policy_path.read_text(encoding="utf-8")
    trimmed = tmp_path / "audit.yaml"
    for name in ("data", "schemas", "models"):
        (tmp_path / name).symlink_to(out.parent / name)
    trimmed.write_text(text.replace("  human_oversight:", "  human_oversight_later:", 1), encoding="utf-8")
    run = CliRunner().invoke(cli, ["check", str(trimmed), "--out", str(tmp_path / "out"), "--no-explain"])
    assert run.exit_code == 0, run.output
    warned = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["warnings"]
    assert [w for w in warned if "documentation.human_oversight " in w] and "documentation.human_oversight" in run.output


@pytest.mark.parametrize("pack, says", [("eu-ai-act", "the provider's own parts"), ("colorado-sb24-205", "the deployer's impact assessment")])
def test_each_pack_has_its_report_section(example, pack, says):
    """The section the pack's pack.yaml lists is in report.html, rendered from its own template."""
    _, out, _, _ = example[pack]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert says in report.replace("&#39;", "'").replace("&#x27;", "'")
