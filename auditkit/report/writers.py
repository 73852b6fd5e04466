"""Rendering every output from a results document, and writing them as one set.

All outputs are rendered in memory first; then :func:`auditkit.outputs.write_output_set`
stages them in the output folder and switches them in as a set under the folder's lock, with
a manifest (``.auditkit-manifest.json``) that makes a half-switched folder detectable. A run
that fails while rendering writes nothing; one that fails while writing puts the previous
outputs back. Nothing auditkit did not write is ever deleted.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..outputs import write_output_set
from ..sanitize import terminal_safe
from .templates import environment
from .view import build_view

__all__ = ["OutputPaths", "render_html", "render_json", "render_junit", "render_summary_md", "write_documents",
           "write_outputs"]


#: Every file ``audit check`` can write; the only names a new run may remove from an earlier set.
CHECK_OUTPUTS = frozenset({"results.json", "report.html", "junit.xml", "summary.md", "ll144.html", "ll144.csv"})


@dataclass(frozen=True)
class OutputPaths:
    folder: Path
    report: Path
    results: Path
    junit: Path
    summary: Path
    ll144_html: Path | None = None  # with the nyc-ll144 pack: the bias audit summary on its own
    ll144_csv: Path | None = None


def render_json(results: dict) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_html(results: dict, *, templates: Path | None = None) -> str:
    """The self-contained HTML report for a results document."""
    view = build_view(results)
    return environment(templates=templates).get_template("report.html.j2").render(v=view)


def render_summary_md(results: dict, *, templates: Path | None = None) -> str:
    """A short Markdown verdict and rules table, fit for a CI job summary."""
    view = build_view(results, charts_enabled=False)
    return environment(templates=templates, markdown=True).get_template("summary.md.j2").render(v=view)


def render_junit(results: dict) -> str:
    """JUnit XML: one test case per rule (failure = fails the gate, skipped = warning only).

    Every attribute and text passes through :func:`_xml_safe`, so names full of control
    characters, lone surrogates or U+FFFE still give a file every XML parser reads.
    """
    import xml.etree.ElementTree as ET

    rules = results.get("rules", [])
    failures = sum(1 for r in rules if r.get("gating") and r["status"] != "error")
    errors = sum(1 for r in rules if r.get("gating") and r["status"] == "error")
    skipped = sum(1 for r in rules if not r.get("gating") and r["status"] != "pass")
    name = (results.get("policy") or {}).get("name", "audit")
    suite = ET.Element("testsuite", {
        "name": _xml_safe(f"auditkit: {name}"), "tests": str(len(rules)), "failures": str(failures),
        "errors": str(errors), "skipped": str(skipped), "time": "0",
        "timestamp": _xml_safe((results.get("provenance") or {}).get("finished_at", "")),
    })
    for rule in rules:
        case = ET.SubElement(suite, "testcase", {"classname": _xml_safe(f"auditkit.{name}"), "name": _xml_safe(rule["id"]), "time": "0"})
        message = _xml_safe(f"[{rule['status']}] {rule.get('message', '')}")
        if rule["status"] == "pass":
            continue
        if rule.get("gating"):
            tag = "error" if rule["status"] == "error" else "failure"
            el = ET.SubElement(case, tag, {"message": message, "type": _xml_safe(rule["status"])})
            el.text = _xml_safe(_detail(rule), keep_newlines=True)
        else:
            ET.SubElement(case, "skipped", {"message": message})
    root = ET.Element("testsuites", {"name": "auditkit", "tests": str(len(rules)), "failures": str(failures),
                                     "errors": str(errors), "skipped": str(skipped)})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _detail(rule: dict) -> str:
    lines = [f"metric: {rule['metric']}", f"feature: {rule.get('feature')}", f"observed: {rule.get('observed')}",
             f"interval: {rule.get('ci')}", f"threshold: {rule.get('threshold')}", f"severity: {rule.get('severity')}",
             f"decided on: {rule.get('decided_on')}"]
    if rule.get("rationale"):
        lines.append(f"rationale: {rule['rationale']}")
    return "\n".join(lines)


def _xml_safe(text, *, keep_newlines: bool = False) -> str:
    """Text XML 1.0 can hold, with what it cannot shown as visible escapes.

    Control characters (and line breaks, unless ``keep_newlines``) become ``\\x1b``-style
    escapes; lone surrogates and the non-characters U+FFFE/U+FFFF, which XML 1.0 forbids
    (ElementTree would write them and every parser would then reject the file), become
    ``\\ud800``-style escapes. ElementTree escapes ``<``, ``&`` and quotes.
    """
    return _XML_FORBIDDEN.sub(_escape_code, terminal_safe(text, keep_newlines=keep_newlines))


_XML_FORBIDDEN = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _escape_code(match: "re.Match") -> str:
    return f"\\u{ord(match.group(0)):04x}"


def write_outputs(results: dict, out_dir: str | Path, *, templates: Path | None = None,
                  github_summary: bool = True) -> OutputPaths:
    """Render and write ``report.html``, ``results.json``, ``junit.xml`` and ``summary.md``,
    and with an LL144 bias audit in the results ``ll144.html`` and ``ll144.csv``.

    Raises
    ------
    OutputError
        The folder cannot be created or written.
    """
    out = Path(out_dir)
    documents = {
        "results.json": render_json(results),
        "report.html": render_html(results, templates=templates),
        "junit.xml": render_junit(results),
        "summary.md": render_summary_md(results, templates=templates),
    }
    if results.get("ll144"):
        from .ll144 import render_ll144_csv, render_ll144_html

        documents["ll144.html"] = render_ll144_html(results, templates=templates)
        documents["ll144.csv"] = render_ll144_csv(results)
    write_output_set(out, documents, replace_set=True, removable=CHECK_OUTPUTS, hint="choose another folder with --out")
    if github_summary and os.environ.get("GITHUB_STEP_SUMMARY"):
        try:
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(documents["summary.md"] + "\n")
        except OSError:
            pass  # a CI nicety; the audit's own outputs are already written
    # An LL144 summary of an earlier run is removed by the switch only when that run's manifest
    # lists it unchanged; a file auditkit did not write is never deleted.
    has_ll144 = "ll144.html" in documents
    return OutputPaths(folder=out, report=out / "report.html", results=out / "results.json",
                       junit=out / "junit.xml", summary=out / "summary.md",
                       ll144_html=out / "ll144.html" if has_ll144 else None,
                       ll144_csv=out / "ll144.csv" if has_ll144 else None)


def write_documents(documents: dict[str, str], out_dir: str | Path, *, replace_set: bool = False,
                    hint: str = "choose another folder with -o") -> None:
    """Write rendered documents into a folder as one set (see :func:`auditkit.outputs.write_output_set`).

    By default they are added to (or replace files of) the set already in the folder.
    """
    write_output_set(out_dir, documents, replace_set=replace_set, hint=hint)
