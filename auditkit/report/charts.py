"""Charts for the report: matplotlib figures rendered to SVG, embedded as data URIs.

Charts read plain result dicts. Images embedded as ``data:`` URIs cannot run scripts, so text
that came from data (group names, column names) is inert inside them. Inside
:func:`charts_disabled` every chart function returns None without drawing (``summary.md``
shows no chart, so its view skips matplotlib).
"""

from __future__ import annotations

import base64
import contextvars
import functools
import io
import math
from contextlib import contextmanager
from typing import Iterator

__all__ = ["beeswarm_chart", "charts_disabled", "drift_chart", "fairness_chart", "group_shap_chart",
           "history_chart", "importance_chart", "reasons_by_group_chart", "remedy_tradeoff_chart"]

_DRAWING = contextvars.ContextVar("auditkit_report_charts", default=True)

INK = "#1f2933"
MUTED = "#52606d"
ACCENT = "#1d4ed8"
WARN = "#b45309"
BAD = "#b91c1c"
GRID = "#d9e2ec"


@contextmanager
def charts_disabled() -> Iterator[None]:
    """Within the block, chart functions return None instead of drawing."""
    token = _DRAWING.set(False)
    try:
        yield
    finally:
        _DRAWING.reset(token)


def _chart(draw):
    """A chart function that draws only while charts are enabled."""

    @functools.wraps(draw)
    def chart(*args, **kwargs):
        return draw(*args, **kwargs) if _DRAWING.get() else None

    return chart


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "svg.hashsalt": "auditkit",  # deterministic ids: same results, same bytes
        "svg.fonttype": "path",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": MUTED,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })
    return plt


def _to_data_uri(fig) -> str:
    plt = _plt()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "auditkit"})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _short(text: str, limit: int = 28) -> str:
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")  # a label from the data is text, never matplotlib mathtext


@_chart
def fairness_chart(feature: str, groups: list[dict], metrics: list[str], lines: dict[str, list[tuple[float, str]]]) -> str | None:
    """Dot-and-whisker panels, one per metric: each group's value with its interval.

    ``lines`` maps a metric to (x, label) reference lines, e.g. a rule's threshold.
    """
    shown = [g for g in groups if g.get("status") == "ok"]
    metrics = [m for m in metrics if any((g.get("metrics") or {}).get(m) is not None for g in shown)]
    if not shown or not metrics:
        return None
    plt = _plt()
    n_groups = len(shown)
    height = max(2.0, 0.42 * n_groups + 1.2)
    fig, axes = plt.subplots(1, len(metrics), figsize=(min(2.4 * len(metrics) + 1.8, 12), height), sharey=True, squeeze=False)
    labels = [_short(g["group"]) for g in shown]
    ys = list(range(n_groups))[::-1]
    for ax, metric in zip(axes[0], metrics):
        _dots_and_whiskers(ax, [((group.get("metrics") or {}).get(metric), (group.get("ci") or {}).get(metric), y)
                                for y, group in zip(ys, shown)])
        fixed_range = metric not in ("mean_prediction", "mean_target", "mae", "rmse")
        for x, label in lines.get(metric, []):
            # A threshold the axis cannot show (a policy may write 1e308) is left to the rules table.
            if not math.isfinite(x) or abs(x) > 1e12 or (fixed_range and not -0.02 <= x <= 1.02):
                continue
            ax.axvline(x, color=BAD, linestyle="--", linewidth=1.2)
            ax.text(x, n_groups - 0.35, _short(label, 24), color=BAD, fontsize=7, ha="center", va="bottom")
        ax.set_title(metric, fontsize=9, color=INK)
        ax.set_xlim(-0.02, 1.02) if fixed_range else None
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_ylim(-0.6, n_groups + 0.1)
    axes[0][0].set_yticks(ys, labels)
    fig.suptitle(f"{_short(feature, 60)}: value per group with interval", fontsize=9, color=MUTED, x=0.01, ha="left")
    fig.tight_layout()
    return _to_data_uri(fig)


