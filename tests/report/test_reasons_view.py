"""The "Reasons for adverse decisions" section: it renders ``results["reasons"]`` (the reasons
spec's dict) with its plain words first, the tables of common reasons and of differences between
groups, a chart per sensitive feature, the stability, everything escaped, and is absent when the
audit computed no reasons."""

from __future__ import annotations

import copy
import re

import pytest

from auditkit.pipeline import run_audit
from auditkit.report import render_html, render_summary_md
from auditkit.report.schema import schema_problems, validate_results
from auditkit.report.view import build_view

SCRIPT = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"
HEADING = "Reasons for adverse decisions"


def _reason(code, count, n, low, high):
    return {"code": code, "count": count, "share": round(count / n, 3), "ci": [low, high]}


def reasons_dict() -> dict:
    """A hand-written ``reasons`` entry as the spec describes it, with hostile text in it."""
    return {
        "k": 4, "baseline": "approved", "rows": 300, "adverse": 54, "explained": 54, "sampled": False,
        "output": "decision function (margin) for class = good",
        "protected": ["personal_status"], "excluded": ["age", "foreign_worker"], "allowed": [],
        "confidence": 0.95, "interval_method": "Wilson score interval",
        "overall": [
            {"code": "R01", "column": "checking_account", "statement": "Status of existing checking account",
             "count": 43, "share": 0.796, "ci": [0.67, 0.88]},
            {"code": "R02", "column": "duration", "statement": f"Duration of the loan {SCRIPT}",
             "count": 30, "share": 0.556, "ci": [0.42, 0.68]},
            {"code": "R03", "column": "credit_history", "statement": "Credit history",
             "count": 22, "share": 0.407, "ci": [0.29, 0.54]},
            {"code": "R04", "column": "savings", "statement": f"Savings {FORMULA}",
             "count": 15, "share": 0.278, "ci": [0.18, 0.41]},
            {"code": "R05", "column": "purpose", "statement": "Purpose of the loan",
             "count": 9, "share": 0.167, "ci": [0.09, 0.29]},
            {"code": "R06", "column": "employment", "statement": "Present employment since",
             "count": 4, "share": 0.074, "ci": [0.03, 0.18]},
        ],
        "groups": [
            {"feature": "sex", "group": "female", "n": 20,
             "reasons": [_reason("R01", 16, 20, 0.58, 0.92), _reason("R02", 10, 20, 0.3, 0.7),
                         _reason("R03", 11, 20, 0.34, 0.74), _reason("R04", 5, 20, 0.11, 0.47),
                         _reason("R05", 3, 20, 0.05, 0.36)]},
            {"feature": "sex", "group": f"male {SCRIPT}", "n": 34,
             "reasons": [_reason("R01", 27, 34, 0.63, 0.9), _reason("R02", 20, 34, 0.42, 0.74),
                         _reason("R03", 11, 34, 0.19, 0.49), _reason("R04", 10, 34, 0.17, 0.46),
                         {"code": "R05", "count": None, "share": None, "ci": None}]},
            {"feature": "age_group", "group": "young", "n": 25,
             "reasons": [_reason("R01", 21, 25, 0.65, 0.94), _reason("R02", 13, 25, 0.33, 0.7),
                         _reason("R03", 9, 25, 0.2, 0.55), _reason("R04", 8, 25, 0.17, 0.51),
                         _reason("R05", 4, 25, 0.06, 0.35)]},
            {"feature": "age_group", "group": FORMULA, "n": 29,
             "reasons": [_reason("R01", 22, 29, 0.58, 0.88), _reason("R02", 17, 29, 0.41, 0.74),
                         _reason("R03", 13, 29, 0.28, 0.63), _reason("R04", 7, 29, 0.12, 0.42),
                         _reason("R05", 5, 29, 0.08, 0.35)]},
            {"feature": "sex & age_group", "group": "female & young", "n": 9,
             "reasons": [_reason("R01", 8, 9, 0.57, 0.98), _reason("R03", 6, 9, 0.35, 0.88)]},
        ],
        "disparities": [
            {"feature": "sex", "code": "R03", "statement": "Credit history", "difference": 0.21, "ci": [0.02, 0.4],
             "highest": "female", "lowest": f"male {SCRIPT}"},
            {"feature": "age_group", "code": "R04", "statement": f"Savings {FORMULA}", "difference": 0.08,
             "ci": [-0.12, 0.28], "highest": "young", "lowest": FORMULA},
        ],
        "stability": {"mean": 0.93, "ci": [0.9, 0.95], "resamples": 5, "share_identical": 0.8,
                      "method": "Jaccard similarity of each row's reason set under 5 resampled baselines"},
        "protected_stated": {"count": 0, "share": 0.0},
    }


