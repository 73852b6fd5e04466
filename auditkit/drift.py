"""Drift: how far the current data has moved from the reference data, feature by feature.

Per feature three numbers, each defined in docs/contracts.md:

- population stability index (PSI) over bins -- numeric columns binned on the reference's
  quantiles, categorical columns per category (categories unseen in the reference counted);
- the two-sample Kolmogorov-Smirnov statistic (numeric columns only);
- the Jensen-Shannon distance (base 2, so in [0, 1]) between the same binned distributions.

The target and the model's predictions are measured the same way when given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .errors import DataError

__all__ = ["DRIFT_METRICS", "MISSING", "PREDICTIONS", "PSI_EPSILON", "DriftBin", "DriftResult", "FeatureDrift",
           "NumericCounts", "NumericReference", "categorical_drift", "category_counts", "count_numeric",
           "is_numeric_column", "js_distance", "ks_statistic", "measure_drift", "numeric_drift", "numeric_reference",
           "prediction_values", "psi", "quantile_cuts"]

#: Shares of 0 are replaced by this in the PSI sum, so an empty bin gives a large, finite term.
PSI_EPSILON = 1e-4
DRIFT_METRICS = ("psi", "ks", "js")
MISSING = "(missing)"
PREDICTIONS = "(predictions)"
_MAX_CATEGORY_BINS = 50  # bins listed in the result; PSI and JS always use every category


@dataclass(frozen=True)
class DriftBin:
    """One bin (numeric interval or category) with its share of reference and current rows."""

    label: str
    reference_share: float
    current_share: float

    def to_dict(self) -> dict:
        return {"label": self.label, "reference_share": self.reference_share, "current_share": self.current_share}


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one column between the reference and the current data."""

    feature: str
    kind: str  # "numeric" | "categorical"
    psi: float
    ks: float | None
    js: float
    unseen_categories: int
    reference_n: int
    current_n: int
    bins: tuple[DriftBin, ...]

    def value(self, metric: str) -> float | None:
        _check_metric(metric)
        return getattr(self, metric)

    def to_dict(self) -> dict:
        return {"feature": self.feature, "kind": self.kind, "psi": self.psi, "ks": self.ks, "js": self.js,
                "unseen_categories": self.unseen_categories, "reference_n": self.reference_n,
                "current_n": self.current_n, "bins": [b.to_dict() for b in self.bins]}


@dataclass(frozen=True)
class DriftResult:
    """Drift of every feature, and of the target and predictions when they were given."""

    features: tuple[FeatureDrift, ...]
    target: FeatureDrift | None = None
    predictions: FeatureDrift | None = None
    bins: int = 10

    def feature(self, name: str) -> FeatureDrift:
        """The drift of one feature (or of the target by its column name, or ``"(predictions)"``)."""
        for entry in self.features:
            if entry.feature == name:
                return entry
        for entry in (self.target, self.predictions):
            if entry is not None and entry.feature == name:
                return entry
        known = [f.feature for f in self.features]
        raise DataError(f"drift was not measured for '{name}'; measured: {', '.join(known) or 'no features'}.")

    def largest(self, metric: str) -> FeatureDrift | None:
        """The feature with the largest value of ``metric`` (features only), or None."""
        _check_metric(metric)
        candidates = [f for f in self.features if getattr(f, metric) is not None]
        return max(candidates, key=lambda f: getattr(f, metric)) if candidates else None

    def value(self, metric: str, feature: str | None = None) -> float | None:
        """``metric`` ("psi", "ks" or "js") of ``feature``, or the largest over features when None."""
        _check_metric(metric)
        if feature is not None:
            return self.feature(feature).value(metric)
        top = self.largest(metric)
        return None if top is None else getattr(top, metric)

    @property
    def by_feature(self):
        """One row per feature: kind, psi, ks, js, unseen categories and row counts."""
        import pandas as pd

        rows = [{k: v for k, v in f.to_dict().items() if k != "bins"} for f in self.features]
        return pd.DataFrame(rows, columns=["feature", "kind", "psi", "ks", "js", "unseen_categories",
                                           "reference_n", "current_n"])

    def to_dict(self) -> dict:
        largest = {}
        for metric in DRIFT_METRICS:
            top = self.largest(metric)
            largest[metric] = None if top is None else {"feature": top.feature, "value": getattr(top, metric)}
        return {"features": [f.to_dict() for f in self.features],
                "target": None if self.target is None else self.target.to_dict(),
                "predictions": None if self.predictions is None else self.predictions.to_dict(),
                "max": largest, "bins": self.bins}