def _dots_and_whiskers(ax, rows: list[tuple]) -> None:
    """Each (value, interval, y): a dot at the value with its interval as a whisker, "n/a"
    without a value. All whiskers are one line broken by NaN (as are all caps, and all dots),
    which draws as one separate line per group but costs three artists per panel, not four
    per group."""
    whiskers, caps, dots = ([], []), ([], []), ([], [])
    for value, ci, y in rows:
        if value is None:
            ax.text(0.5, y, "n/a", va="center", ha="center", color=MUTED, fontsize=8, transform=ax.get_yaxis_transform())
            continue
        if ci and ci[0] is not None and ci[1] is not None:
            _segment(whiskers, (ci[0], ci[1]), (y, y))
            _segment(caps, (ci[0], ci[0]), (y - 0.15, y + 0.15))
            _segment(caps, (ci[1], ci[1]), (y - 0.15, y + 0.15))
        dots[0].append(value)
        dots[1].append(y)
    if whiskers[0]:
        ax.plot(*whiskers, color=ACCENT, linewidth=2, solid_capstyle="butt", alpha=0.55)
        ax.plot(*caps, color=ACCENT, linewidth=1)
    if dots[0]:
        ax.plot(*dots, linestyle="none", marker="o", color=ACCENT, markersize=5, zorder=3)


def _segment(line: tuple[list, list], xs: tuple, ys: tuple) -> None:
    """Append a segment to a line of NaN-separated segments."""
    line[0].extend((*xs, math.nan))
    line[1].extend((*ys, math.nan))


@_chart
def importance_chart(importance: list[dict], highlight: set[str], limit: int = 15) -> str | None:
    """Horizontal bars of mean |SHAP| per input column, with intervals when present."""
    rows = [r for r in importance if r.get("mean_abs_shap") is not None][:limit]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 0.3 * len(rows) + 0.9))
    ys = list(range(len(rows)))[::-1]
    for y, row in zip(ys, rows):
        colour = WARN if row["feature"] in highlight else ACCENT
        ax.barh(y, row["mean_abs_shap"], color=colour, height=0.62, hatch="//" if row["feature"] in highlight else None,
                edgecolor="white" if row["feature"] not in highlight else WARN)
        ci = row.get("ci")
        if ci and ci[0] is not None:
            ax.plot([ci[0], ci[1]], [y, y], color=INK, linewidth=1)
    ax.set_yticks(ys, [_short(r["feature"], 32) for r in rows])
    ax.set_xlabel("mean |SHAP value| (hatched: sensitive feature)")
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    fig.tight_layout()
    return _to_data_uri(fig)


@_chart
def group_shap_chart(feature: str, groups: list[dict], top: list[str]) -> str | None:
    """Mean signed SHAP per input column for each group of a sensitive feature."""
    groups = [g for g in groups if g.get("values")]
    if not groups or not top:
        return None
    plt = _plt()
    import numpy as np

    fig, ax = plt.subplots(figsize=(7.2, 0.42 * len(top) * max(1, len(groups)) / 2 + 1.2))
    width = 0.8 / len(groups)
    palette = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#a21caf"]
    hatches = ["", "//", "..", "xx", "\\\\", "++", "oo", "--"]
    ys = np.arange(len(top))[::-1]
    for i, group in enumerate(groups[:8]):
        by_feature = {v["input_feature"]: v.get("mean_shap") for v in group["values"]}
        values = [by_feature.get(f) or 0.0 for f in top]
        ax.barh(ys + (i - (len(groups) - 1) / 2) * width, values, height=width, color=palette[i % 8],
                hatch=hatches[i % 8], edgecolor="white", label=_short(group["group"], 24))
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_yticks(ys, [_short(f, 30) for f in top])
    ax.set_xlabel("mean SHAP value (left: pushes towards the negative outcome)")
    ax.legend(title=_short(feature, 30), fontsize=8, title_fontsize=8, frameon=False, loc="best")
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    fig.tight_layout()
    return _to_data_uri(fig)


