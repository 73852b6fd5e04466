"""Locating and loading the jinja2 templates (bundled, optionally overridden by a user folder)."""

from __future__ import annotations

from pathlib import Path

from ..errors import OutputError

__all__ = ["bundled_templates_dir", "environment"]


def bundled_templates_dir() -> Path:
    """The folder of templates shipped with auditkit (``report_templates/`` in the source tree)."""
    import importlib.util

    candidates = []
    try:
        # An installed wheel (or editable install) maps report_templates/ to this subpackage.
        spec = importlib.util.find_spec("auditkit.report_templates")
        if spec is not None and spec.submodule_search_locations:
            candidates.extend(Path(p) for p in spec.submodule_search_locations)
    except ModuleNotFoundError:
        pass
    # Imported straight from a source checkout: the folder sits beside the package.
    candidates.append(Path(__file__).resolve().parents[2] / "report_templates")
    folder = next((c for c in candidates if (c / "report.html.j2").exists()), candidates[0])
    if not (folder / "report.html.j2").exists():  # pragma: no cover - a broken installation
        raise OutputError(f"{folder}: auditkit's report templates are missing; reinstall auditkit.")
    return folder


def environment(*, templates: Path | None = None, markdown: bool = False):
    """A jinja2 environment: user templates first (if given), then the bundled ones.

    HTML templates are autoescaped; the Markdown environment escapes with the ``md`` filter.
    """
    import jinja2

    loaders = []
    if templates is not None:
        if not Path(templates).is_dir():
            raise OutputError(f"{templates}: report templates folder not found; check report.templates in the policy.")
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    bundled = jinja2.FileSystemLoader(str(bundled_templates_dir()))
    loaders.append(bundled)
    # "auditkit/<name>" always means the bundled template, so an override can extend it.
    loader = jinja2.PrefixLoader({"auditkit": bundled})
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([loader, *loaders]),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined if not markdown else jinja2.StrictUndefined,
        trim_blocks=markdown,
        lstrip_blocks=markdown,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_escape
    return env


def markdown_escape(value) -> str:
    """Escape text for a Markdown table cell: pipes, backticks, HTML and line breaks."""
    import html

    text = html.escape(str(value), quote=False)
    for ch in ("\\", "`", "*", "_", "[", "]", "|", "#"):
        text = text.replace(ch, "\\" + ch)
    # A summary posted as a pull-request comment must not notify people or teams named in data.
    text = text.replace("@", "&#64;")
    return " ".join(text.split())
