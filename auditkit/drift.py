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
from dataclasses import dataclass
from .errors import DataError

__all__ = ["DRIFT_METRICS", "PSI_EPSILON", "DriftBin", "DriftResult", "FeatureDrift", "js_distance", "ks_statistic",
           "measure_drift", "psi"]

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
    import pandas as pd

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
        prediction_drift = _measure(PREDICTIONS, pd.Series(_as_1d(reference_predictions)),
                                    pd.Series(_as_1d(current_predictions)), bins)
    return DriftResult(features=tuple(features), target=target_drift, predictions=prediction_drift, bins=bins)


def _as_1d(values):
    import numpy as np

    array = np.asarray(values)
    return array.ravel() if array.ndim > 1 and 1 in array.shape else array


# ---------------------------------------------------------------- one column


def _is_numeric(series) -> bool:
    from pandas.api import types

    if types.is_bool_dtype(series.dtype) or not types.is_numeric_dtype(series.dtype):
        return False
    return series.nunique(dropna=True) > 2


def _measure(name: str, ref, cur, bins: int) -> FeatureDrift:
    from pandas.api import types

    if _is_numeric(ref):
        if types.is_bool_dtype(cur.dtype) or not types.is_numeric_dtype(cur.dtype):
            raise DataError(f"column '{name}' is numeric in the reference data but not in the current data "
                            f"({cur.dtype}); fix the current data (validate it against the contract).")
        return _numeric(name, ref, cur, bins)
    return _categorical(name, ref, cur)


def _numeric(name: str, ref, cur, bins: int) -> FeatureDrift:
    import numpy as np

    r = ref.to_numpy(dtype=float, na_value=np.nan)
    c = cur.to_numpy(dtype=float, na_value=np.nan)
    r_ok, c_ok = r[~np.isnan(r)], c[~np.isnan(c)]
    cuts = _quantile_cuts(r_ok, bins)
    r_counts = np.bincount(np.searchsorted(cuts, r_ok, side="right"), minlength=len(cuts) + 1)
    c_counts = np.bincount(np.searchsorted(cuts, c_ok, side="right"), minlength=len(cuts) + 1)
    labels = _interval_labels(cuts)
    r_missing, c_missing = len(r) - len(r_ok), len(c) - len(c_ok)
    if r_missing or c_missing:
        r_counts = np.append(r_counts, r_missing)
        c_counts = np.append(c_counts, c_missing)
        labels.append(MISSING)
    p, q = r_counts / len(r), c_counts / len(c)
    ks = ks_statistic(r_ok, c_ok) if len(r_ok) and len(c_ok) else None
    return FeatureDrift(feature=name, kind="numeric", psi=psi(p, q), ks=ks, js=js_distance(p, q),
                        unseen_categories=0, reference_n=len(r), current_n=len(c),
                        bins=tuple(DriftBin(label, float(a), float(b)) for label, a, b in zip(labels, p, q)))


def _quantile_cuts(values, bins: int):
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


def _categorical(name: str, ref, cur) -> FeatureDrift:
    r_labels, c_labels = _category_labels(ref), _category_labels(cur)
    r_counts = r_labels.value_counts(sort=False)
    c_counts = c_labels.value_counts(sort=False)
    categories = list(r_counts.sort_values(ascending=False, kind="stable").index)
    unseen = [k for k in c_counts.sort_values(ascending=False, kind="stable").index if k not in r_counts.index]
    categories += unseen
    rc = r_counts.reindex(categories, fill_value=0).to_numpy(dtype=float)
    cc = c_counts.reindex(categories, fill_value=0).to_numpy(dtype=float)
    p, q = rc / len(ref), cc / len(cur)
    listed = _bounded_bins(categories, p, q)
    return FeatureDrift(feature=name, kind="categorical", psi=psi(p, q), ks=None, js=js_distance(p, q),
                        unseen_categories=len([u for u in unseen if u != MISSING]),
                        reference_n=len(ref), current_n=len(cur), bins=listed)


def _category_labels(series):
    """Categories as text (a whole float as an integer, so 1 and 1.0 are one category)."""
    import numpy as np
    import pandas as pd

    from .data_bias import label_text

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.array([label_text(u) for u in uniques] + [MISSING], dtype=object)
    return pd.Series(table[codes], index=series.index, dtype=object)


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
