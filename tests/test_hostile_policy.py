"""Hostile policy files (issue 13, "fail closed"): none of them may talk the gate into passing.

Every case runs ``audit check`` and must end with exit code 2, one ``Error:`` line naming the
policy file and the key (or line) at fault, no traceback, no output files -- and quickly: an
alias bomb or a FIFO must not turn into minutes of work or a hang.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.errors import PolicyError
from auditkit.policy import load_policy
from policies import MINIMAL_POLICY

#: Seconds any one hostile case may take (the alias bomb took 100 s and 4.5 GB before the fix).
FAST = 5.0


@contextlib.contextmanager
def deadline(seconds: float):
    """Fail instead of hanging forever (a FIFO blocks ``open`` until a writer comes)."""

    def _expired(signum, frame):
        raise AssertionError(f"took longer than {seconds} s (hung?)")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds * 4)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_check(policy, out):
    with deadline(FAST):
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(out), "--no-explain"],
                                    catch_exceptions=False)
        elapsed = time.monotonic() - started
    assert elapsed < FAST, f"took {elapsed:.1f} s"
    return result


def assert_refused(result, out, *needles):
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    err = result.stderr.strip()
    assert err.startswith("Error: ") and len(err.splitlines()) == 1, err
    assert len(err) < 700, f"{len(err)} characters"
    assert "Traceback" not in result.output and "internal error" not in err, err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert not out.exists() or not any(out.iterdir()), "no partial outputs"
    return err


def edit(old: str, new: str, text: str = MINIMAL_POLICY) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


LAUGHS = (  # 439 bytes; 9**7 = 4.8 million strings once the aliases are expanded
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)
BOMB_AS_FEATURES = edit("sensitive_features: [sex, age_group]",
                        "sensitive_features: &s [*g, *g, *g, *g, *g, *g, *g, *g, *g]",
                        "x-bomb:\n" + "".join("  " + line + "\n" for line in LAUGHS.splitlines()) + MINIMAL_POLICY)
# Below the alias budget, but a list where text belongs: the message must summarise it, not print it.
WIDE = "[" + ",".join(["x"] * 300) + "]"
BIG_BUT_ALLOWED = edit("name: minimal", f"name: [&w {WIDE}, &v [{', '.join(['*w'] * 100)}], {', '.join(['*v'] * 2)}]")
DEEP = "rules: " + "[" * 5000 + "]" * 5000 + "\n"
BIG_INT = "9" * 5000
WAIVER = "    min: 0.5\n    waiver: {reason: ok, approved_by: cro, expires: %s}\n"

CASES = {
    # 1. duplicate keys, at every level, also when two spellings are the same key
    "duplicate rules section": (
        MINIMAL_POLICY + "rules:\n  - {id: lenient, metric: accuracy, min: 0.0}\n",
        ["'rules' appears twice", "lines 15 and 22", "keep one"]),
    "duplicate threshold in a rule": (
        edit("    min: 0.5\n", "    min: 0.5\n    min: 0.0\n"), ["'rules[1].min' appears twice", "lines 21 and 22"]),
    "duplicate nested fairness key": (
        edit("  bootstrap: 200\n", "  bootstrap: 200\n  bootstrap: 0\n"), ["'fairness.bootstrap' appears twice"]),
    "duplicate key quoted and plain": (
        edit("    min: 0.5\n", '    min: 0.5\n    "min": 0.0\n'), ["'rules[1].min' appears twice"]),
    "duplicate key by YAML typing": (
        edit("  bootstrap: 200\n", "  bootstrap: 200\n  true: 1\n  yes: 2\n"),
        ["'fairness.yes' appears twice", "'true' and 'yes'", "same key"]),
    "duplicate in a flow mapping": (
        edit("sensitive_features: [sex, age_group]", "sensitive_features: [sex, age_group]\nexplain: {enabled: true, enabled: false}"),
        ["appears twice"]),
    "merge key": (
        edit("  - id: accuracy-floor\n", "  - <<: {min: 0.0}\n    id: accuracy-floor\n"),
        ["'rules[1]'", "merge keys are not supported"]),
    # 2. aliases and nesting
    "alias bomb": (BOMB_AS_FEATURES, ["more than 100,000 values", "aliases"]),
    "alias bomb at top level": (LAUGHS + MINIMAL_POLICY, ["more than 100,000 values"]),
    "large alias in a text key": (BIG_BUT_ALLOWED, ["'name'", "must be text, not a list"]),
    "recursive alias": (edit("sensitive_features: [sex, age_group]", "sensitive_features: &r [sex, *r]"),
                        ["'sensitive_features[1]'", "recursive"]),
    "deep nesting": (DEEP + MINIMAL_POLICY.split("rules:")[0], ["nested more than 64 levels", "line 1"]),
    # 3. numbers
    "5000-digit integer": (edit("bootstrap: 200", f"bootstrap: {BIG_INT}"), ["'fairness.bootstrap'", "line", "too long"]),
    "1000-digit integer bootstrap": (edit("bootstrap: 200", f"bootstrap: {'9' * 1000}"),
                                     ["'fairness.bootstrap'", "between 50 and 100,000", "digits"]),
    "bootstrap 10**30": (edit("bootstrap: 200", f"bootstrap: {10**30}"), ["'fairness.bootstrap'", "between 50 and 100,000"]),
    "min_group_size huge": (edit("bootstrap: 200", "bootstrap: 200\n  min_group_size: 1000000000000"),
                            ["'fairness.min_group_size'", "from 1 to 1,000,000,000"]),
    "max_rows huge": (edit("max_rows: 200", "max_rows: 100000000000"), ["'explain.max_rows'", "from 10 to 1,000,000"]),
    "threshold infinite": (edit("models/credit_model.skops", "models/credit_model.skops\n  threshold: 1.0e+999"),
                           ["'model.threshold'", "finite"]),
    "rule bound beyond float range": (edit("min: 0.5", f"min: {'9' * 400}"), ["'rules[1].min'", "finite"]),
    "rule bound NaN": (edit("min: 0.5", "min: .nan"), ["'rules[1].min'", "finite"]),
    "bool as a number": (edit("bootstrap: 200", "bootstrap: true"), ["'fairness.bootstrap'", "whole number"]),
    "impossible date": (edit("    min: 0.5\n", WAIVER % "2024-13-45"), ["'rules[1].waiver.expires'", "line", "2024-13-45"]),
    "date and time as waiver expiry": (edit("    min: 0.5\n", WAIVER % "2030-01-01 10:00:00"),
                                       ["'rules[1].waiver.expires'", "date and time"]),
    "number as waiver expiry": (edit("    min: 0.5\n", WAIVER % "32"), ["'rules[1].waiver.expires'", "YYYY-MM-DD"]),
    # tags and characters YAML or auditkit does not take
    "python tag": (edit("name: minimal", "name: !!python/object/apply:os.system [echo hacked]"), ["'name'", "tag"]),
    "binary tag": (edit("name: minimal", "name: !!binary aGVsbG8="), ["'name'", "tag '!!binary'"]),
    "escape character": (edit("name: minimal", "name: a\x1b[32mPASS"), ["malformed YAML", "line 2"]),
    # 5. names that collide with intersection names
    "sensitive feature with ampersand": (edit("[sex, age_group]", "['sex & age_group', sex]"),
                                         ["'sensitive_features[0]'", "rename the column"]),
    # 6. mistyped values
    "rule is a list": (edit("rules:\n", "rules:\n  - [1]\n"), ["'rules[0]'", "mapping"]),
    "reference group is a list": (edit("bootstrap: 200", "bootstrap: 200\n  reference_groups: {sex: [a]}"),
                                  ["'fairness.reference_groups.sex'", "single group value"]),
    "number as a key": (edit("bootstrap: 200", "bootstrap: 200\n  1: 2"), ["'fairness'", "must be text"]),
    "mapping in extends": (edit("version: 1", "version: 1\nextends: [{}]"), ["'extends[0]'", "must be text"]),
    "packs as a list": (edit("version: 1", "version: 1\nextends: [four-fifths]\npacks: []"), ["'packs'", "mapping"]),
    "list as a key": (edit("version: 1", "version: 1\n? [a, b]\n: 1"), ["line 2", "key must be a single value"]),
    "path with a NUL byte": (edit("contract: schemas/german_credit.yaml", 'contract: "schemas/\\0.yaml"'),
                             ["'data.contract'", "path"]),
    "path name too long": (edit("contract: schemas/german_credit.yaml", f"contract: schemas/{'x' * 5000}.yaml"),
                           ["'data.contract'", "path"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_policy(case, write_policy, tmp_path):
    text, needles = CASES[case]
    policy = write_policy(text)
    assert_refused(run_check(policy, tmp_path / "out"), tmp_path / "out", str(policy), *needles)


def test_alias_bomb_costs_nothing(write_policy):
    policy = write_policy(BOMB_AS_FEATURES)
    started = time.monotonic()
    with pytest.raises(PolicyError) as caught:
        load_policy(policy)
    assert time.monotonic() - started < 1.0
    assert len(caught.value.message) < 700


# ------------------------------------------------------------------ the policy path itself

def test_policy_is_a_fifo(tmp_path):
    fifo = tmp_path / "audit.yaml"
    os.mkfifo(fifo)
    assert_refused(run_check(fifo, tmp_path / "out"), tmp_path / "out", str(fifo), "FIFO")


def test_policy_is_a_symlink_to_dev_zero(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    link = tmp_path / "audit.yaml"
    link.symlink_to("/dev/zero")
    assert_refused(run_check(link, tmp_path / "out"), tmp_path / "out", str(link), "device")


def test_policy_over_the_size_cap(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY + "# " + "x" * (1 << 20) + "\n")
    assert_refused(run_check(policy, tmp_path / "out"), tmp_path / "out", str(policy), "limit")


# ------------------------------------------------------------------ intersections vs. data columns

def test_data_column_named_like_an_intersection(demo_copy, write_policy, tmp_path):
    frame = pd.read_csv(demo_copy / "data" / "credit.csv")
    frame["sex & age_group"] = "x"  # would silently replace the intersection's groups
    frame.to_csv(demo_copy / "data" / "credit.csv", index=False)
    policy = write_policy(edit("sensitive_features: [sex, age_group]",
                               "sensitive_features: [sex, age_group]\nintersections: [[sex, age_group]]"))
    assert_refused(run_check(policy, tmp_path / "out"), tmp_path / "out", str(policy), "'intersections[0]'",
                   "'sex & age_group'", "rename the column")


def test_intersections_still_work(write_policy):
    policy = load_policy(write_policy(edit("sensitive_features: [sex, age_group]",
                                           "sensitive_features: [sex, age_group]\nintersections: [[sex, age_group]]")))
    assert policy.group_features == ("sex", "age_group", "sex & age_group")


# ------------------------------------------------------------------ what stays allowed

def test_plain_anchors_and_aliases_still_load(write_policy):
    text = edit("sensitive_features: [sex, age_group]", "sensitive_features: &groups [sex, age_group]\n"
                "intersections: [*groups]")
    policy = load_policy(write_policy(text))
    assert policy.intersections == (("sex", "age_group"),)


def test_bounds_at_their_limits_load(write_policy):
    text = edit("bootstrap: 200", "bootstrap: 100000\n  min_group_size: 1000000000")
    policy = load_policy(write_policy(text))
    assert policy.fairness.bootstrap == 100_000 and policy.fairness.min_group_size == 10**9


# ------------------------------------------------------------------ the loader itself (also for packs, contracts)

LOADER_CASES = {
    "a: 1\nb: 2\na: 3\n": "key 'a' appears twice (lines 1 and 3)",
    "x:\n  1: a\n  0x1: b\n": "key 'x.0x1' appears twice",
    "{~: a, null: b}": "appears twice",
    "a: &a {k: 1}\nb:\n  <<: *a\n": "merge keys are not supported",
    LAUGHS: "more than 100,000 values",
    "[" * 100_000 + "]" * 100_000: "nested more than 64 levels",
    "a: &a [1, *a]\n": "recursive",
    "a: " + BIG_INT + "\n": "too long",
    "a: 2024-02-30\n": "line 1",
    "a: !!set {x}\n": "tag '!!set'",
    "a: &x 1\nb: &x 2\n": "anchor &x is defined twice (lines 1 and 2)",
    "a: 1\n---\nb: 2\n": "malformed YAML at line 2",
    "? [a]\n: 1\n": "key must be a single value",
}


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_load_yaml_refuses(libyaml, monkeypatch):
    import sys

    from auditkit import yaml_loader

    if not libyaml:
        monkeypatch.setitem(sys.modules, "yaml._yaml", None)  # import fails: the pure-Python parser is used
    yaml_loader._make_loader.cache_clear()
    try:
        assert yaml_loader.load_yaml("a: [1, &b {c: d}]\ne: *b\n", "f.yaml", PolicyError) == \
            {"a": [1, {"c": "d"}], "e": {"c": "d"}}
        for text, needle in LOADER_CASES.items():
            with deadline(FAST), pytest.raises(PolicyError) as caught:
                yaml_loader.load_yaml(text, "f.yaml", PolicyError)
            message = caught.value.message
            assert message.startswith("f.yaml: ") and needle in message and len(message) < 700, message
    finally:
        yaml_loader._make_loader.cache_clear()


def test_pack_files_go_through_the_strict_loader(tmp_path):
    from auditkit.errors import AuditkitError
    from auditkit.packs._definition import _read_pack

    pack = tmp_path / "dup.yaml"
    pack.write_text("name: dup\nrules: []\nrules: [{id: x}]\n", encoding="utf-8")
    with pytest.raises(AuditkitError, match=r"key 'rules' appears twice \(lines 2 and 3\)"):
        _read_pack(pack, "auditkit/packs/dup.yaml")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with deadline(FAST), pytest.raises(AuditkitError, match="FIFO"):
        _read_pack(fifo, "auditkit/packs/fifo.yaml")
