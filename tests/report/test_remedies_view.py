"""The "What would change the verdict" section: it renders ``results["remedies"]`` (the remedies
spec's dict) with its plain words first, the disparate-treatment warning for candidates that
treat groups differently, everything escaped, and is absent when no remedy search ran."""

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
HEADING = "What would change the verdict"
WARNING = "42 U.S.C. 2000e-2(l)"


def _estimate(value, low, high):
    return {"value": value, "ci": [low, high]}


def remedies_dict() -> dict:
    """A hand-written ``remedies`` entry as the spec describes it, with hostile text in it."""
    current = {
        "id": "current", "kind": "current", "title": "The model as audited", "group_aware": False,
        "deterministic": True, "estimate": False, "writable": False, "parameters": {"threshold": 0.5},
        "accuracy": _estimate(0.78, 0.74, 0.83), "selection_rate": _estimate(0.70, 0.65, 0.75),
        "focus": _estimate(0.65, 0.45, 0.86),
        "rules": [{"id": "four-fifths-age", "status": "fail", "observed": 0.65, "ci": [0.45, 0.86]},
                  {"id": "equalized-odds-age", "status": "inconclusive", "observed": 0.13, "ci": [0.02, 0.31]}],
        "passes": False, "accuracy_change": _estimate(0.0, 0.0, 0.0),
        "selection_rate_change": _estimate(0.0, 0.0, 0.0),
        "lawful_use": "The decision rule the audit judged.", "how_to_apply": "Nothing to apply.",
    }

    def candidate(**changes):
        c = copy.deepcopy(current)
        c.update(changes)
        return c

    candidates = [
        current,
        candidate(id="single-threshold", kind="single_threshold", title="One threshold for everyone: 0.62",
                  parameters={"threshold": 0.62}, accuracy=_estimate(0.75, 0.70, 0.80),
                  selection_rate=_estimate(0.55, 0.49, 0.61), focus=_estimate(0.83, 0.62, 1.0),
                  rules=[{"id": "four-fifths-age", "status": "pass", "observed": 0.83, "ci": [0.62, 1.0]},
                         {"id": "equalized-odds-age", "status": "pass", "observed": 0.09, "ci": [0.01, 0.2]}],
                  passes=True, accuracy_change=_estimate(-0.03, -0.06, 0.0),
                  selection_rate_change=_estimate(-0.15, -0.19, -0.11),
                  lawful_use="The same threshold for every applicant: no group is treated differently.",
                  how_to_apply="Set the model's decision threshold to 0.62."),
        candidate(id="group-thresholds", kind="group_thresholds", title=f"A threshold per age group {SCRIPT}",
                  group_aware=True, parameters={"thresholds": {"young": 0.41, "old": 0.55}},
                  accuracy=_estimate(0.77, 0.72, 0.81), selection_rate=_estimate(0.68, 0.62, 0.73),
                  focus=_estimate(0.95, 0.80, 1.0),
                  rules=[{"id": "four-fifths-age", "status": "pass", "observed": 0.95, "ci": [0.8, 1.0]},
                         {"id": "equalized-odds-age", "status": "pass", "observed": 0.05, "ci": [0.0, 0.15]}],
                  passes=True, accuracy_change=_estimate(-0.01, -0.03, 0.01),
                  selection_rate_change=_estimate(-0.02, -0.05, 0.01),
                  lawful_use=f"Only where the law allows decisions that depend on age {FORMULA}",
                  how_to_apply="Apply a separate threshold per age group."),
        candidate(id="group-thresholds-randomized", kind="group_thresholds_randomized", deterministic=False,
                  title="Randomized thresholds per age group (fairlearn ThresholdOptimizer)", group_aware=True,
                  accuracy=_estimate(0.76, 0.71, 0.80), selection_rate=_estimate(0.66, 0.60, 0.71),
                  focus=_estimate(0.98, 0.85, 1.0),
                  rules=[{"id": "four-fifths-age", "status": "pass", "observed": 0.98, "ci": [0.85, 1.0]},
                         {"id": "equalized-odds-age", "status": "pass", "observed": 0.04, "ci": [0.0, 0.12]}],
                  passes=True, accuracy_change=_estimate(-0.02, -0.04, 0.0),
                  selection_rate_change=_estimate(-0.04, -0.07, -0.01),
                  lawful_use="Only where group-dependent, randomized decisions are allowed.",
                  how_to_apply="Not writable: decisions are random draws per group."),
        candidate(id="neutralize-proxy", kind="neutralize_proxy", title=f"Neutralize the proxy column {FORMULA}",
                  estimate=True, accuracy=_estimate(0.77, 0.73, 0.82), selection_rate=_estimate(0.69, 0.64, 0.74),
                  focus=_estimate(0.72, 0.52, 0.93),
                  rules=[{"id": "four-fifths-age", "status": "inconclusive", "observed": 0.72, "ci": [0.52, 0.93]},
                         {"id": "equalized-odds-age", "status": "fail", "observed": 0.22, "ci": [0.08, 0.36]}],
                  passes=False, accuracy_change=_estimate(-0.01, -0.02, 0.0),
                  selection_rate_change=_estimate(-0.01, -0.02, 0.0),
                  lawful_use="Removes a column that stands in for age.",
                  how_to_apply=f"Drop the column {SCRIPT} and retrain."),
        candidate(id="reweigh", kind="reweigh", title="Retrain with reweighed rows (Kamiran & Calders)",
                  accuracy=_estimate(0.76, 0.71, 0.81), selection_rate=_estimate(0.64, 0.58, 0.70),
                  focus=_estimate(0.81, 0.60, 1.0),
                  rules=[{"id": "four-fifths-age", "status": "inconclusive", "observed": 0.81, "ci": [0.6, 1.0]},
                         {"id": "equalized-odds-age", "status": "pass", "observed": 0.1, "ci": [0.02, 0.19]}],
                  passes=False, accuracy_change=_estimate(-0.02, -0.05, 0.01),
                  selection_rate_change=_estimate(-0.06, -0.1, -0.02),
                  lawful_use="Changes how the model is trained, not how decisions are made.",
                  how_to_apply="Retrain with the weights in remedies/weights.csv."),
    ]
    thresholds = [i / 20 for i in range(4, 17)]
    return {
        "triggered_by": ["four-fifths-age", "equalized-odds-age"],
        "failing_rules": [
            {"id": "four-fifths-age", "metric": "demographic_parity_ratio", "feature": "age_group", "status": "fail",
             "observed": 0.65, "threshold": 0.8, "direction": "min"},
            {"id": "equalized-odds-age", "metric": "equalized_odds_difference", "feature": "age_group",
             "status": "inconclusive", "observed": 0.13, "threshold": 0.2, "direction": "max"},
        ],
        "folds": 5, "seed": 0, "rows": 300, "group_feature": f"age_group {SCRIPT}",
        "focus": {"rule": "four-fifths-age", "metric": "demographic_parity_ratio", "feature": "age_group",
                  "threshold": 0.8},
        "candidates": candidates,
        "sweep": {"thresholds": thresholds,
                  "accuracy": [round(0.79 - 0.9 * (t - 0.5) ** 2, 4) for t in thresholds],
                  "focus": [round(min(1.0, 0.45 + 0.6 * t), 4) for t in thresholds[:-1]] + [None]},
        "notes": [f"Cross-fitted on 5 folds {SCRIPT}", FORMULA, "Intervals from 1,000 bootstrap resamples."],
    }


