"""Fuzzing: the policy loader and the fairness engine never raise anything but auditkit's errors."""

from __future__ import annotations

import copy
import json
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.errors import AuditkitError, PolicyError
from auditkit.fairness import assess_fairness
from auditkit.policy import load_policy, policy_from_dict
from policies import MINIMAL_POLICY

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.integers(-10**400, 10**400), st.dates(), st.datetimes(),
                    st.sampled_from(["sex", "age_group", "sex & age_group", "four-fifths", "champion", "ci"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)

BASE = yaml.safe_load(MINIMAL_POLICY)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


PATHS = [p for p in _paths(BASE) if p]


def _set(document, path, value):
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=values)
def test_policy_loader_mutations(demo_dir, path, value):
    document = copy.deepcopy(BASE)
    _set(document, path, value)
    try:
        policy_from_dict(document, source=demo_dir / "audit.yaml")
    except PolicyError as exc:
        assert "\n" not in exc.message and exc.message and len(exc.message) < 700
    # anything else propagates and fails the test


@settings(max_examples=100, deadline=None)
@given(document=values)
def test_policy_loader_arbitrary_documents(document):
    try:
        policy_from_dict(document)
    except PolicyError:
        pass


# ------------------------------------------------------------------ policy files as text
#
# The same mutations, made to the YAML text: values replaced by random YAML (scalars in every
# spelling YAML 1.1 knows, flow lists and mappings, anchors, aliases, tags), lines duplicated
# (duplicate keys), deleted or inserted. load_policy must return a Policy or raise PolicyError
# with one short line -- never another exception, never a message built from a huge repr.

TRICKY = [".nan", ".inf", "-.inf", "1e999", "1.0e+999", "0x1", "0o7", "0b11", "1_000", "1:30", "190:20:30.15", "yes",
          "no", "on", "~", "null", "true", "2024-01-01", "2024-13-45", "2030-01-01 10:00:00", "9" * 999, "9" * 1200,
          "-" + "9" * 400, "[]", "{}", "[[1]]", "{a: [b]}", "[{}]", "&a x", "*a", "*undefined", "!!binary aGk=",
          "!!set {a}", "!!omap [a: 1]", "!!python/name:os.system", "!foo x", "''", "' '", "'\\0'", '"\\0"', "0",
          "-1", "1", "0.5", "1.5", "100000", "100001", "1000000000000", "sex", "age_group", "'sex & age_group'",
          "[sex, age_group]", "[[sex, age_group]]", "[[sex, sex]]", "{sex: male}", "{sex: [a]}", "{sex: .nan}",
          "{1: 2}", "{true: x, yes: y}", "{a: 1, a: 2}", "[four-fifths]", "[nyc-ll144]", "{four-fifths: {}}",
          "champion", "ci", "warn", "{reason: r, approved_by: a, expires: 2030-01-01}", "{expires: 32}",
          "models:/x@y", "models:/", "demographic_parity_ratio", "impact_ratio", "[selection_rate]", "{<<: {}}",
          "{id: x}", "[{id: x, metric: accuracy, min: 0.1}]", "spark", "\"\\u2028\"", "[" * 70 + "]" * 70,
          "'" + "x" * 5000 + "'"]
KEYS = ["id", "metric", "feature", "min", "max", "severity", "decide_on", "on_inconclusive", "waiver", "compare",
        "max_regression", "test", "alpha", "extends", "packs", "champion", "intersections", "reference_groups",
        "min_group_size", "confidence", "engine", "reference", "trust", "threshold", "predictions", "enabled",
        "report", "1", "true", "~", "<<", "metrics", "positive_label", "? [a]"]

yaml_values = st.one_of(st.sampled_from(TRICKY),
                        values.map(lambda v: yaml.safe_dump(v, default_flow_style=True, width=10**6).strip()
                                   .removesuffix("...").strip() or "''"))
LINES = MINIMAL_POLICY.splitlines()
edits = st.lists(st.tuples(st.sampled_from(["value", "duplicate", "delete", "insert"]),
                           st.integers(0, len(LINES) - 1), st.sampled_from(KEYS), yaml_values), min_size=1, max_size=4)


def _mutate(lines, ops):
    lines = list(lines)
    for op, at, key, value in ops:
        at %= len(lines) or 1
        if not lines:
            lines.append(f"{key}: {value}")
        elif op == "value" and ":" in lines[at]:
            lines[at] = lines[at].split(":", 1)[0] + ": " + value
        elif op == "duplicate":
            lines.insert(at, lines[at])
        elif op == "delete":
            del lines[at]
        else:
            indent = len(lines[at]) - len(lines[at].lstrip(" -"))
            lines.insert(at + 1, " " * indent + f"{key}: {value}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def policy_folder(demo_dir, tmp_path_factory):
    """A folder whose data/, models/ and schemas/ are the demo's, for policies written as text."""
    folder = tmp_path_factory.mktemp("fuzz-policy")
    for name in ("data", "models", "schemas"):
        (folder / name).symlink_to(demo_dir / name, target_is_directory=True)
    return folder


@settings(max_examples=200, deadline=None)
@given(ops=edits)
def test_policy_text_mutations(policy_folder, ops):
    path = policy_folder / "audit.yaml"
    path.write_text(_mutate(LINES, ops), encoding="utf-8")
    started = time.monotonic()
    try:
        load_policy(path)
    except PolicyError as exc:
        assert exc.message and "\n" not in exc.message and len(exc.message) < 700, exc.message
    # anything else propagates and fails the test
    assert time.monotonic() - started < 5


group_values = st.one_of(st.none(), st.just(float("nan")), st.sampled_from(["a", "b", "c", "<x>", ""]),
                         st.integers(0, 3))


@settings(max_examples=120, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), group_values, group_values,
                            st.one_of(st.floats(0, 1), st.just(float("nan")))), min_size=1, max_size=60),
    min_group_size=st.integers(1, 40),
    bootstrap=st.sampled_from([0, 50]),
    with_scores=st.booleans(),
)
def test_fairness_engine_never_crashes(rows, min_group_size, bootstrap, with_scores):
    y_true = np.array([r[0] for r in rows])
    y_pred = np.array([r[1] for r in rows])
    sensitive = pd.DataFrame({"g1": [r[2] for r in rows], "g2": [r[3] for r in rows]}, dtype=object)
    scores = np.array([r[4] for r in rows]) if with_scores else None
    try:
        result = assess_fairness(y_true, y_pred, sensitive, y_score=scores, intersections=[("g1", "g2")],
                                 min_group_size=min_group_size, bootstrap=bootstrap, seed=1,
                                 task="classification")
    except AuditkitError:
        return
    json.dumps(result.to_dict(), allow_nan=False)
    result.by_group
    result.disparities


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 50),
    scale=st.sampled_from([1e-300, 1.0, 1e300]),
    groups=st.integers(1, 6),
)
def test_fairness_engine_regression_extremes(n, scale, groups):
    rng = np.random.default_rng(n)
    y_true = rng.normal(size=n) * scale
    y_pred = rng.normal(size=n) * scale
    sensitive = pd.DataFrame({"g": rng.integers(0, groups, size=n).astype(str)})
    try:
        result = assess_fairness(y_true, y_pred, sensitive, bootstrap=50, seed=0, task="regression", min_group_size=1)
    except AuditkitError:
        return
    json.dumps(result.to_dict(), allow_nan=False)
