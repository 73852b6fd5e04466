"""``audit diff``: what changed between two saved ``results.json`` files.

Comparing reads only the two documents; nothing is recomputed. A rule *regressed* when it did
not gate the old run and gates the new one (``pass -> fail`` is the common case; so are
``warn -> fail`` after a severity change, ``waived -> fail`` after a waiver expired, and a rule
that is new in the second file and gates there). The diff as a whole regressed when any rule
regressed or the verdict left ``passed``.

Numbers are compared on an absolute ``tolerance``: overall fairness metrics, per-group metrics,
disparities (difference and ratio), explanation importance shares, the contract's failing
values and every rule's observed value. Counts (``count``, group sizes) are left out of the
moves: their scale would drown the rates; new and vanished groups are listed on their own.

This module compares and returns frozen records (:class:`ResultsDiff`); it renders nothing.
:mod:`auditkit.report.diff_render` turns a diff into terminal text or Markdown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .metrics import AGGREGATES

__all__ = [
    "GroupPresence",
    "MetricMove",
    "ResultsDiff",
    "RuleChange",
    "diff_files",
    "diff_results",
]

GATING_STATUSES = ("fail", "error")
# A rule whose id stays but any of these changes was redefined (its old and new values may not compare).
DEFINITION_KEYS = ("metric", "feature", "threshold", "severity", "decide_on", "compare", "change_limits")


@dataclass(frozen=True)
class RuleChange:
    """One rule whose status or definition changed, or that exists in one file only.

    ``kind`` is ``changed``, ``added`` (only in the new file) or ``removed`` (only in the old).
    """

    id: str
    kind: str
    metric: str
    feature: str | None
    old_status: str | None
    new_status: str | None
    old_observed: float | None
    new_observed: float | None
    old_gating: bool
    new_gating: bool
    old_threshold: dict | None = None
    new_threshold: dict | None = None
    definition_changed: bool = False

    @property
    def regressed(self) -> bool:
        """It did not gate before (or did not exist) and gates now."""
        return self.new_gating and not self.old_gating

    @property
    def improved(self) -> bool:
        """It gated before and no longer does (removed rules included)."""
        return self.old_gating and not self.new_gating


@dataclass(frozen=True)
class MetricMove:
    """A number that moved by more than the tolerance, or became (un)defined.

    ``kind``: ``overall``, ``group``, ``disparity``, ``importance_share``, ``contract`` or
    ``rule``. ``name`` says which number within the kind (``tpr``, ``selection_rate ratio``).
    ``delta`` is ``new - old`` (``None`` when one side is undefined); ``overlap`` tells whether
    the two intervals still overlap, ``None`` unless both files have one.
    """

    kind: str
    name: str
    feature: str | None
    group: str | None
    old: float | None
    new: float | None
    old_ci: tuple[float, float] | None = None
    new_ci: tuple[float, float] | None = None
    small_group: bool = False  # a group below min_group_size in either file: noisy, listed last

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old

    @property
    def overlap(self) -> bool | None:
        if self.old_ci is None or self.new_ci is None:
            return None
        return self.old_ci[0] <= self.new_ci[1] and self.new_ci[0] <= self.old_ci[1]

    @property
    def label(self) -> str:
        scope = self.feature or ""
        if self.group is not None:
            scope = f"{scope}={self.group}"
        return f"{self.kind} {scope} {self.name}".replace("  ", " ").strip()


@dataclass(frozen=True)
class GroupPresence:
    """A group found in one results file only: new in the second, or vanished from it."""

    feature: str
    group: str
    n: int | None
    status: str | None = None


@dataclass(frozen=True)
class ResultsDiff:
    old_name: str
    new_name: str
    old_status: str
    new_status: str
    tolerance: float
    rule_changes: tuple[RuleChange, ...]
    metric_moves: tuple[MetricMove, ...]
    new_groups: tuple[GroupPresence, ...]
    vanished_groups: tuple[GroupPresence, ...]

    @property
    def verdict_changed(self) -> tuple[str, str] | None:
        """``(old status, new status)`` when the verdict changed, else ``None``."""
        return None if self.old_status == self.new_status else (self.old_status, self.new_status)

    @property
    def regressed(self) -> bool:
        return any(c.regressed for c in self.rule_changes) or (
            self.old_status == "passed" and self.new_status != "passed")

    @property
    def is_empty(self) -> bool:
        return not (self.rule_changes or self.metric_moves or self.new_groups or self.vanished_groups
                    or self.verdict_changed)

    @property
    def exit_code(self) -> int:
        """What ``audit diff`` exits with: 1 when the new results regressed, else 0."""
        return 1 if self.regressed else 0


# ---------------------------------------------------------------------------- comparing


def diff_files(old_path: str | Path, new_path: str | Path, *, tolerance: float = 0.01,
               all_metrics: bool = False) -> ResultsDiff:
    """Load two results files (validated against the results schema) and compare them.

    Raises
    ------
    DataError
        A file is missing, not JSON, or not an auditkit results file (the message names which
        file and, for a wrong value, its JSON key path).
    """
    from .errors import AuditkitError, DataError
    from .report.results_file import load_results
    from .sanitize import short_repr

    old, new = load_results(old_path), load_results(new_path)
    try:
        return diff_results(old, new, tolerance=tolerance, all_metrics=all_metrics)
    except AuditkitError:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence: both files passed the schema
        raise DataError(f"{old_path}, {new_path}: cannot be compared ({type(exc).__name__}: "
                        f"{short_repr(str(exc), 120)[1:-1]}); both files are valid results, so this is a bug in "
                        "auditkit: please report it with the two files (rerun with --debug for the traceback).") from exc


def diff_results(old: dict, new: dict, *, tolerance: float = 0.01, all_metrics: bool = False) -> ResultsDiff:
    """Compare two results documents (the ``to_dict()`` of two audits, or two results.json).

    Parameters
    ----------
    old, new : dict
        The baseline and the candidate results.
    tolerance : float
        Absolute change a number must exceed to count as moved.
    all_metrics : bool
        Compare every per-group metric and disparity. By default only the policy's
        ``fairness.metrics`` and the metrics its rules are built on are compared per group
        (``tnr`` mirrors ``fpr``, ``fnr`` mirrors ``tpr``...); overall metrics are always all compared.
    """
    if not (isinstance(tolerance, (int, float)) and tolerance >= 0 and math.isfinite(tolerance)):
        from .errors import AuditkitError

        raise AuditkitError(f"tolerance {tolerance!r} is not a non-negative number; pass e.g. --tolerance 0.01.")
    old_groups, new_groups = _groups(old), _groups(new)
    focus = None if all_metrics else _focus_metrics(old, new)
    moves = [*_rule_moves(old, new), *_overall_moves(old, new), *_group_metric_moves(old, new, focus),
             *_disparity_moves(old, new, focus), *_importance_moves(old, new), *_contract_moves(old, new)]
    moves = [m for m in moves if _moved(m, tolerance)]
    moves.sort(key=lambda m: (m.small_group, m.delta is None, -abs(m.delta or 0.0), m.kind, m.label))
    return ResultsDiff(
        old_name=str(_get(old, "policy", "name") or "audit"),
        new_name=str(_get(new, "policy", "name") or "audit"),
        old_status=str(old.get("status")), new_status=str(new.get("status")),
        tolerance=float(tolerance),
        rule_changes=tuple(_rule_changes(old, new)),
        metric_moves=tuple(moves),
        new_groups=tuple(g for key, g in new_groups.items() if key not in old_groups),
        vanished_groups=tuple(g for key, g in old_groups.items() if key not in new_groups),
    )


def _rule_changes(old: dict, new: dict) -> list[RuleChange]:
    before = {r.get("id"): r for r in old.get("rules") or []}
    after = {r.get("id"): r for r in new.get("rules") or []}
    changes = []
    for rule_id, a in after.items():
        b = before.get(rule_id)
        if b is None:
            changes.append(_change(rule_id, "added", None, a))
            continue
        definition = any(b.get(k) != a.get(k) for k in DEFINITION_KEYS)
        if b.get("status") != a.get("status") or bool(b.get("gating")) != bool(a.get("gating")) or definition:
            changes.append(_change(rule_id, "changed", b, a, definition_changed=definition))
    changes.extend(_change(rule_id, "removed", b, None) for rule_id, b in before.items() if rule_id not in after)
    return changes


def _change(rule_id, kind: str, b: dict | None, a: dict | None, *, definition_changed: bool = False) -> RuleChange:
    latest = a or b
    return RuleChange(
        id=str(rule_id), kind=kind, metric=str(latest.get("metric")), feature=latest.get("feature"),
        old_status=b.get("status") if b else None, new_status=a.get("status") if a else None,
        old_observed=_number(b.get("observed")) if b else None, new_observed=_number(a.get("observed")) if a else None,
        old_gating=_gates(b), new_gating=_gates(a),
        old_threshold=b.get("threshold") if b else None, new_threshold=a.get("threshold") if a else None,
        definition_changed=definition_changed,
    )


def _gates(rule: dict | None) -> bool:
    if rule is None:
        return False
    if "gating" in rule:
        return bool(rule["gating"])
    return rule.get("status") in GATING_STATUSES


def _rule_moves(old: dict, new: dict):
    before = {r.get("id"): r for r in old.get("rules") or []}
    for rule in new.get("rules") or []:
        b = before.get(rule.get("id"))
        if b is None or any(b.get(k) != rule.get(k) for k in ("metric", "feature", "compare")):
            continue
        yield MetricMove("rule", str(rule.get("id")), rule.get("feature"), rule.get("group"),
                         _number(b.get("observed")), _number(rule.get("observed")), _ci(b.get("ci")), _ci(rule.get("ci")))


def _overall_moves(old: dict, new: dict):
    fo, fn = old.get("fairness") or {}, new.get("fairness") or {}
    a, b = fo.get("overall") or {}, fn.get("overall") or {}
    ca, cb = fo.get("overall_ci") or {}, fn.get("overall_ci") or {}
    for metric in a:
        if metric in b and metric != "count":
            yield MetricMove("overall", metric, None, None, _number(a[metric]), _number(b[metric]),
                             _ci(ca.get(metric)), _ci(cb.get(metric)))


def _groups(results: dict) -> dict[tuple[str, str], GroupPresence]:
    out = {}
    for g in (results.get("fairness") or {}).get("groups") or []:
        key = (str(g.get("feature")), str(g.get("group")))
        n = g.get("n")
        out[key] = GroupPresence(key[0], key[1], int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) else None,
                               g.get("status"))
    return out


def _focus_metrics(old: dict, new: dict) -> set[str]:
    """The per-group metrics worth comparing: the policy's focus list and what its rules use."""
    focus: set[str] = set()
    for doc in (old, new):
        focus.update(str(m) for m in (doc.get("fairness") or {}).get("metrics") or [])
        for rule in doc.get("rules") or []:
            metric = str(rule.get("metric"))
            base = metric.rsplit("_", 1)[0] if metric.endswith(("_difference", "_ratio")) else metric
            focus.update(AGGREGATES.get(base, (base,)))
    return focus


