"""The audit of stated reasons: which reasons each group is told, whether each applicant's
reasons are stable when the baseline population is resampled, and whether a protected input is
ever stated. Read by the rules ``reason_share_difference``, ``reason_stability`` and
``reason_protected_share`` (docs/reasons.md)."""

from __future__ import annotations

from dataclasses import dataclass
from math import sqrt

import numpy as np
import pandas as pd

__all__ = ["ReasonsAudit", "audit_reasons", "wilson"]

#: Baselines resampled (other seeds) to measure the stability of each row's reasons.
RESAMPLES = 5
#: At most this many adverse decisions are explained (a seeded uniform sample beyond).
MAX_ROWS = 20_000


@dataclass(frozen=True)
class ReasonsAudit:
    """What the audit of reasons found; ``to_dict`` is the ``reasons`` key of results.json."""

    k: int
    baseline: str
    rows: int
    adverse: int
    explained: int
    output: str | None
    protected: tuple[str, ...]
    excluded: tuple[str, ...]
    allowed: tuple[str, ...]
    confidence: float
    overall: tuple[dict, ...]
    groups: tuple[dict, ...]
    disparities: tuple[dict, ...]
    stability: dict
    protected_stated: dict

    def disparity(self, feature: str) -> dict | None:
        """The reason whose share differs most between the groups of ``feature``."""
        return next((d for d in self.disparities if d["feature"] == feature), None)

    def to_dict(self) -> dict:
        return {
            "k": self.k, "baseline": self.baseline, "rows": self.rows, "adverse": self.adverse,
            "explained": self.explained, "sampled": self.explained < self.adverse, "output": self.output,
            "protected": list(self.protected), "excluded": list(self.excluded), "allowed": list(self.allowed),
            "confidence": self.confidence, "interval_method": "Wilson score interval; Newcombe's for differences",
            "overall": [dict(r) for r in self.overall], "groups": [dict(g) for g in self.groups],
            "disparities": [dict(d) for d in self.disparities], "stability": dict(self.stability),
            "protected_stated": dict(self.protected_stated),
        }


def audit_reasons(model, frame: pd.DataFrame, *, codes, k: int, baseline: str, positive_class, threshold: float,
                  sensitive: list[str], intersections, min_group_size: int, confidence: float = 0.95,
                  bootstrap: int = 1000, seed: int = 0, max_rows: int = MAX_ROWS) -> ReasonsAudit:
    """Explain the adverse decisions of ``frame`` (a seeded sample of ``max_rows`` beyond that),
    and measure the reasons' distribution per group, their stability and protected inputs stated.

    Raises
    ------
    AuditkitError, ExplanationError
        As :func:`auditkit.reasons`.
    """
    from ._api import _model_columns, positive_scores, reasons

    features = _model_columns(model, frame)
    scores = positive_scores(model, frame[features], positive_class)
    adverse = np.flatnonzero(scores < threshold)
    rng = np.random.default_rng(seed)
    chosen = adverse if len(adverse) <= max_rows else np.sort(rng.choice(adverse, size=max_rows, replace=False))
    mask = np.zeros(len(frame), dtype=bool)
    mask[chosen] = True

    def stated(run_seed: int) -> pd.DataFrame:
        return reasons(model, frame, k=k, baseline=baseline, codes=codes, rows=mask, positive_class=positive_class,
                       threshold=threshold, seed=run_seed)

    main = stated(seed)
    sets = _reason_sets(main, frame.index[chosen])
    others = [_reason_sets(stated(seed + 1 + r), frame.index[chosen]) for r in range(RESAMPLES)]
    statements = {c: codes.statement(c) for c in features}
    groupings = _groupings(frame.iloc[chosen], sensitive, intersections)
    z = _z(confidence)
    protected = tuple(c for c in codes.protected if c not in codes.allow)
    return ReasonsAudit(
        k=k, baseline=baseline, rows=len(frame), adverse=int(len(adverse)), explained=int(len(chosen)),
        output=main.attrs.get("output"), protected=protected,
        excluded=tuple(c for c in codes.exclude if c in features),
        allowed=tuple(c for c in codes.allow if c in features), confidence=confidence,
        overall=tuple(_shares(sets, statements, z)),
        groups=tuple(_group_shares(sets, groupings, statements, z)),
        disparities=tuple(_disparities(sets, groupings, statements, z, min_group_size)),
        stability=_stability(sets, others, confidence, bootstrap, seed),
        protected_stated=_protected_stated(sets, codes.protected, z),
    )


# ------------------------------------------------------------------------------- pieces


