"""The policy's documentation: block -- bounded, validated, echoed verbatim into results.json."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.errors import PolicyError
from auditkit.policy import load_policy
from policies import MINIMAL_POLICY

DOCUMENTED = MINIMAL_POLICY + """\
documentation:
  intended_purpose: Scoring consumer-credit applications for a human underwriter.
  human_oversight:
    - An underwriter reviews every declined application.
    - Scores are advisory.
"""


def test_documentation_is_echoed_into_the_results(write_policy, tmp_path):
    policy = write_policy(DOCUMENTED)
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / "out"), "--no-explain", "-q"])
    assert result.exit_code in (0, 1), result.output
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["documentation"] == {
        "intended_purpose": "Scoring consumer-credit applications for a human underwriter.",
        "human_oversight": ["An underwriter reviews every declined application.", "Scores are advisory."],
    }


def test_without_documentation_the_key_is_null(write_policy):
    assert load_policy(write_policy(MINIMAL_POLICY)).documentation is None


@pytest.mark.parametrize("block, says", [
    ("documentation: [a, b]", "must be a mapping"),
    ("documentation:\n  '<script>': x", "must be a name"),
    ("documentation:\n  purpose: {a: 1}", "must be text"),
    ("documentation:\n  purpose: ''", "must not be empty"),
    ("documentation:\n  purpose: " + "x" * 20_001, "at most 20,000"),
])
def test_bad_documentation_is_named(write_policy, block, says):
    with pytest.raises(PolicyError, match=says):
        load_policy(write_policy(MINIMAL_POLICY + block + "\n"))