def _check_metric(metric: str) -> None:
    if metric not in DRIFT_METRICS:
        raise ValueError(f"unknown drift metric {metric!r}; use one of {', '.join(DRIFT_METRICS)}")


def measure_drift(reference, current, *, columns, target: str | None = None, reference_predictions=None,
                  current_predictions=None, bins: int = 10) -> DriftResult:
    """Measure drift of each column between a reference table and the current one.

    Parameters
    ----------
    reference, current : pandas.DataFrame
        The reference data (e.g. the training set) and the data being audited.
    columns : sequence of str
        The features to measure. A column is numeric when its reference dtype is numeric
        (not bool) with more than two distinct values; otherwise it is categorical.
    target : str, optional
        The label column, present in both tables; its drift is reported separately.
    reference_predictions, current_predictions : array-like, optional
        The model's outputs (labels or scores) on each table; both or neither.
    bins : int, default 10
        Number of reference-quantile bins for numeric columns (fewer when quantiles tie).

    Returns
    -------
    DriftResult

    Raises
    ------
    DataError
        A column is missing from either table, a table has no rows, or a column is numeric
        in the reference but not in the current data.
    """

    if bins < 2:
        raise ValueError("bins must be at least 2")
    if len(reference) == 0 or len(current) == 0:
        which = "reference" if len(reference) == 0 else "current"
        raise DataError(f"the {which} data has no rows; drift needs rows in both tables.")
    features = []
    for column in columns:
        for frame, which in ((reference, "reference"), (current, "current")):
            if column not in frame.columns:
                raise DataError(f"column '{column}' is not in the {which} data; drift needs it in both tables.")
        features.append(_measure(str(column), reference[column], current[column], bins))
    target_drift = None
    if target is not None:
        for frame, which in ((reference, "reference"), (current, "current")):
            if target not in frame.columns:
                raise DataError(f"target column '{target}' is not in the {which} data; drift of the target needs it in both tables.")
        target_drift = _measure(str(target), reference[target], current[target], bins)
    prediction_drift = None
    if (reference_predictions is None) != (current_predictions is None):
        raise ValueError("give both reference_predictions and current_predictions, or neither")
    if reference_predictions is not None:
        prediction_drift = _measure(PREDICTIONS, prediction_values(reference_predictions),
                                    prediction_values(current_predictions), bins)
    return DriftResult(features=tuple(features), target=target_drift, predictions=prediction_drift, bins=bins)


def prediction_values(values):
    """A model's outputs (labels or scores) as a Series; a one-column 2-D array is flattened."""
    import numpy as np
    import pandas as pd

    array = np.asarray(values)
    return pd.Series(array.ravel() if array.ndim > 1 and 1 in array.shape else array)


# ---------------------------------------------------------------- one column


def is_numeric_column(series) -> bool:
    """Whether drift treats a reference column as numeric: a numeric dtype (not bool) with
    more than two distinct values; otherwise it is categorical."""
    from pandas.api import types

    if types.is_bool_dtype(series.dtype) or not types.is_numeric_dtype(series.dtype):
        return False
    return series.nunique(dropna=True) > 2


