"""Adverse impact: the four-fifths rule of 29 CFR 1607.4(D), with its statistical companion.

For each sensitive feature (and intersection), every group's selection rate is divided by the
rate of the group selected most often among the groups with enough rows (the impact ratio).
Beside the ratio sit

* its interval: Koopman's asymptotic score interval of a ratio of two proportions (the set of
  ratios the score test does not reject). It always contains the reported ratio, its lower
  bound is 0 when a group has no selections, and it needs no continuity correction;
* Fisher's exact test of the 2x2 table (selected / not selected by group vs reference),
  two-sided p-value (``scipy.stats.fisher_exact``);
* the pooled two-proportion z-test, ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))``
  with ``p`` the pooled rate, two-sided p-value;
* optionally (``adjust="holm"``), Holm-Bonferroni adjusted p-values across the groups of a
  feature compared with its reference.

Individuals whose category is unknown — a missing value, or one of ``unknown_values`` (the
same definition as the LL144 tables of the nyc-ll144 pack) — are counted and disclosed per
feature (``FeatureImpact.unknown``) but are never judged and never the reference. For an
intersection, a row is unknown when any of its parts is.

Everything is computed from count tables (rows and selections per combination of a feature's
values, :meth:`auditkit.packs.PackInputs.group_counts`), with groups labelled as the fairness
engine labels them (:func:`auditkit.fairness.code_groups`). Judging a rule (which test counts,
at which level) is :func:`judge_group`; the numbers here do not depend on the rule. See
``docs/packs.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    import pandas as pd

    from .._plugin import PackInputs

__all__ = [
    "ADJUSTMENTS",
    "AdverseImpactResult",
    "FeatureImpact",
    "GroupImpact",
    "GroupJudgement",
    "UnknownImpact",
    "assess_adverse_impact",
    "count_tables",
    "fisher_p_value",
    "holm_adjust",
    "impact_from_counts",
    "judge_group",
    "ratio_interval",
    "z_test",
]

ADJUSTMENTS = ("none", "holm")
INTERVAL_METHOD = "Koopman asymptotic score interval of the ratio of two proportions"


@dataclass(frozen=True)
class GroupImpact:
    """One group's selections against the reference (most selected) group."""

    group: str
    n: int
    selected: int
    selection_rate: float | None
    status: str  # ok | insufficient_data
    is_reference: bool
    impact_ratio: float | None
    ci: tuple[float, float] | None
    fisher_p: float | None
    z: float | None
    z_p: float | None
    # Holm-adjusted p-values across the feature's judged groups (None unless adjust="holm")
    fisher_p_adjusted: float | None = None
    z_p_adjusted: float | None = None

    def to_dict(self) -> dict:
        return {"group": self.group, "n": self.n, "selected": self.selected, "selection_rate": self.selection_rate,
                "status": self.status, "is_reference": self.is_reference, "impact_ratio": self.impact_ratio,
                "ci": list(self.ci) if self.ci else None, "fisher_p": self.fisher_p, "z": self.z, "z_p": self.z_p,
                "fisher_p_adjusted": self.fisher_p_adjusted, "z_p_adjusted": self.z_p_adjusted}


@dataclass(frozen=True)
class UnknownImpact:
    """Individuals of unknown category for one feature: counted and disclosed, never judged."""

    n: int
    selected: int
    values: tuple[tuple[str, int, int], ...] = ()  # (group label, n, selected), e.g. ("(missing)", 58, 25)

    @property
    def selection_rate(self) -> float | None:
        return self.selected / self.n if self.n else None

    def to_dict(self) -> dict:
        return {"n": self.n, "selected": self.selected, "selection_rate": self.selection_rate,
                "values": [{"group": label, "n": n, "selected": s, "selection_rate": s / n}
                           for label, n, s in self.values]}


