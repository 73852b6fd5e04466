"""Golden results.json files: a refactor changes no value a user sees (issue 14).

``tests/goldens/audits.py`` builds each audit from data in the repository and runs it through
the CLI. Every value of the saved document must be unchanged (clocks, the machine and the
digests of freshly written model archives aside, see ``VOLATILE``); new keys may appear.
These files guard against unintended change only; correctness is shown by the reference
tests against fairlearn, shap and pandera.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "goldens"))
import audits  # noqa: E402

sys.path.pop(0)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("goldens")


@pytest.mark.parametrize("name", sorted(audits.AUDITS))
def test_results_json_unchanged(name, work):
    golden = json.loads((audits.GOLDENS / f"{name}.json").read_text())
    actual = audits.normalized(audits.AUDITS[name](work))
    found = audits.differences(golden, actual)
    assert not found, f"{name}: {len(found)} value(s) changed:\n" + "\n".join(found[:40])


def test_differences_sees_a_changed_value_and_a_missing_key():
    golden = {"a": [1.0, {"b": "x"}], "c": 2}
    assert audits.differences(golden, {"a": [1.0, {"b": "x"}], "c": 2, "new": 1}) == []
    assert audits.differences(golden, {"a": [1.0 + 1e-9, {"b": "y"}]}) == [
        "$.a[0]: 1.0 -> 1.000000001", "$.a[1].b: 'x' -> 'y'", "$.c: missing"]
