"""Bias in the data itself, before any model: who is in it, their outcomes, what is missing.

Three views per sensitive feature (and intersection), each defined in docs/contracts.md:

- representation: each group's row count and share of all rows;
- base rates: each group's share of positive labels, and the disparity between groups
  (difference and ratio over groups with at least ``min_group_size`` rows);
- missingness: for every column with missing values, the share missing in each group; a
  column whose gap between groups reaches ``missing_gap_flag`` is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DataError

__all__ = ["DATA_BIAS_METRICS", "MISSING_GROUP", "DataBiasResult", "assess_data_bias"]

MISSING_GROUP = "(missing)"
DATA_BIAS_METRICS = ("representation_min_share", "base_rate_ratio", "missingness_gap")


@dataclass(frozen=True)
class GroupShare:
    """One group's row count and share of all rows."""

    feature: str
    group: str
    n: int
    share: float

    def to_dict(self) -> dict:
        return {"feature": self.feature, "group": self.group, "n": self.n, "share": self.share}


@dataclass(frozen=True)
class GroupBaseRate:
    """One group's share of positive labels."""

    feature: str
    group: str
    n: int
    base_rate: float | None  # None when the group has no labelled rows

    def to_dict(self) -> dict:
        return {"feature": self.feature, "group": self.group, "n": self.n, "base_rate": self.base_rate}


@dataclass(frozen=True)
class BaseRateDisparity:
    """Largest minus smallest, and smallest over largest, base rate of a feature's groups."""

    feature: str
    difference: float | None  # None with fewer than two groups of min_group_size rows
    ratio: float | None  # also None when every eligible base rate is 0

    def to_dict(self) -> dict:
        return {"feature": self.feature, "difference": self.difference, "ratio": self.ratio}


@dataclass(frozen=True)
class ColumnMissingness:
    """Share of missing values of one column in each group of one feature."""

    feature: str
    column: str
    rates: dict = field(hash=False)
    gap: float
    flagged: bool

    def to_dict(self) -> dict:
        return {"feature": self.feature, "column": self.column, "rates": dict(self.rates), "gap": self.gap,
                "flagged": self.flagged}


@dataclass(frozen=True)
class DataBiasResult:
    """Representation, base rates and missingness of each sensitive group."""

    features: tuple[str, ...]
    representation: tuple[GroupShare, ...]
    base_rates: tuple[GroupBaseRate, ...]
    base_rate_disparity: tuple[BaseRateDisparity, ...]
    missingness: tuple[ColumnMissingness, ...]
    min_group_size: int
    missing_gap_flag: float

    def value(self, metric: str, feature: str | None = None) -> float | None:
        """A rule metric: ``representation_min_share``, ``base_rate_ratio`` or ``missingness_gap``.

        With ``feature`` the value for that sensitive feature (or intersection, ``"a & b"``);
        without it the worst over all of them (smallest share or ratio, largest gap).
        None when undefined (no target, fewer than two groups large enough).
        """
        if metric not in DATA_BIAS_METRICS:
            raise ValueError(f"unknown data bias metric {metric!r}; use one of {', '.join(DATA_BIAS_METRICS)}")
        if feature is not None and feature not in self.features:
            raise DataError(f"data bias was not assessed for '{feature}'; assessed: {', '.join(self.features)}.")
        scope = self.features if feature is None else (feature,)
        if metric == "representation_min_share":
            shares = [g.share for g in self.representation if g.feature in scope]
            return min(shares) if shares else None
        if metric == "base_rate_ratio":
            ratios = [d.ratio for d in self.base_rate_disparity if d.feature in scope and d.ratio is not None]
            return min(ratios) if ratios else None
        gaps = [m.gap for m in self.missingness if m.feature in scope]
        return max(gaps) if gaps else 0.0

    @property
    def flagged(self) -> tuple[ColumnMissingness, ...]:
        """Columns missing far more often for some group."""
        return tuple(m for m in self.missingness if m.flagged)

    @property
    def by_group(self):
        """One row per feature and group: n, share and (with a target) base rate."""
        import pandas as pd

        rates = {(b.feature, b.group): b.base_rate for b in self.base_rates}
        return pd.DataFrame([{**g.to_dict(), "base_rate": rates.get((g.feature, g.group))} for g in self.representation],
                            columns=["feature", "group", "n", "share", "base_rate"])

    def to_dict(self) -> dict:
        return {"representation": [g.to_dict() for g in self.representation],
                "base_rates": [b.to_dict() for b in self.base_rates],
                "base_rate_disparity": [d.to_dict() for d in self.base_rate_disparity],
                "missingness": [m.to_dict() for m in self.missingness],
                "min_group_size": self.min_group_size,
                "missing_gap_flag": self.missing_gap_flag}


