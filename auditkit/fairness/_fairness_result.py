"""The immutable result of a fairness assessment and its views."""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field

import pandas as pd

from ._vocabulary import AGGREGATE_METRICS, GROUP_METRICS, split_disparity_name

__all__ = ["FairnessResult", "GroupValue", "MetricValue"]


@dataclass(frozen=True)
class MetricValue:
    """A value with its bootstrap interval, or None with the reason it is undefined."""

    value: float | None
    ci: tuple[float, float] | None
    reason: str | None


@dataclass(frozen=True)
class GroupValue:
    """One group's value of a metric, with its size and status."""

    group: str
    n: int
    status: str
    value: float | None
    ci: tuple[float, float] | None
    reason: str | None


def _tuple(interval) -> tuple[float, float] | None:
    return None if interval is None else (interval[0], interval[1])


def _split(interval, index):
    return None if interval is None else interval[index]


@dataclass(frozen=True)
class FairnessResult:
    """Per-group metrics, disparities and intervals of one fairness assessment.

    Built by :func:`auditkit.fairness.assess_fairness`; every view (DataFrames,
    dicts) is a fresh copy, so the result itself never changes.

    Attributes
    ----------
    task : str
        ``"classification"`` or ``"regression"``.
    features : tuple of str
        Audited features, intersections (``"a & b"``) last.
    metrics : tuple of str
        Focus metrics, shown first in summaries.
    n_rows : int
        Number of rows audited.
    bootstrap : int
        Number of bootstrap resamples (0: no intervals).
    confidence : float
        Coverage of the intervals.
    seed : int
        Seed of the bootstrap.
    """

    task: str
    features: tuple[str, ...]
    metrics: tuple[str, ...]
    n_rows: int
    bootstrap: int
    confidence: float
    seed: int
    computed_metrics: tuple[str, ...] = field(repr=False)
    min_group_size: int = field(repr=False)
    overall_records: dict = field(repr=False)
    confusion_counts: dict | None = field(repr=False)
    group_records: tuple = field(repr=False)
    disparity_records: tuple = field(repr=False)
    versus_records: tuple = field(repr=False)
    calibration_records: tuple = field(repr=False)
    excluded_records: tuple = field(repr=False)
    method: str = field(repr=False)
    #: "pending": decisions audited before their true outcomes arrived; only label-free metrics.
    labels: str = field(default="present", repr=False)
    #: Quantiles of the model's score per group (computed with labels pending, with scores).
    score_distribution: tuple = field(default=(), repr=False)
    #: The focus metrics asked for that need labels (with labels pending: not computed).
    awaiting_labels: tuple = field(default=(), repr=False)

    # -- overall -------------------------------------------------------------------
    @property
    def overall(self) -> dict[str, float | None]:
        """Metric -> value over all rows (None where undefined)."""
        return {m: r["value"] for m, r in self.overall_records.items()}

    @property
    def overall_ci(self) -> dict[str, tuple[float, float] | None]:
        """Metric -> bootstrap interval over all rows (None without bootstrap)."""
        return {m: _tuple(r["ci"]) for m, r in self.overall_records.items()}

    @property
    def confusion(self) -> dict[str, int] | None:
        """Overall counts ``{"tp", "fp", "fn", "tn"}`` (None for regression)."""
        return None if self.confusion_counts is None else dict(self.confusion_counts)

    # -- tables --------------------------------------------------------------------
    @property
    def by_group(self) -> pd.DataFrame:
        """One row per (feature, group): n, share, status, every metric and its interval."""
        rows = []
        for record in self.group_records:
            row = {k: record[k] for k in ("feature", "group", "n", "share", "status")}
            row.update({m: record["metrics"][m] for m in self.computed_metrics})
            for m in self.computed_metrics:
                row[f"{m}_ci_low"] = _split(record["ci"][m], 0)
                row[f"{m}_ci_high"] = _split(record["ci"][m], 1)
            rows.append(row)
        columns = ["feature", "group", "n", "share", "status", *self.computed_metrics]
        columns += [f"{m}_ci_{side}" for m in self.computed_metrics for side in ("low", "high")]
        return _frame(rows, columns, text=("feature", "group", "status"))

    @property
    def disparities(self) -> pd.DataFrame:
        """One row per (feature, metric), aggregates included: difference, ratio, intervals."""
        columns = [
            "feature", "metric", "difference", "ratio", "difference_ci_low", "difference_ci_high",
            "ratio_ci_low", "ratio_ci_high", "reference_group", "groups_compared",
        ]
        return _frame(
            [_flatten(r) for r in self.disparity_records],
            columns,
            text=("feature", "metric", "reference_group"),
        )

    @property
    def versus_reference(self) -> pd.DataFrame:
        """Each ok group against its feature's reference group, per metric."""
        columns = [
            "feature", "group", "reference_group", "metric", "difference", "ratio",
            "difference_ci_low", "difference_ci_high", "ratio_ci_low", "ratio_ci_high",
        ]
        return _frame(
            [_flatten(r) for r in self.versus_records],
            columns,
            text=("feature", "group", "reference_group", "metric"),
        )

    @property
    def calibration(self) -> pd.DataFrame:
        """Per group expected calibration error and reliability table (needs scores).

        One row per (feature, group, bin) with ``ece`` repeated on each row of its group.
        """
        rows = []
        for record in self.calibration_records:
            for b in record["reliability"]:
                rows.append(
                    {
                        "feature": record["feature"],
                        "group": record["group"],
                        "status": record["status"],
                        "ece": record["ece"],
                        "ece_ci_low": _split(record["ece_ci"], 0),
                        "ece_ci_high": _split(record["ece_ci"], 1),
                        **b,
                    }
                )
        columns = [
            "feature", "group", "status", "ece", "ece_ci_low", "ece_ci_high",
            "bin_low", "bin_high", "n", "mean_score", "fraction_positive",
        ]
        return _frame(rows, columns, text=("feature", "group", "status"))

    # -- look-ups for rules ----------------------------------------------------------
    def _check_feature(self, feature: str) -> None:
        _check_feature(self.features, feature)

    def value(self, metric: str, feature: str | None = None) -> MetricValue:
        """Look up an overall metric (``feature=None``) or a feature's disparity.

        Parameters
        ----------
        metric : str
            A per-group metric name (overall value) or a disparity name such as
            ``"selection_rate_ratio"`` or ``"equalized_odds_difference"``.
        feature : str, optional
            Feature (or intersection) name; required for disparities.

        Returns
        -------
        MetricValue

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
                    f"{metric!r} is a per-group metric; use group_values({metric!r}, {feature!r}) "
                    "for its values per group, or a disparity name such as "
                    f"{metric + '_difference'!r}."
                )
            record = self.overall_records.get(metric)
            if record is None:
                return MetricValue(None, None, _not_computed(metric, self.task, self.labels))
            return MetricValue(record["value"], _tuple(record["ci"]), record["reason"])
        base, kind = disparity
        if feature is None:
            raise KeyError(f"Disparity {metric!r} needs a feature; pass feature=... .")
        self._check_feature(feature)
        for record in self.disparity_records:
            if record["feature"] == feature and record["metric"] == base:
                return MetricValue(
                    record[kind], _tuple(record[f"{kind}_ci"]), record["undefined"].get(kind)
                )
        return MetricValue(None, None, _not_computed(base, self.task, self.labels))

    def group_values(self, metric: str, feature: str) -> list[GroupValue]:
        """Every group's value of `metric` for `feature` (insufficient groups included).

        Raises
        ------
        KeyError
            For an unknown metric or feature.
        """
        if metric not in GROUP_METRICS:
            raise KeyError(f"Unknown per-group metric {metric!r}.")
        self._check_feature(feature)
        reason = None if metric in self.computed_metrics else _not_computed(metric, self.task, self.labels)
        return [
            GroupValue(
                group=r["group"],
                n=r["n"],
                status=r["status"],
                value=r["metrics"].get(metric),
                ci=_tuple(r["ci"].get(metric)),
                reason=r["undefined"].get(metric, reason),
            )
            for r in self.group_records
            if r["feature"] == feature
        ]

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-ready dict (plain floats, None for undefined, never NaN)."""
        return {
            "task": self.task,
            "n_rows": self.n_rows,
            "features": list(self.features),
            "metrics": list(self.metrics),
            "min_group_size": self.min_group_size,
            "overall": self.overall,
            "overall_ci": {m: r["ci"] and list(r["ci"]) for m, r in self.overall_records.items()},
            "overall_undefined": {
                m: r["reason"] for m, r in self.overall_records.items() if r["reason"]
            },
            "confusion": self.confusion,
            "groups": copy.deepcopy(list(self.group_records)),
            "disparities": copy.deepcopy(list(self.disparity_records)),
            "versus_reference": copy.deepcopy(list(self.versus_records)),
            "calibration": copy.deepcopy(list(self.calibration_records)),
            "excluded_groups": copy.deepcopy(list(self.excluded_records)),
            "bootstrap": {
                "resamples": self.bootstrap,
                "confidence": self.confidence,
                "seed": self.seed,
                "method": self.method,
            },
            **({"labels": self.labels, "awaiting_labels": list(self.awaiting_labels),
                "score_distribution": copy.deepcopy(list(self.score_distribution))}
               if self.labels != "present" else {}),
        }

    def _repr_html_(self) -> str:
        focus = [m for m in self.metrics if m in self.computed_metrics] or list(
            self.computed_metrics[:5]
        )
        esc = html.escape
        parts = [
            f"<div class='auditkit-fairness'><p><b>Fairness</b> ({esc(self.task)}, "
            f"{self.n_rows:,} rows"
            + (
                f", {self.bootstrap:,} bootstrap resamples, {self.confidence:.0%} intervals"
                if self.bootstrap
                else ""
            )
            + ")</p>",
            "<table><thead><tr><th>feature</th><th>group</th><th>n</th><th>status</th>",
        ]
        parts += [f"<th>{esc(m)}</th>" for m in focus]
        parts.append("</tr></thead><tbody>")
        parts.append(f"<tr><td><i>overall</i></td><td></td><td>{self.n_rows:,}</td><td></td>")
        for m in focus:
            record = self.overall_records.get(m, {})
            parts.append(f"<td>{esc(_cell(record.get('value'), record.get('ci')))}</td>")
        parts.append("</tr>")
        for r in self.group_records:
            parts.append(
                f"<tr><td>{esc(r['feature'])}</td><td>{esc(r['group'])}</td>"
                f"<td>{r['n']:,}</td><td>{esc(r['status'])}</td>"
            )
            for m in focus:
                parts.append(f"<td>{esc(_cell(r['metrics'].get(m), r['ci'].get(m)))}</td>")
            parts.append("</tr>")
        parts.append("</tbody></table>")
        shown = set(focus) | set(AGGREGATE_METRICS)
        rows = [d for d in self.disparity_records if d["metric"] in shown]
        if rows:
            parts.append(
                "<table><thead><tr><th>feature</th><th>metric</th><th>difference</th>"
                "<th>ratio</th><th>groups</th></tr></thead><tbody>"
            )
            for d in rows:
                parts.append(
                    f"<tr><td>{esc(d['feature'])}</td><td>{esc(d['metric'])}</td>"
                    f"<td>{esc(_cell(d['difference'], d['difference_ci']))}</td>"
                    f"<td>{esc(_cell(d['ratio'], d['ratio_ci']))}</td>"
                    f"<td>{d['groups_compared']}</td></tr>"
                )
            parts.append("</tbody></table>")
        parts.append("</div>")
        return "".join(parts)


def _cell(value, interval) -> str:
    if value is None:
        return "—"
    text = f"{value:.3f}"
    if interval:
        text += f" [{interval[0]:.3f}, {interval[1]:.3f}]"
    return text


def _flatten(record: dict) -> dict:
    row = {k: v for k, v in record.items() if not k.endswith("_ci") and k != "undefined"}
    for kind in ("difference", "ratio"):
        row[f"{kind}_ci_low"] = _split(record[f"{kind}_ci"], 0)
        row[f"{kind}_ci_high"] = _split(record[f"{kind}_ci"], 1)
    return row


def _check_feature(features, feature: str) -> None:
    if feature not in features:
        raise KeyError(f"Unknown feature {feature!r}; audited features are {', '.join(map(repr, features))}.")


def _frame(rows: list[dict], columns: list[str], *, text: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns:
        if column not in text and frame[column].dtype == object:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def _not_computed(metric: str, task: str, labels: str = "present") -> str:
    if labels == "pending":
        return f"{metric} is not computed: the labels are pending"
    if metric in ("auc", "mean_score"):
        return f"{metric} needs y_score, which was not given"
    if metric in AGGREGATE_METRICS:
        return f"{metric} applies to classification only"
    return f"{metric} does not apply to {task}"
