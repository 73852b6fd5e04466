"""Bias in the data itself, before any model: who is in it, their outcomes, what is missing.

Three views per sensitive feature (and intersection), each defined in docs/contracts.md:

- representation: each group's row count and share of all rows;
- base rates: each group's share of positive labels, and the disparity between groups
  (difference and ratio over groups with at least ``min_group_size`` rows);
- missingness: for every column with missing values, the share missing in each group; a
  column whose gap between groups reaches ``missing_gap_flag`` is flagged.

With a declared reference population (the policy's ``population:``), a fourth view,
representativeness (:func:`assess_representativeness`), compares each feature's group shares
with the declared shares: Wilson intervals, observed/expected ratios and a Pearson chi-square
goodness-of-fit test. It is computed from the group row counts alone, so every engine gives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .errors import DataError

__all__ = ["DATA_BIAS_METRICS", "MISSING_GROUP", "DataBiasCounts", "DataBiasResult", "FeatureRepresentativeness",
           "GroupRepresentativeness", "Representativeness", "assess_data_bias", "assess_data_bias_from_counts",
           "assess_representativeness", "data_bias_counts", "label_codes", "label_text", "sensitive_columns",
           "wilson_interval", "with_representativeness"]

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
    representativeness: "Representativeness | None" = None  # with a declared population

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
                "missing_gap_flag": self.missing_gap_flag,
                # only with a declared population, so audits without one keep their results unchanged
                **({"representativeness": self.representativeness.to_dict()} if self.representativeness is not None else {})}


@dataclass(frozen=True)
class DataBiasCounts:
    """Everything data bias depends on, counted per combination of the sensitive values.

    Representation, base rates and missingness of every feature and intersection are sums
    of these counts over combinations, so an engine that counts them where the data live
    (:func:`auditkit.spark.data_bias_spark`) gets the same result from
    :func:`assess_data_bias_from_counts` as :func:`assess_data_bias` gets from rows.

    Attributes
    ----------
    columns : tuple of str
        The sensitive columns counted: every sensitive feature and intersection part.
    groups : tuple of tuple of str
        One entry per combination of values: each column's group label (:func:`label_text`
        of the value, :data:`MISSING_GROUP` for a missing one), in ``columns`` order. A
        combination may occur more than once; its counts add up.
    rows : numpy.ndarray
        int64, rows of each combination.
    labelled, positives : numpy.ndarray or None
        int64, rows with a known label and rows labelled 1; None without a target.
    missing : dict of str to numpy.ndarray
        For every data column with at least one missing value, in the data's column order:
        its missing values per combination (int64).
    """

    columns: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    rows: Any = field(repr=False)
    labelled: Any = field(default=None, repr=False)
    positives: Any = field(default=None, repr=False)
    missing: dict = field(default_factory=dict, repr=False)


def sensitive_columns(sensitive_features, intersections=()) -> list[str]:
    """The columns data bias groups by: the sensitive features, then intersection parts not among them."""
    names = list(sensitive_features)
    for combo in intersections:
        names += [c for c in combo if c not in names]
    return names


def data_bias_counts(frame, *, sensitive_features, intersections=(), target=None, missing_values=()) -> DataBiasCounts:
    """Count rows, labels and missing values per combination of the sensitive values.

    Parameters
    ----------
    frame, sensitive_features, intersections, target, missing_values
        As for :func:`assess_data_bias`.

    Returns
    -------
    DataBiasCounts

    Raises
    ------
    DataError
        No rows, a sensitive feature that is not a column, or a target that is not 0/1 or
        not aligned with the rows.
    """
    import numpy as np
    import pandas as pd

    if len(frame) == 0:
        raise DataError("the data has no rows; data bias needs rows.")
    names = sensitive_columns(sensitive_features, intersections)
    for column in names:
        if column not in frame.columns:
            raise DataError(f"sensitive feature '{column}' is not a column of the data; check sensitive_features.")
    labels = None
    if target is not None:
        labels = pd.to_numeric(pd.Series(np.asarray(target).ravel()), errors="coerce")
        if len(labels) != len(frame):
            raise DataError(f"the target has {len(labels)} values but the data {len(frame)} rows; align them.")
        labels = labels.to_numpy(dtype=float)
        if not np.isin(labels[~np.isnan(labels)], (0.0, 1.0)).all():
            raise DataError("the target must be 0/1 (1 = positive label); map it with the positive label first.")

    combined = np.zeros(len(frame), dtype=np.int64)
    distinct = 1  # combined is in [0, distinct)
    steps = []
    for column in names:
        codes, texts = label_codes(frame[column])
        # codes stay below the row count
        combined, keys = factorize_small(combined * len(texts) + codes, bound=distinct * len(texts))
        distinct = len(keys)
        steps.append((texts, keys))
    groups = _decode(steps)
    n_groups = len(groups)
    rows = np.bincount(combined, minlength=n_groups)
    labelled = positives = None
    if labels is not None:
        known = ~np.isnan(labels)
        labelled = np.bincount(combined[known], minlength=n_groups)
        positives = np.bincount(combined[known & (labels == 1.0)], minlength=n_groups)
    mask = _missing_mask(frame, missing_values)
    missing = {}
    for column in frame.columns:
        flags = mask[column].to_numpy(dtype=bool)
        if flags.any():
            missing[str(column)] = np.bincount(combined[flags], minlength=n_groups)
    return DataBiasCounts(columns=tuple(str(c) for c in names), groups=groups, rows=rows, labelled=labelled,
                          positives=positives, missing=missing)


def factorize_small(values, *, bound: int):
    """``pd.factorize(values)`` of integers in ``[0, bound)``: codes in order of first appearance.

    For a small ``bound`` the distinct values are counted with ``np.bincount`` and their first
    appearances found in a prefix of the rows (doubled until every value is seen), so the rows
    are read three times instead of hashed.
    """
    import numpy as np
    import pandas as pd

    values = np.asarray(values)
    if values.dtype.kind not in "iu" or bound > min(len(values), 1 << 16):
        return pd.factorize(values)
    values = values.astype(np.int64, copy=False)
    present = np.flatnonzero(np.bincount(values, minlength=bound))
    first = np.full(bound, len(values), dtype=np.int64)
    found, start, step = 0, 0, 1 << 16
    while found < len(present):
        chunk = values[start:start + step]
        distinct, at = np.unique(chunk, return_index=True)
        new = first[distinct] == len(values)
        first[distinct[new]] = at[new] + start
        found += int(new.sum())
        start, step = start + step, step * 2
    uniques = present[np.argsort(first[present], kind="stable")]
    table = np.zeros(bound, dtype=np.intp)
    table[uniques] = np.arange(len(uniques))
    return table[values], uniques


def label_codes(values):
    """Group labels of values, as codes into their distinct labels.

    Parameters
    ----------
    values : pandas.Series or array-like

    Returns
    -------
    (numpy.ndarray, list of str)
        Each value's code and the distinct labels: :func:`label_text` of the value,
        :data:`MISSING_GROUP` for a missing one (None, NaN, NaT, ``pd.NA``); values whose
        labels read the same (``1`` and ``"1"``) share a code.
    """
    import numpy as np
    import pandas as pd

    from .sensitive import factorize

    codes, uniques = factorize(values)  # shared with the other stages coding the same column
    texts = [label_text(u) for u in uniques] + [MISSING_GROUP]
    merged, distinct = pd.factorize(np.array(texts, dtype=object))  # 1 and "1" are one group, as their labels say
    return merged[codes], [str(t) for t in distinct]


def _decode(steps) -> tuple[tuple[str, ...], ...]:
    """The label tuple of every combination code made by :func:`data_bias_counts`.

    Each step is one column's distinct labels and the keys ``previous code * labels + label``
    that its factorisation numbered; walking the steps backwards splits a code into labels.
    """
    import numpy as np

    if not steps:
        return ((),)  # no sensitive column: every row is one combination
    current = np.arange(len(steps[-1][1]))
    parts = []
    for texts, keys in reversed(steps):
        current, part = np.divmod(np.asarray(keys)[current], len(texts))
        parts.append(np.asarray(texts, dtype=object)[part])
    return tuple(zip(*reversed(parts)))


def assess_data_bias_from_counts(counts: DataBiasCounts, *, sensitive_features, intersections=(),
                                 min_group_size: int = 30, missing_gap_flag: float = 0.1) -> DataBiasResult:
    """Representation, base rates and missingness per sensitive group, from :class:`DataBiasCounts`.

    Parameters
    ----------
    counts : DataBiasCounts
        From :func:`data_bias_counts` (rows) or a data engine that counts the same.
    sensitive_features, intersections, min_group_size, missing_gap_flag
        As for :func:`assess_data_bias`.

    Returns
    -------
    DataBiasResult

    Raises
    ------
    DataError
        The counts hold no row, or a sensitive feature was not counted.
    """
    import numpy as np
    import pandas as pd

    total = int(np.sum(counts.rows))
    if total == 0:
        raise DataError("the data has no rows; data bias needs rows.")
    position = {c: i for i, c in enumerate(counts.columns)}
    for column in sensitive_columns(sensitive_features, intersections):
        if column not in position:
            raise DataError(f"sensitive feature '{column}' is not a column of the data; check sensitive_features.")
    groupings = {f: [g[position[f]] for g in counts.groups] for f in sensitive_features}
    for combo in intersections:
        groupings[" & ".join(combo)] = [" & ".join(g[position[c]] for c in combo) for g in counts.groups]

    representation, base_rates, disparities, missingness = [], [], [], []
    for feature, labels in groupings.items():
        codes, uniques = pd.factorize(np.array(labels, dtype=object), sort=True)
        per_group = partial(_sum_per_group, codes, len(uniques))
        sizes = per_group(counts.rows)
        order = np.argsort(-sizes, kind="stable")
        eligible = sizes >= min_group_size
        for i in order:
            representation.append(GroupShare(feature, str(uniques[i]), int(sizes[i]), float(sizes[i] / total)))
        if counts.labelled is not None:
            labelled, positives = per_group(counts.labelled), per_group(counts.positives)
            rates = np.where(labelled > 0, positives / np.maximum(labelled, 1), np.nan)
            for i in order:
                rate = None if np.isnan(rates[i]) else float(rates[i])
                base_rates.append(GroupBaseRate(feature, str(uniques[i]), int(sizes[i]), rate))
            usable = rates[eligible & ~np.isnan(rates)]
            if len(usable) >= 2:
                high, low = float(usable.max()), float(usable.min())
                disparities.append(BaseRateDisparity(feature, high - low, low / high if high > 0 else None))
            else:
                disparities.append(BaseRateDisparity(feature, None, None))
        members = set(feature.split(" & "))
        for column, missing in counts.missing.items():
            if column in members:
                continue
            shares = per_group(missing) / np.maximum(sizes, 1)
            rates = {str(uniques[i]): float(shares[i]) for i in order}
            compared = shares[eligible]
            gap = float(compared.max() - compared.min()) if len(compared) >= 2 else 0.0
            missingness.append(ColumnMissingness(feature, column, rates, gap, gap >= missing_gap_flag))
    return DataBiasResult(features=tuple(groupings), representation=tuple(representation),
                          base_rates=tuple(base_rates), base_rate_disparity=tuple(disparities),
                          missingness=tuple(missingness), min_group_size=min_group_size,
                          missing_gap_flag=missing_gap_flag)


def _sum_per_group(codes, n_groups: int, values):
    """Sum of `values` (one per combination) per group code, as int64."""
    import numpy as np

    return np.bincount(codes, weights=values, minlength=n_groups).astype(np.int64)


def assess_data_bias(frame, *, sensitive_features, intersections=(), target=None, min_group_size: int = 30,
                     missing_gap_flag: float = 0.1, missing_values=()) -> DataBiasResult:
    """Representation, base rates and missingness per sensitive group, from the data alone.

    :func:`data_bias_counts` of the rows, then :func:`assess_data_bias_from_counts`.

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
    counts = data_bias_counts(frame, sensitive_features=sensitive_features, intersections=intersections,
                              target=target, missing_values=missing_values)
    return assess_data_bias_from_counts(counts, sensitive_features=sensitive_features, intersections=intersections,
                                        min_group_size=min_group_size, missing_gap_flag=missing_gap_flag)


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


