"""Making text that came from inputs safe to show: on a terminal, in one line, in a CSV cell.

Column names, group values, rule ids and policy names are written by whoever made the audited
folder. Shown raw, a carriage return or an ANSI escape can repaint a failing row as a green
"PASS", a Unicode line separator can split one error line into two, a bidirectional override
can reorder what a reader sees, and a cell starting with ``=`` becomes a live spreadsheet
formula. Every renderer that writes such text passes it through one of these functions.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_MESSAGE", "csv_cell", "describe_exception", "one_line", "short_repr", "terminal_safe"]

#: The longest error message auditkit prints (characters); longer ones are cut with "…".
MAX_MESSAGE = 600

# C0 and C1 controls and DEL, Unicode line/paragraph separators, the bidirectional
# embedding/override/isolate marks (the "Trojan Source" characters), and lone surrogates
# (JSON can carry them; no terminal encoding can write them).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match) -> str:
    ch = match.group(0)
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: Any, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or reordering character shown as a visible escape (``\\x1b``).

    With ``keep_newlines`` a plain ``\\n`` survives (for multi-line output auditkit itself builds).
    """
    text = str(text)
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, part) for part in text.split("\n"))
    return _UNSAFE.sub(_escape, text)


def one_line(text: Any, limit: int = MAX_MESSAGE) -> str:
    """One printable line: whitespace runs folded, controls escaped, cut to ``limit`` characters."""
    folded = " ".join(str(text).split(" "))
    folded = re.sub(r"[ \t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]+", " ", folded).strip()
    folded = terminal_safe(folded)
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for a message, never longer than ``limit`` characters, computed cheaply.

    Containers are summarised by type and size before any ``repr`` is taken, so a value built
    by YAML aliases (a few hundred bytes that expand to gigabytes) costs nothing to describe.
    """
    if isinstance(value, dict):
        return f"a mapping of {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, (list, tuple, set)):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        digits = int(value.bit_length() * 0.30103) + 1  # str() of a huge int is slow or refused
        return f"a number of about {digits:,} digits"
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]
        return one_line(repr(value)[:-1], limit - 2) + "…'"
    return one_line(repr(value), limit)


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
    ``'`` (OWASP's advice for CSV injection); plain numbers, written as numbers, are kept.
    """
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def describe_exception(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` of an exception raised by model code, short, on one line, never raising.

    The message is model code too (``__str__`` may raise, loop or return megabytes), so it is
    computed defensively and cut before it is cleaned.
    """
    try:
        name = type(exc).__name__
        if not isinstance(name, str):
            name = "exception"
    except Exception:  # noqa: BLE001 - a hostile metaclass
        name = "exception"
    try:
        text = str(exc)
        text = text[: limit * 4] if isinstance(text, str) else ""
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - str() of a hostile exception
        text = "(message not printable)"
    text = one_line(text, limit)
    return one_line(f"{name}: {text}" if text else name, limit + 40)
