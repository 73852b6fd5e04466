"""Regulatory packs: loading, `extends:`, overrides by id, parameters, the report and the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.errors import PolicyError
from auditkit.packs import available_packs, load_pack, pack_names
from auditkit.policy import load_policy

BASE = """\
version: 1
name: packs
data: {path: data/credit.csv, target: credit_risk, positive_label: good}
model: {path: models/credit_model.skops}
sensitive_features: [sex, age_group]
intersections: [[sex, age_group]]
fairness: {bootstrap: 200}
explain: {enabled: false}
"""


def _error(write_policy, text: str) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy(write_policy(text))
    message = info.value.message
    assert "\n" not in message
    return message


def test_shipped_packs_load_and_frame_their_verdicts():
    assert pack_names() == ("colorado-sb24-205", "eu-ai-act", "four-fifths", "nyc-ll144")
    for pack in available_packs():
        assert pack.title and pack.description and pack.rules
        assert "does not establish" in pack.framing
        assert "not proof" in pack.framing
    assert load_pack("four-fifths").sections == ("framing", "adverse_impact")
    assert load_pack("nyc-ll144").settings["exclude_below"].default == 0.02


def test_extends_expands_pack_rules_per_sensitive_feature(write_policy):
    policy = load_policy(write_policy(BASE + "extends: [four-fifths]\n"))
    assert policy.extends == ("four-fifths",)
    assert [r.id for r in policy.rules] == ["four-fifths:sex", "four-fifths:age_group"]
    rule = policy.rules[0]
    assert (rule.metric, rule.feature, rule.min, rule.test, rule.statistical_test, rule.alpha, rule.pack) == (
        "impact_ratio", "sex", 0.8, "both", "fisher", 0.05, "four-fifths")
    with_intersections = load_policy(write_policy(
        BASE + "extends: four-fifths\npacks: {four-fifths: {include_intersections: true}}\n"))
    assert [r.id for r in with_intersections.rules][-1] == "four-fifths:sex & age_group"


def test_policy_overrides_pack_rules_by_id(write_policy):
    policy = load_policy(write_policy(BASE + """\
extends: [four-fifths]
rules:
  - {id: four-fifths, alpha: 0.01}
  - {id: "four-fifths:age_group", min: 0.75, severity: warning, test: practical}
  - {id: accuracy-floor, metric: accuracy, min: 0.5}
