"""``audit history``: the history of a policy's audits, from a ledger to an HTML, CSV or JSON file."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["history"]

_SUFFIXES = {".html": "html", ".htm": "html", ".csv": "csv", ".json": "json"}


def _format_of(out: Path, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    found = _SUFFIXES.get(out.suffix.lower())
    if found is None:
        raise click.BadParameter(f"cannot tell the format from the name {out.name!r}; end it with .html, .csv or "
                                 ".json, or pass --format", param_hint="--out")
    return found


def _read(url: str, policy: str | None) -> tuple[list, str | None]:
    """The ledger's entries (of ``policy``, when given) and its id, read without writing anything."""
    from ..errors import LedgerError
    from ..ledger import Ledger, redact

    with Ledger(url, create=False) as ledger:
        records = ledger.records(policy=policy)
        names = sorted({r.policy_name for r in ledger.records()}) if not records else []
        info = ledger.info
    if not records:
        there = ", ".join(repr(n) for n in names[:20]) + (", …" if len(names) > 20 else "") if names else "none"
        which = f"of policy {policy!r} " if policy is not None else ""
        raise LedgerError(f"no audits {which}in {redact(url)} (policies there: {there}); "
                          "choose one with --policy, or record audits with audit check --ledger")
    return records, info.get("ledger_id") if isinstance(info, dict) else None


@click.command("history")
@click.argument("url", metavar="LEDGER")
@click.option("--policy", help="Only the audits of this policy (by its name); by default every audit in the ledger.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Where to write the history (its folder must exist); the suffix chooses the format.")
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json"]),
              help="html (a self-contained page with a chart per metric), csv (one row per audit and rule) "
                   "or json; by default from the suffix of --out.")
def history(url: str, policy: str | None, out: Path, fmt: str | None) -> None:
    """Show how a policy's audits have moved over time, from the audit ledger LEDGER.

    LEDGER is the path or URL given to `audit check --ledger`. The page has one chart and table
    per metric a rule judges (value, interval, threshold, status), the verdict of each audit,
    and markers where the model, the policy or the data changed. It reads the ledger and never
    writes to it; it does not check that the ledger is intact (`audit ledger verify` does).
    """
    from ..outputs import write_file
    from ..sanitize import terminal_safe
    from ._render import render_history
    from ._series import history_points

    fmt = _format_of(out, fmt)
    records, ledger_id = _read(url, policy)
    text = render_history(records, policy=policy, fmt=fmt, ledger_id=ledger_id)
    write_file(out, text)
    points = history_points(records)
    series = len({(p["policy"], p["metric"], p["feature"]) for p in points})
    click.echo(terminal_safe(f"history: {out} ({len(records)} audit{'s' * (len(records) != 1)}, "
                             f"{series} metric series, {len(points)} points)"))