@pytest.fixture(scope="module")
def demo_results(demo_dir):
    return run_audit(demo_dir / "audit.yaml", explain=False, seed=0).to_dict()


@pytest.fixture(scope="module")
def with_remedies(demo_results):
    results = copy.deepcopy(demo_results)
    results["remedies"] = remedies_dict()
    return results


@pytest.fixture(scope="module")
def html(with_remedies):
    return render_html(with_remedies)


def _section(html: str) -> str:
    start = html.index('<section id="remedies"')
    return html[start:html.index("</section>", start)]


def test_results_with_remedies_follow_the_schema(with_remedies):
    validate_results(with_remedies)


@pytest.mark.parametrize("where, value", [
    (("folds",), 1), (("rows",), -1), (("triggered_by",), "four-fifths-age"),
    (("candidates", 1, "group_aware"), "yes"), (("candidates", 1, "accuracy", "ci"), [0.1]),
    (("candidates", 1, "rules", 0, "status"), "maybe"), (("notes",), [3]),
])
def test_the_schema_refuses_a_malformed_remedies_entry(with_remedies, where, value):
    results = copy.deepcopy(with_remedies)
    target = results["remedies"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert schema_problems(results)


@pytest.mark.parametrize("key", ["candidates", "folds", "seed", "rows", "triggered_by"])
def test_the_schema_requires_the_remedies_keys(with_remedies, key):
    results = copy.deepcopy(with_remedies)
    del results["remedies"][key]
    assert schema_problems(results)


def test_section_appears_after_fairness_with_its_heading_and_plain_words(html):
    assert f'<h2 id="remedies-heading">{HEADING}</h2>' in html
    assert html.index('<section id="fairness"') < html.index('<section id="remedies"')
    nav = html[html.index('<nav class="toc"'):html.index("</nav>")]
    assert 'href="#remedies"' in nav
    section = _section(html)
    first = re.sub(r"<[^>]+>", "", section[section.index("</h2>"):]).strip()
    assert first.startswith("Nothing here is applied automatically; choosing a remedy is a decision for people, "
                            "who are accountable for it.")
    assert "5 folds over 300 rows, seed 0" in section
    assert "<img src=\"data:image/svg+xml;base64," in section
    for title in ("The model as audited", "One threshold for everyone: 0.62", "Retrain with reweighed rows"):
        assert title in section
    assert "The failing rules with it" in section
    assert "<code>four-fifths-age</code>" in section and "<code>equalized-odds-age</code>" in section


def test_group_aware_candidates_carry_the_disparate_treatment_warning(html):
    section = _section(html)
    assert "disparate treatment" in section and WARNING in section and "ECOA" in section
    rows = section.split('rowspan="2"')[1:]  # a candidate's two table rows: figures, then lawful use
    by_title = {re.search(r'<th scope="row"[^>]*>([^<]*)', r).group(1): r for r in rows}
    aware = [r for t, r in by_title.items() if t.startswith(("A threshold per age group", "Randomized thresholds"))]
    assert len(aware) == 2
    for row in aware:
        assert "treats groups differently" in row and WARNING in row
    for title in ("The model as audited", "One threshold for everyone: 0.62"):
        assert "treats groups differently" not in by_title[title] and WARNING not in by_title[title]
    assert "estimate</span>" in by_title[f"Neutralize the proxy column {FORMULA.replace(chr(39), '&#39;')}"]


def test_everything_from_the_data_is_escaped(html):
    section = _section(html)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert section.count("&lt;script&gt;") == 4  # title, how to apply, group feature, note
    assert "=cmd|&#39; /C calc&#39;!A0" in section  # text, not markup


def test_section_is_absent_without_remedies(with_remedies):
    missing = copy.deepcopy(with_remedies)
    del missing["remedies"]
    for results in (missing, dict(copy.deepcopy(with_remedies), remedies=None)):
        validate_results(results)
        html = render_html(results)
        assert 'id="remedies"' not in html and HEADING not in html and 'href="#remedies"' not in html
        assert build_view(results, charts_enabled=False)["views"]["remedies"] is None


def test_no_remedy_found_is_said_plainly(with_remedies):
    results = copy.deepcopy(with_remedies)
    results["remedies"]["candidates"] = results["remedies"]["candidates"][:1]
    results["remedies"]["sweep"] = None
    validate_results(results)
    section = _section(render_html(results))
    assert "No remedy was found." in section
    assert "treats groups differently" not in section


def test_minimal_entry_renders_and_summary_ignores_it(with_remedies):
    """Only the required keys, nulls where the schema allows them; the Markdown summary has no chart."""
    results = copy.deepcopy(with_remedies)
    entry = results["remedies"]
    for key in ("failing_rules", "group_feature", "focus", "sweep", "notes"):
        entry[key] = None
    entry["seed"] = None
    for c in entry["candidates"]:
        for key in ("focus", "accuracy_change", "selection_rate_change", "parameters", "lawful_use", "how_to_apply"):
            c.pop(key)
        c["accuracy"] = {"value": None, "ci": [None, None]}
    validate_results(results)
    section = _section(render_html(results))
    assert HEADING in section and "<img" not in section
    render_summary_md(results)


def test_thresholds_as_the_rules_write_them(with_remedies):
    """A failing rule's and the focus's threshold may be the rule's own ``{"min": ...}`` object."""
    results = copy.deepcopy(with_remedies)
    entry = results["remedies"]
    entry["focus"]["threshold"] = {"min": 0.8}
    for rule in entry["failing_rules"]:
        rule["threshold"] = {rule.pop("direction"): rule["threshold"]}
        rule["ci"] = [0.1, 0.9]
    entry["candidates"][1]["rules"][0]["gating"] = False
    validate_results(results)
    section = _section(render_html(results))
    assert "the rule needs ≥ 0.800" in section and "the rule needs ≤ 0.200" in section
    assert "(which needs ≥ 0.800)" in section and "<img" in section


def test_the_audits_own_remedies_render(demo_results):
    """Whatever the remedies search of the demo audit wrote (when it ran) validates and renders."""
    if not demo_results.get("remedies"):
        pytest.skip("the demo audit searched for no remedy")
    validate_results(demo_results)
    section = _section(render_html(demo_results))
    assert HEADING in section and "<img" in section
