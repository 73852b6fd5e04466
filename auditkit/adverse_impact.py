"""Adverse impact: the four-fifths rule of 29 CFR 1607.4(D), with its statistical companion.

For each sensitive feature (and intersection), every group's selection rate is divided by the
rate of the group selected most often among the groups with enough rows (the impact ratio).
Beside the ratio sit

* its interval: the Katz log interval of a ratio of two proportions,
  ``exp(ln(r) +/- z * sqrt(1/a - 1/n1 + 1/b - 1/n2))``, with one half added to every cell
  (Haldane-Anscombe) when a group has no selections or no rejections;
* Fisher's exact test of the 2x2 table (selected / not selected by group vs reference),
  two-sided p-value (``scipy.stats.fisher_exact``);
* the pooled two-proportion z-test, ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))``
  with ``p`` the pooled rate, two-sided p-value.

Judging a rule (which test counts, at which level) is :func:`judge_group`; the numbers here
do not depend on the rule. See ``docs/packs.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "AdverseImpactResult",
    "FeatureImpact",
    "GroupImpact",
    "GroupJudgement",
    "assess_adverse_impact",
    "fisher_p_value",
    "judge_group",
    "ratio_interval",
    "z_test",
]

TEST_NAMES = {"fisher": "Fisher's exact test", "z": "the two-proportion z-test"}


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

    def to_dict(self) -> dict:
        return {"group": self.group, "n": self.n, "selected": self.selected, "selection_rate": self.selection_rate,
                "status": self.status, "is_reference": self.is_reference, "impact_ratio": self.impact_ratio,
                "ci": list(self.ci) if self.ci else None, "fisher_p": self.fisher_p, "z": self.z, "z_p": self.z_p}


@dataclass(frozen=True)
class FeatureImpact:
    feature: str
    reference_group: str | None
    reference_rate: float | None
    groups: tuple[GroupImpact, ...]
    reason: str | None = None  # why no ratio could be computed

    def to_dict(self) -> dict:
        return {"feature": self.feature, "reference_group": self.reference_group,
                "reference_rate": self.reference_rate, "reason": self.reason,
                "groups": [g.to_dict() for g in self.groups]}


@dataclass(frozen=True)
class AdverseImpactResult:
    features: tuple[FeatureImpact, ...]
    min_group_size: int
    confidence: float

    def feature(self, name: str) -> FeatureImpact:
        for f in self.features:
            if f.feature == name:
                return f
        raise KeyError(f"'{name}' was not assessed for adverse impact")

    def to_dict(self) -> dict:
        return {"min_group_size": self.min_group_size, "confidence": self.confidence,
                "interval_method": "Katz log interval of the ratio of two proportions",
                "features": [f.to_dict() for f in self.features]}


# ---------------------------------------------------------------- the statistics


def ratio_interval(a: int, n1: int, b: int, n2: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Katz log interval of (a/n1) / (b/n2); None when the reference rate is 0."""
    from scipy.stats import norm

    if n1 == 0 or n2 == 0 or b == 0 and a == 0:
        return None
    if a in (0, n1) or b in (0, n2):
        a, b, n1, n2 = a + 0.5, b + 0.5, n1 + 1, n2 + 1
    ratio = (a / n1) / (b / n2)
    se = math.sqrt(max(1 / a - 1 / n1 + 1 / b - 1 / n2, 0.0))
    z = norm.ppf(0.5 + confidence / 2)
    return (math.exp(math.log(ratio) - z * se), math.exp(math.log(ratio) + z * se))


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


# ---------------------------------------------------------------- assessment


def assess_adverse_impact(y_pred, sensitive_features, *, intersections=(), min_group_size: int = 30,
                          confidence: float = 0.95) -> AdverseImpactResult:
    """Impact ratios, intervals and both significance tests for every feature and intersection.

    Parameters
    ----------
    y_pred : array-like of 0/1
        The model's decisions (1 = selected, the favourable outcome).
    sensitive_features : DataFrame
        One column per sensitive feature; groups are labelled as by the fairness engine
        (missing values form the group ``(missing)``).
    intersections : sequence of tuples of column names
    min_group_size : int
        Groups with fewer rows are reported but neither judged nor used as the reference.
    confidence : float
        Coverage of the ratio intervals.
    """
    import numpy as np

    from .fairness._groups import code_groups

    y = np.asarray(y_pred).astype(int)
    codings = code_groups(sensitive_features, [tuple(i) for i in intersections], n_rows=len(y))
    features = []
    for coding in codings:
        counts = np.bincount(coding.codes, minlength=len(coding.labels))
        hits = np.bincount(coding.codes, weights=y, minlength=len(coding.labels)).astype(int)
        features.append(_feature(coding.name, coding.labels, counts, hits, min_group_size, confidence))
    return AdverseImpactResult(features=tuple(features), min_group_size=min_group_size, confidence=confidence)


def _feature(name, labels, counts, hits, min_group_size, confidence) -> FeatureImpact:
    rows = [(str(label), int(n), int(s)) for label, n, s in zip(labels, counts, hits) if n > 0]
    eligible = [r for r in rows if r[1] >= min_group_size]
    reference = max(eligible, key=lambda r: r[2] / r[1]) if eligible else None
    reason = None
    if reference is None:
        reason = f"no group has at least {min_group_size} rows"
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
    return FeatureImpact(feature=name, reference_group=reference[0] if reference else None,
                         reference_rate=(reference[2] / reference[1]) if reference else None,
                         groups=tuple(groups), reason=reason)


# ---------------------------------------------------------------- judging one group


@dataclass(frozen=True)
class GroupJudgement:
    group: str
    impact_ratio: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    practical: str  # pass | fail | inconclusive
    statistical: str  # pass | fail
    verdict: str  # pass | fail | inconclusive
    driver: str | None  # practical | statistical | both | None (passed)
    counts: bool  # whether the practical / statistical result decides, per the rule's test

    def to_dict(self, g: GroupImpact, test_name: str) -> dict:
        return {"group": self.group, "n": g.n, "selected": g.selected, "selection_rate": g.selection_rate,
                "impact_ratio": self.impact_ratio, "ci": list(self.ci) if self.ci else None,
                "test": test_name, "p_value": self.p_value, "z": g.z, "practical": self.practical,
                "statistical": self.statistical, "verdict": self.verdict, "driver": self.driver}


def judge_group(g: GroupImpact, *, minimum: float, test: str, statistical_test: str, alpha: float,
                reference_rate: float, use_interval: bool = False) -> GroupJudgement:
    """Apply a rule's tests to one group. ``test``: practical | statistical | both (either flags)."""
    p = g.fisher_p if statistical_test == "fisher" else g.z_p
    if use_interval and g.ci is not None:
        practical = "fail" if g.ci[1] < minimum else "pass" if g.ci[0] >= minimum else "inconclusive"
    else:
        practical = "fail" if g.impact_ratio < minimum else "pass"
    statistical = "fail" if (p is not None and p < alpha and g.selection_rate < reference_rate) else "pass"
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
                          statistical=statistical, verdict=verdict, driver=driver, counts=True)