def _measure(name: str, ref, cur, bins: int) -> FeatureDrift:
    from pandas.api import types

    if is_numeric_column(ref):
        if types.is_bool_dtype(cur.dtype) or not types.is_numeric_dtype(cur.dtype):
            raise DataError(f"column '{name}' is numeric in the reference data but not in the current data "
                            f"({cur.dtype}); fix the current data (validate it against the contract).")
        reference = numeric_reference(ref, bins)
        return numeric_drift(name, reference, count_numeric(cur, reference))
    return categorical_drift(name, category_counts(ref), category_counts(cur), reference_rows=len(ref),
                             current_rows=len(cur))


@dataclass(frozen=True)
class NumericReference:
    """A numeric column of the reference data, reduced to what the current data is counted against.

    Attributes
    ----------
    cuts : numpy.ndarray
        Inner bin edges: the reference's quantiles (:func:`quantile_cuts`); bin ``i`` holds
        the values with exactly ``i`` cuts at or below them.
    points : numpy.ndarray
        The reference's distinct non-missing values, increasing; the two empirical CDFs
        are compared at these points (and just below them) for the KS statistic.
    bins : numpy.ndarray
        int64, reference rows per bin (``len(cuts) + 1``).
    at_or_below : numpy.ndarray
        int64, reference rows at or below each point.
    missing : int
        Reference rows with a missing value.
    rows : int
        All reference rows.
    """

    cuts: Any = field(repr=False)
    points: Any = field(repr=False)
    bins: Any = field(repr=False)
    at_or_below: Any = field(repr=False)
    missing: int
    rows: int


@dataclass(frozen=True)
class NumericCounts:
    """A numeric column of the current data, counted against a :class:`NumericReference`.

    Every field is a count, so the counts of disjoint sets of rows (e.g. the partitions of
    a distributed table) add up to the counts of their union.

    Attributes
    ----------
    bins : numpy.ndarray
        int64, rows per bin of the reference (``len(cuts) + 1``).
    ranks : numpy.ndarray
        int64, ``ranks[j]``: rows with exactly ``j`` reference points at or below their value
        (``len(points) + 1``).
    at_point : numpy.ndarray
        int64, rows equal to each reference point (``len(points)``).
    missing : int
        Rows with a missing value (null or NaN).
    """

    bins: Any = field(repr=False)
    ranks: Any = field(repr=False)
    at_point: Any = field(repr=False)
    missing: int

    @property
    def rows(self) -> int:
        """All rows counted, missing ones included."""
        return int(self.ranks.sum()) + int(self.missing)

    def __add__(self, other: NumericCounts) -> NumericCounts:
        """The counts of both sets of rows together."""
        return NumericCounts(self.bins + other.bins, self.ranks + other.ranks, self.at_point + other.at_point,
                             self.missing + other.missing)


def _floats(values):
    import numpy as np
    import pandas as pd

    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def numeric_reference(values, bins: int) -> NumericReference:
    """Bin edges, bin counts and KS points of a numeric reference column.

    Parameters
    ----------
    values : pandas.Series or array-like
        The reference column (missing values as NaN or null).
    bins : int
        Number of quantile bins (fewer when quantiles tie).

    Returns
    -------
    NumericReference
    """
    import numpy as np

    r = _floats(values)
    ok = r[~np.isnan(r)]
    cuts = quantile_cuts(ok, bins)
    points, repeats = np.unique(ok, return_counts=True)
    return NumericReference(
        cuts=cuts, points=points,
        bins=np.bincount(np.searchsorted(cuts, ok, side="right"), minlength=len(cuts) + 1),
        at_or_below=np.cumsum(repeats), missing=len(r) - len(ok), rows=len(r))