@pytest.fixture(scope="module")
def demo_results(demo_dir):
    return run_audit(demo_dir / "audit.yaml", explain=False, seed=0).to_dict()


@pytest.fixture(scope="module")
def with_reasons(demo_results):
    results = copy.deepcopy(demo_results)
    results["reasons"] = reasons_dict()
    return results


@pytest.fixture(scope="module")
def html(with_reasons):
    return render_html(with_reasons)


def _section(html: str) -> str:
    start = html.index('<section id="reasons"')
    return html[start:html.index("</section>", start)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_results_with_reasons_follow_the_schema(with_reasons):
    validate_results(with_reasons)


@pytest.mark.parametrize("where, value", [
    (("k",), 0), (("k",), "4"), (("baseline",), 3), (("adverse",), -1), (("sampled",), "no"),
    (("protected",), "personal_status"), (("overall",), None), (("overall", 0, "share"), 1.5),
    (("overall", 0, "ci"), [0.1]), (("overall", 0, "code"), 1), (("groups", 0, "reasons"), None),
    (("groups", 0, "n"), 2.5), (("disparities", 0, "difference"), "big"), (("stability", "mean"), 2),
    (("stability", "resamples"), -5), (("protected_stated", "count"), -1), (("protected_stated",), 0),
])
def test_the_schema_refuses_a_malformed_reasons_entry(with_reasons, where, value):
    results = copy.deepcopy(with_reasons)
    target = results["reasons"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert schema_problems(results)


@pytest.mark.parametrize("key", ["k", "baseline", "adverse", "overall", "groups", "stability"])
def test_the_schema_requires_the_reasons_keys(with_reasons, key):
    results = copy.deepcopy(with_reasons)
    del results["reasons"][key]
    assert schema_problems(results)


def test_the_schema_refuses_a_reasons_entry_that_is_not_an_object(with_reasons):
    assert schema_problems(dict(copy.deepcopy(with_reasons), reasons=[1, 2]))


def test_section_appears_after_explanations_with_its_heading_and_plain_words(html):
    assert f'<h2 id="reasons-heading">{HEADING}</h2>' in html
    assert html.index('<section id="explanations"') < html.index('<section id="reasons"')
    assert html.index('<section id="reasons"') < html.index('<section id="provenance"')
    nav = html[html.index('<nav class="toc"'):html.index("</nav>")]
    assert '<a href="#explanations">Explanations</a><a href="#reasons">Reasons</a>' in nav
    text = _text(_section(html)[_section(html).index("</h2>"):]).strip()
    assert text.startswith("When the model turns an applicant down, the applicant is told the main reasons. "
                           "A stated reason is one of the model's inputs that lowers this applicant's score compared "
                           "with a random sample of the applicants the model approves (baseline approved)")
    assert "exact SHAP value" in text and "at most 4" in text
    assert "54 of 54 adverse decisions were explained, out of 300 decisions audited." in text
    assert "Never stated as a reason: sensitive features and inputs flagged as their proxies (personal_status); " \
           "inputs the policy excludes (age, foreign_worker)." in text
    assert "not legal advice" in text
    assert "re-computed against 5 other samples of the baseline population" in text
    assert "No sensitive feature or proxy was stated as a reason in any of the 54 adverse decisions explained" in text


def test_tables_and_charts_are_present(html):
    section = _section(html)
    captions = re.findall(r"<caption>(.*?)</caption>", section, re.DOTALL)
    assert captions[0].startswith("Share of the explained adverse decisions that state each reason, most common first "
                                  "(95% confidence interval below each share: Wilson score interval)")
    common = section[section.index(captions[0]):section.index("</table>", section.index(captions[0]))]
    assert [c for c in re.findall(r"<tr><td><code>(R\d+)</code>", common)] == ["R01", "R02", "R03", "R04", "R05", "R06"]
    assert "79.6%<span class=\"ci\">[67.0%, 88.0%]</span>" in common and ">43</td>" in common
    # One chart per single sensitive feature (the intersection is in a table only).
    assert section.count('<img src="data:image/svg+xml;base64,') == 2
    assert "sex &amp; age_group (intersection): the numbers" in section
    assert any(c.startswith("Per sensitive feature, the reason whose share differs most between its groups")
               for c in captions)
    differences = section[section.index("Largest difference between groups"):]
    assert ('<td>sex</td><td><code>R03</code> Credit history</td>'
            '<td class="num">21.0<span class="ci">[2.0, 40.0]</span>') in differences
    assert "<td>female</td>" in differences
    stability = section[section.index("<h3>Stability</h3>"):]
    assert "0.930<span class=\"ci\">[0.900, 0.950]</span>" in stability and "80.0%" in stability
    assert "<td class=\"num\">—</td>" in section  # a missing share


def test_everything_from_the_data_is_escaped(html):
    section = _section(html)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    # statement (common table, group table heading), group (group table, disparity) -- never raw.
    assert section.count("&lt;script&gt;") >= 4
    assert "=cmd|&#39; /C calc&#39;!A0" in section and "=cmd|'" not in section


def test_a_stated_protected_input_is_highlighted(with_reasons):
    results = copy.deepcopy(with_reasons)
    results["reasons"]["protected_stated"] = {"count": 3, "share": 0.056}
    results["reasons"]["allowed"] = ["personal_status"]
    validate_results(results)
    section = _section(render_html(results))
    assert '<p class="callout bad">⚠ <strong>A sensitive feature or proxy was stated as a reason in 3 adverse ' \
           "decisions (5.6% of those explained).</strong>" in section
    assert "No sensitive feature or proxy was stated" not in section


def test_a_sample_is_said_to_be_one(with_reasons):
    results = copy.deepcopy(with_reasons)
    results["reasons"].update(adverse=5400, explained=1000, sampled=True)
    validate_results(results)
    text = _text(_section(render_html(results)))
    assert "A sample of 1,000 of the 5,400 adverse decisions was explained" in text
    assert "estimates from that sample" in text


def test_section_is_absent_without_reasons(with_reasons):
    missing = copy.deepcopy(with_reasons)
    del missing["reasons"]
    for results in (missing, dict(copy.deepcopy(with_reasons), reasons=None)):
        validate_results(results)
        html = render_html(results)
        assert 'id="reasons"' not in html and HEADING not in html and 'href="#reasons"' not in html
        assert build_view(results, charts_enabled=False)["views"]["reasons"] is None


def test_minimal_entry_renders_and_summary_ignores_it(with_reasons):
    """Only the required keys, nulls where the schema allows them; the Markdown summary has no chart."""
    results = copy.deepcopy(with_reasons)
    results["reasons"] = {"k": None, "baseline": "background", "adverse": None, "overall": [], "groups": [],
                          "stability": None}
    validate_results(results)
    section = _section(render_html(results))
    assert HEADING in section and "<img" not in section
    assert "a random sample of all the audited applicants" in section
    assert "No reason was stated." in section and "Stability was not measured." in section
    render_summary_md(results)


def test_a_difference_not_measured_says_why(with_reasons):
    """The audit writes a feature's disparity with null code and difference, and its reason, when
    too few groups have enough decisions; an input both protected and excluded is listed once."""
    results = copy.deepcopy(with_reasons)
    entry = results["reasons"]
    entry["disparities"][1] = {"feature": "age_group", "code": None, "column": None, "statement": None,
                               "difference": None, "ci": None, "highest": None, "lowest": None,
                               "reason": f"fewer than two groups with at least 30 decisions {SCRIPT}"}
    entry["excluded"] = ["personal_status", "age"]
    entry["protected_stated"]["ci"] = [0.0, 0.066]
    validate_results(results)
    section = _section(render_html(results))
    assert ('<td>age_group</td><td colspan="4" class="muted">Not measured: fewer than two groups with at least 30 '
            "decisions &lt;script&gt;") in section
    assert "inputs the policy excludes (age)" in _text(section)
    assert "(interval of the share: [0.0%, 6.6%])" in section


def test_the_audits_own_reasons_render(demo_results):
    """Whatever the reasons audit of the demo wrote (when it ran) validates and renders."""
    if not demo_results.get("reasons"):
        pytest.skip("the demo audit computed no reasons")
    validate_results(demo_results)
    section = _section(render_html(demo_results))
    assert HEADING in section and "The most common reasons" in section