@_chart
def beeswarm_chart(beeswarm: dict) -> str | None:
    """A beeswarm-style summary: each dot a row, position its SHAP value, colour its feature value."""
    points = [p for p in (beeswarm or {}).get("points", []) if p.get("shap")]
    if not points:
        return None
    plt = _plt()
    import numpy as np

    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(7.2, 0.38 * len(points) + 1.0))
    ys = list(range(len(points)))[::-1]
    scatter = None
    for y, p in zip(ys, points):
        shap_values = np.asarray(p["shap"], dtype=float)
        ranks = p.get("value_rank")
        colours = np.asarray([np.nan if r is None else r for r in ranks], dtype=float) if ranks else np.full(len(shap_values), np.nan)
        jitter = rng.uniform(-0.28, 0.28, size=len(shap_values))
        known = ~np.isnan(colours)
        if (~known).any():
            ax.scatter(shap_values[~known], y + jitter[~known], s=6, color="#9aa5b1", linewidths=0)
        if known.any():
            scatter = ax.scatter(shap_values[known], y + jitter[known], s=6, c=colours[known], cmap="coolwarm",
                                 vmin=0, vmax=1, linewidths=0)
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_yticks(ys, [_short(p["feature"], 30) for p in points])
    ax.set_xlabel("SHAP value (effect on the explained output)")
    if scatter is not None:
        bar = fig.colorbar(scatter, ax=ax, fraction=0.03, pad=0.02)
        bar.set_label("feature value (low → high; grey: categorical)", fontsize=8)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    fig.tight_layout()
    return _to_data_uri(fig)


@_chart
def drift_chart(feature: dict) -> str | None:
    """Reference vs audited share of rows per bin (numeric) or category of one column."""
    bins = feature.get("bins") or []
    if not bins:
        return None
    plt = _plt()
    import numpy as np

    labels = [_short(b["label"], 22) for b in bins]
    ref = [b.get("reference_share") or 0.0 for b in bins]
    cur = [b.get("current_share") or 0.0 for b in bins]
    fig, ax = plt.subplots(figsize=(max(4.8, 0.55 * len(bins) + 2.2), 2.6))
    x = np.arange(len(bins))
    ax.bar(x - 0.2, ref, width=0.4, color="#9aa5b1", label="reference")
    ax.bar(x + 0.2, cur, width=0.4, color=ACCENT, hatch="//", edgecolor="white", label="audited")
    ax.set_xticks(x, labels, rotation=35 if len(bins) > 5 else 0, ha="right" if len(bins) > 5 else "center", fontsize=7)
    ax.set_ylabel("share of rows")
    psi = feature.get("psi")
    title = f"{_short(feature['feature'], 40)}" + (f" — PSI {psi:.3f}" if psi is not None else "")
    ax.set_title(title, fontsize=9, color=INK, loc="left")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    fig.tight_layout()
    return _to_data_uri(fig)


def _value_ci(estimate) -> tuple:
    """(value, low, high) of a ``{"value", "ci"}`` dict, None where missing or not finite."""
    estimate = estimate if isinstance(estimate, dict) else {}
    ci = estimate.get("ci") or (None, None)

    def finite(x):
        return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None

    return finite(estimate.get("value")), finite(ci[0]) if len(ci) == 2 else None, finite(ci[1]) if len(ci) == 2 else None


def _threshold_bounds(focus: dict, failing_rules: list[dict] | None) -> list[tuple[float, str | None]]:
    """The focus rule's threshold lines as (value, "min"/"max"/None): from a rule's ``{"min", "max"}``
    object, or a number with the rule's ``direction``; values the axis cannot show are left out."""
    threshold = focus.get("threshold")
    if isinstance(threshold, dict):
        bounds = [(threshold.get(b), b) for b in ("min", "max")]
    else:
        direction = focus.get("direction") or next(
            (r.get("direction") for r in failing_rules or [] if r.get("id") == focus.get("rule")), None)
        bounds = [(threshold, direction)]
    return [(float(x), d) for x, d in bounds
            if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and abs(x) < 1e12]


def _number_points(ax, points: list[dict]) -> None:
    """Each point's number beside it, moved to another side of the point when it would cover a
    number already placed (points close together stay readable)."""
    placed: list[tuple[float, float]] = []
    offsets = ((7, 5), (7, -13), (-15, 5), (-15, -13), (7, 16), (-15, 16), (7, -24), (-15, -24))
    for p in points:
        colour = INK if p["current"] else WARN if p["group_aware"] else ACCENT
        px, py = ax.transData.transform((p["x"], p["y"]))
        scale = ax.figure.dpi / 72
        best = offsets[0]
        for dx, dy in offsets:
            spot = (px + dx * scale, py + dy * scale)
            if all(abs(spot[0] - qx) > 14 * scale or abs(spot[1] - qy) > 11 * scale for qx, qy in placed):
                best = (dx, dy)
                break
        placed.append((px + best[0] * scale, py + best[1] * scale))
        ax.annotate(str(p["number"]), (p["x"], p["y"]), xytext=best, textcoords="offset points", fontsize=9,
                    fontweight="bold", color=colour, zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})


