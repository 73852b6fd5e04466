"""Rendering and writing the audit's outputs. Reads plain result dicts; computes nothing.

``build_view`` turns a ``results.json`` document into what the templates show;
``render_html`` renders the report; ``write_outputs`` writes every output atomically.
"""

from .writers import OutputPaths, render_html, render_junit, render_summary_md, write_outputs

__all__ = ["OutputPaths", "render_html", "render_junit", "render_summary_md", "write_outputs"]
