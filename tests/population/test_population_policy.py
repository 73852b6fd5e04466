"""The population: key: validation (one-line PolicyErrors naming the key) and the two metrics."""

from __future__ import annotations

import pytest

from auditkit.errors import PolicyError
from auditkit.metrics import get_metric
from auditkit.policy import PopulationSpec, load_policy

BASE = """\
version: 1
data:
  path: data/credit.csv
  target: credit_risk
  positive_label: good
sensitive_features: [sex, age_group]
intersections: [[sex, age_group]]
"""
POPULATION = """\
population:
  source: "Eurostat 2023,   applicants (illustrative)"
  shares:
    sex: {female: 0.48, male: 0.52}
    age_group: {"under 25": 0.12, "25 and over": 0.88}
"""
RULES = """\
rules:
  - id: represented
    metric: representation_ratio
    feature: sex
    min: 0.8
    decide_on: ci
  - id: fits
    metric: representation_gof_pvalue
    feature: age_group
    min: 0.05
"""


def _error(write_policy, text: str) -> str:
    path = write_policy(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = info.value.message
    assert str(path) in message and "\n" not in message
    return message


def test_population_loads(write_policy):
    policy = load_policy(write_policy(BASE + POPULATION + RULES))
    assert policy.population == PopulationSpec(
        source="Eurostat 2023, applicants (illustrative)",
        shares={"sex": {"female": 0.48, "male": 0.52}, "age_group": {"under 25": 0.12, "25 and over": 0.88}})
    assert [r.metric for r in policy.rules] == ["representation_ratio", "representation_gof_pvalue"]
    assert policy.population.to_dict()["shares"]["sex"] == {"female": 0.48, "male": 0.52}


def test_without_population(write_policy):
    assert load_policy(write_policy(BASE)).population is None


def test_group_labels_read_as_the_data_labels(write_policy):
    text = BASE + """\
population:
  source: test
  shares:
    sex: {1: 0.25, 2.0: 0.5, "(missing)": 0.25}
    sex & age_group: {"female & under 25": 0.3, "male & 25 and over": 0.7}
"""
    policy = load_policy(write_policy(text))
    assert policy.population.shares["sex"] == {"1": 0.25, "2": 0.5, "(missing)": 0.25}
    assert list(policy.population.shares) == ["sex", "sex & age_group"]


@pytest.mark.parametrize(("population", "key", "words"), [
    ("population: [1]", "population", "must be a mapping"),
    ("population: {shares: {sex: {a: 0.5, b: 0.5}}}", "population.source", "missing required key"),
    ("population: {source: s}", "population.shares", "missing required key"),
    ("population: {source: s, shares: {}}", "population.shares", "at least one sensitive feature"),
    ("population: {source: '  ', shares: {sex: {a: 0.5, b: 0.5}}}", "population.source", "must not be empty"),
    ("population: {source: s, shares: {sex: {a: 0.5, b: 0.5}}, extra: 1}", "population.extra", "unknown key"),
    ("population: {source: s, shares: {income: {a: 0.5, b: 0.5}}}", "population.shares.income",
     "not a sensitive feature or intersection"),
    ("population: {source: s, shares: {sex: {a: 1.0}}}", "population.shares.sex", "at least 2 groups"),
    ("population: {source: s, shares: {sex: [a, b]}}", "population.shares.sex", "must be a mapping"),
    ("population: {source: s, shares: {sex: {a: 0, b: 1}}}", "population.shares.sex.a", "above 0 and at most 1"),
    ("population: {source: s, shares: {sex: {a: -0.5, b: 1.5}}}", "population.shares.sex.a", "above 0 and at most 1"),
    ("population: {source: s, shares: {sex: {a: 1.5, b: 0.5}}}", "population.shares.sex.a", "above 0 and at most 1"),
    ("population: {source: s, shares: {sex: {a: half, b: 0.5}}}", "population.shares.sex.a", "must be a number"),
    ("population: {source: s, shares: {sex: {a: .nan, b: 0.5}}}", "population.shares.sex.a", "finite"),
    ("population: {source: s, shares: {sex: {a: 0.5, b: 0.49}}}", "population.shares.sex", "sum to 0.99, not 1"),
    ("population: {source: s, shares: {sex: {a: 0.6, b: 0.5}}}", "population.shares.sex", "sum to 1.1, not 1"),
    ("population: {source: s, shares: {sex: {1: 0.5, '1': 0.5}}}", "population.shares.sex.1", "declared twice"),
])
def test_population_errors(write_policy, population, key, words):
    message = _error(write_policy, BASE + population + "\n")
    assert f"key '{key}'" in message and words in message, message


def test_sum_within_tolerance_is_accepted(write_policy):
    text = BASE + "population: {source: s, shares: {sex: {a: 0.3333, b: 0.3333, c: 0.3333}}}\n"
    assert load_policy(write_policy(text)).population.shares["sex"]["c"] == 0.3333


def test_a_rule_needs_a_declared_feature(write_policy):
    message = _error(write_policy, BASE + RULES)
    assert "key 'population'" in message and "rule 'represented'" in message and "add a 'population:'" in message
    text = BASE + "population: {source: s, shares: {age_group: {a: 0.5, b: 0.5}}}\n" + RULES
    message = _error(write_policy, text)
    assert "key 'population.shares'" in message and "'sex'" in message and "declared: age_group" in message


def test_rule_options(write_policy):
    gof_ci = RULES.replace("min: 0.05", "min: 0.05\n    decide_on: ci")
    message = _error(write_policy, BASE + POPULATION + gof_ci)
    assert "no interval to decide on" in message
    no_feature = BASE + POPULATION + "rules:\n  - {id: r, metric: representation_ratio, min: 0.8}\n"
    assert "needs 'feature:'" in _error(write_policy, no_feature)
    # decide_on: ci needs no bootstrap: the interval is Wilson's
    text = BASE + "fairness: {bootstrap: 0}\n" + POPULATION + RULES
    assert load_policy(write_policy(text)).rules[0].decide_on == "ci"


def test_the_metrics():
    for name, interval in (("representation_ratio", "analytic"), ("representation_gof_pvalue", "none")):
        metric = get_metric(name)
        assert metric.family == "data" and metric.feature == "group" and metric.feature_required
        assert metric.direction == 1 and metric.interval == interval and metric.evidence == "data_bias"
        assert not metric.needs_model and not metric.needs_labels and metric.needs == frozenset()
    assert "not that the data are representative" in get_metric("representation_gof_pvalue").summary
