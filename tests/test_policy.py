"""The policy loader: every malformed policy is one PolicyError naming the file and the key."""

from __future__ import annotations

import pytest

from auditkit.errors import PolicyError
from auditkit.policy import check_columns, load_policy
from policies import MINIMAL_POLICY


def test_minimal_policy_loads(write_policy):
    policy = load_policy(write_policy(MINIMAL_POLICY))
    assert policy.name == "minimal"
    assert policy.data.path.name == "credit.csv" and policy.data.path.is_absolute()
    assert policy.model.trust is False and policy.model.threshold == 0.5
    assert [r.id for r in policy.rules] == ["contract-holds", "accuracy-floor"]
    assert policy.fairness.bootstrap == 200 and policy.fairness.confidence == 0.95
    assert len(policy.sha256) == 64


def test_demo_policy_loads(demo_dir):
    policy = load_policy(demo_dir / "audit.yaml")
    assert policy.intersections == (("sex", "age_group"),)
    assert policy.group_features == ("sex", "age_group", "sex & age_group")
    assert policy.fairness.reference_groups == {"sex": "male", "age_group": "25 and over"}


def _error(write_policy, text: str) -> str:
    path = write_policy(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = info.value.message
    assert str(path) in message, "the message names the file"
    assert "\n" not in message, "one line"
    return message


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (("  target: credit_risk", "  targt: credit_risk"), "data.targt", "did you mean 'target'"),
        (("version: 1", "version: 1\nrulez: []"), "rulez", "did you mean 'rules'"),
        (("version: 1", "version: 2"), "version", "not supported"),
        (("version: 1", "version: one"), "version", "whole number"),
        (("  path: models/credit_model.skops", "  path: models/missing.skops"), "model.path", "does not exist"),
        (("  path: data/credit.csv", "  path: data/nope.csv"), "data.path", "does not exist"),
        (("    metric: accuracy", "    metric: acuracy"), "rules[1].metric", "did you mean 'accuracy'"),
        (("    min: 0.5", "    min: high"), "rules[1].min", "must be a number"),
        (("  bootstrap: 200", "  bootstrap: 3"), "fairness.bootstrap", "between 50"),
        (("  bootstrap: 200", "  confidence: 1.5"), "fairness.confidence", "between 0.5 and 1"),
        (("  max_rows: 200", "  max_rows: [1]"), "explain.max_rows", "whole number"),
        (("sensitive_features: [sex, age_group]", "sensitive_features: sex"), "sensitive_features", "must be a list"),
        (("version: 1", "version: 1\nextends: [four-fiths]"), "extends[0]", "did you mean 'four-fifths'"),
        (("    max: 0\n", "    max: 0\n    compare: champion\n"), "rules[0].compare", "no 'champion:' section"),
        (("    min: 0.5", "    min: 0.5\n    max_regression: 0.1"), "rules[1].max_regression", "needs 'compare: champion'"),
        (("    max: 0\n", "    max: 0\n    waiver: {reason: x}\n"), "rules[0].waiver.approved_by", "missing required key"),
        (("    max: 0\n", "    max: 0\n    waiver: {reason: x, approved_by: y, expires: soon}\n"), "rules[0].waiver.expires", "YYYY-MM-DD"),
        (("version: 1", "version: 1\nreport: {templates: nowhere}"), "report.templates", "does not exist"),
        (("  - id: accuracy-floor", "  - id: contract-holds"), "rules[1].id", "used twice"),
        (("    min: 0.5", "    min: 0.5\n    severity: fatal"), "rules[1].severity", "error, warning"),
        (("    min: 0.5", "    min: 0.5\n    decide_on: median"), "rules[1].decide_on", "estimate, ci"),
    ],
)
def test_each_mistake_names_its_key(write_policy, change, key, words):
    old, new = change
    assert old in MINIMAL_POLICY
    message = _error(write_policy, MINIMAL_POLICY.replace(old, new, 1))
    assert f"'{key}'" in message
    assert words in message


def test_missing_required_key(write_policy):
    message = _error(write_policy, MINIMAL_POLICY.replace("  target: credit_risk\n", ""))
    assert "'data.target'" in message and "missing required key" in message


def test_rule_without_threshold(write_policy):
    message = _error(write_policy, MINIMAL_POLICY.replace("    min: 0.5\n", ""))
    assert "needs a threshold" in message


