"""``audit report``: the HTML report re-rendered from a saved ``results.json``.

The report is a pure function of the results, so re-rendering the ``results.json`` of a run
gives the ``report.html`` that run wrote. A file that passed :func:`load_results` renders; if
it still breaks the view, that is a bug in auditkit, reported as one line naming the file and
the report section that failed.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import AuditkitError, DataError, OutputError
from ..outputs import write_file
from ..sanitize import short_repr
from .render import render_html
from .results_file import load_results

__all__ = ["render_report", "rerender"]

_HINT = "pass the results.json written by 'audit check'"


def render_report(results: dict, source: str | Path, *, templates: Path | None = None) -> str:
    """The report's HTML for a results document read from ``source``.

    A document that passed :func:`load_results` renders; if it still breaks the view, that is
    a bug in auditkit, and it is reported as a DataError naming the file and the report section
    that failed rather than as an anonymous internal error.
    """
    try:
        return render_html(results, templates=templates)
    except OutputError as exc:
        if templates is not None:
            raise  # the user's templates: their message names the template file and line
        raise DataError(f"{source}: the report cannot be rendered from this file ({exc.message.rstrip('.')}); "
                        "this is a bug in auditkit: please report it with the file.") from exc
    except AuditkitError:
        raise
    except RecursionError:
        raise DataError(f"{source}: the report cannot be rendered from this file (nested too deeply); {_HINT}.") from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence, see the docstring
        section = failing_section(exc, templates=templates)
        raise DataError(f"{source}: the report's {section} section cannot be rendered from this file "
                        f"({type(exc).__name__}: {short_repr(str(exc), 120)[1:-1]}); this is a bug in auditkit: "
                        "please report it with the file (rerun with --debug for the traceback).") from exc


def failing_section(exc: BaseException, *, templates: Path | None = None) -> str:
    """The report section being built or rendered when ``exc`` was raised, quoted ('drift').

    Read from the traceback: the innermost frame that runs a section's ``build`` or its
    template (core sections and every installed pack's) names it; anything else is the
    page's 'overview'.
    """
    import traceback

    builds, files = _section_places(templates)
    section = "overview"
    for frame, _line in traceback.walk_tb(exc.__traceback__):
        code = frame.f_code
        name = builds.get(code) or files.get(code.co_filename)
        if name is not None:
            section = name
    return f"'{section}'"


def _section_places(templates: Path | None) -> tuple[dict, dict[str, str]]:
    """Each section's name by the code object of its ``build`` and by its template's file name."""
    from ..packs import plugins
    from .sections import CORE_SECTIONS
    from .templates import environment

    sections = [*CORE_SECTIONS, *(s for plugin in plugins().values() for s in plugin.report_sections())]
    env = environment(templates=templates)
    builds, files = {}, {}
    for section in sections:
        name = section.title if section.title[1:2].isupper() else section.title[:1].lower() + section.title[1:]
        code = getattr(section.build, "__code__", None)
        if code is not None:
            builds[code] = name
        try:
            files[env.loader.get_source(env, section.template)[1]] = name
        except Exception:  # noqa: BLE001 - a template that cannot be found or read names no section
            pass
    return builds, files


def rerender(results_path: str | Path, output: str | Path, *, templates: Path | None = None) -> Path:
    """``audit report``: render the report of a saved ``results.json`` and write it to ``output``.

    Raises
    ------
    DataError
        The results file cannot be read or is not a results file (see :func:`load_results`).
    OutputError
        A user template cannot be rendered, or ``output`` cannot be written (its folder must exist).
    """
    html = render_report(load_results(results_path), results_path, templates=templates)
    output = Path(output)
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{output}: the folder {folder} does not exist; create it or choose another -o.")
    write_file(output, html, hint="choose another -o")
    return output
