"""The immutable result of a candidate-versus-champion comparison and its views."""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field

import pandas as pd

from ._fairness_result import FairnessResult, MetricValue, _cell, _check_feature, _frame, _not_computed, _split, _tuple
from ._vocabulary import AGGREGATE_METRICS, GROUP_METRICS, split_disparity_name

__all__ = ["FairnessComparison", "GroupChange", "GroupMetricChange"]


@dataclass(frozen=True)
class GroupMetricChange:
    """One group's metric for both models and the change (candidate - champion)."""

    group: str
    n: int
    status: str
    candidate: float | None
    champion: float | None
    change: float | None
    ci: tuple[float, float] | None
    reason: str | None


#: The former name of :class:`GroupMetricChange`, kept so that existing imports still work.
GroupChange = GroupMetricChange


@dataclass(frozen=True)
class FairnessComparison:
    """A candidate model against a champion on the same rows, with paired intervals.

    Built by :func:`auditkit.fairness.compare_fairness` (rows) or
    :func:`auditkit.fairness.compare_fairness_from_counts` (paired counts). Every change
    is candidate - champion, of an overall metric, a group's metric or a disparity; its
    interval comes from a paired bootstrap (the same resampled rows for both models).

    Attributes
    ----------
    candidate, champion : FairnessResult
        Each exactly what :func:`~auditkit.fairness.assess_fairness` returns for that
        model alone with the same arguments (its own, unpaired intervals).
    bootstrap : int
        Number of paired resamples (0: no intervals for the changes).
    confidence : float
        Coverage of the intervals.
    seed : int
        Seed of the bootstrap.
    """

    candidate: FairnessResult
    champion: FairnessResult
    bootstrap: int
    confidence: float
    seed: int
    overall_change_records: tuple = field(repr=False)
    group_change_records: tuple = field(repr=False)
    disparity_change_records: tuple = field(repr=False)
    method: str = field(repr=False)

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self.candidate.task

    @property
    def features(self) -> tuple[str, ...]:
        """Audited features, intersections last."""
        return self.candidate.features

    @property
    def metrics(self) -> tuple[str, ...]:
        """Focus metrics, shown first in summaries."""
        return self.candidate.metrics

    @property
    def n_rows(self) -> int:
        """Number of rows both models were evaluated on."""
        return self.candidate.n_rows

    # -- tables --------------------------------------------------------------------
    @property
    def overall_changes(self) -> pd.DataFrame:
        """One row per metric over all rows: both values, the change and its interval."""
        columns = ["metric", "candidate", "champion", "change", "change_ci_low", "change_ci_high"]
        return _frame([_flatten(r) for r in self.overall_change_records], columns, text=("metric",))

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per (feature, group, metric): both values, the change and its interval."""
        columns = [
            "feature", "group", "n", "status", "metric", "candidate", "champion", "change",
            "change_ci_low", "change_ci_high",
        ]
        return _frame(
            [_flatten(r) for r in self.group_change_records],
            columns,
            text=("feature", "group", "status", "metric"),
        )

    @property
    def disparity_changes(self) -> pd.DataFrame:
        """One row per (feature, disparity), e.g. ``tpr_difference``, ``equalized_odds_ratio``."""
        columns = [
            "feature", "metric", "candidate", "champion", "change", "change_ci_low", "change_ci_high",
        ]
        return _frame(
            [_flatten(r) for r in self.disparity_change_records], columns, text=("feature", "metric")
        )

    # -- look-ups for rules ----------------------------------------------------------
    def _check_feature(self, feature: str) -> None:
        _check_feature(self.features, feature)

    def change(self, metric: str, feature: str | None = None) -> MetricValue:
        """The change (candidate - champion) of an overall metric or of a feature's disparity.

        Parameters
        ----------
        metric : str
            A per-group metric name (its overall change) or a disparity name such as
            ``"tpr_difference"``, ``"selection_rate_ratio"`` or
            ``"equalized_odds_difference"``.
        feature : str, optional
            Feature (or intersection) name; required for disparities.

        Returns
        -------
        MetricValue
            The change, its paired interval, and the reason when it is undefined.

        Raises
        ------
        KeyError
            For an unknown metric or feature, or a disparity without a feature.
        """
        disparity = split_disparity_name(metric)
        if disparity is None:
            if metric not in GROUP_METRICS:
                raise KeyError(f"Unknown fairness metric {metric!r}.")
            if feature is not None:
                raise KeyError(
                    f"{metric!r} is a per-group metric; use group_changes({metric!r}, {feature!r}) "
                    "for its change per group, or a disparity name such as "
                    f"{metric + '_difference'!r}."
                )
            for record in self.overall_change_records:
                if record["metric"] == metric:
                    return MetricValue(record["change"], _tuple(record["ci"]), record["reason"])
            return MetricValue(None, None, _not_computed(metric, self.task))
        if feature is None:
            raise KeyError(f"Disparity {metric!r} needs a feature; pass feature=... .")
        self._check_feature(feature)
        for record in self.disparity_change_records:
            if record["feature"] == feature and record["metric"] == metric:
                return MetricValue(record["change"], _tuple(record["ci"]), record["reason"])
        return MetricValue(None, None, _not_computed(disparity[0], self.task))

    def group_changes(self, metric: str, feature: str) -> list[GroupMetricChange]:
        """Every group's change of `metric` for `feature` (insufficient groups included).

        Raises
        ------
        KeyError
            For an unknown metric or feature.
        """
        if metric not in GROUP_METRICS:
            raise KeyError(f"Unknown per-group metric {metric!r}.")
        self._check_feature(feature)
        records = [
            r for r in self.group_change_records if r["feature"] == feature and r["metric"] == metric
        ]
        if records:
            return [
                GroupMetricChange(
                    group=r["group"], n=r["n"], status=r["status"], candidate=r["candidate"],
                    champion=r["champion"], change=r["change"], ci=_tuple(r["ci"]), reason=r["reason"],
                )
                for r in records
            ]
        reason = _not_computed(metric, self.task)
        return [
            GroupMetricChange(r["group"], r["n"], r["status"], None, None, None, None, reason)
            for r in self.candidate.group_records
            if r["feature"] == feature
        ]

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-ready dict (plain floats, None for undefined, never NaN)."""
        return {
            "candidate": self.candidate.to_dict(),
            "champion": self.champion.to_dict(),
            "changes": {
                "overall": copy.deepcopy(list(self.overall_change_records)),
                "groups": copy.deepcopy(list(self.group_change_records)),
                "disparities": copy.deepcopy(list(self.disparity_change_records)),
            },
            "bootstrap": {
                "resamples": self.bootstrap,
                "confidence": self.confidence,
                "seed": self.seed,
                "method": self.method,
            },
        }

    def _repr_html_(self) -> str:
        computed = {r["metric"] for r in self.overall_change_records}
        focus = [m for m in self.metrics if m in computed] or [
            r["metric"] for r in self.overall_change_records[:5]
        ]
        esc = html.escape
        parts = [
            "<div class='auditkit-fairness-comparison'><p><b>Candidate − champion</b> "
            f"({esc(self.task)}, {self.n_rows:,} rows"
            + (
                f", {self.bootstrap:,} paired bootstrap resamples, {self.confidence:.0%} intervals"
                if self.bootstrap
                else ""
            )
            + ")</p>",
            "<table><thead><tr><th>metric</th><th>candidate</th><th>champion</th>"
            "<th>change</th></tr></thead><tbody>",
        ]
        for r in self.overall_change_records:
            if r["metric"] in focus:
                parts.append(
                    f"<tr><td>{esc(r['metric'])}</td><td>{esc(_cell(r['candidate'], None))}</td>"
                    f"<td>{esc(_cell(r['champion'], None))}</td>"
                    f"<td>{esc(_cell(r['change'], r['ci']))}</td></tr>"
                )
        parts.append("</tbody></table>")
        shown = {f"{m}_{kind}" for m in (*focus, *AGGREGATE_METRICS) for kind in ("difference", "ratio")}
        rows = [d for d in self.disparity_change_records if d["metric"] in shown]
        if rows:
            parts.append(
                "<table><thead><tr><th>feature</th><th>disparity</th><th>candidate</th>"
                "<th>champion</th><th>change</th></tr></thead><tbody>"
            )
            for d in rows:
                parts.append(
                    f"<tr><td>{esc(d['feature'])}</td><td>{esc(d['metric'])}</td>"
                    f"<td>{esc(_cell(d['candidate'], None))}</td>"
                    f"<td>{esc(_cell(d['champion'], None))}</td>"
                    f"<td>{esc(_cell(d['change'], d['ci']))}</td></tr>"
                )
            parts.append("</tbody></table>")
        groups = {}
        for r in self.group_change_records:
            if r["metric"] in focus:
                groups.setdefault((r["feature"], r["group"], r["n"], r["status"]), {})[r["metric"]] = r
        if groups:
            parts.append("<table><thead><tr><th>feature</th><th>group</th><th>n</th><th>status</th>")
            parts += [f"<th>Δ {esc(m)}</th>" for m in focus]
            parts.append("</tr></thead><tbody>")
            for (feature, group, n, status), by_metric in groups.items():
                parts.append(
                    f"<tr><td>{esc(feature)}</td><td>{esc(group)}</td><td>{n:,}</td>"
                    f"<td>{esc(status)}</td>"
                )
                for m in focus:
                    r = by_metric.get(m, {})
                    parts.append(f"<td>{esc(_cell(r.get('change'), r.get('ci')))}</td>")
                parts.append("</tr>")
            parts.append("</tbody></table>")
        parts.append("</div>")
        return "".join(parts)


def _flatten(record: dict) -> dict:
    row = {k: v for k, v in record.items() if k not in ("ci", "reason")}
    row["change_ci_low"] = _split(record["ci"], 0)
    row["change_ci_high"] = _split(record["ci"], 1)
    return row