"""))
    by_id = {r.id: r for r in policy.rules}
    assert by_id["four-fifths:sex"].alpha == 0.01 and by_id["four-fifths:sex"].min == 0.8
    age = by_id["four-fifths:age_group"]
    assert (age.min, age.severity, age.test, age.alpha) == (0.75, "warning", "practical", 0.01)
    assert by_id["accuracy-floor"].pack is None
    assert list(by_id) == ["four-fifths:sex", "four-fifths:age_group", "accuracy-floor"]


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ("extends: [four-fiths]\n", "extends[0]", "did you mean 'four-fifths'"),
        ("extends: [four-fifths, four-fifths]\n", "extends[1]", "listed twice"),
        ("extends: [four-fifths]\npacks: {nyc-ll144: {sex: sex}}\n", "packs.nyc-ll144", "not in extends"),
        ("packs: {four-fifths: {}}\n", "packs", "extends no pack"),
        ("extends: [four-fifths]\npacks: {four-fifths: {include_intersection: true}}\n",
         "packs.four-fifths.include_intersection", "did you mean 'include_intersections'"),
        ("extends: [nyc-ll144]\npacks: {nyc-ll144: {sex: sex, data_source: x}}\n",
         "packs.nyc-ll144.race_ethnicity", "missing required key"),
        ("extends: [nyc-ll144]\npacks: {nyc-ll144: {sex: sex, race_ethnicity: age_group, data_source: x, exclude_below: 0.05}}\n",
         "packs.nyc-ll144.exclude_below", "between 0 and 0.02"),
        ("extends: [nyc-ll144]\npacks: {nyc-ll144: {sex: sex, race_ethnicity: age_group, data_source: x, data_kind: test}}\n",
         "packs.nyc-ll144.test_data_reason", "why test data"),
        ("extends: [nyc-ll144]\npacks: {nyc-ll144: {sex: sex, race_ethnicity: age_group, data_source: x, audit_date: soon}}\n",
         "packs.nyc-ll144.audit_date", "YYYY-MM-DD"),
        ("extends: [four-fifths]\nrules:\n  - {id: four-fifths, compare: champion}\n", "rules[0].compare", "cannot be overridden"),
        ("extends: [four-fifths]\nrules:\n  - {id: four-fifths, metric: accuracy}\n", "rules[0].metric", "whose metric is 'impact_ratio'"),
        ("extends: [four-fifths]\nrules:\n  - {id: four-fifth, min: 0.7}\n", "rules[0]", "matches no rule of the extended packs"),
        ("extends: [four-fifths]\nrules:\n  - {id: four-fifths, test: all}\n", "rules[0].test", "practical, statistical, both"),
        ("extends: [four-fifths]\nrules:\n  - {id: four-fifths, statistical_test: chi2}\n", "rules[0].statistical_test", "fisher, z"),
        ("extends: [four-fifths]\nrules:\n  - {id: four-fifths, alpha: 5}\n", "rules[0].alpha", "significance level"),
        ("extends: [four-fifths]\nrules:\n  - {id: four-fifths, decide_on: ci}\n", "rules[0].decide_on", "practical test only"),
        ("rules:\n  - {id: a, metric: accuracy, min: 0.5, test: both}\n", "rules[0].test", "impact_ratio rules only"),
        ("rules:\n  - {id: a, metric: impact_ratio, feature: sex, max: 1}\n", "rules[0]", "minimum only"),
    ],
)
def test_each_pack_mistake_names_its_key(write_policy, extra, key, words):
    message = _error(write_policy, BASE + extra)
    assert f"'{key}'" in message, message
    assert words in message, message


def test_pack_column_parameters_are_checked_against_the_data(demo_copy, write_policy):
    from auditkit import run_audit

    path = write_policy(BASE + "extends: [nyc-ll144]\npacks: {nyc-ll144: {sex: sex, race_ethnicity: race, data_source: x}}\n")
    with pytest.raises(PolicyError, match=r"'packs.nyc-ll144.race_ethnicity'.*column 'race' is not in the data"):
        run_audit(path, explain=False)


def test_pack_without_model_or_features(write_policy):
    no_model = BASE.replace("model: {path: models/credit_model.skops}\n", "")
    assert "add a 'model:' section" in _error(write_policy, no_model + "extends: [four-fifths]\n")
    no_features = BASE.replace("sensitive_features: [sex, age_group]\nintersections: [[sex, age_group]]\n", "")
    assert "sensitive_features" in _error(write_policy, no_features + "extends: [four-fifths]\n")


def test_four_fifths_on_the_german_credit_demo(write_policy, tmp_path):
    """`extends: [four-fifths]` with sex and age_group flags what it should, naming the test."""
    from auditkit import run_audit
    from auditkit.report import write_outputs
    from auditkit.report.schema import validate_results

    result = run_audit(write_policy(BASE + "extends: [four-fifths]\n"), explain=False)
    results = result.to_dict()
    validate_results(results)
    rules = {r["id"]: r for r in results["rules"]}
    impact = {f["feature"]: f for f in results["adverse_impact"]["features"]}

    # Independent check of every flag from the published counts: below 0.8, or Fisher p < 0.05.
    from scipy.stats import fisher_exact

    for feature in ("sex", "age_group"):
        f = impact[feature]
        ref = next(g for g in f["groups"] if g["is_reference"])
        assert ref["selection_rate"] == max(g["selection_rate"] for g in f["groups"] if g["status"] == "ok")
        flagged = set()
        for g in f["groups"]:
            if g["is_reference"] or g["status"] != "ok":
                continue
            p = fisher_exact([[g["selected"], g["n"] - g["selected"]],
                              [ref["selected"], ref["n"] - ref["selected"]]]).pvalue
            ratio = (g["selected"] / g["n"]) / (ref["selected"] / ref["n"])
            assert g["impact_ratio"] == pytest.approx(ratio)
            if ratio < 0.8 or (p < 0.05 and ratio < 1):
                flagged.add(g["group"])
        rule = rules[f"four-fifths:{feature}"]
        assert {d["group"] for d in rule["details"] if d["verdict"] == "fail"} == flagged
        assert rule["status"] == ("fail" if flagged else "pass")
        for d in rule["details"]:
            if d["verdict"] == "fail":
                assert d["driver"] in ("practical", "statistical", "both")
    # On this demo the women's ratio is above 0.8 while Fisher's test finds the gap significant:
    # the verdict must say the statistical test drove it.
    sex = rules["four-fifths:sex"]
    assert sex["status"] == "fail" and sex["group"] == "female"
    assert sex["observed"] > 0.8
    assert "Verdict driven by the statistical test (Fisher's exact test)" in sex["message"]

    outputs = write_outputs(results, tmp_path / "out")
    html = outputs.report.read_text(encoding="utf-8")
    assert 'id="packs"' in html and "Four-fifths rule (29 CFR 1607.4(D))" in html
    assert "not proof that the model is fair" in html
    assert "Fisher&#39;s exact test" in html or "Fisher's exact test" in html
    assert outputs.ll144_html is None and not (tmp_path / "out" / "ll144.html").exists()
    summary = outputs.summary.read_text(encoding="utf-8")
    assert "four-fifths" in summary and "does not establish" in summary


def test_report_is_a_pure_function_of_results(write_policy, tmp_path):
    from auditkit import run_audit
    from auditkit.report import write_outputs

    result = run_audit(write_policy(BASE + "extends: [four-fifths]\n"), explain=False)
    outputs = write_outputs(result.to_dict(), tmp_path / "out")
    again = CliRunner().invoke(cli, ["report", str(outputs.results), "-o", str(tmp_path / "again.html")])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again.html").read_text(encoding="utf-8") == outputs.report.read_text(encoding="utf-8")
    assert json.loads(outputs.results.read_text())["packs"][0]["rules"] == ["four-fifths:sex", "four-fifths:age_group"]


def test_audit_packs_command():
    runner = CliRunner()
    listing = runner.invoke(cli, ["packs"])
    assert listing.exit_code == 0
    assert "four-fifths" in listing.output and "nyc-ll144" in listing.output
    shown = runner.invoke(cli, ["packs", "nyc-ll144"])
    assert shown.exit_code == 0 and "race_ethnicity: column" in shown.output and "does not establish" in shown.output
    unknown = runner.invoke(cli, ["packs", "gdpr"])
    assert unknown.exit_code == 2 and "unknown pack 'gdpr'" in unknown.output


def test_impact_interval_needs_no_bootstrap(write_policy):
    """decide_on: ci works with bootstrap 0: the impact ratio's interval is analytic (Koopman's score interval)."""
    from auditkit import run_audit

    path = write_policy(BASE.replace("bootstrap: 200", "bootstrap: 0") + """\
extends: [four-fifths]
rules:
  - {id: four-fifths, test: practical, decide_on: ci, min: 0.9, on_inconclusive: warn}
""")
    results = run_audit(path, explain=False).to_dict()
    sex = next(r for r in results["rules"] if r["id"] == "four-fifths:sex")
    assert sex["status"] == "inconclusive" and not sex["gating"]
    assert sex["ci"][0] < 0.9 < sex["ci"][1]
    assert "this rule decides on test: practical" in sex["message"]


def test_packs_ship_in_the_wheel_configuration():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    assert "auditkit.packs" in setuptools["packages"]
    assert setuptools["package-data"]["auditkit.packs"] == ["*/pack.yaml", "*/results.schema.json", "*/templates/*.j2"]
