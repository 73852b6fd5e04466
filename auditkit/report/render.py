"""Rendering every output of an audit from its results document: results in, text out.

Nothing here writes a file (:mod:`auditkit.report.writers` writes the rendered set once).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import AuditkitError
from ..outputs import is_output_name
from .junit import render_junit
from .pack_plugins import extended_packs
from .templates import environment
from .view import build_view

__all__ = ["CORE_DOCUMENTS", "render_documents", "render_html", "render_json", "render_summary_md"]

#: The files every audit writes; a pack's plugin may add others (``document_names``).
CORE_DOCUMENTS = ("results.json", "report.html", "junit.xml", "summary.md")


def render_json(results: dict) -> str:
    """``results.json``: the results document, indented, UTF-8 text (no ``NaN``/``Infinity``)."""
    return json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_html(results: dict, *, templates: Path | None = None) -> str:
    """The self-contained HTML report for a results document."""
    view = build_view(results)
    return environment(templates=templates).get_template("report.html.j2").render(v=view)


def render_summary_md(results: dict, *, templates: Path | None = None) -> str:
    """A short Markdown verdict and rules table, fit for a CI job summary."""
    view = build_view(results, charts_enabled=False)
    return environment(templates=templates, markdown=True).get_template("summary.md.j2").render(v=view)


def render_documents(results: dict, *, templates: Path | None = None) -> dict[str, str]:
    """Every file of the audit's output set, by name: :data:`CORE_DOCUMENTS`, then the extra
    documents of each pack the results extend (its plugin's ``documents``).

    Raises
    ------
    OutputError
        A user template cannot be rendered (the message names the template and line).
    AuditkitError
        A pack renders a file it does not declare in ``document_names``, or whose name is not a
        plain file name or is taken (a broken pack).
    """
    documents = {
        "results.json": render_json(results),
        "report.html": render_html(results, templates=templates),
        "junit.xml": render_junit(results),
        "summary.md": render_summary_md(results, templates=templates),
    }
    for plugin in extended_packs(results):
        extra = plugin.documents(results, templates)
        for name in extra:
            if name not in plugin.document_names or name in documents or not is_output_name(name):
                raise AuditkitError(f"pack '{plugin.name}' rendered '{name}', which is not a plain file name it declares "
                                    f"({', '.join(sorted(plugin.document_names)) or 'none'}) or is another output's "
                                    "name; the pack is broken, reinstall the package providing it.")
        documents.update(extra)
    return documents