# ---------------------------------------------------------------- representativeness

#: Confidence of the Wilson intervals of the observed shares.
REPRESENTATIVENESS_CONFIDENCE = 0.95


def wilson_interval(count: int, n: int, confidence: float = REPRESENTATIVENESS_CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of the proportion ``count / n`` (``n`` > 0).

    ``(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``z`` the normal quantile of
    ``(1 + confidence) / 2``; the same as statsmodels' ``proportion_confint(method="wilson")``.
    """
    import math
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = count / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class GroupRepresentativeness:
    """One group's observed share of the data against its declared share of the population."""

    group: str
    n: int
    share: float
    share_ci: tuple[float, float]
    expected_share: float | None  # None: a data group the declared population lacks
    ratio: float | None  # share / expected_share
    ratio_ci: tuple[float, float] | None  # the Wilson bounds divided by the expected share

    @property
    def declared(self) -> bool:
        return self.expected_share is not None

    def to_dict(self) -> dict:
        return {"group": self.group, "n": self.n, "share": self.share, "share_ci": list(self.share_ci),
                "expected_share": self.expected_share, "ratio": self.ratio,
                "ratio_ci": list(self.ratio_ci) if self.ratio_ci is not None else None,
                "declared": self.declared,
                "note": None if self.declared else "not in the declared population"}


@dataclass(frozen=True)
class FeatureRepresentativeness:
    """One sensitive feature's groups against the declared population, and the goodness of fit."""

    feature: str
    n: int
    groups: tuple[GroupRepresentativeness, ...]
    statistic: float | None  # Pearson chi-square; None when infinite (rows in undeclared groups)
    df: int
    p_value: float
    lowest_ratio: float
    lowest_ratio_ci: tuple[float, float]
    lowest_group: str
    undeclared_rows: int
    missing_groups: tuple[str, ...]  # declared groups with no row in the data
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"feature": self.feature, "n": self.n, "statistic": self.statistic, "df": self.df,
                "p_value": self.p_value, "lowest_ratio": self.lowest_ratio,
                "lowest_ratio_ci": list(self.lowest_ratio_ci), "lowest_group": self.lowest_group,
                "undeclared_rows": self.undeclared_rows, "missing_groups": list(self.missing_groups),
                "reason": self.reason, "groups": [g.to_dict() for g in self.groups]}


@dataclass(frozen=True)
class Representativeness:
    """Each declared feature's representation in the data against the declared population."""

    source: str
    confidence: float
    features: tuple[FeatureRepresentativeness, ...]

    def feature(self, name: str) -> FeatureRepresentativeness | None:
        return next((f for f in self.features if f.feature == name), None)

    def to_dict(self) -> dict:
        return {"source": self.source, "confidence": self.confidence,
                "test": "Pearson chi-square goodness of fit of the group counts to the declared shares",
                "interval": "Wilson score interval of each observed share",
                "features": [f.to_dict() for f in self.features]}


def assess_representativeness(result: DataBiasResult, population) -> Representativeness:
    """Each declared feature's group shares against the declared population's shares.

    Parameters
    ----------
    result : DataBiasResult
        Its ``representation`` (rows per group) is all this reads, so every engine gives the same.
    population : auditkit.policy.PopulationSpec
        ``source`` (text) and ``shares``: feature -> group -> declared share (each feature's
        shares sum to 1).

    Returns
    -------
    Representativeness
        Per group: rows, observed share with its Wilson interval, declared share, and their
        ratio (with the Wilson bounds divided by the declared share). Per feature: Pearson's
        chi-square statistic of the counts against ``n x`` declared shares, its degrees of
        freedom (cells - 1) and p-value, and the lowest ratio with its group. A declared group
        the data lack has 0 rows; rows in a group the population lacks are one more cell whose
        expected count is 0, so the statistic is infinite (reported as null) and the p-value 0:
        under the declared population those rows could not occur.

    Raises
    ------
    DataError
        A declared feature was not assessed.
    """
    from scipy.stats import chi2

    features = []
    for feature, declared in population.shares.items():
        if feature not in result.features:
            raise DataError(f"population.shares.{feature}: '{feature}' was not assessed for data bias; "
                            f"declare shares of a sensitive feature ({', '.join(result.features)}).")
        counts = {g.group: g.n for g in result.representation if g.feature == feature}
        total = sum(counts.values())
        groups = []
        statistic = 0.0
        for group, expected in declared.items():
            n = counts.get(group, 0)
            share = n / total
            low, high = wilson_interval(n, total)
            groups.append(GroupRepresentativeness(group, n, share, (low, high), float(expected), share / expected,
                                                  (low / expected, high / expected)))
            statistic += (n - total * expected) ** 2 / (total * expected)
        extra = [(g, n) for g, n in counts.items() if g not in declared]
        for group, n in extra:
            groups.append(GroupRepresentativeness(group, n, n / total, wilson_interval(n, total), None, None, None))
        undeclared = sum(n for _, n in extra)
        df = len(declared) - (0 if undeclared else 1)
        if undeclared:
            shown = ", ".join(g for g, _ in extra)
            value, p_value = None, 0.0
            reason = (f"{undeclared} rows are in groups the declared population does not have ({shown}); "
                      "under the declared population they could not occur, so the fit fails (p = 0); "
                      "declare their shares if they belong to the population")
        else:
            value, p_value, reason = float(statistic), float(chi2.sf(statistic, df)), None
        ranked = [g for g in groups if g.declared]
        lowest = min(ranked, key=lambda g: g.ratio)  # the first in declared order on ties
        features.append(FeatureRepresentativeness(
            feature=feature, n=total, groups=tuple(groups), statistic=value, df=df, p_value=p_value,
            lowest_ratio=lowest.ratio, lowest_ratio_ci=lowest.ratio_ci, lowest_group=lowest.group,
            undeclared_rows=undeclared, missing_groups=tuple(g.group for g in ranked if g.n == 0), reason=reason))
    return Representativeness(source=population.source, confidence=REPRESENTATIVENESS_CONFIDENCE,
                              features=tuple(features))


def with_representativeness(result: DataBiasResult | None, population) -> DataBiasResult | None:
    """``result`` with its representativeness against ``population`` (unchanged without one)."""
    from dataclasses import replace

    if result is None or population is None:
        return result
    return replace(result, representativeness=assess_representativeness(result, population))