@_chart
def remedy_tradeoff_chart(candidates: list[dict], sweep: dict | None, focus: dict | None,
                          failing_rules: list[dict] | None = None) -> str | None:
    """Accuracy (x) against the focus rule's metric (y), one numbered point per remedy candidate
    with both intervals as whiskers.

    The model as audited is a black diamond; a candidate that treats groups differently an
    orange triangle; the others blue circles; a hollow marker: a failing rule would still block
    the release. The view frames the candidates; the focus rule's threshold is a dashed red line (its failing side lightly shaded), and
    ``sweep`` (one threshold for everyone, ``{"accuracy": [...], "focus": [...]}``) a thin grey
    curve. Each candidate's ``number`` (or its position) labels its point, as in the table.
    """
    focus = focus or {}
    points = []
    for i, c in enumerate(candidates, start=1):
        x, x_low, x_high = _value_ci(c.get("accuracy"))
        y, y_low, y_high = _value_ci(c.get("focus"))
        if x is None or y is None:
            continue
        current = c.get("kind") == "current" or c.get("id") == "current"
        points.append({"x": x, "x_ci": (x_low, x_high), "y": y, "y_ci": (y_low, y_high), "number": c.get("number", i),
                       "current": current, "group_aware": bool(c.get("group_aware")) and not current,
                       "passes": bool(c.get("passes"))})
    if not points:
        return None
    plt = _plt()
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(8.4, 4.8))
    handles = []
    sweep = sweep or {}
    curve = [(a, f) for a, f in zip(sweep.get("accuracy") or [], sweep.get("focus") or [])
             if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (a, f))]
    if curve:
        ax.plot([a for a, _ in curve], [f for _, f in curve], color="#9aa5b1", linewidth=1, zorder=1)
        handles.append(Line2D([], [], color="#9aa5b1", linewidth=1, label="one threshold for everyone, every value"))
    for p in points:
        colour = INK if p["current"] else WARN if p["group_aware"] else ACCENT
        (x_low, x_high), (y_low, y_high) = p["x_ci"], p["y_ci"]
        if x_low is not None and x_high is not None:
            ax.plot([x_low, x_high], [p["y"], p["y"]], color=colour, linewidth=1.4, alpha=0.55, zorder=2)
        if y_low is not None and y_high is not None:
            ax.plot([p["x"], p["x"]], [y_low, y_high], color=colour, linewidth=1.4, alpha=0.55, zorder=2)
        marker = "D" if p["current"] else "^" if p["group_aware"] else "o"
        ax.plot([p["x"]], [p["y"]], linestyle="none", marker=marker, markersize=8 if p["current"] else 7,
                markeredgecolor=colour, markeredgewidth=1.6, markerfacecolor=colour if p["passes"] or p["current"] else "white",
                zorder=4)
    lines = _threshold_bounds(focus, failing_rules)
    # The view frames the candidates and the thresholds; the sweep's curve is cut at its edges.
    xs = [v for p in points for v in (p["x"], *p["x_ci"]) if v is not None]
    ys = [v for p in points for v in (p["y"], *p["y_ci"]) if v is not None] + [x for x, _ in lines]
    for values, set_limits in ((xs, ax.set_xlim), (ys, ax.set_ylim)):
        low, high = min(values), max(values)
        pad = max(0.06 * (high - low), 0.01 * max(1.0, abs(high)))
        set_limits(low - pad, high + pad)
    bottom, top = ax.get_ylim()
    _number_points(ax, points)
    if lines:
        for threshold, direction in lines:
            ax.axhline(threshold, color=BAD, linestyle="--", linewidth=1.2, zorder=3)
            if direction in ("min", "max"):
                ax.axhspan(bottom if direction == "min" else threshold, threshold if direction == "min" else top,
                           color=BAD, alpha=0.06, linewidth=0, zorder=0)
            sign = "≥ " if direction == "min" else "≤ " if direction == "max" else ""
            label = f"{_short(focus.get('rule') or 'rule', 32)}: needs {sign}{threshold:g}"
            ax.text(1.01, threshold, label, transform=ax.get_yaxis_transform(), color=BAD, fontsize=8, ha="left",
                    va="center", clip_on=False)
        ax.set_ylim(bottom, top)
        handles.append(Line2D([], [], color=BAD, linestyle="--", linewidth=1.2, label="rule threshold (shaded: fails)"))
    handles += [
        Line2D([], [], linestyle="none", marker="D", markersize=7, color=INK, label="the model as audited"),
        Line2D([], [], linestyle="none", marker="o", markersize=7, color=ACCENT, label="remedy that treats everyone alike"),
        Line2D([], [], linestyle="none", marker="^", markersize=7, color=WARN, label="treats groups differently"),
        Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor="white", markeredgecolor=MUTED,
               markeredgewidth=1.6, label="hollow: a failing rule would still block"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.14), ncol=3, frameon=False, fontsize=8)
    ax.set_xlabel("accuracy on held-out folds (higher is better)")
    metric = focus.get("metric") or "focus metric"
    feature = focus.get("feature")
    ax.set_ylabel(_short(metric, 40) + (f" ({_short(feature, 30)})" if feature else ""))
    ax.grid(color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    fig.suptitle("Trade-off: accuracy against the focus rule's metric, with intervals", fontsize=9, color=MUTED,
                 x=0.01, ha="left")
    fig.tight_layout()
    return _to_data_uri(fig)


#: Colours and hatches of the groups in a grouped bar chart (as in :func:`group_shap_chart`).
_GROUP_COLOURS = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#a21caf")
_GROUP_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")


def _share(value) -> float | None:
    """A share from 0 to 1, None when missing or not a finite number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return min(max(float(value), 0.0), 1.0)
    return None


@_chart
def reasons_by_group_chart(feature: str, groups: list[dict], reasons: list[dict], max_groups: int = 8) -> str | None:
    """For one sensitive feature: grouped horizontal bars, one row per reason (``{"code", "statement"}``,
    most common first), one bar per group at the share of its adverse decisions told that reason,
    with the interval as a whisker. ``groups`` are the results' ``reasons.groups`` entries of the
    feature (``{"group", "n", "reasons": [{"code", "share", "ci"}]}``)."""
    groups = [g for g in groups if isinstance(g, dict)][:max_groups]
    if not groups or not reasons:
        return None
    plt = _plt()
    from matplotlib.ticker import PercentFormatter

    n_groups, n_reasons = len(groups), len(reasons)
    fig, ax = plt.subplots(figsize=(10.0, max(2.6, 0.2 * n_reasons * n_groups + 0.35 * n_reasons + 1.6)))
    width = 0.8 / n_groups
    whiskers, caps = ([], []), ([], [])
    for i, group in enumerate(groups):
        by_code = {str(r.get("code")): r for r in group.get("reasons") or [] if isinstance(r, dict)}
        ys, values = [], []
        for row, reason in enumerate(reasons):
            entry = by_code.get(str(reason.get("code"))) or {}
            y = (n_reasons - 1 - row) + ((n_groups - 1) / 2 - i) * width
            value = _share(entry.get("share"))
            if value is None:
                ax.text(0.005, y, "n/a", va="center", ha="left", color=MUTED, fontsize=7)
                continue
            ys.append(y)
            values.append(value)
            ci = entry.get("ci") or ()
            low, high = (_share(ci[0]), _share(ci[1])) if len(ci) == 2 else (None, None)
            if low is not None and high is not None:
                _segment(whiskers, (low, high), (y, y))
                for x in (low, high):
                    _segment(caps, (x, x), (y - width * 0.25, y + width * 0.25))
        n = group.get("n")
        counted = isinstance(n, int) and not isinstance(n, bool)
        label = _short(group.get("group"), 30) + (f" (n = {n:,})" if counted else "")
        ax.barh(ys, values, height=width * 0.9, color=_GROUP_COLOURS[i % 8], hatch=_GROUP_HATCHES[i % 8],
                edgecolor="white", linewidth=0.5, label=label)
    if whiskers[0]:
        ax.plot(*whiskers, color=INK, linewidth=1, solid_capstyle="butt")
        ax.plot(*caps, color=INK, linewidth=1)
    ax.set_yticks(range(n_reasons)[::-1], [_short(f"{r.get('code')}  {r.get('statement') or ''}".strip(), 44)
                                           for r in reasons])
    ax.set_ylim(-0.6, n_reasons - 0.4)
    ax.set_xlim(0, 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of the group's adverse decisions that state the reason (line: interval)")
    ax.legend(title=f"Groups of {_short(feature, 40)}", fontsize=8, title_fontsize=9, frameon=False, loc="lower left",
              bbox_to_anchor=(0.0, 1.0), ncol=min(n_groups, 4), alignment="left", borderaxespad=0.3)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return _to_data_uri(fig)


#: How each rule status is drawn in the history chart: colour, marker, legend label.
_STATUS_STYLE = {
    "pass": ("#166534", "o", "passed"),
    "fail": (BAD, "s", "failed"),
    "error": (BAD, "X", "could not be evaluated"),
    "warn": (WARN, "^", "warning"),
    "inconclusive": (WARN, "D", "inconclusive"),
    "waived": (ACCENT, "v", "waived"),
    "earlier": (MUTED, "o", "earlier audit"),  # a trend rule's history beside it in the report
}
#: The change markers of the history chart: key of a point, colour, line style, legend label.
_CHANGE_STYLE = (
    ("model_changed", "#7c3aed", (0, (5, 3)), "model changed"),
    ("policy_changed", "#0e7490", (0, (6, 2, 1, 2)), "policy changed"),
    ("data_changed", MUTED, (0, (1, 2)), "data changed"),
)


def _finite(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and abs(value) < 1e12 else None


@_chart
def history_chart(points: list[dict], *, metric: str | None = None, direction: int = 0) -> str | None:
    """A metric over successive audits: one marker per audit at its value, coloured (and shaped)
    by the rule's status, its interval as a whisker, the threshold as a red step line (its failing
    side lightly shaded), and dashed vertical lines before the audits where the model, the policy
    or the data changed.

    ``points`` are one series of :func:`auditkit.history.history_points`, oldest first (keys
    seq, recorded_at, value, ci_low, ci_high, status, threshold_min, threshold_max, labels,
    model_changed, policy_changed, data_changed). Audits are evenly spaced, labelled by entry
    number and date; an audit awaiting labels has no value and is marked "labels pending".
    ``direction`` (+1 higher is better, -1 lower is better) is said on the axis.
    """
    points = [p for p in points if isinstance(p, dict)]
    if not points or all(_finite(p.get("value")) is None for p in points):
        return None
    plt = _plt()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = len(points)
    xs = list(range(n))
    values = [_finite(p.get("value")) for p in points]
    lows = [_finite(p.get("ci_low")) for p in points]
    highs = [_finite(p.get("ci_high")) for p in points]
    mins = [_finite(p.get("threshold_min")) for p in points]
    maxs = [_finite(p.get("threshold_max")) for p in points]
    seen = [v for v in (*values, *lows, *highs, *mins, *maxs) if v is not None]
    bottom, top = min(seen), max(seen)
    pad = (top - bottom) * 0.12 or max(abs(top) * 0.1, 0.05)
    bottom, top = bottom - pad, top + pad * 1.6  # room above for the numbers

    fig, ax = plt.subplots(figsize=(10.4, 3.5))
    handles = []
    # Thresholds: a step line per bound (a bound may change with the policy), failing side shaded.
    for bounds, side, label in ((maxs, "max", "threshold (at most)"), (mins, "min", "threshold (at least)")):
        if all(b is None for b in bounds):
            continue
        ys = [math.nan if b is None else b for b in bounds]
        ys, line_xs = [ys[0], *ys, ys[-1]], [-0.6, *xs, n - 0.4]  # the line runs to the edges of the axes
        ax.plot(line_xs, ys, color=BAD, linestyle="--", linewidth=1.3, drawstyle="steps-mid", zorder=2)
        edge = [top if side == "max" else bottom] * (n + 2)
        ax.fill_between(line_xs, ys, edge, step="mid", color=BAD, alpha=0.06, linewidth=0, zorder=1)
        handles.append(Line2D([], [], color=BAD, linestyle="--", linewidth=1.3, label=label))
    if handles:
        handles.append(Patch(facecolor=BAD, alpha=0.12, label="failing side"))
    # The path of the values (broken where an audit has no value), then whiskers and markers.
    ax.plot(xs, [math.nan if v is None else v for v in values], color="#9aa5b1", linewidth=1.2, zorder=2)
    whiskers, caps = ([], []), ([], [])
    for x, low, high in zip(xs, lows, highs):
        if low is not None and high is not None:
            _segment(whiskers, (x, x), (low, high))
            _segment(caps, (x - 0.08, x + 0.08), (low, low))
            _segment(caps, (x - 0.08, x + 0.08), (high, high))
    if whiskers[0]:
        ax.plot(*whiskers, color=INK, linewidth=1.6, alpha=0.45, solid_capstyle="butt", zorder=3)
        ax.plot(*caps, color=INK, linewidth=1, alpha=0.6, zorder=3)
        handles.append(Line2D([], [], color=INK, alpha=0.5, linewidth=1.6, label="interval"))
    shown_statuses = []
    for status, (colour, marker, label) in _STATUS_STYLE.items():
        chosen = [(x, v) for x, v, p in zip(xs, values, points) if v is not None and p.get("status") == status]
        if chosen:
            ax.plot([x for x, _ in chosen], [v for _, v in chosen], linestyle="none", marker=marker, color=colour,
                    markersize=7, markeredgecolor="white", markeredgewidth=0.8, zorder=4)
            shown_statuses.append(Line2D([], [], linestyle="none", marker=marker, color=colour, markersize=7, label=label))
    other = [(x, v) for x, v, p in zip(xs, values, points) if v is not None and p.get("status") not in _STATUS_STYLE]
    if other:
        ax.plot([x for x, _ in other], [v for _, v in other], linestyle="none", marker="o", color=MUTED, markersize=6,
                zorder=4)
        shown_statuses.append(Line2D([], [], linestyle="none", marker="o", color=MUTED, markersize=6, label="other status"))
    if n <= 24:
        for x, v in zip(xs, values):
            if v is not None:
                ax.annotate(f"{v:.3g}", (x, v), xytext=(7, 3), textcoords="offset points", ha="left", fontsize=8,
                            color=INK, zorder=5,
                            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    # Audits without a value: labels pending, or the metric undefined.
    for x, v, p in zip(xs, values, points):
        if v is None:
            ax.axvspan(x - 0.3, x + 0.3, color=GRID, alpha=0.6, linewidth=0, zorder=0)
            text = "labels\npending" if p.get("labels") == "pending" else "no\nvalue"
            ax.text(x, 0.04, text, transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=7,
                    color=MUTED, style="italic")
    # What changed before an audit: a vertical line between it and the audit before.
    for key, colour, style, label in _CHANGE_STYLE:
        spots = [x for x, p in zip(xs, points) if x > 0 and p.get(key) is True]
        offset = {"model_changed": -0.06, "policy_changed": 0.0, "data_changed": 0.06}[key]
        for x in spots:
            ax.axvline(x - 0.5 + offset, color=colour, linestyle=style, linewidth=1.5, zorder=1)
        if spots:
            handles.append(Line2D([], [], color=colour, linestyle=style, linewidth=1.5, label=label))

    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(bottom, top)
    step = max(1, math.ceil(n / 16))
    ticks = xs[::step]
    ax.set_xticks(ticks, [points[x].get("label") or f"#{points[x].get('seq')}\n{_short(str(points[x].get('recorded_at') or '')[:10], 12)}"
                          for x in ticks], fontsize=7.5)
    ax.set_xlabel("audit (ledger entry and date)", fontsize=8, color=MUTED)
    better = {1: " (higher is better)", -1: " (lower is better)"}.get(direction, "")
    ax.set_ylabel(_short(metric or "value", 34) + better, fontsize=8)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    legend = shown_statuses + handles
    ax.legend(handles=legend, fontsize=7.5, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0),
              ncol=min(len(legend), 7), borderaxespad=0.3, handlelength=2.6)
    fig.tight_layout()
    return _to_data_uri(fig)
