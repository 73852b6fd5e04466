"""The sandbox report templates render in: what a template may reach, and its budgets.

Every template -- bundled or from a user's folder -- renders in a subclass of jinja2's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` (see :mod:`auditkit.report.templates`
for the loaders). Attributes can be read only on plain data and jinja2's own helpers; values,
output, steps and time are budgeted (the ``MAX_*`` constants below, documented in
docs/report.md and docs/security.md); every failure is one OutputError naming the template
file and line.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any

from ..errors import AuditkitError, OutputError

#: The longest output one template render may produce (characters).
MAX_OUTPUT = 64 * 1024 * 1024
#: All text one render may write, counting text captured by macros, ``{% set %}`` blocks and
#: imports before it reaches the output (characters).
MAX_WRITTEN = 2 * MAX_OUTPUT
#: The largest single value (string length, or items of a list/dict counted through nesting)
#: a template may build.
MAX_VALUE = 16 * 1024 * 1024
#: The most items (list entries, dict keys and values, counted through nesting) in one value.
MAX_ITEMS = 1_000_000
#: Loop iterations, calls, attribute and item look-ups, filter and operator applications.
MAX_STEPS = 20_000_000
#: Characters and items handed to filters, methods and operators, summed over a render.
MAX_WORK = 1_000_000_000
#: Wall-clock time one render may take (seconds).
MAX_SECONDS = 30.0
#: The largest integer a template may compute, in bits.
MAX_INT_BITS = 1 << 16

_FIX = "fix the template or remove it from the templates folder"


# ---------------------------------------------------------------- limits


def _weight(value: Any) -> int:
    """Characters plus items in ``value``, counted through nesting (shared items count each
    time they occur, as they would when printed). Stops early: once over MAX_VALUE, or after
    visiting MAX_ITEMS items, it returns a number over MAX_VALUE."""
    from jinja2.utils import Namespace

    limit = MAX_VALUE
    total = 0
    visits = 0
    stack = [value]
    while stack:
        item = stack.pop()
        visits += 1
        if visits > MAX_ITEMS:
            return limit + 1
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            if total <= limit:
                stack.extend(item)
        elif isinstance(item, dict):
            total += len(item)
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, Namespace):
            attrs = object.__getattribute__(item, "_Namespace__attrs")
            total += len(attrs)
            if total <= limit:
                stack.extend(attrs.values())
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1
        else:
            total += 1
        if total > limit:
            return total
    return total


def _size(value: Any) -> int:
    """Cheap size of one value: its length when it has one, else 1."""
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        return len(value)
    return 1


def _limit_error(message: str):
    from jinja2.exceptions import SecurityError

    return SecurityError(message)


def _too_big(what: str = "a value") -> Exception:
    return _limit_error(f"{what} would be over auditkit's limit of {MAX_VALUE:,} characters or {MAX_ITEMS:,} items")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# printf-style conversions: %[(key)][flags][width][.precision]type
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
# str.format fields: any run of 7+ digits inside {...} is a width or precision we refuse
_FORMAT_WIDE = re.compile(r"\{[^{}]*?(\d{7,}|\{)[^{}]*\}")


def _check_printf(fmt: str) -> None:
    for match in _PRINTF.finditer(fmt):
        for part in match.groups():
            if part == "*" or (part is not None and len(part) > 6):
                raise _limit_error("a %-format width or precision is '*' or over 999999")


def _check_format(fmt: str) -> None:
    if _FORMAT_WIDE.search(fmt):
        raise _limit_error("a format width or precision is nested or over 999999")


class _Budget:
    """Steps, work and time spent by one render."""

    __slots__ = ("deadline", "next_clock", "steps", "work", "written")

    def __init__(self) -> None:
        self.steps = 0
        self.work = 0
        self.written = 0
        self.deadline = time.monotonic() + MAX_SECONDS
        self.next_clock = 1024

    def charge(self, steps: int = 1, work: int = 0) -> None:
        self.steps += steps
        self.work += work
        if self.steps > MAX_STEPS:
            raise _limit_error(f"the template takes over {MAX_STEPS:,} steps (loop iterations, calls, look-ups); "
                               "it loops too much or recurses without end")
        if self.work > MAX_WORK:
            raise _limit_error(f"the template processes over {MAX_WORK:,} characters or items in filters and operators")
        if self.written > MAX_WRITTEN:
            raise _limit_error(f"the template writes over {MAX_WRITTEN // (1024 * 1024)} MiB of text "
                               "(counting text built by macros, set blocks and imports)")
        if self.steps >= self.next_clock or work >= 4096:
            self.next_clock = self.steps + 1024
            if time.monotonic() > self.deadline:
                raise _limit_error(f"rendering took over {MAX_SECONDS:g} seconds")


# ---------------------------------------------------------------- pre-checks of filters and methods


def _materialize(value):
    return value if isinstance(value, (list, tuple, str, dict)) else list(value)


# Each takes the filter's arguments (after any context/environment argument) and returns None,
# or the arguments to use instead (an iterator materialized once to be measured).


def _pre_join(value, d="", attribute=None, *rest, **kwargs):
    value = _materialize(value)
    if attribute is None and _weight(value) + len(str(d)) * len(value) > MAX_VALUE:
        raise _too_big("the joined text")
    return (value, d, attribute, *rest)


def _pre_replace(s, old, new, count=None, *rest, **kwargs):
    text, old_s, new_s = str(s), str(old), str(new)
    if len(new_s) > len(old_s):
        n = text.count(old_s) if old_s else len(text) + 1
        count = kwargs.get("count", count)
        if _int(count) is not None and count >= 0:
            n = min(n, count)
        if len(text) + n * (len(new_s) - len(old_s)) > MAX_VALUE:
            raise _too_big("the replaced text")


def _pre_width(index: int, name: str, default):
    def check(*args, **kwargs):
        width = kwargs.get(name, args[index] if len(args) > index else default)
        if _int(width) is not None and width > MAX_VALUE:
            raise _too_big(f"{name}={width}")
    return check


def _pre_indent(s, width=4, *rest, **kwargs):
    width = kwargs.get("width", width)
    unit = len(width) if isinstance(width, str) else (_int(width) or 0)
    text = str(s)
    if len(text) + (text.count("\n") + 1) * max(unit, 0) > MAX_VALUE:
        raise _too_big("the indented text")


def _pre_format(value, *args, **kwargs):
    _check_printf(str(value))


def _pre_sum(iterable, *rest, **kwargs):
    iterable = _materialize(iterable)
    items = iterable.values() if isinstance(iterable, dict) else iterable
    if any(isinstance(x, (list, tuple, str)) for x in items) and _weight(iterable) > MAX_VALUE:
        raise _too_big("the sum")
    return (iterable, *rest)


_FILTER_CHECKS = {
    "join": _pre_join,
    "replace": _pre_replace,
    "center": _pre_width(1, "width", 80),
    "indent": _pre_indent,
    "format": _pre_format,
    "batch": _pre_width(1, "linecount", 0),
    "slice": _pre_width(1, "slices", 0),
    "wordwrap": _pre_width(1, "width", 79),
    "truncate": _pre_width(1, "length", 255),
    "sum": _pre_sum,
}


def _check_text_method(method, args, kwargs) -> None:
    """Refuse calls of str/bytes methods that would build more than MAX_VALUE."""
    name = getattr(method, "__name__", "")
    owner = getattr(method, "__self__", None)
    text_len = len(owner) if isinstance(owner, (str, bytes)) else 0
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width")
        if _int(width) is not None and width > MAX_VALUE:
            raise _too_big(f"{name}({width})")
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        tabs = owner.count("\t" if isinstance(owner, str) else b"\t")
        if _int(size) is not None and text_len + tabs * size > MAX_VALUE:
            raise _too_big("the expanded text")
    elif name == "join":
        items = args[0] if args else ()
        if isinstance(items, (list, tuple, dict, str)) and _weight(items) + text_len * len(items) > MAX_VALUE:
            raise _too_big("the joined text")
    elif name == "replace":
        if len(args) >= 2 and isinstance(args[0], type(owner)) and isinstance(args[1], type(owner)):
            old, new = args[0], args[1]
            n = owner.count(old) if old else text_len + 1
            if text_len + n * max(len(new) - len(old), 0) > MAX_VALUE:
                raise _too_big("the replaced text")
    elif name in ("format", "format_map") and isinstance(owner, str):
        _check_format(owner)
    elif name in ("translate", "maketrans"):
        raise _limit_error(f"str.{name} is not available in report templates")


def _check_binop(operator_: str, left: Any, right: Any) -> None:
    """Refuse an operator whose result would be over the size limits, before computing it."""
    ints = _int(left) is not None and _int(right) is not None
    if operator_ == "*":
        n, seq = (left, right) if _int(left) is not None else (right, left)
        if _int(n) is not None and isinstance(seq, (str, bytes, list, tuple)) and n > 0 and _weight(seq) * n > MAX_VALUE:
            raise _too_big()
        if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _limit_error(f"a number would be over {MAX_INT_BITS} bits")
    elif operator_ == "**":
        if ints and right > 0 and abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
            raise _limit_error(f"a number would be over {MAX_INT_BITS} bits")
    elif operator_ == "%" and isinstance(left, str):
        _check_printf(left)
    elif (operator_ == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, type(left))
          and _weight(left) + _weight(right) > MAX_VALUE):
        raise _too_big()


# ---------------------------------------------------------------- the sandbox


@functools.cache
def _sandbox_class():
    import jinja2
    from jinja2 import nodes
    from jinja2.runtime import LoopContext
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.utils import _PassArg
    from jinja2.visitor import NodeTransformer
    from markupsafe import Markup

    plain = (str, bytes, int, float, complex, bool, type(None), list, tuple, dict, set, frozenset, range, Markup)

    class Guard(NodeTransformer):
        """Route every loop, literal and ``~`` concatenation through the limit filters."""

        def _wrap(self, node, name):
            return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)

        def visit_For(self, node):
            node = self.generic_visit(node)
            node.iter = self._wrap(node.iter, "auditkit_iter")
            return node

        def visit_Concat(self, node):
            return self._wrap(self.generic_visit(node), "auditkit_value")

        def visit_List(self, node):
            return self._wrap(self.generic_visit(node), "auditkit_value")

        def visit_Dict(self, node):
            return self._wrap(self.generic_visit(node), "auditkit_value")

        def visit_Tuple(self, node):
            node = self.generic_visit(node)
            return self._wrap(node, "auditkit_value") if node.ctx == "load" else node

        def visit_Output(self, node):
            # Count all text written, also into the buffers of macros, set blocks and imports,
            # which fill up before any output reaches BoundedTemplate.render.
            node = self.generic_visit(node)
            children, constant = [], 0
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    constant += len(child.data)
                    children.append(child)
                else:
                    children.append(self._wrap(child, "auditkit_emit"))
            if constant:
                children.append(self._wrap(nodes.Const(constant, lineno=node.lineno), "auditkit_emit_text"))
            node.nodes = children
            return node

    class BoundedTemplate(jinja2.Template):
        """Renders by streaming, stopping once the output passes MAX_OUTPUT characters."""

        def render(self, *args, **kwargs) -> str:
            env = self.environment
            outer = env._budget
            env._budget = _Budget()
            chunks: list[str] = []
            size = 0
            try:
                for chunk in self.generate(*args, **kwargs):
                    size += len(chunk)
                    if size > MAX_OUTPUT:
                        raise OutputError(f"{self.filename or self.name}: the rendered output is over auditkit's limit of "
                                          f"{MAX_OUTPUT // (1024 * 1024)} MiB of text; the template loops too much.")
                    chunks.append(chunk)
            except AuditkitError:
                raise
            except Exception as exc:  # noqa: BLE001 - every template failure becomes one line
                raise _describe(exc, self) from None
            finally:
                env._budget = outer
            return env.concat(chunks)

    class Sandbox(ImmutableSandboxedEnvironment):
        """ImmutableSandboxedEnvironment with attribute, size, step and time limits."""

        template_class = BoundedTemplate
        intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._budget: _Budget | None = None
            self.globals.pop("lipsum", None)  # builds text of any size
            # pass_context keeps jinja2 from folding these into constants at compile time
            self.filters["auditkit_iter"] = jinja2.pass_context(lambda _context, value: self._guard_iter(value))
            self.filters["auditkit_emit"] = jinja2.pass_context(lambda _context, value: self._emit(value))
            self.filters["auditkit_emit_text"] = jinja2.pass_context(lambda _context, size: self._emit_text(size))
            self.filters["auditkit_value"] = self._checked

        # -- filters

        def guard_filters(self) -> None:
            for name, func in list(self.filters.items()):
                if not name.startswith("auditkit_"):
                    self.filters[name] = self._guard_filter(name, func)

        def _guard_filter(self, name, func):
            pre = _FILTER_CHECKS.get(name)
            offset = 0 if _PassArg.from_obj(func) is None else 1

            @functools.wraps(func)
            def guarded(*args, **kwargs):
                if len(args) > offset:
                    self._charge(1, _size(args[offset]))
                    if pre is not None:
                        rest = pre(*args[offset:], **kwargs)
                        if rest is not None:
                            args = (*args[:offset], *rest)
                return self._checked(func(*args, **kwargs))

            return guarded

        def _guard_iter(self, value):
            if isinstance(value, jinja2.Undefined):
                return value  # iterating it raises the right error
            return self._counted(value)

        def _counted(self, value):
            for item in value:
                self._charge()
                yield item

        def _checked(self, value):
            if isinstance(value, (str, bytes)):
                if len(value) > MAX_VALUE:
                    raise _too_big()
            elif isinstance(value, (list, tuple, dict, set, frozenset)) and _weight(value) > MAX_VALUE:
                raise _too_big()
            elif _int(value) is not None and value.bit_length() > MAX_INT_BITS:
                raise _limit_error(f"a number would be over {MAX_INT_BITS} bits")
            return value

        def _charge(self, steps: int = 1, work: int = 0) -> None:
            if self._budget is not None:
                self._budget.charge(steps, work)

        def _emit(self, value):
            if self._budget is not None:
                self._budget.written += len(value) if isinstance(value, str) else _weight(value)
                self._budget.charge(0)
            return value

        def _emit_text(self, size: int) -> str:
            if self._budget is not None:
                self._budget.written += size
                self._budget.charge(0)
            return ""

        # -- what templates can reach

        def is_safe_attribute(self, obj, attr, value) -> bool:
            if not super().is_safe_attribute(obj, attr, value):
                return False
            if isinstance(obj, plain):
                return True
            module = type(obj).__module__ or ""
            return module.startswith(("jinja2.", "markupsafe"))

        def getattr(self, obj, attribute):
            self._charge()
            return super().getattr(obj, attribute)

        def getitem(self, obj, argument):
            self._charge()
            if isinstance(argument, slice):
                self._charge(0, _size(obj))
                return self._checked(super().getitem(obj, argument))
            return super().getitem(obj, argument)

        def call(self, context, obj, /, *args, **kwargs):
            self._charge(1, sum(_size(a) for a in args))
            if isinstance(obj, LoopContext) and args:  # recursive loop: loop(children)
                args = (self._guard_iter(args[0]), *args[1:])
            target = getattr(obj, "__wrapped__", obj)  # str.format is wrapped by the sandbox
            if isinstance(getattr(target, "__self__", None), (str, bytes)):
                if getattr(target, "__name__", "") == "join" and args:
                    args = (_materialize(args[0]), *args[1:])
                _check_text_method(target, args, kwargs)
            return self._checked(super().call(context, obj, *args, **kwargs))

        def call_binop(self, context, operator_, left, right):
            self._charge(1, _size(left) + _size(right))
            _check_binop(operator_, left, right)
            return self._checked(self.binop_table[operator_](left, right))

        # -- compiling and loading

        def _parse(self, source, name, filename):
            tree = super()._parse(source, name, filename)
            tree = Guard().visit(tree)
            tree.set_environment(self)
            return tree

        def get_template(self, name, parent=None, globals=None):
            if self._budget is not None:  # an include or extends while rendering: the render reports it
                return super().get_template(name, parent, globals)
            try:
                return super().get_template(name, parent, globals)
            except AuditkitError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise _describe(exc, None, name=self._filename_of(name)) from None

        def _filename_of(self, name) -> str:
            try:
                return self.loader.get_source(self, name)[1] or str(name)
            except Exception:  # noqa: BLE001 - only for a message
                return str(name)

    return Sandbox


def _describe(exc: BaseException, template, *, name: str | None = None) -> OutputError:
    """One line naming the template file and line for an exception raised by jinja2."""
    import jinja2
    from jinja2.exceptions import SecurityError

    where = None
    tb = exc.__traceback__
    while tb is not None:  # the innermost template frame (jinja2 rewrote the traceback to template lines)
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = (exc.filename or exc.name or name or "template", exc.lineno)
        what = f"syntax error: {exc.message}"
    elif isinstance(exc, jinja2.TemplateNotFound):
        missing = ", ".join(str(n) for n in exc.templates) if isinstance(exc, jinja2.TemplatesNotFound) else exc.name
        what = f"template {missing!r} not found in the templates folder nor among auditkit's templates"
    elif isinstance(exc, jinja2.UndefinedError):
        what = f"undefined: {exc.message}; the view model is described in docs/report.md"
    elif isinstance(exc, SecurityError):
        what = f"refused by the template sandbox: {exc}"
    elif isinstance(exc, RecursionError):
        what = "recursion too deep (a template that includes, extends or calls itself without end)"
    elif isinstance(exc, MemoryError):
        what = "out of memory while rendering"
    else:
        what = f"{type(exc).__name__}: {exc}"
    if where is None:
        fallback = getattr(template, "filename", None) or getattr(template, "name", None) or name or "template"
        place = str(fallback)
    else:
        place = f"{where[0]}, line {where[1]}"
    what = what if len(what) <= 300 else what[:299] + "…"
    what = what.rstrip(". ")
    return OutputError(f"{place}: {what}; {_FIX}.")
