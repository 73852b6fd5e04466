"""Rendering and writing the audit's outputs. Reads plain result dicts; computes nothing.

``build_view`` turns a ``results.json`` document into what the templates show, section by
section (:mod:`auditkit.report.sections`); the ``render_*`` functions turn it into text;
``write_outputs`` renders every output and writes them once, as one set.
"""

from .junit import render_junit
from .render import render_documents, render_html, render_json, render_summary_md
from .writers import OutputPaths, write_outputs

__all__ = ["OutputPaths", "render_documents", "render_html", "render_json", "render_junit", "render_summary_md",
           "write_outputs"]
