"""Fuzzing: the policy loader and the fairness engine never raise anything but auditkit's errors."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.errors import AuditkitError, PolicyError
from auditkit.fairness import assess_fairness
from auditkit.policy import policy_from_dict
from policies import MINIMAL_POLICY

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12))
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
        assert "\n" not in exc.message and exc.message
    # anything else propagates and fails the test


@settings(max_examples=100, deadline=None)
@given(document=values)
def test_policy_loader_arbitrary_documents(document):
    try:
        policy_from_dict(document)
    except PolicyError:
        pass


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
