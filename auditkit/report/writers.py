"""Rendering every output from a results document, and writing them atomically.

All outputs are rendered in memory first; then they are written to a staging folder inside
the output folder and moved into place one by one with ``os.replace``. A run that fails
while rendering or writing never leaves a new half-written report, and earlier outputs are
replaced only once every new file is complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError
from .templates import environment
from .view import build_view

__all__ = ["OutputPaths", "render_html", "render_json", "render_junit", "render_summary_md", "write_documents",
           "write_outputs"]


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
    """JUnit XML: one test case per rule (failure = fails the gate, skipped = warning only)."""
    import xml.etree.ElementTree as ET

    rules = results.get("rules", [])
    failures = sum(1 for r in rules if r.get("gating") and r["status"] != "error")
    errors = sum(1 for r in rules if r.get("gating") and r["status"] == "error")
    skipped = sum(1 for r in rules if not r.get("gating") and r["status"] != "pass")
    name = (results.get("policy") or {}).get("name", "audit")
    suite = ET.Element("testsuite", {
        "name": f"auditkit: {name}", "tests": str(len(rules)), "failures": str(failures),
        "errors": str(errors), "skipped": str(skipped), "time": "0",
        "timestamp": (results.get("provenance") or {}).get("finished_at", ""),
    })
    for rule in rules:
        case = ET.SubElement(suite, "testcase", {"classname": f"auditkit.{_xml_safe(name)}", "name": _xml_safe(rule["id"]), "time": "0"})
        message = _xml_safe(f"[{rule['status']}] {rule.get('message', '')}")
        if rule["status"] == "pass":
            continue
        if rule.get("gating"):
            tag = "error" if rule["status"] == "error" else "failure"
            el = ET.SubElement(case, tag, {"message": message, "type": rule["status"]})
            el.text = _xml_safe(_detail(rule))
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


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot hold (ElementTree escapes the rest)."""
    return "".join(ch for ch in str(text) if ch in "\t\n\r" or ord(ch) >= 0x20 and ord(ch) not in (0xFFFE, 0xFFFF))


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
    write_documents(documents, out_dir)
    out = Path(out_dir)
    if github_summary and os.environ.get("GITHUB_STEP_SUMMARY"):
        try:
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
                handle.write(documents["summary.md"] + "\n")
        except OSError:
            pass  # a CI nicety; the audit's own outputs are already written
    has_ll144 = "ll144.html" in documents
    if not has_ll144:  # an LL144 summary left by an earlier run would no longer match these results
        for name in ("ll144.html", "ll144.csv"):
            try:
                (out / name).unlink(missing_ok=True)
            except OSError:
                pass
    return OutputPaths(folder=out, report=out / "report.html", results=out / "results.json",
                       junit=out / "junit.xml", summary=out / "summary.md",
                       ll144_html=out / "ll144.html" if has_ll144 else None,
                       ll144_csv=out / "ll144.csv" if has_ll144 else None)


def write_documents(documents: dict[str, str], out_dir: str | Path) -> None:
    """Write rendered documents into a folder atomically (staged, then moved into place)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror}); choose another with --out.") from None
    if not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another with --out.")
    try:
        staging = Path(tempfile.mkdtemp(prefix=".auditkit-", dir=out))
    except OSError as exc:
        raise OutputError(f"{out}: the output folder is not writable ({exc.strerror}); choose another with --out or fix its permissions.") from None
    try:
        for name, text in documents.items():
            with open(staging / name, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        for name in documents:
            os.replace(staging / name, out / name)
    except OSError as exc:
        raise OutputError(f"{out}: writing the outputs failed ({exc.strerror}); earlier outputs, if any, were left as they were for the files not yet replaced.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