def count_numeric(values, reference: NumericReference) -> NumericCounts:
    """Count a numeric column of the current data against the reference's bins and points.

    Parameters
    ----------
    values : pandas.Series or array-like
        The current column (missing values as NaN or null).
    reference : NumericReference

    Returns
    -------
    NumericCounts
    """
    import numpy as np

    c = _floats(values)
    ok = np.sort(c[~np.isnan(c)])
    # Rows below each edge or point, looked up in the sorted values; differences give the counts.
    below_cuts = np.searchsorted(ok, reference.cuts, side="left")
    below = np.searchsorted(ok, reference.points, side="left")
    at_or_below = np.searchsorted(ok, reference.points, side="right")
    return NumericCounts(bins=np.diff(below_cuts, prepend=0, append=len(ok)),
                         ranks=np.diff(below, prepend=0, append=len(ok)), at_point=at_or_below - below,
                         missing=len(c) - len(ok))


def numeric_drift(name: str, reference: NumericReference, current: NumericCounts) -> FeatureDrift:
    """PSI, KS and JS of a numeric column from the reference's summary and the current counts.

    The KS statistic is exact: between consecutive reference points the reference's
    empirical CDF is constant, so the largest gap is attained at a point or just below the
    next one, where the current CDF is the share of rows at or below, or strictly below,
    that point. The same integer counts are divided as :func:`ks_statistic` divides them,
    so the value is the same float.

    Parameters
    ----------
    name : str
        The column (or ``"(predictions)"``).
    reference : NumericReference
    current : NumericCounts

    Returns
    -------
    FeatureDrift
    """
    import numpy as np

    r_counts, c_counts = reference.bins, current.bins
    labels = _interval_labels(reference.cuts)
    if reference.missing or current.missing:
        r_counts = np.append(r_counts, reference.missing)
        c_counts = np.append(c_counts, current.missing)
        labels.append(MISSING)
    current_rows = current.rows
    p, q = r_counts / reference.rows, c_counts / current_rows
    return FeatureDrift(feature=name, kind="numeric", psi=psi(p, q), ks=_ks_from_counts(reference, current),
                        js=js_distance(p, q), unseen_categories=0, reference_n=reference.rows,
                        current_n=current_rows,
                        bins=tuple(DriftBin(label, float(a), float(b)) for label, a, b in zip(labels, p, q)))


def _ks_from_counts(reference: NumericReference, current: NumericCounts) -> float | None:
    import numpy as np

    n_reference = int(reference.at_or_below[-1]) if len(reference.at_or_below) else 0
    n_current = int(current.ranks.sum())
    if not n_reference or not n_current:
        return None
    below = np.cumsum(current.ranks[:-1])  # current rows strictly below each point
    at_or_below = below + current.at_point
    reference_before = np.concatenate([[0], reference.at_or_below[:-1]])  # just below each point
    at_points = np.abs(reference.at_or_below / n_reference - at_or_below / n_current)
    before_points = np.abs(reference_before / n_reference - below / n_current)
    return float(max(at_points.max(), before_points.max()))


def quantile_cuts(values, bins: int):
    """Inner bin edges: the reference's 1/bins, ..., (bins-1)/bins quantiles, ties merged."""
    import numpy as np

    if len(values) == 0:
        return np.array([], dtype=float)
    cuts = np.quantile(values, np.arange(1, bins) / bins)  # i / bins exactly, numpy's linear interpolation
    cuts = np.unique(cuts)
    # A cut at the minimum would leave the first bin empty by construction; drop it.
    return cuts[cuts > values.min()]


def _interval_labels(cuts) -> list[str]:
    if len(cuts) == 0:
        return ["all values"]
    labels = [f"< {_fmt(cuts[0])}"]
    labels += [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(cuts[:-1], cuts[1:])]
    labels.append(f">= {_fmt(cuts[-1])}")
    return labels


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def category_counts(values) -> dict[str, int]:
    """Rows per category of a column, in order of first appearance.

    Categories are text (:func:`auditkit.data_bias.label_text`: a whole float as an
    integer, so 1 and 1.0 are one category); missing values are the category
    ``"(missing)"``.

    Parameters
    ----------
    values : pandas.Series or array-like

    Returns
    -------
    dict of str to int
    """
    import numpy as np
    import pandas as pd

    from .data_bias import label_text

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = np.array([label_text(u) for u in uniques] + [MISSING], dtype=object)
    merged, labels = pd.factorize(texts)  # 1 and "1" read the same: one category
    counts = pd.Series(merged[codes]).value_counts(sort=False)
    return {str(labels[code]): int(n) for code, n in counts.items()}


