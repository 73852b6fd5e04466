"""Frozen results of the remedies search: one candidate per remedy, and the whole search."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Estimate", "RemedyCandidate", "RemedyResult", "RuleVerdict"]


@dataclass(frozen=True)
class Estimate:
    """A value with its bootstrap interval (``None`` where it cannot be computed)."""

    value: float | None
    ci: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return {"value": self.value, "ci": list(self.ci) if self.ci else None}


@dataclass(frozen=True)
class RuleVerdict:
    """How one rule the audit failed is judged with a candidate."""

    id: str
    status: str  # pass | fail | warn | inconclusive | error
    observed: float | None
    ci: tuple[float, float] | None
    gating: bool  # whether it would still block the release

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "observed": self.observed,
                "ci": list(self.ci) if self.ci else None, "gating": self.gating}


@dataclass(frozen=True)
class RemedyCandidate:
    """One candidate remedy, judged on rows it was not fitted on.

    Attributes
    ----------
    id, kind, title : str
        Identifier (``group-thresholds``), kind (``current``, ``single_threshold``,
        ``group_thresholds``, ``group_thresholds_randomized``, ``neutralize_proxy``,
        ``reweigh``) and plain-words title.
    group_aware : bool
        Whether people are treated differently by group (disparate treatment).
    deterministic : bool
        Whether identical applicants always get the same outcome.
    estimate : bool
        Whether the figures are an estimate of a change not made (proxy neutralisation).
    writable : bool
        Whether ``audit remedy`` can write it as a model file.
    parameters : dict
        What defines it (thresholds per group, the proxy replaced, the weights' source).
    accuracy, selection_rate : Estimate
        Overall, with intervals.
    accuracy_change, selection_rate_change : Estimate
        Against the audited model on the same rows (paired bootstrap).
    focus : Estimate
        The metric of the focus rule (the first failing fairness rule).
    rules : tuple of RuleVerdict
        Every rule the audit failed (or left inconclusive) that the candidate can change.
    passes : bool
        Whether none of those rules would block the release any more (each passes, or is
        inconclusive under ``on_inconclusive: warn``, or is a warning).
    lawful_use, how_to_apply : str
        Plain words.
    """

    id: str
    kind: str
    title: str
    group_aware: bool
    deterministic: bool
    estimate: bool
    writable: bool
    parameters: dict
    accuracy: Estimate
    selection_rate: Estimate
    accuracy_change: Estimate
    selection_rate_change: Estimate
    focus: Estimate
    rules: tuple[RuleVerdict, ...]
    passes: bool
    lawful_use: str
    how_to_apply: str

    def to_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "title": self.title, "group_aware": self.group_aware,
            "deterministic": self.deterministic, "estimate": self.estimate, "writable": self.writable,
            "parameters": _plain(self.parameters), "accuracy": self.accuracy.to_dict(),
            "selection_rate": self.selection_rate.to_dict(), "accuracy_change": self.accuracy_change.to_dict(),
            "selection_rate_change": self.selection_rate_change.to_dict(), "focus": self.focus.to_dict(),
            "rules": [r.to_dict() for r in self.rules], "passes": self.passes,
            "lawful_use": self.lawful_use, "how_to_apply": self.how_to_apply,
        }


@dataclass(frozen=True)
class RemedyResult:
    """The remedies search of one audit.

    ``models`` holds, by candidate id, the fitted object ``audit remedy`` writes (the wrapped
    or refitted model); it is not part of ``to_dict``.
    """

    triggered_by: tuple[str, ...]
    failing_rules: tuple[dict, ...]
    folds: int
    seed: int
    rows: int
    group_feature: str | None
    focus: dict | None
    candidates: tuple[RemedyCandidate, ...]
    sweep: dict | None
    notes: tuple[str, ...] = ()
    models: dict = field(default_factory=dict, repr=False, compare=False)

    def candidate(self, candidate_id: str) -> RemedyCandidate:
        """The candidate with this id (``KeyError`` naming the ids there are)."""
        for c in self.candidates:
            if c.id == candidate_id:
                return c
        raise KeyError(f"no remedy candidate {candidate_id!r}; candidates: {', '.join(c.id for c in self.candidates)}")

    def best(self) -> RemedyCandidate | None:
        """The candidate ``audit remedy`` writes by default: among writable candidates that
        clear every failing rule, one that treats everyone alike when there is one (group-aware
        candidates are disparate treatment), then the most accurate; None when none clears."""
        passing = [c for c in self.candidates if c.passes and c.writable]
        if not passing:
            return None
        return max(passing, key=lambda c: (not c.group_aware,
                                           c.accuracy.value if c.accuracy.value is not None else -1.0))

    def to_dict(self) -> dict:
        return {
            "triggered_by": list(self.triggered_by), "failing_rules": [dict(r) for r in self.failing_rules],
            "folds": self.folds, "seed": self.seed, "rows": self.rows, "group_feature": self.group_feature,
            "focus": dict(self.focus) if self.focus else None,
            "candidates": [c.to_dict() for c in self.candidates],
            "sweep": _plain(self.sweep) if self.sweep else None, "notes": list(self.notes),
        }

    def to_frame(self):
        """One row per candidate: the table of the report, for notebooks."""
        import pandas as pd

        rows = []
        for c in self.candidates:
            row: dict[str, Any] = {
                "candidate": c.id, "kind": c.kind, "title": c.title, "passes": c.passes,
                "group_aware": c.group_aware, "deterministic": c.deterministic, "estimate": c.estimate,
                "accuracy": c.accuracy.value, "accuracy_change": c.accuracy_change.value,
                "accuracy_change_ci": c.accuracy_change.ci, "selection_rate": c.selection_rate.value,
                "selection_rate_change": c.selection_rate_change.value,
                "selection_rate_change_ci": c.selection_rate_change.ci, "focus": c.focus.value,
                "focus_ci": c.focus.ci,
            }
            for r in c.rules:
                row[f"rule:{r.id}"] = r.status
            rows.append(row)
        return pd.DataFrame(rows).set_index("candidate")

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()


def _plain(value):
    """Numbers and containers as JSON-ready Python values (numpy scalars and arrays too)."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
