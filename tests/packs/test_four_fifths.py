"""Adverse impact (four-fifths pack) against hand-computed tables and independent formulas."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.packs.four_fifths.impact import (
    assess_adverse_impact,
    fisher_p_value,
    holm_adjust,
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


CHI2_95 = 3.841458820694124  # scipy.stats.chi2.ppf(0.95, 1) = 1.959964 ** 2


def _koopman_chi2(theta, x1, n1, x2, n2):
    """Koopman's (1984) chi-square statistic of H0: p1 / p2 = theta, written as in his paper,
    with the restricted maximum-likelihood p2 found by maximising the likelihood numerically
    (no closed form shared with the code under test)."""
    from scipy.optimize import minimize_scalar

    def minus_loglik(p2):
        p1 = theta * p2
        terms = [(x1, p1), (n1 - x1, 1 - p1), (x2, p2), (n2 - x2, 1 - p2)]
        return -sum(k * math.log(p) for k, p in terms if k)

    top = min(1.0, 1.0 / theta) if theta > 0 else 1.0
    p2 = minimize_scalar(minus_loglik, bounds=(1e-12, top - 1e-12), method="bounded",
                         options={"xatol": 1e-14}).x
    p1 = theta * p2
    return (x1 - n1 * p1) ** 2 / (n1 * p1 * (1 - p1)) * (1 + n1 * (theta - p1) / (n2 * (1 - p1)))


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
    # Koopman's score interval; statsmodels 0.15 confint_proportions_2indep(40, 100, 60, 100,
    # method="score", compare="ratio", correction=False) gives (0.4958124238, 0.8842838154)
    assert b.ci == pytest.approx((0.4958124238, 0.8842838154), rel=1e-8)
    # and at both bounds Koopman's own chi-square statistic equals chi2(1, 0.95) = 3.841459
    for bound in b.ci:
        assert _koopman_chi2(bound, 40, 100, 60, 100) == pytest.approx(CHI2_95, rel=1e-5)
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


def test_interval_of_a_group_without_selections_starts_at_zero():
    # ratio 0/40 over 20/40 = 0; the interval contains it: [0, upper]. statsmodels (Nam's closed
    # form) gives (1.7e-14, 0.176716783); Koopman's statistic is chi2(1, 0.95) at the upper bound.
    lo, hi = ratio_interval(0, 40, 20, 40)
    assert lo == 0.0
    assert hi == pytest.approx(0.17671678328, rel=1e-8)
    assert _koopman_chi2(hi, 0, 40, 20, 40) == pytest.approx(CHI2_95, rel=1e-5)
    # the same through the assessment: the reported ratio 0 lies inside its reported interval
    y, sens = _frame([("A", 40, 20), ("B", 40, 0)])
    b = next(g for g in assess_adverse_impact(y, sens).feature("g").groups if g.group == "B")
    assert b.impact_ratio == 0.0 and b.ci[0] == 0.0 <= b.impact_ratio <= b.ci[1]


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


# ---------------------------------------------------------------- the interval, independently


@pytest.mark.parametrize("a, n1, b, n2", [
    (3, 20, 12, 20), (11, 40, 19, 41), (1, 1000, 1, 1), (5, 5, 5, 5), (3, 3, 1, 7), (0, 1, 1, 1),
    (24, 61, 830, 1496), (550, 1385, 830, 1496), (0, 30, 1, 30), (29, 30, 30, 30), (7, 9, 2, 11),
])
def test_interval_bounds_are_where_koopmans_statistic_reaches_chi2(a, n1, b, n2):
    """Checked with Koopman's own chi-square form, also where statsmodels' closed form breaks
    (a group or the reference selected in full: statsmodels 0.15 returns the estimate itself,
    or more, as the lower bound for (5, 5, 5, 5) and (1, 1000, 1, 1))."""
    lo, hi = ratio_interval(a, n1, b, n2)
    ratio = (a / n1) / (b / n2)
    assert 0.0 <= lo <= ratio <= hi < math.inf
    if a == 0:
        assert lo == 0.0
    else:
        assert _koopman_chi2(lo, a, n1, b, n2) == pytest.approx(CHI2_95, rel=1e-4)
        # just inside the bound the ratio is not rejected; just outside it is
        assert _koopman_chi2(lo * 1.001, a, n1, b, n2) < CHI2_95 < _koopman_chi2(lo * 0.999, a, n1, b, n2)
    if a < n1:  # at a = n1 the restricted p1 reaches 1 at the upper bound, where the form is 0/0
        assert _koopman_chi2(hi, a, n1, b, n2) == pytest.approx(CHI2_95, rel=1e-4)


def test_interval_matches_statsmodels_where_its_closed_form_holds():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    rng = np.random.default_rng(3)
    for _ in range(120):
        n1, n2 = (int(x) for x in rng.integers(2, 400, 2))
        a, b = int(rng.integers(0, n1)), int(rng.integers(1, n2))  # a < n1, 0 < b < n2
        for confidence in (0.9, 0.95, 0.99):
            expected = proportion.confint_proportions_2indep(a, n1, b, n2, method="score", compare="ratio",
                                                             correction=False, alpha=1 - confidence)
            lo, hi = ratio_interval(a, n1, b, n2, confidence)
            assert hi == pytest.approx(float(np.real(expected[1])), rel=1e-7)
            assert lo == pytest.approx(float(np.real(expected[0])), rel=1e-7, abs=1e-9)


@given(st.integers(1, 2000), st.integers(1, 2000), st.data(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
@settings(max_examples=300, deadline=None)
def test_interval_always_contains_the_estimate(n1, n2, data, confidence):
    a = data.draw(st.integers(0, n1))
    b = data.draw(st.integers(0, n2))
    ci = ratio_interval(a, n1, b, n2, confidence)
    if b == 0:  # the reference never selected: no ratio
        assert ci is None
        return
    lo, hi = ci
    ratio = (a / n1) / (b / n2)
    assert 0.0 <= lo <= ratio <= hi < math.inf
    assert (lo == 0.0) == (a == 0)
    wider = ratio_interval(a, n1, b, n2, 0.999)
    assert wider[0] <= lo + 1e-12 and hi <= wider[1] * (1 + 1e-12)


# ---------------------------------------------------------------- many groups: Holm


def test_holm_adjustment_by_hand():
    # sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> running max 0.06
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjust([0.9, 0.5]) == pytest.approx([1.0, 1.0])  # capped at 1, monotone
    assert holm_adjust([]) == []


def test_holm_adjustment_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(5)
    for m in (1, 2, 3, 7, 20):
        for _ in range(3):
            p = rng.random(m) ** 3
            assert holm_adjust(p) == pytest.approx(list(multitest.multipletests(p, method="holm")[1]), rel=1e-12)


HOLM_CELLS = [("A", 500, 300), ("B", 500, 262), ("C", 500, 265), ("D", 500, 267)]


def test_holm_adjusted_p_values_in_the_assessment():
    y, sens = _frame(HOLM_CELLS)
    plain = assess_adverse_impact(y, sens).feature("g")
    holm = assess_adverse_impact(y, sens, adjust="holm").feature("g")
    judged = [g for g in plain.groups if not g.is_reference]
    raw = [g.fisher_p for g in judged]
    # Fisher p against A: B 0.0183, C 0.0300, D 0.0411 -> Holm 3 x 0.0183, 2 x 0.0300, max(.., 0.0411)
    assert raw == pytest.approx([0.0183124, 0.0300472, 0.0410668], abs=1e-6)
    assert [g.fisher_p_adjusted for g in holm.groups if not g.is_reference] == pytest.approx(
        [3 * raw[0], 2 * raw[1], 2 * raw[1]])
    assert all(g.fisher_p_adjusted is None for g in plain.groups)
    with pytest.raises(ValueError):
        assess_adverse_impact(y, sens, adjust="bonferroni")


def test_holm_through_the_policy(tmp_path):
    from auditkit import run_audit

    plain = run_audit(_policy(tmp_path, "", HOLM_CELLS)).to_dict()["rules"][0]
    assert plain["status"] == "fail"
    assert {d["group"] for d in plain["details"] if d["statistical"] == "fail"} == {"B", "C", "D"}

    result = run_audit(_policy(tmp_path, "", HOLM_CELLS, extra="packs: {four-fifths: {adjust: holm}}\n")).to_dict()
    rule = result["rules"][0]
    assert rule["status"] == "pass" and result["adverse_impact"]["adjust"] == "holm"
    by_group = {d["group"]: d for d in rule["details"]}
    assert by_group["B"]["p_value"] == pytest.approx(0.0183124, abs=1e-6)
    assert by_group["B"]["p_adjusted"] == pytest.approx(3 * by_group["B"]["p_value"])
    assert all(d["adjust"] == "holm" and d["statistical"] == "pass" for d in rule["details"])
    assert "Holm-adjusted" in rule["message"] and "Holm-adjusted" in rule["decided_on"]


def test_adjust_setting_is_validated(tmp_path):
    from auditkit.errors import PolicyError
    from auditkit.policy import load_policy

    with pytest.raises(PolicyError) as info:
        load_policy(_policy(tmp_path, "", HOLM_CELLS, extra="packs: {four-fifths: {adjust: bonferroni}}\n"))
    assert "packs.four-fifths.adjust" in info.value.message


# ---------------------------------------------------------------- unknown categories


UNKNOWN_CELLS = [("A", 100, 60), ("B", 100, 55), ("Decline to state", 40, 36), (None, 35, 34)]


def test_unknown_categories_are_counted_never_judged_never_the_reference():
    y, sens = _frame(UNKNOWN_CELLS)
    f = assess_adverse_impact(y, sens, unknown_values=["Decline to state"]).feature("g")
    assert f.reference_group == "A"  # not "Decline to state" (0.9) nor the missing group (0.97)
    assert [g.group for g in f.groups] == ["A", "B"]
    assert f.unknown.n == 75 and f.unknown.selected == 70
    assert f.unknown.selection_rate == pytest.approx(70 / 75)
    assert f.unknown.to_dict()["values"] == [
        {"group": "Decline to state", "n": 40, "selected": 36, "selection_rate": 0.9},
        {"group": "(missing)", "n": 35, "selected": 34, "selection_rate": 34 / 35}]
    # without unknown_values the listed value is a group again (and the most selected one);
    # a missing value stays unknown whatever the setting
    g = assess_adverse_impact(y, sens).feature("g")
    assert g.reference_group == "Decline to state" and g.unknown.n == 35


def test_unknown_in_either_part_makes_an_intersection_cell_unknown():
    sens = pd.DataFrame({"sex": ["F", "M", "F", None, "M", "x"] * 10,
                         "race": ["W", "B", None, "W", "Unknown", "W"] * 10})
    y = np.array([1, 0, 1, 1, 0, 1] * 10)
    result = assess_adverse_impact(y, sens, intersections=[("sex", "race")], unknown_values=["Unknown"],
                                   min_group_size=5)
    cross = result.feature("sex & race")
    assert {g.group for g in cross.groups} == {"F & W", "M & B", "x & W"}
    assert cross.unknown.n == 30 and cross.unknown.selected == 20
    assert result.feature("sex").unknown.n == 10 and result.feature("race").unknown.n == 20
    assert result.to_dict()["unknown_values"] == ["Unknown"]


def test_unknown_category_no_longer_flips_the_verdict(tmp_path):
    from auditkit import run_audit

    result = run_audit(_policy(tmp_path, "", UNKNOWN_CELLS))  # the pack's default unknown_values
    out = result.to_dict()
    rule = out["rules"][0]
    assert rule["status"] == "pass" and result.exit_code == 0
    assert [d["group"] for d in rule["details"]] == ["B"]
    feature = out["adverse_impact"]["features"][0]
    assert feature["reference_group"] == "A"
    assert feature["unknown"]["n"] == 75 and feature["unknown"]["selected"] == 70
    assert "Decline to state" in out["adverse_impact"]["unknown_values"]
    assert "75 individual(s) of unknown g (Decline to state: 40, (missing): 35)" in rule["message"]

    # with unknown_values: [] the value is judged again and, as the most selected group, flags A and B
    again = run_audit(_policy(tmp_path, "", UNKNOWN_CELLS, extra="packs: {four-fifths: {unknown_values: []}}\n"))
    rule = again.to_dict()["rules"][0]
    assert rule["status"] == "fail" and {d["group"] for d in rule["details"]} == {"A", "B"}


def test_unknown_categories_in_the_report(tmp_path):
    from auditkit import run_audit
    from auditkit.report import write_outputs

    outputs = write_outputs(run_audit(_policy(tmp_path, "", UNKNOWN_CELLS)).to_dict(), tmp_path / "out")
    html = outputs.report.read_text(encoding="utf-8")
    assert "Individuals of unknown g, not judged and not used as the reference: 75 (70 selected, selection rate 93.3%)" in html
    assert "unknown category: counted, not judged, never the reference" in html
    assert "Koopman score" in html


def test_impact_rule_without_the_pack_uses_its_defaults(tmp_path):
    from auditkit import run_audit

    path = _policy(tmp_path, "rules:\n  - {id: air, metric: impact_ratio, feature: g, min: 0.8}\n", UNKNOWN_CELLS)
    path.write_text(path.read_text().replace("extends: [four-fifths]\n", ""), encoding="utf-8")
    out = run_audit(path).to_dict()
    assert out["rules"][0]["status"] == "pass"
    assert out["adverse_impact"]["features"][0]["unknown"]["n"] == 75


def test_hiring_example_judges_only_known_categories(tmp_path):
    """The shipped example: unknown sex / race never judged; counts agree with the LL144 tables."""
    from pathlib import Path

    from auditkit import run_audit

    policy = Path(__file__).resolve().parents[2] / "examples" / "hiring" / "audit-selection.yaml"
    result = run_audit(policy)
    out = result.to_dict()
    rules = {r["id"]: r for r in out["rules"]}
    assert result.exit_code == 1
    sex, race = rules["four-fifths:sex"], rules["four-fifths:race_ethnicity"]
    assert sex["status"] == "fail" and sex["group"] == "Female"
    assert {d["group"] for d in sex["details"]} == {"Female"}
    assert {d["group"] for d in race["details"] if d["verdict"] == "fail"} == {"Black or African American",
                                                                                "Hispanic or Latino"}
    impact = {f["feature"]: f for f in out["adverse_impact"]["features"]}
    tables = {t["name"]: t for t in out["ll144"]["tables"]}
    assert impact["sex"]["unknown"]["n"] == tables["sex"]["unknown"] == 119
    assert impact["race_ethnicity"]["unknown"]["n"] == tables["race_ethnicity"]["unknown"] == 81
    assert impact["sex & race_ethnicity"]["unknown"]["n"] == tables["intersectional"]["unknown"]
    for f in impact.values():
        assert all(g["group"] != "Decline to state" and "(missing)" not in g["group"] for g in f["groups"])
        # independent recount: group rows + unknown rows = every row
        assert sum(g["n"] for g in f["groups"]) + f["unknown"]["n"] == 3000