def assess_data_bias(frame, *, sensitive_features, intersections=(), target=None, min_group_size: int = 30,
                     missing_gap_flag: float = 0.1, missing_values=()) -> DataBiasResult:
    """Representation, base rates and missingness per sensitive group, from the data alone.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data, including the sensitive feature columns.
    sensitive_features : sequence of str
        Columns whose values define groups. Group labels are ``str(value)``; a missing
        value is its own group, ``(missing)``.
    intersections : sequence of sequences of str, optional
        Combinations of sensitive features, named ``"a & b"``, groups ``"x & y"``.
    target : array-like of 0/1, optional
        The label aligned with ``frame`` (1 = positive); enables base rates. Missing
        labels (NaN) are left out of the base rates.
    min_group_size : int, default 30
        Groups smaller than this are reported but left out of the disparities and gaps.
    missing_gap_flag : float, default 0.1
        A column is flagged when its missing share differs between groups by at least this.
    missing_values : sequence, optional
        Values counted as missing besides nulls (e.g. ``"?"``); text is compared stripped.

    Returns
    -------
    DataBiasResult

    Raises
    ------
    DataError
        A sensitive feature is not a column, or the target is not 0/1 or not aligned.
    """
    import numpy as np
    import pandas as pd

    if len(frame) == 0:
        raise DataError("the data has no rows; data bias needs rows.")
    names = list(sensitive_features)
    for combo in intersections:
        names += [c for c in combo if c not in names]
    for column in names:
        if column not in frame.columns:
            raise DataError(f"sensitive feature '{column}' is not a column of the data; check sensitive_features.")
    labels = None
    if target is not None:
        labels = pd.to_numeric(pd.Series(np.asarray(target).ravel()), errors="coerce")
        if len(labels) != len(frame):
            raise DataError(f"the target has {len(labels)} values but the data {len(frame)} rows; align them.")
        if not labels.dropna().isin([0, 1]).all():
            raise DataError("the target must be 0/1 (1 = positive label); map it with the positive label first.")
        labels = labels.to_numpy(dtype=float)

    groupings = {f: _labels(frame[f]) for f in sensitive_features}
    for combo in intersections:
        parts = [_labels(frame[c]) for c in combo]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + " & " + part
        groupings[" & ".join(combo)] = joined

    missing = _missing_mask(frame, missing_values)
    columns_with_missing = [c for c in frame.columns if missing[c].any()]
    total = len(frame)
    representation, base_rates, disparities, missingness = [], [], [], []
    for feature, groups in groupings.items():
        codes, uniques = pd.factorize(groups, sort=True)
        counts = np.bincount(codes, minlength=len(uniques))
        order = np.argsort(-counts, kind="stable")
        eligible = counts >= min_group_size
        for i in order:
            representation.append(GroupShare(feature, str(uniques[i]), int(counts[i]), float(counts[i] / total)))
        if labels is not None:
            known = ~np.isnan(labels)
            labelled = np.bincount(codes[known], minlength=len(uniques))
            positives = np.bincount(codes[known], weights=labels[known], minlength=len(uniques))
            rates = np.where(labelled > 0, positives / np.maximum(labelled, 1), np.nan)
            for i in order:
                rate = None if np.isnan(rates[i]) else float(rates[i])
                base_rates.append(GroupBaseRate(feature, str(uniques[i]), int(counts[i]), rate))
            usable = rates[eligible & ~np.isnan(rates)]
            if len(usable) >= 2:
                high, low = float(usable.max()), float(usable.min())
                disparities.append(BaseRateDisparity(feature, high - low, low / high if high > 0 else None))
            else:
                disparities.append(BaseRateDisparity(feature, None, None))
        members = set(feature.split(" & "))
        for column in columns_with_missing:
            if str(column) in members:
                continue
            missing_counts = np.bincount(codes, weights=missing[column].to_numpy(dtype=float), minlength=len(uniques))
            shares = missing_counts / np.maximum(counts, 1)
            rates = {str(uniques[i]): float(shares[i]) for i in order}
            compared = shares[eligible]
            gap = float(compared.max() - compared.min()) if len(compared) >= 2 else 0.0
            missingness.append(ColumnMissingness(feature, str(column), rates, gap, gap >= missing_gap_flag))
    return DataBiasResult(features=tuple(groupings), representation=tuple(representation),
                          base_rates=tuple(base_rates), base_rate_disparity=tuple(disparities),
                          missingness=tuple(missingness), min_group_size=min_group_size,
                          missing_gap_flag=missing_gap_flag)


def _labels(series):
    """Group labels as the fairness engine writes them: ``str(value)`` (a whole float as an
    integer, since pandas turns an integer column with gaps into floats), ``(missing)`` for nulls."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.array([label_text(u) for u in uniques] + [MISSING_GROUP], dtype=object)
    return pd.Series(table[codes], index=series.index, dtype=object)


def label_text(value) -> str:
    """``str(value)``, except that a whole float reads as an integer (``2.0`` -> ``"2"``)."""
    import numpy as np

    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _missing_mask(frame, missing_values):
    mask = frame.isna()
    if missing_values:
        tokens = {str(v).strip() for v in missing_values}
        for column in frame.columns:
            series = frame[column]
            if series.dtype == object or str(series.dtype) in ("str", "string"):
                mask[column] = mask[column] | series.astype(str).str.strip().isin(tokens)
            else:
                mask[column] = mask[column] | series.isin([v for v in missing_values if not isinstance(v, str)])
    return mask
