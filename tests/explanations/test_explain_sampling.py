"""Row budget: bounded, every group and intersection present, uniform part remembered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.errors import ExplanationError
from auditkit.explanations._sampling import group_codes, sample_background, sample_rows


def groups_for(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sensitive = pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], n, p=[0.3, 0.7]),
            "race": rng.choice(["a", "b", "c", "d"], n, p=[0.9, 0.07, 0.02, 0.01]),
        }
    )
    return group_codes(sensitive, sensitive.index, intersections=[("sex", "race")])


def all_labels(groups) -> pd.DataFrame:
    return groups.labels_at(np.arange(len(groups)))


def test_labels_are_strings_with_missing_and_intersections():
    sensitive = pd.DataFrame({"sex": ["f", None, "m"], "age": [20.0, np.nan, 70.0]}, index=[5, 6, 7])
    labels = all_labels(group_codes(sensitive, pd.Index([5, 6, 7]), intersections=[("sex", "age")]))
    assert list(labels.columns) == ["sex", "age", "sex & age"]
    assert labels.loc[6].tolist() == ["(missing)", "(missing)", "(missing) & (missing)"]
    assert labels.loc[5, "sex & age"] == "f & 20.0"


def test_unknown_intersection_column_is_an_error():
    sensitive = pd.DataFrame({"sex": ["f", "m"]})
    with pytest.raises(ExplanationError, match="not a sensitive feature"):
        group_codes(sensitive, sensitive.index, intersections=[("sex", "race")])


def test_misaligned_sensitive_features_is_an_error():
    sensitive = pd.DataFrame({"sex": ["f", "m"]}, index=[10, 11])
    with pytest.raises(ExplanationError, match="not aligned"):
        group_codes(sensitive, pd.Index([0, 1]))


def test_budget_and_group_minimums():
    groups = groups_for(20_000)
    labels = all_labels(groups)
    sample = sample_rows(groups, max_rows=500, min_group_rows=20, rng=np.random.default_rng(0))
    assert len(sample.positions) <= 500
    assert len(np.unique(sample.positions)) == len(sample.positions)
    chosen = labels.iloc[sample.positions]
    for column in labels.columns:
        sizes = labels[column].value_counts()
        counts = chosen[column].value_counts()
        for group, size in sizes.items():
            assert counts.get(group, 0) >= min(20, size), (column, group)
    # The uniform part is most of the sample and keeps the population's proportions roughly.
    assert sample.uniform.sum() > 400
    female = (chosen["sex"][sample.uniform] == "female").mean()
    assert 0.2 < female < 0.4


def test_small_data_is_explained_entirely():
    sample = sample_rows(groups_for(50), max_rows=100, min_group_rows=20, rng=np.random.default_rng(0))
    assert sample.positions.tolist() == list(range(50))
    assert sample.uniform.all()


def test_background_is_bounded():
    rng = np.random.default_rng(0)
    assert len(sample_background(1000, max_background=200, rng=rng)) == 200
    assert sample_background(10, max_background=200, rng=rng).tolist() == list(range(10))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 400),
    max_rows=st.integers(1, 150),
    min_group_rows=st.integers(0, 30),
    n_groups=st.integers(1, 12),
    seed=st.integers(0, 10_000),
)
def test_sampling_properties(n, max_rows, min_group_rows, n_groups, seed):
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(n_groups))
    sensitive = pd.DataFrame({"g": rng.choice(n_groups, n, p=weights)})
    groups = group_codes(sensitive, sensitive.index)
    labels = all_labels(groups)
    sample = sample_rows(groups, max_rows=max_rows, min_group_rows=min_group_rows, rng=rng)
    assert len(sample.positions) <= max_rows
    if n <= max_rows:
        assert len(sample.positions) == n
    assert len(np.unique(sample.positions)) == len(sample.positions)
    assert len(sample.uniform) == len(sample.positions)
    chosen = labels.iloc[sample.positions]["g"].value_counts()
    sizes = labels["g"].value_counts()
    needed = sum(min(min_group_rows, s) for s in sizes)
    if needed <= max_rows:
        for group, size in sizes.items():
            assert chosen.get(group, 0) >= min(min_group_rows, size)


def row_by_row_labels(sensitive: pd.DataFrame, intersections) -> dict[str, list[str]]:
    """The definition: ``str(value)`` per row, ``"(missing)"`` for a missing value, parts joined by " & "."""
    labels = {name: ["(missing)" if pd.isna(v) else str(v) for v in sensitive[name].astype(object)]
              for name in sensitive.columns}
    for combo in intersections:
        labels[" & ".join(combo)] = [" & ".join(parts) for parts in zip(*(labels[c] for c in combo))]
    return labels


@pytest.mark.parametrize("values", [
    pd.Series(["a", None, "(missing)", "b", "a"], dtype="str"),  # text read from Parquet, a literal "(missing)"
    pd.Series(["a", 1, 1.0, True, None], dtype=object),           # equal values with different text
    pd.Series([0.0, -0.0, np.nan, 2.0, 0.0]),                      # 0.0 and -0.0 are two labels
    pd.Series([3, 1, 3, 2, 1]),
    pd.Series(["a & b", "a", "a", "x", "a & b"]).astype("category"),
])
def test_codes_are_the_factorized_labels_of_each_row(values):
    sensitive = pd.DataFrame({"s": values, "t": pd.Series(["c", "b & c", "b & c", "c", "z"], dtype="str")})
    intersections = [("s", "t")]
    groups = group_codes(sensitive, sensitive.index, intersections=intersections)
    for name, expected in row_by_row_labels(sensitive, intersections).items():
        codes, uniques = pd.factorize(np.array(expected, dtype=object))
        assert groups.codes[name].tolist() == codes.tolist(), name
        assert groups.labels[name].tolist() == list(uniques), name
    assert all_labels(groups)["s & t"].tolist() == row_by_row_labels(sensitive, intersections)["s & t"]