def _reason_sets(table: pd.DataFrame, index: pd.Index) -> list[frozenset]:
    """Each explained row's set of stated inputs, in the order of ``index``."""
    by_row = table.groupby("row", sort=False)["column"].agg(frozenset).to_dict() if len(table) else {}
    return [by_row.get(label, frozenset()) for label in index]


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def wilson(count: int, n: int, z: float) -> tuple[float, float] | None:
    """Wilson score interval of a proportion ``count / n``."""
    if n == 0:
        return None
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _newcombe(c1: int, n1: int, c2: int, n2: int, z: float) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval of the difference of two proportions (his method 10)."""
    i1, i2 = wilson(c1, n1, z), wilson(c2, n2, z)
    if i1 is None or i2 is None:
        return None
    p1, p2 = c1 / n1, c2 / n2
    d = p1 - p2
    low = d - sqrt((p1 - i1[0]) ** 2 + (i2[1] - p2) ** 2)
    high = d + sqrt((i1[1] - p1) ** 2 + (p2 - i2[0]) ** 2)
    return max(-1.0, low), min(1.0, high)


def _counts(sets: list[frozenset]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in sets:
        for column in s:
            counts[column] = counts.get(column, 0) + 1
    return counts


def _shares(sets, statements, z) -> list[dict]:
    """Share of the rows told each reason, most common first (ties by code)."""
    n = len(sets)
    counts = _counts(sets)
    out = []
    for column, count in sorted(counts.items(), key=lambda item: (-item[1], statements[item[0]][0])):
        code, statement = statements[column]
        ci = wilson(count, n, z)
        out.append({"code": code, "column": column, "statement": statement, "count": count,
                    "share": count / n if n else None, "ci": list(ci) if ci else None})
    return out


def _groupings(frame: pd.DataFrame, sensitive, intersections) -> list[tuple[str, np.ndarray]]:
    """(feature name, each row's group label) per sensitive feature and intersection."""
    from ..sensitive import GROUP_JOIN, group_labels

    out = [(c, group_labels(frame, [c])) for c in sensitive]
    out += [(GROUP_JOIN.join(combo), group_labels(frame, list(combo))) for combo in intersections
            if all(c in sensitive for c in combo)]
    return out


def _group_shares(sets, groupings, statements, z) -> list[dict]:
    out = []
    for feature, labels in groupings:
        for group in sorted(set(labels)):
            members = [s for s, label in zip(sets, labels) if label == group]
            out.append({"feature": feature, "group": str(group), "n": len(members),
                        "reasons": [{k: r[k] for k in ("code", "column", "count", "share", "ci")}
                                    for r in _shares(members, statements, z)]})
    return out


def _disparities(sets, groupings, statements, z, min_group_size) -> list[dict]:
    """Per feature, the reason whose share differs most between its groups of at least
    ``min_group_size`` explained rows, with Newcombe's interval of that difference."""
    out = []
    for feature, labels in groupings:
        groups = {}
        for group in sorted(set(labels)):
            members = [s for s, label in zip(sets, labels) if label == group]
            if len(members) >= min_group_size:
                groups[str(group)] = (len(members), _counts(members))
        if len(groups) < 2:
            out.append({"feature": feature, "code": None, "column": None, "statement": None, "difference": None,
                        "ci": None, "highest": None, "lowest": None,
                        "reason": f"fewer than two groups with at least {min_group_size} explained adverse decisions"})
            continue
        best = None
        for column in sorted({c for _, counts in groups.values() for c in counts}):
            shares = {g: counts.get(column, 0) / n for g, (n, counts) in groups.items()}
            high = max(shares, key=lambda g: (shares[g], g))
            low = min(shares, key=lambda g: (shares[g], g))
            difference = shares[high] - shares[low]
            if best is None or difference > best[0] + 1e-15:
                best = (difference, column, high, low)
        difference, column, high, low = best
        (n1, c1), (n2, c2) = groups[high], groups[low]
        ci = _newcombe(c1.get(column, 0), n1, c2.get(column, 0), n2, z)
        code, statement = statements[column]
        out.append({"feature": feature, "code": code, "column": column, "statement": statement,
                    "difference": difference, "ci": list(ci) if ci else None, "highest": high, "lowest": low,
                    "reason": None})
    return out


def _stability(sets, others, confidence, bootstrap, seed) -> dict:
    """Mean over rows of the Jaccard similarity between a row's reasons and its reasons under
    each resampled baseline; a percentile bootstrap over rows for the interval."""
    if not sets:
        return {"mean": None, "ci": None, "resamples": RESAMPLES, "share_identical": None, "method": _METHOD}
    per_row = np.array([np.mean([_jaccard(s, other[i]) for other in others]) for i, s in enumerate(sets)])
    identical = np.mean([all(other[i] == s for other in others) for i, s in enumerate(sets)])
    ci = None
    if bootstrap and len(per_row) > 1:
        rng = np.random.default_rng(seed)
        means = np.array([per_row[rng.integers(0, len(per_row), len(per_row))].mean() for _ in range(bootstrap)])
        alpha = (1 - confidence) / 2
        ci = [float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))]
    return {"mean": float(per_row.mean()), "ci": ci, "resamples": RESAMPLES, "share_identical": float(identical),
            "method": _METHOD}


_METHOD = (f"each decision's reasons re-computed against {RESAMPLES} other random samples of the baseline "
           "population; the Jaccard similarity of its reason sets, averaged")


def _jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _protected_stated(sets, protected, z) -> dict:
    protected = set(protected)
    count = sum(1 for s in sets if s & protected)
    n = len(sets)
    ci = wilson(count, n, z)
    return {"count": count, "share": count / n if n else None, "ci": list(ci) if ci else None}
