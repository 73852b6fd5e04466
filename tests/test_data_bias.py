"""Data bias: representation, base rates and missingness against hand-computed tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from auditkit.data_bias import assess_data_bias
from auditkit.errors import DataError


@pytest.fixture()
def people():
    # 10 rows: sex F x4, M x5, missing x1; income missing for 3 of the 4 women, 0 of the men.
    return pd.DataFrame({
        "sex": ["F", "F", "F", "F", "M", "M", "M", "M", "M", None],
        "band": ["a", "b", "a", "b", "a", "b", "a", "b", "a", "a"],
        "income": [np.nan, np.nan, np.nan, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0],
        "city": ["x"] * 10,
    })


TARGET = np.array([1, 0, 0, 0, 1, 1, 1, 0, 0, 1])


def test_hand_computed_tables(people):
    result = assess_data_bias(people, sensitive_features=["sex"], target=TARGET, min_group_size=2)
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["representation"] == [
        {"feature": "sex", "group": "M", "n": 5, "share": 0.5},
        {"feature": "sex", "group": "F", "n": 4, "share": 0.4},
        {"feature": "sex", "group": "(missing)", "n": 1, "share": 0.1},
    ]
    assert d["base_rates"] == [
        {"feature": "sex", "group": "M", "n": 5, "base_rate": 0.6},
        {"feature": "sex", "group": "F", "n": 4, "base_rate": 0.25},
        {"feature": "sex", "group": "(missing)", "n": 1, "base_rate": 1.0},
    ]
    # the (missing) group has 1 < min_group_size rows: left out of the disparity
    [disparity] = d["base_rate_disparity"]
    assert disparity["difference"] == pytest.approx(0.35) and disparity["ratio"] == pytest.approx(0.25 / 0.6)
    [income] = d["missingness"]  # only columns with a missing value are listed
    assert income["column"] == "income" and income["rates"] == {"M": 0.0, "F": 0.75, "(missing)": 0.0}
    assert income["gap"] == pytest.approx(0.75) and income["flagged"] is True
    assert d["min_group_size"] == 2
    assert result.value("representation_min_share", "sex") == pytest.approx(0.1)
    assert result.value("base_rate_ratio", "sex") == pytest.approx(0.25 / 0.6)
    assert result.value("missingness_gap", "sex") == pytest.approx(0.75)


def test_intersections_and_worst_over_features(people):
    result = assess_data_bias(people, sensitive_features=["sex", "band"], intersections=[("sex", "band")],
                              target=TARGET, min_group_size=1)
    assert result.features == ("sex", "band", "sex & band")
    groups = {g.group: g.n for g in result.representation if g.feature == "sex & band"}
    assert groups == {"F & a": 2, "F & b": 2, "M & a": 3, "M & b": 2, "(missing) & a": 1}
    assert result.value("representation_min_share") == pytest.approx(0.1)
    band = {b.group: b.base_rate for b in result.base_rates if b.feature == "band"}
    assert band == {"a": pytest.approx(4 / 6), "b": pytest.approx(1 / 4)}
    ratios = [d.ratio for d in result.base_rate_disparity]
    assert result.value("base_rate_ratio") == pytest.approx(min(ratios)) == 0.0  # "F & b" has no positives
    rates = next(m.rates for m in result.missingness if m.feature == "sex & band")
    assert rates == {"M & a": 0.0, "F & a": 1.0, "F & b": 0.5, "M & b": 0.0, "(missing) & a": 0.0}
    assert result.value("missingness_gap") == pytest.approx(1.0)  # "F & a" against the men


def test_without_target_and_small_groups(people):
    result = assess_data_bias(people, sensitive_features=["sex"], min_group_size=30)
    assert result.base_rates == () and result.base_rate_disparity == ()
    assert result.value("base_rate_ratio") is None
    # no group reaches 30 rows: gaps are not compared, nothing flagged
    assert result.value("missingness_gap") == 0.0 and result.flagged == ()
    frame = result.by_group
    assert list(frame.columns) == ["feature", "group", "n", "share", "base_rate"]


def test_placeholder_missing_values(people):
    frame = people.assign(city=["?", " ?", "x", "x", "x", "x", "x", "x", "x", "x"])
    plain = assess_data_bias(frame, sensitive_features=["sex"], min_group_size=1)
    assert [m.column for m in plain.missingness] == ["income"]
    marked = assess_data_bias(frame, sensitive_features=["sex"], min_group_size=1, missing_values=["?"])
    city = next(m for m in marked.missingness if m.column == "city")
    assert city.rates["F"] == 0.5 and city.rates["M"] == 0.0


def test_errors(people):
    with pytest.raises(DataError, match="'race'"):
        assess_data_bias(people, sensitive_features=["race"])
    with pytest.raises(DataError, match="0/1"):
        assess_data_bias(people, sensitive_features=["sex"], target=np.arange(10))
    with pytest.raises(DataError, match="align"):
        assess_data_bias(people, sensitive_features=["sex"], target=[0, 1])
    result = assess_data_bias(people, sensitive_features=["sex"])
    with pytest.raises(DataError, match="'band'"):
        result.value("missingness_gap", "band")
    with pytest.raises(ValueError):
        result.value("selection_rate")


def test_group_labels_match_the_fairness_engine():
    """The data-bias section and the fairness section name the same groups the same way."""
    from auditkit.fairness import assess_fairness

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"grade": rng.choice([1.0, 2.0, np.nan], 300), "sex": rng.choice(["F", "M", None], 300)})
    y = rng.integers(0, 2, 300)
    fairness = assess_fairness(y, y, frame, intersections=[("grade", "sex")], bootstrap=0)
    bias = assess_data_bias(frame, sensitive_features=["grade", "sex"], intersections=[("grade", "sex")], target=y)
    expected = fairness.by_group
    ours = bias.by_group
    for feature in ("grade", "sex", "grade & sex"):
        assert set(ours[ours.feature == feature].group) == set(expected[expected.feature == feature].group), feature
    counts = dict(zip(zip(ours.feature, ours.group), ours.n))
    for row in expected.itertuples():
        assert counts[(row.feature, row.group)] == row.n
