"""The metric registry: every metric defined once, and everything that reads it agrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.metrics import (
    AGGREGATES,
    DEFAULT_FAIRNESS_METRICS,
    FAMILIES,
    GROUP_METRICS,
    change_bounds,
    change_sentence,
    define,
    get_metric,
    metric_names,
    metrics,
    rule_sentence,
)
from auditkit.packs import plugins

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def packs_registered():
    plugins()  # the packs' metrics join the registry when the packs are discovered


def test_docs_metric_table_is_generated_from_the_registry():
    from auditkit.metrics._reference import metrics_markdown

    assert (ROOT / "docs" / "metrics.md").read_text() == metrics_markdown(), \
        "docs/metrics.md is stale: python -m auditkit.metrics > docs/metrics.md"


def test_every_metric_is_complete():
    for m in metrics():
        assert m.family in FAMILIES and m.direction in (-1, 0, 1), m.name
        assert m.summary.strip() and m.summary == define(m.name), m.name
        assert (m.observe is None) != (m.judge is None), m.name
        for feature in ((None, "sex") if not m.feature_required else ("sex",)):
            text = m.sentence(feature, "at least 0.8")
            assert text.endswith(".") and "0.8" in text, (m.name, text)


def test_disparities_are_every_group_metric_and_aggregate_both_ways():
    bases = [b for b in GROUP_METRICS if b != "count"] + list(AGGREGATES)
    expected = {f"{b}_{kind}" for b in bases for kind in ("difference", "ratio")}
    assert set(metric_names(family="disparity")) == expected
    for name in expected:
        m = get_metric(name)
        assert m.feature_required and m.comparable
        assert m.direction == (1 if name.endswith("_ratio") else -1)


def test_the_fairness_kernel_computes_exactly_the_registry_metrics():
    import auditkit.fairness as fairness

    assert tuple(fairness.COUNT_METRICS) + tuple(fairness.SCORE_METRICS) + tuple(fairness.REGRESSION_METRICS) == GROUP_METRICS
    assert tuple(fairness.AGGREGATE_METRICS) == tuple(AGGREGATES)
    assert tuple(fairness.DEFAULT_METRICS) == DEFAULT_FAIRNESS_METRICS


def test_sentences_read_as_before():
    assert rule_sentence("demographic_parity_ratio", "sex", {"min": 0.8}) == \
        "Across the groups of 'sex', the ratio (smallest over largest) of demographic parity must be at least 0.8."
    assert rule_sentence("tpr", "age_group", {"min": 0.6, "max": 0.95}) == \
        "For every group of 'age_group', the tpr must be at least 0.6 and at most 0.95."
    assert rule_sentence("accuracy", None, {"min": 0.7}) == "Over all rows, the accuracy must be at least 0.7."
    assert rule_sentence("psi", None, {"max": 0.25}) == \
        "The population stability index of every feature (the largest counts) against the reference data must be at most 0.25."
    assert rule_sentence("contract_violations", "age", {"max": 0}) == \
        "The number of data contract violations in column 'age' must be at most 0."
    assert change_sentence("tpr", "age_group", {"max_regression": 0.05}) == \
        "Compared with the champion, the tpr for every group of 'age_group' must not fall (get worse) by more than 0.05."


@pytest.mark.parametrize(("metric", "limits", "bounds"), [
    ("tpr", {"max_regression": 0.05}, (-0.05, None)),           # higher is better: a fall is worse
    ("fpr", {"max_regression": 0.05}, (None, 0.05)),            # lower is better: a rise is worse
    ("selection_rate", {"max_increase": 0.1, "max_decrease": 0.2}, (-0.2, 0.1)),
    ("equalized_odds_difference", {"max_increase": 0.05, "max_regression": 0.02}, (None, 0.02)),
])
def test_change_bounds_follow_the_direction(metric, limits, bounds):
    assert change_bounds(metric, limits) == bounds


def test_pack_metrics_are_registered_by_their_packs():
    for name in ("impact_ratio", "ll144_impact_ratio"):
        m = get_metric(name)
        assert m is not None and m.family == "pack" and m.pack in plugins()


def test_a_clashing_definition_is_refused():
    from dataclasses import replace

    from auditkit.metrics import register_metric

    with pytest.raises(ValueError, match="already defined"):
        register_metric(replace(get_metric("tpr"), direction=-1))
