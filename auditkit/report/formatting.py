"""Number and label formatting shared by the HTML, Markdown and terminal renderers."""

from __future__ import annotations

from ..sanitize import terminal_safe

STATUS_LABELS = {
    "pass": ("PASS", "✔"),
    "fail": ("FAIL", "✖"),
    "warn": ("WARN", "⚠"),
    "inconclusive": ("INCONCLUSIVE", "?"),
    "waived": ("WAIVED", "○"),
    "error": ("ERROR", "!"),
    "pending": ("AWAITING LABELS", "…"),
}


def fmt_number(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:  # NaN should never reach here, but never crash the report on it
        return "—"
    if abs(value) >= 1e9:  # a policy may write 1e308: no one reads 309 digits
        return f"{value:.{digits}g}"
    if float(value).is_integer() and (abs(value) >= 1 or value == 0):
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def fmt_signed(value, ci=None, digits: int = 3) -> str:
    """A change with its sign and, when given, its interval: ``-0.013 [-0.060, +0.030]``."""
    if value is None:
        return "—"
    text = f"{value:+.{digits}f}"
    if ci:
        text += f" [{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]"
    return text


def fmt_interval(ci, digits: int = 3) -> str:
    if not ci:
        return ""
    return f"[{fmt_number(ci[0], digits)}, {fmt_number(ci[1], digits)}]"


def fmt_threshold(threshold: dict) -> str:
    parts = []
    if threshold.get("min") is not None:
        parts.append(f"≥ {fmt_number(threshold['min'])}")
    if threshold.get("max") is not None:
        parts.append(f"≤ {fmt_number(threshold['max'])}")
    return " and ".join(parts)


def fmt_rule_bound(rule: dict) -> str:
    """What a rule holds its value to: its threshold, or for a trend rule the trend it judges."""
    trend = rule.get("trend")
    if isinstance(trend, dict):
        if trend.get("kind") == "widening":
            return f"no widening {trend.get('audits', 3)}× in a row"
        return "overlaps first audit"
    threshold = rule.get("threshold")
    return fmt_threshold(threshold if isinstance(threshold, dict) else {})


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, (status.upper(), ""))[0]


def status_icon(status: str) -> str:
    return STATUS_LABELS.get(status, ("", "·"))[1]


def fmt_percent(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.{digits}f}%"


def term(value) -> str:
    """Text from an input, fit for a terminal or a CI log: controls, line breaks, bidi marks
    and lone surrogates (which no terminal encoding can write) shown as visible escapes."""
    return terminal_safe(value)
