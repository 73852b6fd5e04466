"""Representativeness against a declared population: the Spark engine gives the pandas numbers
(both compute it from the group row counts of the data-bias stage)."""

from __future__ import annotations

import shutil

from auditkit.pipeline import run_audit

from parity import assert_same

POLICY = """\
version: 1
data:
  path: data/credit.csv
  target: credit_risk
  positive_label: good
sensitive_features: [sex, age_group]
intersections: [[sex, age_group]]
population:
  source: illustrative
  shares:
    sex: {female: 0.48, male: 0.52}
    sex & age_group: {"female & under 25": 0.06, "female & 25 and over": 0.42, "male & under 25": 0.06,
                      "male & 25 and over": 0.46}
    age_group: {"under 25": 0.12, "25 and over": 0.78, "65 and over": 0.10}
rules:
  - {id: represented, metric: representation_ratio, feature: sex, min: 0.8, decide_on: ci}
  - {id: fits, metric: representation_gof_pvalue, feature: age_group, min: 0.05}
"""


def test_spark_gives_the_pandas_representativeness(spark, demo_dir, tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(demo_dir, folder, ignore=shutil.ignore_patterns("audit-report"))
    (folder / "audit.yaml").write_text(POLICY, encoding="utf-8")
    pandas = run_audit(folder / "audit.yaml", seed=0).to_dict()
    on_spark = run_audit(folder / "audit.yaml", seed=0, engine="spark").to_dict()
    assert_same(pandas["data_bias"]["representativeness"], on_spark["data_bias"]["representativeness"])
    assert [(r["id"], r["status"], r["observed"], r["ci"]) for r in pandas["rules"]] == \
        [(r["id"], r["status"], r["observed"], r["ci"]) for r in on_spark["rules"]]
    age = on_spark["data_bias"]["representativeness"]["features"][2]
    assert age["missing_groups"] == ["65 and over"] and age["lowest_group"] == "65 and over"
