"""The plan (stage 1): every mistake in the policy is found before any expensive work.

Each case makes the expensive stages impossible (the model file is garbage, the data body is
unreadable) so that reaching them would show up as a different error: the plan's error must
come first, naming the policy key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.engines import Capabilities, check_support
from auditkit.errors import PolicyError
from auditkit.policy import load_policy
from auditkit.stages.plan import plan_audit
from policies import MINIMAL_POLICY


def _break_model_and_body(folder: Path) -> None:
    """Loading the model or reading past the header now fails loudly."""
    (folder / "models" / "credit_model.skops").write_bytes(b"not a model")
    data = folder / "data" / "credit.csv"
    header = data.read_text(encoding="utf-8").splitlines()[0]
    data.write_bytes(header.encode() + b"\n\xff\xfe broken body \x00\n")


def test_a_pack_column_missing_from_the_header_is_found_first(write_policy, demo_copy):
    policy = write_policy(MINIMAL_POLICY.replace("rules:", "extends: [nyc-ll144]\npacks:\n  nyc-ll144: {sex: sex, "
                                                 "race_ethnicity: race, data_source: demo}\nrules:"))
    _break_model_and_body(demo_copy)
    with pytest.raises(PolicyError, match=r"packs\.nyc-ll144\.race_ethnicity.*'race' is not in the data"):
        plan_audit(policy)


def test_a_rule_column_missing_from_the_header_is_found_first(write_policy, demo_copy):
    policy = write_policy(MINIMAL_POLICY + "  - {id: c, metric: contract_violations, feature: no_such_column, max: 0}\n")
    _break_model_and_body(demo_copy)
    with pytest.raises(PolicyError, match=r"rules\[2\]\.feature.*no_such_column"):
        plan_audit(policy)


def test_promote_needs_a_registry_model_before_any_work(write_policy, demo_copy):
    policy = write_policy(MINIMAL_POLICY)
    _break_model_and_body(demo_copy)
    with pytest.raises(PolicyError, match="--promote needs model.path to be a registry URI"):
        plan_audit(policy, promote="champion")


def test_the_cli_refuses_promote_before_reading_the_data(write_policy, demo_copy, tmp_path):
    from click.testing import CliRunner

    from auditkit.cli import cli

    policy = write_policy(MINIMAL_POLICY)
    _break_model_and_body(demo_copy)
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / "out"), "--promote", "prod"])
    assert result.exit_code == 2 and "--promote needs model.path" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("extra", "capabilities", "key"), [
    ("", frozenset({"fairness", "explanations", "data_bias"}), "data.contract"),
    ("  - {id: d, metric: psi, max: 0.2}\n", frozenset({"contract", "fairness", "explanations"}), "data.reference"),
    ("  - {id: b, metric: representation_min_share, feature: sex, min: 0.1}\n",
     frozenset({"contract", "fairness", "explanations"}), "rules[2].metric"),
])
def test_an_engine_refuses_from_its_declaration(write_policy, extra, capabilities, key):
    text = MINIMAL_POLICY + extra
    if "psi" in extra:
        text = text.replace("  positive_label: good\n", "  positive_label: good\n  reference: data/train.csv\n")
    policy = load_policy(write_policy(text))
    with pytest.raises(PolicyError, match=rf"key '{key.replace('[', '.').replace(']', '.')}'.*not computed by the toy engine"):
        check_support(Capabilities(evidence=capabilities), "toy", policy)


def test_an_engine_refuses_comparing_a_metric_it_cannot(write_policy):
    text = MINIMAL_POLICY.replace("fairness:\n", "champion:\n  path: models/credit_model.skops\nfairness:\n  metrics: [tpr, auc]\n")
    policy = load_policy(write_policy(text))
    capabilities = Capabilities(evidence=frozenset({"contract", "fairness", "comparison", "explanations"}),
                                comparison_metrics=frozenset({"tpr"}))
    with pytest.raises(PolicyError, match=r"key 'fairness.metrics.1.'.*comparing 'auc' with the champion"):
        check_support(capabilities, "toy", policy)
