"""Drift: PSI against hand-computed tables, KS and JS against scipy, and the result's shape."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

from auditkit.drift import PSI_EPSILON, measure_drift
from auditkit.errors import DataError


def test_categorical_psi_matches_hand_computed_table():
    # reference a 50%, b 30%, c 20%; current a 40%, b 30%, c 20%, d 10% (unseen):
    #   (0.4 - 0.5) ln(0.4 / 0.5) + 0 + 0 + (0.1 - 1e-4) ln(0.1 / 1e-4) = 0.0223144 + 0.6900847
    reference = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30 + ["c"] * 20})
    current = pd.DataFrame({"c": ["a"] * 40 + ["b"] * 30 + ["c"] * 20 + ["d"] * 10})
    drift = measure_drift(reference, current, columns=["c"]).feature("c")
    assert PSI_EPSILON == 1e-4
    assert drift.kind == "categorical" and drift.ks is None
    assert drift.psi == pytest.approx(0.7123991075, abs=1e-9)
    assert drift.unseen_categories == 1
    assert [(b.label, b.reference_share, b.current_share) for b in drift.bins] == [
        ("a", 0.5, 0.4), ("b", 0.3, 0.3), ("c", 0.2, 0.2), ("d", 0.0, 0.1)]
    assert drift.js == pytest.approx(jensenshannon([0.5, 0.3, 0.2, 0.0], [0.4, 0.3, 0.2, 0.1], base=2))


def test_numeric_psi_uses_reference_quantile_bins():
    # reference 0..99 in 4 quantile bins (cuts 24.75, 49.5, 74.25): 25% each. The current
    # data 0..49 twice fills the two lower bins with 50% each and leaves the upper two empty:
    #   2 * (0.5 - 0.25) ln(2) + 2 * (1e-4 - 0.25) ln(1e-4 / 0.25) = 0.3465736 + 3.9104582
    reference = pd.DataFrame({"x": np.arange(100)})
    current = pd.DataFrame({"x": np.tile(np.arange(50), 2)})
    drift = measure_drift(reference, current, columns=["x"], bins=4).feature("x")
    assert drift.kind == "numeric"
    assert [b.label for b in drift.bins] == ["< 24.75", "[24.75, 49.5)", "[49.5, 74.25)", ">= 74.25"]
    assert [b.reference_share for b in drift.bins] == [0.25] * 4
    assert [b.current_share for b in drift.bins] == [0.5, 0.5, 0.0, 0.0]
    assert drift.psi == pytest.approx(4.2570317865, abs=1e-9)
    assert drift.ks == pytest.approx(ks_2samp(reference["x"], current["x"]).statistic)


@pytest.mark.parametrize("seed", range(5))
def test_ks_and_js_match_scipy(seed):
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({"x": rng.normal(size=700), "k": rng.integers(0, 6, 700)})
    current = pd.DataFrame({"x": rng.normal(0.2 * seed, 1 + 0.1 * seed, size=500), "k": rng.integers(0, 8, 500)})
    result = measure_drift(reference, current, columns=["x", "k"], bins=8)
    for column in ("x", "k"):
        drift = result.feature(column)
        assert drift.ks == pytest.approx(ks_2samp(reference[column], current[column]).statistic, abs=1e-12)
        p = [b.reference_share for b in drift.bins]
        q = [b.current_share for b in drift.bins]
        assert sum(p) == pytest.approx(1) and sum(q) == pytest.approx(1)
        assert drift.js == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)
        assert 0 <= drift.js <= 1


def test_missing_values_get_their_own_bin():
    reference = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, np.nan], "c": ["a", "b", None, "a", "b"]})
    current = pd.DataFrame({"x": [1.0, np.nan, np.nan, 4.0], "c": ["a", None, None, "z"]})
    result = measure_drift(reference, current, columns=["x", "c"], bins=2)
    x = result.feature("x")
    assert x.bins[-1].label == "(missing)"
    assert x.bins[-1].reference_share == pytest.approx(0.2) and x.bins[-1].current_share == pytest.approx(0.5)
    assert x.ks == pytest.approx(ks_2samp([1, 2, 3, 4], [1, 4]).statistic)
    c = result.feature("c")
    assert "(missing)" in [b.label for b in c.bins] and c.unseen_categories == 1  # only "z"


def test_identical_and_disjoint_distributions():
    same = pd.DataFrame({"x": np.arange(50.0), "c": list("ab") * 25})
    result = measure_drift(same, same.copy(), columns=["x", "c"])
    assert result.value("psi") == 0.0 and result.value("js") == 0.0 and result.value("ks") == 0.0
    disjoint = measure_drift(pd.DataFrame({"c": ["a"] * 10}), pd.DataFrame({"c": ["b"] * 10}), columns=["c"])
    assert disjoint.value("js", "c") == pytest.approx(1.0)


def test_result_shape_max_and_value():
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"age": rng.integers(17, 90, 400), "job": rng.choice(list("abc"), 400),
                              "y": rng.integers(0, 2, 400)})
    current = reference.assign(age=reference["age"] + 15)
    result = measure_drift(reference, current, columns=["age", "job"], target="y",
                           reference_predictions=rng.random(400), current_predictions=rng.random(400) ** 2)
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert set(d) == {"features", "target", "predictions", "max", "bins"}
    assert set(d["features"][0]) == {"feature", "kind", "psi", "ks", "js", "unseen_categories", "reference_n",
                                     "current_n", "bins"}
    assert d["max"]["psi"]["feature"] == "age" and d["max"]["ks"] == {"feature": "age", "value": result.value("ks", "age")}
    assert d["target"]["kind"] == "categorical" and d["target"]["psi"] == 0.0
    assert d["predictions"]["kind"] == "numeric" and d["predictions"]["ks"] > 0.1
    assert result.value("psi") == result.value("psi", "age") > 0.25
    assert result.value("ks", "job") is None
    assert result.value("psi", "y") == 0.0 and result.value("js", "(predictions)") > 0
    assert list(result.by_feature["feature"]) == ["age", "job"]
    with pytest.raises(ValueError):
        result.value("kl")
    with pytest.raises(DataError, match="'nope'"):
        result.value("psi", "nope")


def test_many_categories_are_listed_boundedly():
    reference = pd.DataFrame({"c": [f"v{i}" for i in range(200)]})
    current = pd.DataFrame({"c": [f"v{i}" for i in range(100, 300)]})
    drift = measure_drift(reference, current, columns=["c"]).feature("c")
    assert len(drift.bins) == 50 and drift.bins[-1].label.startswith("(other")
    assert sum(b.reference_share for b in drift.bins) == pytest.approx(1)
    assert drift.unseen_categories == 100


def test_unusable_inputs_are_data_errors():
    reference = pd.DataFrame({"age": [20, 30, 40, 50]})
    with pytest.raises(DataError, match="'age' is not in the current data"):
        measure_drift(reference, pd.DataFrame({"x": [1]}), columns=["age"])
    with pytest.raises(DataError, match="numeric in the reference"):
        measure_drift(reference, pd.DataFrame({"age": ["20", "x"]}), columns=["age"])
    with pytest.raises(DataError, match="no rows"):
        measure_drift(reference, reference.iloc[:0], columns=["age"])


def test_integer_categories_survive_a_float_upcast():
    reference = pd.DataFrame({"y": [0, 1, 1, 0]})
    current = pd.DataFrame({"y": [0.0, 1.0, np.nan, 1.0]})  # pandas turned the column to float
    drift = measure_drift(reference, current, columns=[], target="y").target
    assert drift.unseen_categories == 0
    assert [b.label for b in drift.bins] == ["0", "1", "(missing)"]