@dataclass(frozen=True)
class FeatureImpact:
    feature: str
    reference_group: str | None
    reference_rate: float | None
    groups: tuple[GroupImpact, ...]
    reason: str | None = None  # why no ratio could be computed
    unknown: UnknownImpact = UnknownImpact(0, 0)
    adjust: str = "none"

    def to_dict(self) -> dict:
        return {"feature": self.feature, "reference_group": self.reference_group,
                "reference_rate": self.reference_rate, "reason": self.reason,
                "groups": [g.to_dict() for g in self.groups], "unknown": self.unknown.to_dict()}


@dataclass(frozen=True)
class AdverseImpactResult:
    features: tuple[FeatureImpact, ...]
    min_group_size: int
    confidence: float
    unknown_values: tuple[str, ...] = ()
    adjust: str = "none"

    def feature(self, name: str) -> FeatureImpact:
        for f in self.features:
            if f.feature == name:
                return f
        raise KeyError(f"'{name}' was not assessed for adverse impact")

    def to_dict(self) -> dict:
        return {"min_group_size": self.min_group_size, "confidence": self.confidence,
                "interval_method": INTERVAL_METHOD, "adjust": self.adjust,
                "unknown_values": list(self.unknown_values),
                "features": [f.to_dict() for f in self.features]}


# ---------------------------------------------------------------- the statistics


def _score_z(theta: float, a: int, n1: int, b: int, n2: int) -> float:
    """Score statistic of H0: p1 / p2 = theta (Koopman 1984; Miettinen & Nurminen 1985 without
    their n / (n - 1) factor): ``(p1^ - theta p2^) / sqrt(p1~ (1 - p1~) / n1 + theta^2 p2~ (1 - p2~) / n2)``,
    with p1~ = theta p2~ the maximum-likelihood proportions under H0. Decreasing in theta."""
    p1_hat, p2_hat = a / n1, b / n2
    # p2~ is the smaller root of N theta p^2 - (n1 theta + a + n2 + b theta) p + (a + b) = 0,
    # written as 2c / (-B + sqrt(B^2 - 4AC)) so that it stays accurate as theta -> 0.
    big_a = (n1 + n2) * theta
    minus_b = n1 * theta + a + n2 + b * theta
    c = a + b
    p2 = 2 * c / (minus_b + math.sqrt(max(minus_b * minus_b - 4 * big_a * c, 0.0)))
    p2 = min(max(p2, 0.0), 1.0)
    p1 = min(theta * p2, 1.0)
    numerator = p1_hat - theta * p2_hat
    variance = p1 * (1 - p1) / n1 + theta * theta * p2 * (1 - p2) / n2
    if variance <= 0:
        return 0.0 if abs(numerator) < 1e-15 else math.copysign(math.inf, numerator)
    return numerator / math.sqrt(variance)


def _solve_log(f, start: float, step: float) -> float:
    """The theta where ``f`` (decreasing in theta, sign change bracketed by stepping) is 0."""
    from scipy.optimize import brentq

    here = math.log(start)
    f_here = f(here)
    for _ in range(2000):
        there = here + step
        f_there = f(there)
        if (f_here > 0) != (f_there > 0) or f_there == 0:
            lo, hi = sorted((here, there))
            return math.exp(brentq(f, lo, hi, xtol=1e-13, rtol=1e-13, maxiter=500))
        here, f_here = there, f_there
    raise ArithmeticError("the score interval did not converge")  # pragma: no cover