def _group_metric_moves(old: dict, new: dict, focus: set[str] | None):
    before = {(str(g.get("feature")), str(g.get("group"))): g for g in (old.get("fairness") or {}).get("groups") or []}
    for g in (new.get("fairness") or {}).get("groups") or []:
        key = (str(g.get("feature")), str(g.get("group")))
        b = before.get(key)
        if b is None:
            continue
        ma, mb = b.get("metrics") or {}, g.get("metrics") or {}
        ca, cb = b.get("ci") or {}, g.get("ci") or {}
        small = b.get("status", "ok") != "ok" or g.get("status", "ok") != "ok"
        for metric in ma:
            if metric in mb and metric != "count" and (focus is None or metric in focus):
                yield MetricMove("group", metric, key[0], key[1], _number(ma[metric]), _number(mb[metric]),
                                 _ci(ca.get(metric)), _ci(cb.get(metric)), small_group=small)


def _disparity_moves(old: dict, new: dict, focus: set[str] | None):
    before = {(str(d.get("feature")), str(d.get("metric"))): d for d in (old.get("fairness") or {}).get("disparities") or []}
    for d in (new.get("fairness") or {}).get("disparities") or []:
        key = (str(d.get("feature")), str(d.get("metric")))
        b = before.get(key)
        if b is None or key[1] == "count":
            continue
        if focus is not None and key[1] not in focus and key[1] not in AGGREGATES:
            continue
        for side in ("difference", "ratio"):
            yield MetricMove("disparity", f"{key[1]} {side}", key[0], None, _number(b.get(side)), _number(d.get(side)),
                             _ci(b.get(f"{side}_ci")), _ci(d.get(f"{side}_ci")))


