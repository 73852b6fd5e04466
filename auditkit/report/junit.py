"""``junit.xml``: one test case per rule, for CI systems that show test results."""

from __future__ import annotations

import re

from ..sanitize import terminal_safe

__all__ = ["render_junit"]


def render_junit(results: dict) -> str:
    """JUnit XML: one test case per rule (failure = fails the gate, skipped = warning only, or
    awaiting labels: a ``pending`` rule is skipped with its message).

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
        else:  # a warning, a waiver, or a rule awaiting the labels of the batch ("pending")
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