def ratio_interval(a: int, n1: int, b: int, n2: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Koopman's score interval of the ratio (a/n1) / (b/n2); None when the ratio is undefined
    (a group is empty, or the reference rate b/n2 is 0).

    The interval is every ratio theta that the score test of H0: p1/p2 = theta does not reject
    at ``1 - confidence``; the observed ratio has score 0, so the interval always contains it.
    With ``a = 0`` the lower bound is exactly 0. Equal to
    ``statsmodels.stats.proportion.confint_proportions_2indep(a, n1, b, n2, method="score",
    compare="ratio", correction=False)`` (Nam's closed form).
    """
    from scipy.stats import norm

    if n1 <= 0 or n2 <= 0 or b == 0:
        return None
    crit = float(norm.ppf(0.5 + confidence / 2))
    ratio = (a / n1) / (b / n2)

    def lower_eq(u):  # > 0 below the lower bound, < 0 above it
        return _score_z(math.exp(u), a, n1, b, n2) - crit

    def upper_eq(u):  # > 0 below the upper bound, < 0 above it
        return _score_z(math.exp(u), a, n1, b, n2) + crit

    if a == 0:
        lower = 0.0
        start = (0.5 / n1) / (b / n2)  # where to begin looking for the upper bound
        upper = _solve_log(upper_eq, start, 0.5 if upper_eq(math.log(start)) > 0 else -0.5)
    else:
        lower = _solve_log(lower_eq, ratio, -0.5)
        upper = _solve_log(upper_eq, ratio, 0.5)
    # the observed ratio's score is 0, so it lies inside; guard the last ulp of the root finder
    return (min(lower, ratio), max(upper, ratio))


def fisher_p_value(a: int, n1: int, b: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test of [[a, n1 - a], [b, n2 - b]]."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[a, n1 - a], [b, n2 - b]], alternative="two-sided").pvalue)


def z_test(a: int, n1: int, b: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z statistic of a/n1 - b/n2 and its two-sided p-value."""
    from scipy.stats import norm

    pooled = (a + b) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (a / n1 - b / n2) / se
    return float(z), float(2 * norm.sf(abs(z)))


def holm_adjust(p_values) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given.

    Sorted ascending, the i-th smallest of m p-values becomes ``max over j <= i of
    min(1, (m - j + 1) p_(j))``; rejecting where the adjusted value is below alpha keeps the
    familywise error rate at alpha (Holm 1979).
    """
    p = [float(x) for x in p_values]
    m = len(p)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda k: p[k])):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


# ---------------------------------------------------------------- assessment


def count_tables(inputs: "PackInputs", features: Sequence[str], intersections=()) -> dict[str, "pd.DataFrame"]:
    """The count table of every feature and intersection (selections: the model's decisions),
    by the name results give it (``sex``, ``sex & age_group``)."""
    tables = {}
    for parts in [(f,) for f in features] + [tuple(str(p) for p in i) for i in intersections]:
        name = " & ".join(parts)
        if name not in tables:
            tables[name] = inputs.group_counts(list(parts), flag="decision")
    return tables


def impact_from_counts(tables: Mapping[str, "pd.DataFrame"], *, min_group_size: int = 30, confidence: float = 0.95,
                       unknown_values=(), adjust: str = "none") -> AdverseImpactResult:
    """Impact ratios, intervals and both significance tests for every feature and intersection.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Per feature (or intersection, named ``a & b``), its count table: the feature's column
        (an intersection's columns, in order), ``n`` and ``hits`` (selected rows), one row per
        combination of values, missing values included (:func:`count_tables`).
    min_group_size : int
        Groups with fewer rows are reported but neither judged nor used as the reference.
    confidence : float
        Coverage of the ratio intervals.
    unknown_values : sequence of str
        Values meaning "unknown" besides missing values (which form the group ``(missing)``
        and are always unknown). Unknown rows are counted per feature and never judged.
    adjust : {"none", "holm"}
        Multiple-comparison adjustment of the p-values across a feature's judged groups.
    """
    from ...fairness import MISSING_GROUP

    if adjust not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {', '.join(ADJUSTMENTS)}, not {adjust!r}")
    unknown = {str(u) for u in unknown_values} | {MISSING_GROUP}
    features = tuple(_feature_from_counts(name, table, unknown, min_group_size, confidence, adjust)
                     for name, table in tables.items())
    return AdverseImpactResult(features=features, min_group_size=min_group_size, confidence=confidence,
                               unknown_values=tuple(sorted(str(u) for u in unknown_values)), adjust=adjust)


def assess_adverse_impact(y_pred, sensitive_features, *, intersections=(), min_group_size: int = 30,
                          confidence: float = 0.95, unknown_values=(), adjust: str = "none") -> AdverseImpactResult:
    """:func:`impact_from_counts` of rows in memory.

    Parameters
    ----------
    y_pred : array-like of 0/1
        The model's decisions (1 = selected, the favourable outcome).
    sensitive_features : DataFrame
        One column per sensitive feature.
    intersections : sequence of tuples of column names
    min_group_size, confidence, unknown_values, adjust
        As :func:`impact_from_counts`.
    """
    from .._frame import FrameInputs

    frame = sensitive_features.rename(columns=str)
    tables = count_tables(FrameInputs(frame=frame, decisions=y_pred), list(frame.columns), intersections)
    return impact_from_counts(tables, min_group_size=min_group_size, confidence=confidence,
                              unknown_values=unknown_values, adjust=adjust)


def _feature_from_counts(name: str, table: "pd.DataFrame", unknown: set[str], min_group_size: int,
                         confidence: float, adjust: str) -> FeatureImpact:
    """One feature's groups from its count table, labelled and ordered as the fairness engine does."""
    import numpy as np

    from ...fairness import code_groups

    parts = [c for c in table.columns if c not in ("n", "hits")]
    codings = code_groups(table[parts], [tuple(parts)] if len(parts) > 1 else [], n_rows=len(table))
    coding = codings[-1]  # the feature itself, or the intersection after its parts
    # a count row is of unknown category when any part's label is (a missing value is "(missing)")
    is_unknown = np.logical_or.reduce([np.array([label in unknown for label in part.labels], dtype=bool)[part.codes]
                                       for part in codings[:len(parts)]])
    rows, hits = table["n"].to_numpy(dtype=np.int64), table["hits"].to_numpy(dtype=np.int64)
    k = len(coding.labels)

    def per_label(values, where):
        total = np.zeros(k, dtype=np.int64)
        np.add.at(total, coding.codes[where], values[where])
        return total

    unknown_counts, unknown_hits = per_label(rows, is_unknown), per_label(hits, is_unknown)
    return _feature(name, coding.labels, per_label(rows, ~is_unknown), per_label(hits, ~is_unknown),
                    unknown_counts, unknown_hits, min_group_size, confidence, adjust)


def _feature(name, labels, counts, hits, unknown_counts, unknown_hits, min_group_size, confidence,
             adjust="none") -> FeatureImpact:
    rows = [(str(label), int(n), int(s)) for label, n, s in zip(labels, counts, hits) if n > 0]
    unknown_values = tuple((str(label), int(n), int(s)) for label, n, s in zip(labels, unknown_counts, unknown_hits)
                           if n > 0)
    unknown = UnknownImpact(n=sum(v[1] for v in unknown_values), selected=sum(v[2] for v in unknown_values),
                            values=unknown_values)
    eligible = [r for r in rows if r[1] >= min_group_size]
    reference = max(eligible, key=lambda r: r[2] / r[1]) if eligible else None
    reason = None
    if not rows:
        reason = "every row's category is unknown" if unknown.n else "there are no rows"
    elif reference is None:
        reason = f"no group of known category has at least {min_group_size} rows"
    elif reference[2] == 0:
        reason = "no group with enough rows has any selection, so no ratio is defined"
    groups = []
    for label, n, s in rows:
        rate = s / n
        status = "ok" if n >= min_group_size else "insufficient_data"
        is_ref = reference is not None and label == reference[0]
        ratio = ci = fisher = z = z_p = None
        if reason is None:
            _, n2, b = reference
            ratio = rate / (b / n2)
            ci = None if is_ref else ratio_interval(s, n, b, n2, confidence)
            if is_ref:
                fisher, z, z_p = 1.0, 0.0, 1.0
            else:
                fisher = fisher_p_value(s, n, b, n2)
                z, z_p = z_test(s, n, b, n2)
        groups.append(GroupImpact(group=label, n=n, selected=s, selection_rate=rate, status=status, is_reference=is_ref,
                                  impact_ratio=ratio, ci=ci, fisher_p=fisher, z=z, z_p=z_p))
    if adjust == "holm" and reason is None:
        family = [i for i, g in enumerate(groups) if g.status == "ok" and not g.is_reference]
        fisher_adj = holm_adjust([groups[i].fisher_p for i in family])
        z_adj = holm_adjust([groups[i].z_p for i in family])
        for i, fa, za in zip(family, fisher_adj, z_adj):
            g = groups[i]
            groups[i] = GroupImpact(**{**g.__dict__, "fisher_p_adjusted": fa, "z_p_adjusted": za})
    return FeatureImpact(feature=name, reference_group=reference[0] if reference else None,
                         reference_rate=(reference[2] / reference[1]) if reference else None,
                         groups=tuple(groups), reason=reason, unknown=unknown, adjust=adjust)


# ---------------------------------------------------------------- judging one group


@dataclass(frozen=True)
class GroupJudgement:
    group: str
    impact_ratio: float | None
    ci: tuple[float, float] | None
    p_value: float | None  # the test's p-value, unadjusted
    practical: str  # pass | fail | inconclusive
    statistical: str  # pass | fail
    verdict: str  # pass | fail | inconclusive
    driver: str | None  # practical | statistical | both | None (passed)
    counts: bool  # whether the practical / statistical result decides, per the rule's test
    p_adjusted: float | None = None  # Holm-adjusted p-value (what the statistical test compared with alpha)
    adjust: str = "none"

    def to_dict(self, g: GroupImpact, test_name: str) -> dict:
        return {"group": self.group, "n": g.n, "selected": g.selected, "selection_rate": g.selection_rate,
                "impact_ratio": self.impact_ratio, "ci": list(self.ci) if self.ci else None,
                "test": test_name, "p_value": self.p_value, "adjust": self.adjust, "p_adjusted": self.p_adjusted,
                "z": g.z, "practical": self.practical, "statistical": self.statistical, "verdict": self.verdict,
                "driver": self.driver}


def judge_group(g: GroupImpact, *, minimum: float, test: str, statistical_test: str, alpha: float,
                reference_rate: float, use_interval: bool = False, adjust: str = "none") -> GroupJudgement:
    """Apply a rule's tests to one group. ``test``: practical | statistical | both (either flags).

    With ``adjust="holm"`` the statistical test compares the group's Holm-adjusted p-value
    (computed across the feature's judged groups by :func:`impact_from_counts`) with ``alpha``.
    """
    p = g.fisher_p if statistical_test == "fisher" else g.z_p
    p_adjusted = None
    if adjust == "holm":
        p_adjusted = g.fisher_p_adjusted if statistical_test == "fisher" else g.z_p_adjusted
    decisive = p_adjusted if adjust == "holm" else p
    if use_interval and g.ci is not None:
        practical = "fail" if g.ci[1] < minimum else "pass" if g.ci[0] >= minimum else "inconclusive"
    else:
        practical = "fail" if g.impact_ratio < minimum else "pass"
    statistical = "fail" if (decisive is not None and decisive < alpha and g.selection_rate < reference_rate) else "pass"
    practical_counts = practical if test in ("practical", "both") else "pass"
    statistical_counts = statistical if test in ("statistical", "both") else "pass"
    flagged = [name for name, result in (("practical", practical_counts), ("statistical", statistical_counts))
               if result == "fail"]
    if flagged:
        verdict, driver = "fail", ("both" if len(flagged) == 2 else flagged[0])
    elif practical_counts == "inconclusive":
        verdict, driver = "inconclusive", "practical"
    else:
        verdict, driver = "pass", None
    return GroupJudgement(group=g.group, impact_ratio=g.impact_ratio, ci=g.ci, p_value=p, practical=practical,
                          statistical=statistical, verdict=verdict, driver=driver, counts=True,
                          p_adjusted=p_adjusted, adjust=adjust)
