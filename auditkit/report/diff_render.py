"""``audit diff`` rendered: terminal tables and a pull-request comment in Markdown.

Pure functions of a :class:`~auditkit.diff.ResultsDiff` (computed by :mod:`auditkit.diff`):
text out, nothing written. Every value from the compared files is made safe for where it goes
-- control characters never reach a terminal, Markdown never runs as markup or notifies anyone.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from ..sanitize import terminal_safe
from .formatting import fmt_interval, fmt_number, fmt_threshold
from .templates import markdown_escape

if TYPE_CHECKING:
    from ..diff import MetricMove, ResultsDiff, RuleChange

__all__ = ["render_markdown", "render_text"]


def _headline_words(diff: ResultsDiff) -> str:
    regressed = sum(c.regressed for c in diff.rule_changes)
    improved = sum(c.improved for c in diff.rule_changes)
    parts = []
    if regressed:
        parts.append(f"{regressed} rule{'s' * (regressed != 1)} regressed")
    if improved:
        parts.append(f"{improved} rule{'s' * (improved != 1)} no longer gate{'s' * (improved == 1)}")
    if diff.metric_moves:
        parts.append(f"{len(diff.metric_moves)} number{'s' * (len(diff.metric_moves) != 1)} moved by more than {diff.tolerance:g}")
    if diff.new_groups:
        parts.append(f"{len(diff.new_groups)} new group{'s' * (len(diff.new_groups) != 1)}")
    if diff.vanished_groups:
        parts.append(f"{len(diff.vanished_groups)} vanished group{'s' * (len(diff.vanished_groups) != 1)}")
    return ", ".join(parts) if parts else f"no differences beyond the tolerance {diff.tolerance:g}"


def _names(diff: ResultsDiff) -> str:
    return diff.new_name if diff.old_name == diff.new_name else f"{diff.old_name} → {diff.new_name}"


def _verdict(diff: ResultsDiff) -> str:
    if diff.verdict_changed:
        return f"{diff.old_status} → {diff.new_status}"
    return f"{diff.new_status} (unchanged)"


def _status_cell(change: RuleChange) -> str:
    return f"{change.old_status or '—'} → {change.new_status or '—'}"


def _observed_cell(change: RuleChange) -> str:
    return f"{fmt_number(change.old_observed)} → {fmt_number(change.new_observed)}"


def _threshold_cell(change: RuleChange) -> str:
    def show(t):
        return fmt_threshold(t) if isinstance(t, dict) else "—"

    if change.kind == "changed" and change.old_threshold != change.new_threshold:
        return f"{show(change.old_threshold)} → {show(change.new_threshold)}"
    return show(change.new_threshold if change.new_threshold is not None else change.old_threshold)


def _rule_note(change: RuleChange) -> str:
    if change.regressed:
        return "REGRESSED"
    if change.improved:
        return "no longer gates"
    if change.kind != "changed":
        return change.kind
    return "definition changed" if change.definition_changed else ""


def _delta_cell(move: MetricMove) -> str:
    if move.delta is None:
        return "became undefined" if move.new is None else "became defined"
    return f"{move.delta:+.3f}"


def _overlap_cell(move: MetricMove) -> str:
    text = {None: "", True: "overlap", False: "disjoint"}[move.overlap]
    return f"{text}, small group".lstrip(", ") if move.small_group else text


def render_text(diff: ResultsDiff, *, width: int = 100, limit: int = 30) -> str:
    """Compact terminal tables: verdict, rule changes, moved numbers, groups.

    The intervals column says whether the old and new intervals still overlap; the Markdown
    rendering shows the intervals themselves.
    """
    lines = [f"verdict: {_terminal(_verdict(diff))}" + ("   REGRESSED" if diff.regressed else ""),
             *textwrap.wrap(f"{_terminal(_names(diff))}: {_headline_words(diff)}", width, subsequent_indent="  ")]
    if diff.rule_changes:
        rows = [(_terminal(c.id), _terminal(c.metric), _terminal(c.feature or "all"), _terminal(_status_cell(c)),
                 _observed_cell(c), _terminal(_threshold_cell(c)), _rule_note(c)) for c in diff.rule_changes]
        lines += ["", "rules", *_table(("rule", "metric", "scope", "status", "observed", "threshold", ""), rows, width)]
    if diff.metric_moves:
        shown = diff.metric_moves[:limit]
        rows = [(_terminal(m.kind), _terminal(_scope(m)), _terminal(m.name), fmt_number(m.old), fmt_number(m.new),
                 _delta_cell(m), _overlap_cell(m)) for m in shown]
        lines += ["", f"moved by more than {diff.tolerance:g} (largest first)",
                  *_table(("kind", "scope", "metric", "old", "new", "delta", "intervals"), rows, width)]
        if len(diff.metric_moves) > limit:
            lines.append(f"+{len(diff.metric_moves) - limit} more")
    for title, groups in (("new groups", diff.new_groups), ("vanished groups", diff.vanished_groups)):
        if groups:
            rows = [(_terminal(g.feature), _terminal(g.group), fmt_number(g.n), _terminal(g.status or "")) for g in groups]
            lines += ["", title, *_table(("feature", "group", "n", "status"), rows, width)]
    return "\n".join(lines)


def _scope(move: MetricMove) -> str:
    if move.feature is None:
        return "all"
    return move.feature if move.group is None else f"{move.feature} = {move.group}"


def _table(header: tuple, rows: list[tuple], width: int) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    widths = [min(w, 40) for w in widths]
    # Shrink the widest columns until the table fits (never below 8 characters).
    while sum(widths) + 2 * (len(widths) - 1) > width and max(widths) > 8:
        widest = widths.index(max(widths))
        widths[widest] -= 1

    def line(cells):
        return "  ".join(_clip(str(c), w).ljust(w) for c, w in zip(cells, widths)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _terminal(value) -> str:
    """Text from a results file, made safe for a terminal (no escape sequences or line breaks)."""
    return "".join(ch if ch.isprintable() else "�" for ch in str(value))


def _md(value, limit: int = 120) -> str:
    """Escape text from a results file for a Markdown table cell in a pull-request comment."""
    text = terminal_safe(" ".join(str(value).split()))  # controls and bidi marks as visible escapes
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return markdown_escape(text)  # which also writes "@" as "&#64;": no one is notified in a comment


def render_markdown(diff: ResultsDiff, *, limit: int = 15) -> str:
    """A pull-request comment: headline, rules table, moved numbers (largest first), groups."""
    icon = "❌" if diff.regressed else ("✅" if diff.new_status == "passed" else "⚠️")
    title = _md(_names(diff))
    lines = [f"### {icon} auditkit diff: {title}", "",
             f"**Verdict:** {_md(_verdict(diff))}" + (" — **regressed**" if diff.regressed else ""), "",
             _md(_headline_words(diff), limit=1000)]
    if diff.rule_changes:
        lines += ["", "#### Rules", "", "| rule | metric | scope | status | observed | threshold | |", "|---|---|---|---|---|---|---|"]
        for c in diff.rule_changes:
            note = _rule_note(c)
            note = f"**{note}**" if c.regressed else _md(note)
            lines.append(f"| {_md(c.id)} | {_md(c.metric)} | {_md(c.feature or 'all')} | {_md(_status_cell(c))} "
                         f"| {_md(_observed_cell(c))} | {_md(_threshold_cell(c))} | {note} |")
    if diff.metric_moves:
        lines += ["", f"#### Moved by more than {diff.tolerance:g} (largest first)", "",
                  "| kind | scope | metric | old | new | delta | intervals |", "|---|---|---|---:|---:|---:|---|"]
        for m in diff.metric_moves[:limit]:
            intervals = f"{fmt_interval(m.old_ci)} → {fmt_interval(m.new_ci)}" if m.old_ci and m.new_ci else ""
            if intervals:
                intervals += f" ({_overlap_cell(m)})"
            lines.append(f"| {_md(m.kind)} | {_md(_scope(m))} | {_md(m.name)} | {fmt_number(m.old)} | {fmt_number(m.new)} "
                         f"| {_md(_delta_cell(m))} | {_md(intervals)} |")
        if len(diff.metric_moves) > limit:
            lines += ["", f"+{len(diff.metric_moves) - limit} more (run `audit diff` for the full list)"]
    for title, groups in (("New groups", diff.new_groups), ("Vanished groups", diff.vanished_groups)):
        if groups:
            lines += ["", f"#### {title}", "", "| feature | group | n |", "|---|---|---:|"]
            lines += [f"| {_md(g.feature)} | {_md(g.group)} | {fmt_number(g.n)} |" for g in groups]
    return "\n".join(lines) + "\n"