def test_disparity_rule_needs_a_sensitive_feature(write_policy):
    text = MINIMAL_POLICY + "  - id: dp\n    metric: demographic_parity_ratio\n    min: 0.8\n"
    assert "needs 'feature:'" in _error(write_policy, text)
    text = MINIMAL_POLICY + "  - id: dp\n    metric: demographic_parity_ratio\n    feature: race\n    min: 0.8\n"
    message = _error(write_policy, text)
    assert "'rules[2].feature'" in message and "'race'" in message


def test_model_metrics_need_a_model(write_policy):
    text = MINIMAL_POLICY.replace("model:\n  path: models/credit_model.skops\n", "")
    message = _error(write_policy, text)
    assert "'rules[1].metric'" in message and "needs a model" in message


def test_model_needs_exactly_one_source(write_policy):
    text = MINIMAL_POLICY.replace("  path: models/credit_model.skops\n", "  path: models/credit_model.skops\n  predictions: {label: credit_risk}\n")
    assert "exactly one of" in _error(write_policy, text)


def test_malformed_yaml_names_the_line(write_policy):
    message = _error(write_policy, "version: 1\ndata: [unclosed\n")
    assert "malformed YAML" in message and "line" in message


def test_empty_policy(write_policy):
    assert "empty" in _error(write_policy, "")


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(tmp_path / "audit.yaml")


def test_columns_not_in_data_are_named(write_policy):
    policy = load_policy(write_policy(MINIMAL_POLICY.replace("[sex, age_group]", "[sex, gender]")))
    with pytest.raises(PolicyError) as info:
        check_columns(policy, ["sex", "credit_risk", "age_group"])
    assert "'sensitive_features[1]'" in info.value.message and "'gender'" in info.value.message


def test_intersections_must_use_sensitive_features(write_policy):
    text = MINIMAL_POLICY.replace("sensitive_features: [sex, age_group]", "sensitive_features: [sex, age_group]\nintersections: [[sex, job]]")
    assert "'intersections[0]'" in _error(write_policy, text)


CHAMPION = MINIMAL_POLICY.replace("sensitive_features:", "champion:\n  path: models/credit_model.skops\nsensitive_features:")


def test_champion_rules_translate_limits_into_bounds_on_the_change(write_policy):
    text = CHAMPION + (
        "  - {id: tpr, metric: tpr, feature: sex, compare: champion, max_regression: 0.02}\n"
        "  - {id: eo, metric: equalized_odds_difference, feature: age_group, compare: champion, max_increase: 0}\n"
        "  - {id: fpr, metric: fpr, compare: champion, max_regression: 0.05}\n"
        "  - {id: sel, metric: selection_rate, feature: sex, compare: champion, max_increase: 0.1, max_decrease: 0.05}\n")
    policy = load_policy(write_policy(text))
    rules = {r.id: r for r in policy.rules}
    assert (rules["tpr"].min, rules["tpr"].max) == (-0.02, None)
    assert (rules["eo"].min, rules["eo"].max) == (None, 0.0)
    assert (rules["fpr"].min, rules["fpr"].max) == (None, 0.05)
    assert (rules["sel"].min, rules["sel"].max) == (-0.05, 0.1)
    assert policy.champion.path.name == "credit_model.skops"


@pytest.mark.parametrize(("rule", "key", "words"), [
    ("{id: x, metric: selection_rate, compare: champion, max_regression: 0.1}", "rules[2].max_regression", "no better or worse"),
    ("{id: x, metric: tpr, compare: champion, min: 0.1}", "rules[2].min", "instead of 'min'"),
    ("{id: x, metric: tpr, compare: champion}", "rules[2]", "needs a limit"),
    ("{id: x, metric: contract_violations, compare: champion, max_increase: 0}", "rules[2].metric", "cannot be compared"),
    ("{id: x, metric: tpr, compare: champion, max_regression: -1}", "rules[2].max_regression", "0 or more"),
])
def test_bad_comparison_rules(write_policy, rule, key, words):
    message = _error(write_policy, CHAMPION + f"  - {rule}\n")
    assert f"'{key}'" in message and words in message


def test_registry_uris_are_accepted_without_a_file(write_policy):
    policy = load_policy(write_policy(MINIMAL_POLICY.replace("path: models/credit_model.skops", "path: models:/credit@champion")))
    assert policy.model.uri == "models:/credit@champion" and policy.model.path is None
    message = _error(write_policy, MINIMAL_POLICY.replace("path: models/credit_model.skops", "path: models:/credit@"))
    assert "'model.path'" in message and "registry URI" in message