def _importance_moves(old: dict, new: dict):
    ea, eb = old.get("explanations") or {}, new.get("explanations") or {}
    if ea.get("status") != "ok" or eb.get("status") != "ok":
        return
    before = {str(r.get("feature")): r for r in ea.get("importance") or []}
    for r in eb.get("importance") or []:
        b = before.get(str(r.get("feature")))
        if b is not None:
            yield MetricMove("importance_share", "share", str(r.get("feature")), None,
                             _number(b.get("share")), _number(r.get("share")))


def _contract_moves(old: dict, new: dict):
    ca, cb = old.get("contract"), new.get("contract")
    if isinstance(ca, dict) and isinstance(cb, dict):
        yield MetricMove("contract", "failing values", None, None, _contract_failures(ca), _contract_failures(cb))


def _contract_failures(contract: dict) -> float | None:
    total = _number(contract.get("total_failures"))
    if total is None:
        total = float(sum(_number(v.get("failure_count")) or 0 for v in contract.get("violations") or []))
    return total


def _moved(move: MetricMove, tolerance: float) -> bool:
    if move.old is None and move.new is None:
        return False
    if move.old is None or move.new is None:
        return True  # became defined or undefined
    return abs(move.new - move.old) > tolerance


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _ci(value) -> tuple[float, float] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    lo, hi = _number(value[0]), _number(value[1])
    return (lo, hi) if lo is not None and hi is not None else None


def _get(d: dict, *keys):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d
