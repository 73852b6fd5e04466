"""Adverse impact (four-fifths pack) against hand-computed tables and independent formulas."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest

from auditkit.adverse_impact import (
    assess_adverse_impact,
    fisher_p_value,
    judge_group,
    ratio_interval,
    z_test,
)


def _frame(cells):
    """cells: [(group, n, selected)] -> (y_pred, sensitive frame)."""
    groups, y = [], []
    for group, n, selected in cells:
        groups += [group] * n
        y += [1] * selected + [0] * (n - selected)
    return np.array(y), pd.DataFrame({"g": groups})


def _fisher_by_hand(a, n1, b, n2):
    """Two-sided Fisher p: sum of hypergeometric tables no more likely than the observed one."""
    k, n = a + b, n1 + n2

    def prob(x):
        return math.comb(n1, x) * math.comb(n2, k - x) / math.comb(n, k)

    observed = prob(a)
    lo, hi = max(0, k - n2), min(k, n1)
    return sum(prob(x) for x in range(lo, hi + 1) if prob(x) <= observed * (1 + 1e-7))


def test_hand_computed_table():
    # A: 60 of 100 selected (rate 0.6, the highest); B: 40 of 100 (rate 0.4).
    y, sens = _frame([("A", 100, 60), ("B", 100, 40)])
    result = assess_adverse_impact(y, sens, min_group_size=30, confidence=0.95)
    f = result.feature("g")
    assert f.reference_group == "A" and f.reference_rate == pytest.approx(0.6)
    b = next(g for g in f.groups if g.group == "B")
    assert (b.n, b.selected) == (100, 40)
    assert b.impact_ratio == pytest.approx(0.4 / 0.6)
    # z by hand: pooled 0.5, se = sqrt(0.25 * (1/100 + 1/100)) = 0.0707107; z = -0.2 / se
    assert b.z == pytest.approx(-2.8284271, abs=1e-6)
    assert b.z_p == pytest.approx(0.0046777, abs=1e-6)
    assert b.fisher_p == pytest.approx(_fisher_by_hand(40, 100, 60, 100), rel=1e-6)
    # Katz: se = sqrt(1/40 - 1/100 + 1/60 - 1/100) = 0.147196; ratio * exp(+-1.959964 * se)
    se = math.sqrt(1 / 40 - 1 / 100 + 1 / 60 - 1 / 100)
    assert b.ci[0] == pytest.approx((2 / 3) * math.exp(-1.959964 * se), rel=1e-5)
    assert b.ci[1] == pytest.approx((2 / 3) * math.exp(1.959964 * se), rel=1e-5)
    a = next(g for g in f.groups if g.group == "A")
    assert a.is_reference and a.impact_ratio == 1.0 and a.ci is None


def test_z_test_matches_the_textbook_formula():
    # pooled rate 75/200 = 0.375; se = sqrt(0.375 * 0.625 * (1/100 + 1/100)); p = erfc(|z| / sqrt 2)
    z, p = z_test(30, 100, 45, 100)
    expected = (0.30 - 0.45) / math.sqrt(0.375 * 0.625 * 0.02)
    assert z == pytest.approx(expected)
    assert p == pytest.approx(math.erfc(abs(expected) / math.sqrt(2)))
    assert z_test(5, 5, 7, 7) == (0.0, 1.0)  # no variance: nothing to test


def test_statistics_match_fisher_by_hand():
    for a, n1, b, n2 in [(3, 20, 12, 20), (0, 8, 5, 9), (7, 7, 2, 9), (11, 40, 19, 41)]:
        assert fisher_p_value(a, n1, b, n2) == pytest.approx(_fisher_by_hand(a, n1, b, n2), rel=1e-6)


def test_interval_with_a_zero_cell_uses_half_corrections():
    lo, hi = ratio_interval(0, 40, 20, 40)
    se = math.sqrt(1 / 0.5 - 1 / 41 + 1 / 20.5 - 1 / 41)
    ratio = (0.5 / 41) / (20.5 / 41)
    assert lo == pytest.approx(ratio * math.exp(-1.959964 * se), rel=1e-5)
    assert hi == pytest.approx(ratio * math.exp(1.959964 * se), rel=1e-5)


def _judge(cells, *, test, statistical_test="z", min_group_size=5):
    y, sens = _frame(cells)
    f = assess_adverse_impact(y, sens, min_group_size=min_group_size).feature("g")
    g = next(g for g in f.groups if not g.is_reference)
    return judge_group(g, minimum=0.8, test=test, statistical_test=statistical_test, alpha=0.05,
                       reference_rate=f.reference_rate)


def test_significant_although_above_four_fifths():
    # 5000/10000 = 0.50 against 4200/10000 = 0.42: ratio 0.84 passes 0.8, but
    # z = -0.08 / sqrt(0.46 * 0.54 * 2/10000) = -11.35 is far beyond 2 standard deviations.
    cells = [("A", 10000, 5000), ("B", 10000, 4200)]
    both = _judge(cells, test="both")
    assert both.impact_ratio == pytest.approx(0.84)
    assert (both.practical, both.statistical, both.verdict, both.driver) == ("pass", "fail", "fail", "statistical")
    assert _judge(cells, test="practical").verdict == "pass"
    assert _judge(cells, test="statistical").verdict == "fail"


def test_below_four_fifths_but_not_significant():
    # 6/10 against 4/10: ratio 0.667 fails 0.8; z = -0.2 / sqrt(0.25 * 0.2) = -0.894, p = 0.371.
    cells = [("A", 10, 6), ("B", 10, 4)]
    both = _judge(cells, test="both")
    assert both.p_value == pytest.approx(0.3710934, abs=1e-6)
    assert (both.practical, both.statistical, both.verdict, both.driver) == ("fail", "pass", "fail", "practical")
    assert _judge(cells, test="statistical").verdict == "pass"
    assert _judge(cells, test="practical").verdict == "fail"


def test_small_group_is_not_the_reference_and_not_judged():
    y, sens = _frame([("A", 100, 50), ("B", 100, 30), ("tiny", 4, 4)])
    f = assess_adverse_impact(y, sens, min_group_size=30).feature("g")
    assert f.reference_group == "A"
    tiny = next(g for g in f.groups if g.group == "tiny")
    assert tiny.status == "insufficient_data" and tiny.impact_ratio == pytest.approx(2.0)


def test_no_selection_at_all_is_reported_not_raised():
    y, sens = _frame([("A", 50, 0), ("B", 50, 0)])
    f = assess_adverse_impact(y, sens).feature("g")
    assert f.reference_group == "A" and "no group" in f.reason
    assert all(g.impact_ratio is None for g in f.groups)


def _policy(tmp_path, rules_yaml: str, cells, extra: str = ""):
    rows = []
    for group, n, selected in cells:
        rows += [(group, "yes" if i < selected else "no") for i in range(n)]
    frame = pd.DataFrame(rows, columns=["g", "decision"])
    frame["outcome"] = frame["decision"]
    frame.to_csv(tmp_path / "d.csv", index=False)
    text = textwrap.dedent(f"""\
        version: 1
        extends: [four-fifths]
        data: {{path: d.csv, target: outcome, positive_label: "yes"}}
        model: {{predictions: {{label: decision}}}}
        sensitive_features: [g]
        fairness: {{bootstrap: 0, min_group_size: 5}}
        """) + extra + rules_yaml
    path = tmp_path / "audit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rule_verdict_names_the_test_that_drove_it(tmp_path):
    from auditkit import run_audit

    cells = [("A", 10000, 5000), ("B", 10000, 4200)]
    result = run_audit(_policy(tmp_path, "rules:\n  - {id: 'four-fifths:g', statistical_test: z}\n", cells))
    rule = result.to_dict()["rules"][0]
    assert rule["status"] == "fail" and rule["gating"]
    assert "Verdict driven by the statistical test (the two-proportion z-test)" in rule["message"]
    assert rule["details"][0]["driver"] == "statistical"
    assert rule["statistical_test"] == "z" and rule["test"] == "both"
    assert result.exit_code == 1

    # the same data judged on the practical test only: passes, and says the other test flags it
    result = run_audit(_policy(tmp_path, "rules:\n  - {id: four-fifths, test: practical}\n", cells))
    rule = result.to_dict()["rules"][0]
    assert rule["status"] == "pass"
    assert rule["observed"] == pytest.approx(0.84)


def test_rule_small_numbers_below_four_fifths(tmp_path):
    from auditkit import run_audit

    result = run_audit(_policy(tmp_path, "", [("A", 10, 6), ("B", 10, 4)]))
    rule = result.to_dict()["rules"][0]
    assert rule["id"] == "four-fifths:g" and rule["status"] == "fail"
    assert "practical test" in rule["message"] and "not statistically significant" in rule["message"]
    assert rule["details"][0]["p_value"] == pytest.approx(_fisher_by_hand(4, 10, 6, 10), rel=1e-6)
