"""Reweighing (Kamiran & Calders 2012): hand-computed weights, independence, AIF360 parity, refitting."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from auditkit.errors import AuditkitError, DataError, ModelError
from auditkit.remediation._reweigh import refit_with_weights, reweigh

# Hand-made 2x2 table, n = 10, 5 positive and 5 negative rows:
#   group a: 3 positive, 1 negative (n_a = 4);  group b: 2 positive, 4 negative (n_b = 6).
# w(g, y) = n_g n_y / (n n_gy):
#   w(a, 1) = 4*5 / (10*3) = 2/3     w(a, 0) = 4*5 / (10*1) = 2
#   w(b, 1) = 6*5 / (10*2) = 3/2     w(b, 0) = 6*5 / (10*4) = 3/4
TABLE = pd.DataFrame({
    "group": ["a", "a", "a", "a", "b", "b", "b", "b", "b", "b"],
    "label": [1, 1, 1, 0, 1, 1, 0, 0, 0, 0],
}, index=[10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
EXPECTED = [Fraction(2, 3)] * 3 + [Fraction(2)] + [Fraction(3, 2)] * 2 + [Fraction(3, 4)] * 4


def _random_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Three groups of different sizes and base rates, a second sensitive column, a feature."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["x", "y", "z"], size=n, p=[0.5, 0.3, 0.2])
    base_rate = pd.Series(group).map({"x": 0.7, "y": 0.4, "z": 0.2}).to_numpy()
    return pd.DataFrame({
        "group": group,
        "band": rng.choice(["young", "old"], size=n),
        "feature": rng.normal(size=n) + (group == "x"),
        "label": (rng.random(n) < base_rate).astype(int),
    })


def _cell_shares(groups, labels, weights):
    """Weighted joint shares P_w(g, y) as a (groups x labels) table."""
    table = pd.crosstab(pd.Series(groups, name="g"), pd.Series(labels, name="y"), values=weights, aggfunc="sum")
    return table.fillna(0.0) / float(np.sum(weights))


def test_weights_equal_the_hand_computed_table():
    weights = reweigh(TABLE, "label", "group")
    assert weights.name == "weight"
    assert weights.dtype == np.float64
    assert list(weights.index) == list(TABLE.index)
    np.testing.assert_allclose(weights.to_numpy(), [float(w) for w in EXPECTED], rtol=0, atol=1e-15)
    assert weights.sum() == pytest.approx(len(TABLE))  # total weight is the row count


def test_positive_label_gives_the_same_weights_as_a_0_1_target():
    text = TABLE.assign(label=TABLE["label"].map({1: "hired", 0: "rejected"}))
    expected = reweigh(TABLE, "label", "group")
    np.testing.assert_allclose(reweigh(text, "label", "group", positive_label="hired"), expected)
    np.testing.assert_allclose(reweigh(text, "label", "group"), expected)  # two values, used as they are
    # Several values, one favourable: the others are all the unfavourable label.
    three = TABLE.assign(label=["yes", "yes", "yes", "no", "yes", "yes", "no", "maybe", "no", "maybe"])
    np.testing.assert_allclose(reweigh(three, "label", "group", positive_label="yes"), [float(w) for w in EXPECTED])


def test_weighted_group_and_label_are_independent():
    frame = _random_frame()
    weights = reweigh(frame, "label", "group").to_numpy()
    joint = _cell_shares(frame["group"], frame["label"], weights)
    np.testing.assert_allclose(joint.to_numpy(), np.outer(joint.sum(axis=1), joint.sum(axis=0)), atol=1e-12)
    # Before reweighing they are not independent (base rates 0.7, 0.4, 0.2).
    raw = _cell_shares(frame["group"], frame["label"], np.ones(len(frame)))
    assert np.abs(raw.to_numpy() - np.outer(raw.sum(axis=1), raw.sum(axis=0))).max() > 0.05
    # Each group keeps its size and each label its count as total weight.
    for column in ("group", "label"):
        np.testing.assert_allclose(pd.Series(weights).groupby(frame[column]).sum(),
                                   frame[column].value_counts().sort_index())


def test_several_sensitive_columns_group_by_their_combination():
    frame = _random_frame(seed=1)
    weights = reweigh(frame, "label", ["group", "band"])
    combined = frame.assign(both=frame["group"] + " & " + frame["band"])
    np.testing.assert_allclose(weights, reweigh(combined, "label", "both"), rtol=1e-15)
    joint = _cell_shares(combined["both"], frame["label"], weights.to_numpy())
    np.testing.assert_allclose(joint.to_numpy(), np.outer(joint.sum(axis=1), joint.sum(axis=0)), atol=1e-12)
    assert not np.allclose(weights, reweigh(frame, "label", "group"))  # the combination, not one column


def test_missing_sensitive_values_are_a_group_of_their_own():
    frame = _random_frame(seed=2)
    holes = frame.assign(group=frame["group"].where(np.arange(len(frame)) % 7 != 0))  # NaN every 7th row
    holes.loc[holes.index[::49], "group"] = None
    filled = holes.assign(group=holes["group"].fillna("(missing)"))
    weights = reweigh(holes, "label", "group")
    assert weights.notna().all()
    np.testing.assert_allclose(weights, reweigh(filled, "label", "group"), rtol=1e-15)
    assert not np.allclose(weights, reweigh(frame, "label", "group"))


def test_a_single_group_gets_unit_weights():
    np.testing.assert_allclose(reweigh(TABLE.assign(group="a"), "label", "group"), np.ones(len(TABLE)))


@pytest.mark.parametrize(("frame", "target", "sensitive", "positive_label", "words"), [
    (TABLE, "outcome", "group", None, ["'outcome'", "not in the data"]),
    (TABLE, "label", ["group", "sex"], None, ["'sex'", "not in the data"]),
    (TABLE.iloc[:0], "label", "group", None, ["no rows"]),
    (TABLE.assign(label=1), "label", "group", None, ["'label'", "single value ('1')"]),
    (TABLE, "label", "group", 2, ["'label'", "single label", "no row equals positive_label '2'"]),
    (TABLE.assign(label=[1, 0, 2, 0, 1, 0, 1, 0, 1, 0]), "label", "group", None,
     ["'label'", "3 distinct values ('1', '0', '2')", "pass positive_label"]),
    (TABLE.assign(label=[1, 0, None, 0, 1, 0, 1, 0, 1, 0]), "label", "group", None, ["'label'", "1 missing value;"]),
])
def test_unusable_data_raise_a_data_error_naming_the_column_and_the_fix(frame, target, sensitive, positive_label,
                                                                       words):
    with pytest.raises(DataError) as caught:
        reweigh(frame, target, sensitive, positive_label=positive_label)
    for word in words:
        assert word in caught.value.message


def test_no_sensitive_column_is_an_argument_error():
    with pytest.raises(AuditkitError, match="at least one sensitive column"):
        reweigh(TABLE, "label", [])


def test_weights_equal_aif360_instance_weights():
    pytest.importorskip("aif360")
    from aif360.algorithms.preprocessing import Reweighing
    from aif360.datasets import BinaryLabelDataset

    frame = _random_frame(seed=3)
    frame = frame[frame["group"] != "z"].reset_index(drop=True)  # AIF360 reweighs two groups
    data = pd.DataFrame({"privileged": (frame["group"] == "x").astype(float), "label": frame["label"].astype(float)})
    dataset = BinaryLabelDataset(df=data, label_names=["label"], protected_attribute_names=["privileged"],
                                 favorable_label=1.0, unfavorable_label=0.0)
    theirs = Reweighing(unprivileged_groups=[{"privileged": 0.0}], privileged_groups=[{"privileged": 1.0}]) \
        .fit_transform(dataset).instance_weights
    np.testing.assert_allclose(reweigh(frame, "label", "group").to_numpy(), theirs, rtol=1e-12)


def test_refit_of_a_pipeline_weights_its_final_step():
    frame = _random_frame(seed=4)
    X, y = frame[["feature"]].assign(young=(frame["band"] == "young").astype(float)), frame["label"]
    weights = reweigh(frame, "label", "group")
    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    refitted = refit_with_weights(pipeline, X, y, weights)
    assert refitted is not pipeline
    assert not hasattr(pipeline[-1], "coef_")  # the estimator given is left unfitted
    manual = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        X, y, logisticregression__sample_weight=weights.to_numpy())
    np.testing.assert_allclose(refitted[-1].coef_, manual[-1].coef_, rtol=1e-12)
    np.testing.assert_allclose(refitted[-1].intercept_, manual[-1].intercept_, rtol=1e-12)
    unweighted = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert not np.allclose(refitted[-1].coef_, unweighted[-1].coef_)  # the weights did change the fit
    np.testing.assert_allclose(refitted[0].mean_, unweighted[0].mean_)  # preprocessing is fitted unweighted


def test_refit_of_a_plain_and_a_nested_estimator():
    frame = _random_frame(seed=5)
    X, y, weights = frame[["feature"]], frame["label"], reweigh(frame, "label", "group")
    manual = LogisticRegression().fit(X, y, sample_weight=weights.to_numpy())
    np.testing.assert_allclose(refit_with_weights(LogisticRegression(), X, y, weights).coef_, manual.coef_, rtol=1e-12)
    nested = Pipeline([("outer", Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]))])
    np.testing.assert_allclose(refit_with_weights(nested, X, y, weights)[-1][-1].coef_,
                               make_pipeline(StandardScaler(), LogisticRegression())
                               .fit(X, y, logisticregression__sample_weight=weights.to_numpy())[-1].coef_, rtol=1e-12)


@pytest.mark.parametrize("estimator", [KNeighborsClassifier(), make_pipeline(StandardScaler(), KNeighborsClassifier())])
def test_an_estimator_without_sample_weight_raises_a_model_error_naming_it(estimator):
    with pytest.raises(ModelError, match="KNeighborsClassifier"):
        refit_with_weights(estimator, TABLE[["label"]], TABLE["label"], np.ones(len(TABLE)))


def test_a_pipeline_without_final_estimator_or_a_non_estimator_raises_a_model_error():
    with pytest.raises(ModelError, match="passthrough"):
        refit_with_weights(Pipeline([("scale", StandardScaler()), ("model", "passthrough")]),
                           TABLE[["label"]], TABLE["label"], np.ones(len(TABLE)))
    with pytest.raises(ModelError, match="object cannot be copied"):
        refit_with_weights(object(), TABLE[["label"]], TABLE["label"], np.ones(len(TABLE)))
