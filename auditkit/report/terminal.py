"""The compact terminal summary printed by ``audit check``.

Rule ids, group names, the policy name, reasons and paths come from inputs; each passes through
:func:`~auditkit.report.formatting.term`, so a carriage return or an ANSI escape in them shows
as ``\\r``/``\\x1b`` text instead of repainting the line (a failing row shown as "PASS").
"""

from __future__ import annotations

from .formatting import fmt_interval, fmt_number, fmt_threshold, status_icon, status_label, term

__all__ = ["terminal_summary", "verdict_line"]


def verdict_line(results: dict) -> str:
    summary = results.get("summary") or {}
    word = "PASSED" if results.get("status") == "passed" else "FAILED"
    parts = [f"{summary.get('pass', 0)} passed", f"{summary.get('fail', 0)} failed"]
    for key, label in (("warn", "warned"), ("inconclusive", "inconclusive"), ("waived", "waived"), ("error", "could not be evaluated")):
        if summary.get(key):
            parts.append(f"{summary[key]} {label}")
    name = (results.get("policy") or {}).get("name", "audit")
    return f"{word}: {term(name)} — {', '.join(parts)}"


def terminal_summary(results: dict, *, outputs=None, width: int = 100) -> str:
    """The rules table, contract and explanation notes, the verdict line and, given the
    :class:`~auditkit.report.writers.OutputPaths` of the run, where its outputs are."""
    rows = []
    for r in results.get("rules", []):
        observed = fmt_number(r.get("observed"))
        if r.get("ci"):
            observed += " " + fmt_interval(r["ci"])
        scope = r.get("feature") or "all"
        if r.get("group") and r["status"] != "pass":
            scope += f" ({r['group']})"
        rows.append(tuple(term(cell) for cell in (
            f"{status_icon(r['status'])} {status_label(r['status'])}", r["id"], r["metric"], scope,
            observed, fmt_threshold(r.get("threshold", {})), "gates" if r.get("gating") else "")))
    header = ("status", "rule", "metric", "scope", "observed", "threshold", "")
    lines = []
    if rows:
        widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
        widths = [min(w, 34) for w in widths]

        def line(cells):
            return "  ".join(_clip(str(c), w).ljust(w) for c, w in zip(cells, widths)).rstrip()

        lines.append(line(header))
        lines.append(line(["-" * w for w in widths]))
        lines.extend(line(row) for row in rows)
    else:
        lines.append("(the policy has no rules)")
    contract = results.get("contract")
    if contract is not None:
        lines.append("")
        lines.append("contract: holds" if contract["passed"] else f"contract: {contract['total_failures']:,} failing values in {len(contract['violations'])} checks")
    explanations = results.get("explanations") or {}
    if explanations.get("status") in ("skipped", "error"):
        lines.append(f"explanations {term(explanations['status'])}: {term(explanations.get('reason', ''))}")
    lines.append("")
    lines.append(verdict_line(results))
    if outputs is not None:
        lines.append(f"report:  {term(outputs.report)}")
        lines.append(f"results: {term(outputs.results)}   junit: {term(outputs.junit.name)}   summary: {term(outputs.summary.name)}")
        if outputs.documents:
            lines.append("also:    " + "   ".join(term(path.name) for path in outputs.documents.values()))
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
