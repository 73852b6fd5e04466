"""Locating, loading and rendering the jinja2 templates (bundled, optionally overridden by a user folder).

Templates come from three places, looked up in this order:

1. the user's folder (``report.templates`` in the policy, ``--templates``), when given;
2. auditkit's bundled templates (``report_templates/``: ``report.html.j2``, ``partials/...``);
3. each installed pack's ``templates`` folder, as ``packs/<pack name>/<file>``.

A user file with the name of a bundled or pack template replaces it (``partials/rules.html.j2``,
``packs/nyc-ll144/ll144.html.j2``); ``auditkit/<name>`` always means the shipped template
(bundled or pack), so a replacement can extend the original.

A templates folder named by a policy (``report.templates``) or on the command line
(``--templates``) usually sits in the audited folder, so it is *untrusted*: whoever wrote it
must not be able to run code, read or write files, or make auditkit use unbounded memory or
time. Every template -- bundled or not -- is therefore rendered in jinja2's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`, tightened further here:

- attributes can be read only on plain data (``str``, numbers, lists, dicts, ...) and on
  jinja2's own helper objects (``loop``, ``cycler``, ``namespace``...); names starting with
  ``_`` are refused, as are methods that change a list or dict;
- the user folder and the packs' folders serve only regular UTF-8 files inside them (a
  symbolic link that leads out of the folder, a FIFO or a device is refused), each at most
  ``LIMITS["template"]`` bytes;
- every value a template builds is at most :data:`MAX_VALUE` characters (or items), the output
  at most :data:`MAX_OUTPUT` characters, and a render stops after :data:`MAX_STEPS` steps
  (loop iterations, calls, attribute look-ups) or :data:`MAX_SECONDS` seconds;
- every failure (syntax error, undefined name, sandbox refusal, missing template, runaway
  recursion, a limit) is one :class:`~auditkit.errors.OutputError` naming the template file and
  line.
"""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

from ..errors import OutputError
from .sandbox import _sandbox_class

__all__ = ["bundled_templates_dir", "environment", "markdown_escape"]

_FIX = "fix the template or remove it from the templates folder"


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
    """A sandboxed jinja2 environment: user templates first (if given), then the bundled ones,
    then the packs' (``packs/<pack name>/<file>``).

    HTML templates are autoescaped; the Markdown environment escapes with the ``md`` filter.
    ``auditkit/<name>`` always means the shipped template, so an override can extend it.

    Raises
    ------
    OutputError
        ``templates`` is not a folder.
    """
    import jinja2

    shipped = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(bundled_templates_dir())), _packs_loader()])
    loaders = []
    if templates is not None:
        if not Path(templates).is_dir():
            raise OutputError(f"{templates}: report templates folder not found; check report.templates in the policy "
                              "or --templates.")
        loaders.append(_folder_loader_class()(Path(templates)))
    env_class = _sandbox_class()
    env = env_class(
        loader=jinja2.ChoiceLoader([jinja2.PrefixLoader({"auditkit": shipped}), *loaders, shipped]),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=markdown,
        lstrip_blocks=markdown,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["md"] = markdown_escape
    env.guard_filters()
    return env


def markdown_escape(value) -> str:
    """Escape text for a Markdown table cell: pipes, backticks, HTML, line breaks and controls."""
    import html

    from ..sanitize import terminal_safe

    # Line breaks fold to spaces; any other control or bidi character becomes a visible escape.
    text = html.escape(terminal_safe(" ".join(str(value).split())), quote=False)
    for ch in ("\\", "`", "*", "_", "[", "]", "|", "#"):
        text = text.replace(ch, "\\" + ch)
    # A summary posted as a pull-request comment must not notify people or teams named in data.
    text = text.replace("@", "&#64;")
    return " ".join(text.split())


def _packs_loader():
    """``packs/<pack name>/<file>``: the ``templates`` folder of every installed pack that has one."""
    import jinja2

    from ..packs import plugins

    folders = {name: plugin.templates_folder for name, plugin in plugins().items()}
    fix = "the pack's templates are damaged; reinstall the package providing the pack"
    return jinja2.PrefixLoader({"packs": jinja2.PrefixLoader({
        name: _folder_loader_class()(folder, fix=fix) for name, folder in folders.items()
        if folder is not None and Path(folder).is_dir()})})


# ---------------------------------------------------------------- a templates folder


@functools.cache
def _folder_loader_class():
    import jinja2

    class FolderLoader(jinja2.BaseLoader):
        """Serves templates from an untrusted folder: regular UTF-8 files inside it, size-capped.

        ``fix`` says what to do about a template that cannot be used, for error messages.
        """

        def __init__(self, folder: Path, *, fix: str = _FIX) -> None:
            self.folder = Path(folder)
            self.root = Path(os.path.realpath(folder))
            self.fix = fix

        def get_source(self, environment, template):
            from jinja2.loaders import split_template_path

            pieces = split_template_path(template)  # refuses ".." (TemplateNotFound)
            path = self.folder.joinpath(*pieces)
            try:
                os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                raise jinja2.TemplateNotFound(template) from None
            except OSError as exc:
                raise OutputError(f"{path}: template cannot be opened ({exc.strerror}); {self.fix}.") from None
            real = Path(os.path.realpath(path))
            if real != self.root and self.root not in real.parents:
                raise OutputError(f"{path}: is a symbolic link leading outside the templates folder {self.folder} "
                                  f"(to {real}); templates are read only from inside that folder, so copy the file in.")
            text = _read_template(path, real, self.fix)
            return text, str(path), lambda: True

    return FolderLoader


def _read_template(path: Path, real: Path, fix: str) -> str:
    from ..inputs import LIMITS, regular_file

    what = "a report template"
    regular_file(path, kind="template", what=what, error=OutputError, hint=fix)
    limit = LIMITS["template"]
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise OutputError(f"{path}: template cannot be opened ({exc.strerror}); {fix}.") from None
    try:
        info = os.fstat(fd)  # the file checked above could have been swapped for a FIFO since
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{path}: is not a regular file; auditkit reads templates from regular files only.")
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read(limit + 1)
    except OSError as exc:
        raise OutputError(f"{path}: template cannot be read ({exc.strerror}); {fix}.") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:
        raise OutputError(f"{path}: template is over auditkit's limit of {limit // (1024 * 1024)} MiB for a template file; {fix}.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OutputError(f"{path}: template is not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8.") from None
