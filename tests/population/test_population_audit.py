"""The population: key end to end: rules judged, results.json valid, the report's table."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from auditkit.metrics._observe import observe_representativeness
from auditkit.pipeline import run_audit
from auditkit.report.render import render_html
from auditkit.report.schema import validate_results

POLICY = """\
version: 1
name: representativeness
data:
  path: data/credit.csv
  target: credit_risk
  positive_label: good
sensitive_features: [sex, age_group]
population:
  source: "Illustrative <script>alert(1)</script> & shares"
  shares:
    sex: {female: 0.48, male: 0.52}
    age_group: {"under 25": 0.12, "25 and over": 0.88}
rules:
  - id: represented-sex
    metric: representation_ratio
    feature: sex
    min: 0.8
    decide_on: ci
  - id: represented-age
    metric: representation_ratio
    feature: age_group
    min: 0.8
    decide_on: ci
  - id: fits-sex
    metric: representation_gof_pvalue
    feature: sex
    min: 0.05
  - id: fits-age
    metric: representation_gof_pvalue
    feature: age_group
    min: 0.05
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory, demo_dir):
    import shutil

    folder = tmp_path_factory.mktemp("population") / "demo"
    shutil.copytree(demo_dir, folder, ignore=shutil.ignore_patterns("audit-report"))
    (folder / "audit.yaml").write_text(POLICY, encoding="utf-8")
    return run_audit(folder / "audit.yaml", seed=0).to_dict()


def test_rules_are_judged_without_a_model(results):
    rules = {r["id"]: r for r in results["rules"]}
    block = results["data_bias"]["representativeness"]
    sex, age = block["features"]
    # the demo's audit data: 91 female, 209 male; 42 under 25, 258 aged 25 and over
    assert [(g["group"], g["n"]) for g in sex["groups"]] == [("female", 91), ("male", 209)]
    assert [(g["group"], g["n"]) for g in age["groups"]] == [("under 25", 42), ("25 and over", 258)]
    assert rules["represented-sex"]["status"] == "fail"  # 0.632 [0.529, 0.745] is wholly below 0.8
    assert rules["represented-sex"]["observed"] == sex["lowest_ratio"] == pytest.approx(91 / 300 / 0.48)
    assert rules["represented-sex"]["ci"] == sex["lowest_ratio_ci"]
    assert rules["represented-sex"]["decided_on"] == "ci"
    assert rules["represented-age"]["status"] == "pass"
    assert rules["fits-sex"]["status"] == "fail" and rules["fits-sex"]["observed"] == sex["p_value"] < 1e-8
    assert rules["fits-age"]["status"] == "pass" and rules["fits-age"]["observed"] == pytest.approx(0.2864220227778558)
    assert block["source"] == "Illustrative <script>alert(1)</script> & shares"


def test_results_match_the_schema(results):
    validate_results(json.loads(json.dumps(results, allow_nan=False)))


def test_the_report_table(results):
    html = render_html(results)
    at = html.index("Representativeness against the declared population")
    part = html[at:at + 8000]
    assert "<script>alert(1)</script>" not in html
    assert "Illustrative &lt;script&gt;alert(1)&lt;/script&gt; &amp; shares" in part
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part))
    sex = results["data_bias"]["representativeness"]["features"][0]
    assert f"χ² = {sex['statistic']:.3f} (df = 1), p = {sex['p_value']:.3g}" in text
    assert f"lowest ratio {sex['lowest_ratio']:.3f} [{sex['lowest_ratio_ci'][0]:.3f}, {sex['lowest_ratio_ci'][1]:.3f}] (female)" in text
    assert "female (lowest) 91 30.3% [25.4%, 35.8%] 48.0% 0.632 [0.529, 0.745]" in text
    assert "not that the data are representative" in text
    # the glossary explains both metrics
    assert "declared reference population" in html


def test_undeclared_and_absent_groups_in_the_report(results):
    changed = json.loads(json.dumps(results))
    feature = changed["data_bias"]["representativeness"]["features"][1]
    feature["groups"].append({"group": "(missing)", "n": 0, "share": 0.0, "share_ci": [0.0, 0.01],
                              "expected_share": None, "ratio": None, "ratio_ci": None, "declared": False,
                              "note": "not in the declared population"})
    feature["groups"][0]["n"] = 0
    feature.update(statistic=None, p_value=0.0, reason="3 rows are in groups the declared population does not have")
    validate_results(changed)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", render_html(changed)))
    assert "(missing) ⚠ not in the declared population" in text and "χ² = infinite (df = 1), p = 0" in text
    assert "under 25 ⚠ not in the data" in text
    assert "3 rows are in groups the declared population does not have." in text


def test_without_population_nothing_is_added(demo_dir):
    from auditkit.data_bias import assess_data_bias

    rule = SimpleNamespace(metric="representation_ratio", feature="sex")
    assert observe_representativeness(SimpleNamespace(data_bias=None), rule).reason == "data bias was not assessed"
    import pandas as pd

    frame = pd.DataFrame({"sex": ["a", "b"] * 20})
    observed = observe_representativeness(SimpleNamespace(data_bias=assess_data_bias(frame, sensitive_features=["sex"])),
                                          rule)
    assert observed.value is None and "population.shares.sex" in observed.reason  # a pack rule fails closed