def categorical_drift(name: str, reference_counts, current_counts, *, reference_rows: int,
                      current_rows: int) -> FeatureDrift:
    """PSI and JS of a categorical column from its rows per category in each table.

    Bins are the reference's categories by decreasing count (ties in order of first
    appearance), then the categories unseen in the reference by decreasing count (ties by
    label, so the order does not depend on the order of the current rows).

    Parameters
    ----------
    name : str
        The column (or ``"(predictions)"``).
    reference_counts, current_counts : mapping of str to int
        Rows per category (:func:`category_counts`); the reference's in order of first
        appearance.
    reference_rows, current_rows : int
        All rows of each table.

    Returns
    -------
    FeatureDrift
    """
    import pandas as pd

    r_counts = pd.Series(dict(reference_counts), dtype="int64")
    categories = list(r_counts.sort_values(ascending=False, kind="stable").index)
    unseen = sorted((k for k in current_counts if k not in reference_counts), key=lambda k: (-current_counts[k], k))
    categories += unseen
    rc = r_counts.reindex(categories, fill_value=0).to_numpy(dtype=float)
    cc = pd.Series(dict(current_counts), dtype="int64").reindex(categories, fill_value=0).to_numpy(dtype=float)
    p, q = rc / reference_rows, cc / current_rows
    return FeatureDrift(feature=name, kind="categorical", psi=psi(p, q), ks=None, js=js_distance(p, q),
                        unseen_categories=len([u for u in unseen if u != MISSING]),
                        reference_n=reference_rows, current_n=current_rows, bins=_bounded_bins(categories, p, q))


def _bounded_bins(categories, p, q) -> tuple[DriftBin, ...]:
    import numpy as np

    if len(categories) <= _MAX_CATEGORY_BINS:
        return tuple(DriftBin(str(k), float(a), float(b)) for k, a, b in zip(categories, p, q))
    order = np.argsort(-np.maximum(p, q), kind="stable")
    keep, rest = order[: _MAX_CATEGORY_BINS - 1], order[_MAX_CATEGORY_BINS - 1:]
    out = [DriftBin(str(categories[i]), float(p[i]), float(q[i])) for i in sorted(keep)]
    out.append(DriftBin(f"(other {len(rest)} categories)", float(p[rest].sum()), float(q[rest].sum())))
    return tuple(out)


# ---------------------------------------------------------------- the statistics


def psi(reference_shares, current_shares, *, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two binned distributions.

    ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` with every share of 0 replaced by ``epsilon``.
    """
    import numpy as np

    r = np.asarray(reference_shares, dtype=float)
    c = np.asarray(current_shares, dtype=float)
    r, c = np.where(r == 0, epsilon, r), np.where(c == 0, epsilon, c)  # empty bins only
    return float(np.sum((c - r) * np.log(c / r)))


def js_distance(reference_shares, current_shares) -> float:
    """Jensen-Shannon distance, base 2: ``sqrt(JSD)`` with ``JSD`` in bits, so in [0, 1]."""
    import numpy as np

    p = np.asarray(reference_shares, dtype=float)
    q = np.asarray(current_shares, dtype=float)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a):
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / m[mask])))

    divergence = max((kl(p) + kl(q)) / 2, 0.0)
    return float(min(math.sqrt(divergence), 1.0))


def ks_statistic(reference, current) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    import numpy as np

    a = np.sort(np.asarray(reference, dtype=float))
    b = np.sort(np.asarray(current, dtype=float))
    points = np.concatenate([a, b])
    gap = np.abs(np.searchsorted(a, points, side="right") / len(a) - np.searchsorted(b, points, side="right") / len(b))
    return float(gap.max())
