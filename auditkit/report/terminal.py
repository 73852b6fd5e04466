"""The compact terminal summary printed by ``audit check``.

Rule ids, group names, the policy name, reasons and paths come from inputs; each passes through
:func:`~auditkit.report.formatting.term`, so a carriage return or an ANSI escape in them shows
as ``\\r``/``\\x1b`` text instead of repainting the line (a failing row shown as "PASS").
"""

from __future__ import annotations

from .formatting import fmt_interval, fmt_number, fmt_rule_bound, fmt_signed, status_icon, status_label, term

__all__ = ["remedy_summary", "terminal_summary", "verdict_line"]


def verdict_line(results: dict) -> str:
    summary = results.get("summary") or {}
    word = "PASSED" if results.get("status") == "passed" else "FAILED"
    parts = [f"{summary.get('pass', 0)} passed", f"{summary.get('fail', 0)} failed"]
    for key, label in (("warn", "warned"), ("inconclusive", "inconclusive"), ("waived", "waived"),
                       ("error", "could not be evaluated"), ("pending", "awaiting labels")):
        if summary.get(key):
            parts.append(f"{summary[key]} {label}")
    name = (results.get("policy") or {}).get("name", "audit")
    pending = " (labels pending)" if (results.get("data") or {}).get("label_status") == "pending" else ""
    return f"{word}: {term(name)}{pending} — {', '.join(parts)}"


#: Warnings printed under the rules table; the rest are counted (all are in results.json).
MAX_WARNINGS_SHOWN = 8


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
            observed, fmt_rule_bound(r), "gates" if r.get("gating") else "")))
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
    if (results.get("data") or {}).get("label_status") == "pending":
        waiting = (results.get("summary") or {}).get("pending", 0)
        lines.append("")
        lines.append(f"labels pending: judged only what needs no labels; {waiting} rule{'s' * (waiting != 1)} "
                     "await the labels of this batch and do not gate")
    if contract is not None:
        lines.append("")
        lines.append("contract: holds" if contract["passed"] else f"contract: {contract['total_failures']:,} failing values in {len(contract['violations'])} checks")
    explanations = results.get("explanations") or {}
    if explanations.get("status") in ("skipped", "error"):
        lines.append(f"explanations {term(explanations['status'])}: {term(explanations.get('reason', ''))}")
    remedies = results.get("remedies")
    if remedies and remedies.get("failing_rules"):
        current = next((c for c in remedies.get("candidates", []) if c.get("kind") == "current"), {})
        candidates = [c for c in remedies.get("candidates", []) if c.get("kind") != "current"]
        passing = sum(1 for c in candidates if c.get("passes"))
        if current.get("passes"):
            lines.append(f"remedies: no fairness rule blocks the release; {len(candidates)} candidates for the "
                         "inconclusive rules are in the report ('What would change the verdict')")
        else:
            lines.append(f"remedies: {passing} of {len(candidates)} candidates would clear the blocking fairness rules "
                         "(report: 'What would change the verdict'; `audit remedy` writes one)")
    warnings = [w for w in results.get("warnings") or [] if isinstance(w, str)]
    if warnings:
        lines.append("")
        lines.extend(f"warning: {term(w)}" for w in warnings[:MAX_WARNINGS_SHOWN])
        if len(warnings) > MAX_WARNINGS_SHOWN:
            lines.append(f"warning: … and {len(warnings) - MAX_WARNINGS_SHOWN} more (results.json: warnings)")
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


def remedy_summary(found, chosen, out_dir, *, quiet: bool = False) -> str:
    """What ``audit remedy`` prints: the candidates, the one written and how to audit it again."""
    current = next((c for c in found.candidates if c.kind == "current"), None)
    if chosen is None and current is not None and current.passes:
        outcome = "no fairness rule blocks the release as audited; the table is written, no model file"
    elif chosen is None:
        outcome = "no candidate clears every failing rule; the table is written, no model file"
    else:
        outcome = (f"{'written' if chosen.passes else 'written (it does not clear every failing rule)'}: "
                   f"{term(chosen.title)} -> {term(out_dir)}/{term(chosen.id)}.skops")
    if quiet:
        return outcome
    header = ("candidate", "clears rules", "accuracy change", "selection rate change", "treats groups differently")
    rows = []
    for c in found.candidates:
        rows.append(tuple(term(x) for x in (
            c.id, "yes" if c.passes else "no", fmt_signed(c.accuracy_change.value, c.accuracy_change.ci),
            fmt_signed(c.selection_rate_change.value, c.selection_rate_change.ci),
            "YES (disparate treatment)" if c.group_aware else "no")))
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in rows]
    lines += ["", f"cross-fitted over {found.rows:,} rows ({found.folds} folds, seed {found.seed}); "
                  "nothing was applied: choosing a remedy is a decision for people", outcome]
    if chosen is not None and chosen.kind == "reweigh":  # refitted on the training data: these rows are fresh
        lines.append(f"audit it again: audit check audit.yaml --model {term(out_dir)}/{term(chosen.id)}.skops")
    elif chosen is not None:
        lines.append(f"audit it again on fresh data: audit check audit.yaml --model {term(out_dir)}/{term(chosen.id)}.skops "
                     "--data <data it was not fitted on>")
    lines.append(f"table: {term(out_dir)}/remedies.csv   details: {term(out_dir)}/remedies.json")
    return "\n".join(lines)
