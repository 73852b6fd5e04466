"""Representativeness against a declared population, checked against independent references:
scipy.stats.chisquare, statsmodels' Wilson interval and a computation by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare
from statsmodels.stats.proportion import proportion_confint

from auditkit.data_bias import (assess_data_bias, assess_data_bias_from_counts, assess_representativeness,
                                data_bias_counts, wilson_interval, with_representativeness)
from auditkit.errors import DataError
from auditkit.policy import PopulationSpec


def frame_of(**counts) -> pd.DataFrame:
    """One row per person: counts per feature given as {group: n}, the features independent."""
    columns = {}
    for feature, groups in counts.items():
        columns[feature] = [g for g, n in groups.items() for _ in range(n)]
    size = {len(v) for v in columns.values()}
    assert len(size) == 1
    return pd.DataFrame(columns)


@pytest.mark.parametrize(("count", "n"), [(0, 1), (0, 25), (1, 25), (12, 25), (25, 25), (91, 300), (3, 1000),
                                          (999, 1000), (50_000, 123_456)])
def test_wilson_matches_statsmodels(count, n):
    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    assert wilson_interval(count, n) == pytest.approx((low, high), abs=1e-12)


def test_two_groups_by_hand_scipy_and_statsmodels():
    data = frame_of(sex={"female": 91, "male": 209})
    result = with_representativeness(assess_data_bias(data, sensitive_features=["sex"]),
                                     PopulationSpec("test", {"sex": {"female": 0.48, "male": 0.52}}))
    f = result.representativeness.feature("sex")
    # by hand: expected counts 144 and 156; (91-144)^2/144 + (209-156)^2/156
    hand = 53 ** 2 / 144 + 53 ** 2 / 156
    assert f.statistic == pytest.approx(hand, rel=1e-12)
    assert f.statistic == pytest.approx(37.5133547008547, rel=1e-12)
    reference = chisquare([91, 209], f_exp=[144, 156])
    assert f.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert f.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    # with 1 degree of freedom the chi-square tail is erfc(sqrt(x / 2))
    assert f.p_value == pytest.approx(math.erfc(math.sqrt(hand / 2)), rel=1e-9)
    assert f.df == 1 and f.n == 300 and f.undeclared_rows == 0 and f.missing_groups == ()
    female, male = f.groups
    assert (female.group, female.n, male.group, male.n) == ("female", 91, "male", 209)
    assert female.share == pytest.approx(91 / 300) and female.expected_share == 0.48
    assert female.ratio == pytest.approx((91 / 300) / 0.48)
    low, high = proportion_confint(91, 300, alpha=0.05, method="wilson")
    assert female.share_ci == pytest.approx((low, high), abs=1e-12)
    assert female.ratio_ci == pytest.approx((low / 0.48, high / 0.48), abs=1e-12)
    assert (f.lowest_group, f.lowest_ratio, f.lowest_ratio_ci) == ("female", female.ratio, female.ratio_ci)
    block = result.to_dict()["representativeness"]
    assert block["source"] == "test" and block["confidence"] == 0.95
    assert block["features"][0]["p_value"] == f.p_value


def test_three_groups_and_an_intersection():
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"region": rng.choice(["north", "south", "east"], 997, p=[0.5, 0.3, 0.2]),
                         "sex": rng.choice(["F", "M"], 997)})
    declared = {"north": 0.45, "south": 0.35, "east": 0.2}
    joint = {f"{s} & {r}": 0.5 * p for s in ("F", "M") for r, p in declared.items()}
    result = with_representativeness(
        assess_data_bias(data, sensitive_features=["region", "sex"], intersections=[("sex", "region")]),
        PopulationSpec("test", {"region": declared, "sex & region": joint}))
    for feature, shares in (("region", declared), ("sex & region", joint)):
        observed = data["region"] if feature == "region" else data["sex"] + " & " + data["region"]
        counts = observed.value_counts()
        obs = [int(counts.get(g, 0)) for g in shares]
        exp = [997 * p for p in shares.values()]
        reference = chisquare(obs, f_exp=exp)
        f = result.representativeness.feature(feature)
        assert f.df == len(shares) - 1
        assert f.statistic == pytest.approx(reference.statistic, rel=1e-12)
        assert f.p_value == pytest.approx(reference.pvalue, rel=1e-9)
        assert f.statistic == pytest.approx(sum((o - e) ** 2 / e for o, e in zip(obs, exp)), rel=1e-12)
        ratios = {g.group: g.ratio for g in f.groups}
        assert f.lowest_group == min(ratios, key=ratios.get)
        assert [g.group for g in f.groups] == list(shares)  # declared order


def test_a_declared_group_the_data_lack_is_observed_zero():
    data = frame_of(age={"adult": 80, "senior": 20})
    population = PopulationSpec("test", {"age": {"young": 0.1, "adult": 0.7, "senior": 0.2}})
    f = with_representativeness(assess_data_bias(data, sensitive_features=["age"]), population) \
        .representativeness.feature("age")
    young = f.groups[0]
    assert (young.group, young.n, young.share, young.ratio) == ("young", 0, 0.0, 0.0)
    assert young.share_ci[0] == 0.0
    assert young.share_ci == pytest.approx(proportion_confint(0, 100, alpha=0.05, method="wilson"), abs=1e-12)
    assert f.missing_groups == ("young",)
    assert (f.lowest_group, f.lowest_ratio) == ("young", 0.0)
    reference = chisquare([0, 80, 20], f_exp=[10, 70, 20])
    assert f.statistic == pytest.approx(reference.statistic) and f.p_value == pytest.approx(reference.pvalue)
    assert f.statistic == pytest.approx(10 + 100 / 70)


def test_a_data_group_the_population_lacks_counts_against_the_fit():
    data = pd.DataFrame({"sex": ["female"] * 45 + ["male"] * 50 + [None] * 5})
    population = PopulationSpec("test", {"sex": {"female": 0.5, "male": 0.5}})
    result = with_representativeness(assess_data_bias(data, sensitive_features=["sex"]), population)
    f = result.representativeness.feature("sex")
    extra = f.groups[-1]
    assert (extra.group, extra.n, extra.expected_share, extra.ratio, extra.ratio_ci) == ("(missing)", 5, None, None, None)
    assert extra.to_dict()["note"] == "not in the declared population" and extra.to_dict()["declared"] is False
    assert f.undeclared_rows == 5 and f.statistic is None and f.p_value == 0.0 and f.df == 2
    assert "(missing)" in f.reason and "p = 0" in f.reason
    # scipy agrees: a cell with expected count 0 and rows in it is an infinite statistic, p-value 0
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        reference = chisquare([45, 50, 5], f_exp=[50, 50, 0])
    assert math.isinf(reference.statistic) and reference.pvalue == 0.0
    # the declared groups' shares use every row: the undeclared rows lower them
    assert f.groups[0].share == 0.45 and f.lowest_group == "female" and f.lowest_ratio == pytest.approx(0.9)


def test_counts_and_rows_give_the_same_document():
    """Computed from the group counts, so any engine that counts them gives the same numbers."""
    rng = np.random.default_rng(9)
    data = pd.DataFrame({"sex": rng.choice(np.array(["F", "M", None], dtype=object), 500, p=[0.4, 0.55, 0.05]),
                         "grade": rng.choice([1.0, 2.0, 3.0], 500)})
    population = PopulationSpec("test", {"sex": {"F": 0.45, "M": 0.5, "(missing)": 0.05},
                                         "grade": {"1": 0.3, "2": 0.3, "3": 0.4}})
    options = dict(sensitive_features=["sex", "grade"], intersections=[("sex", "grade")])
    rows = with_representativeness(assess_data_bias(data, **options), population)
    counts = with_representativeness(assess_data_bias_from_counts(data_bias_counts(data, **options), **options),
                                     population)
    assert rows.to_dict() == counts.to_dict()
    assert rows.representativeness.feature("sex").undeclared_rows == 0


def test_without_a_population_nothing_changes():
    data = frame_of(sex={"a": 10, "b": 10})
    result = assess_data_bias(data, sensitive_features=["sex"])
    assert with_representativeness(result, None) is result
    assert "representativeness" not in result.to_dict()  # earlier results stay byte for byte the same


def test_a_feature_not_assessed_is_an_error():
    data = frame_of(sex={"a": 10, "b": 10})
    with pytest.raises(DataError, match="population.shares.race"):
        assess_representativeness(assess_data_bias(data, sensitive_features=["sex"]),
                                  PopulationSpec("test", {"race": {"x": 0.5, "y": 0.5}}))
