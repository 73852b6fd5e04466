"""What a pickle would import, found by simulating its stack machine without running it.

Used for ``model.trust: [type names]`` on plain pickles: a pickle is loaded only when every
global it would import is listed. Anything the simulation cannot pin down makes the pickle
unverifiable (:class:`Unverifiable`), and auditkit refuses it.
"""

from __future__ import annotations

from typing import Any

from .sanitize import describe_exception

__all__ = ["Unverifiable", "imported_globals"]

class Unverifiable(Exception):
    """The pickle's imports cannot be determined without running it."""


_MARK_OPS = {"MARK"}
_STRING_OPS = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8"}
_GET_OPS = {"GET", "BINGET", "LONG_BINGET"}
_PUT_OPS = {"PUT", "BINPUT", "LONG_BINPUT"}
_REFUSED_OPS = {
    "EXT1": "it imports through the copyreg extension registry (EXT1)",
    "EXT2": "it imports through the copyreg extension registry (EXT2)",
    "EXT4": "it imports through the copyreg extension registry (EXT4)",
    "PERSID": "it refers to persistent ids (PERSID)",
    "BINPERSID": "it refers to persistent ids (BINPERSID)",
}
# Strings longer than this cannot be module or attribute names anyone trusts; they are
# tracked as unknown values, so importing through one makes the pickle unverifiable.
_MAX_NAME = 1000


def imported_globals(handle) -> list[str]:
    """Simulate the pickle stack machine over the whole opcode stream; returns the imported globals.

    The simulation follows CPython's ``_pickle`` unpickler: an object stack with mark
    positions (a pop never crosses the topmost mark), a memo written by PUT/BINPUT/
    LONG_BINPUT/MEMOIZE from the top of the stack and read by GET/BINGET/LONG_BINGET, and the
    stack effect of every other opcode from :mod:`pickletools`. Values are tracked only as
    "this exact ``str``" or "something else", which is all an import needs: STACK_GLOBAL must
    find two exact strings on top of the stack, GLOBAL and INST carry their names (read from
    the raw bytes, decoded as the unpickler does), and for protocols below 3 names go through
    the same Python 2 name mapping the unpickler applies.

    Raises
    ------
    Unverifiable
        Anything the unpickler would resolve differently or dynamically, or refuse: a
        STACK_GLOBAL operand that is not a known string, EXT1/EXT2/EXT4, PERSID/BINPERSID, a
        stack underflow or crossed mark, an unknown memo key, an unknown opcode or truncated
        argument, anything but exactly one object left at STOP, or data after STOP.
    """
    import pickle
    import pickletools

    stack: list[Any] = []  # a str for an exactly known string, None for anything else
    marks: list[int] = []
    memo: dict[int, Any] = {}
    proto = 0
    found: list[str] = []
    seen: set[str] = set()

    def fence() -> int:
        return marks[-1] if marks else 0

    def pop(n: int, opname: str) -> list[Any]:
        if n == 0:
            return []
        if len(stack) - n < fence():
            raise Unverifiable(f"{opname} takes more from the stack than there is")
        items = stack[-n:]
        del stack[-n:]
        return items

    def pop_mark(opname: str) -> list[Any]:
        if not marks:
            raise Unverifiable(f"{opname} finds no MARK on the stack")
        at = marks.pop()
        items = stack[at:]
        del stack[at:]
        return items

    def raw_lines(start: int, count: int) -> list[bytes]:
        end = handle.tell()
        handle.seek(start + 1)
        raw = handle.read(end - start - 1)
        handle.seek(end)
        lines = raw.split(b"\n")
        if len(lines) != count + 1 or lines[-1] != b"":
            raise Unverifiable("a text argument is malformed")
        return lines[:count]

    def record(module: Any, name: Any, opname: str) -> None:
        if not isinstance(module, str) or not isinstance(name, str):
            raise Unverifiable(f"{opname} imports a name that is not a plain string known without running the pickle")
        if proto < 3:  # the unpickler's fix_imports for Python 2 pickles
            import _compat_pickle

            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        if full not in seen:
            seen.add(full)
            found.append(full)

    def memo_key(op, arg, pos) -> int:
        if op.name in ("GET", "PUT"):
            (line,) = raw_lines(pos, 1)
            if not line.isdigit() or not line.isascii():
                raise Unverifiable(f"{op.name} has a memo key that is not a plain number")
            return int(line)
        return int(arg)

    handle.seek(0)
    stopped = False
    try:
        for op, arg, pos in pickletools.genops(handle):
            name = op.name
            if name in _REFUSED_OPS:
                raise Unverifiable(_REFUSED_OPS[name])
            if name == "PROTO":
                if not 0 <= int(arg) <= pickle.HIGHEST_PROTOCOL:
                    raise Unverifiable(f"it asks for unsupported pickle protocol {int(arg)}")
                proto = int(arg)
            elif name == "FRAME":
                pass
            elif name in _MARK_OPS:
                marks.append(len(stack))
            elif name in _STRING_OPS:
                stack.append(arg if isinstance(arg, str) and len(arg) <= _MAX_NAME else None)
            elif name in _GET_OPS:
                key = memo_key(op, arg, pos)
                if key not in memo:
                    raise Unverifiable(f"{name} reads memo entry {key}, which was never written")
                stack.append(memo[key])
            elif name in _PUT_OPS:
                key = memo_key(op, arg, pos)
                if len(stack) <= fence():
                    raise Unverifiable(f"{name} memoizes from an empty stack")
                memo[key] = stack[-1]
            elif name == "MEMOIZE":
                if len(stack) <= fence():
                    raise Unverifiable("MEMOIZE memoizes from an empty stack")
                memo[len(memo)] = stack[-1]
            elif name == "DUP":
                if len(stack) <= fence():
                    raise Unverifiable("DUP finds an empty stack")
                stack.append(stack[-1])
            elif name == "POP":
                if marks and marks[-1] == len(stack):
                    marks.pop()
                else:
                    pop(1, name)
            elif name in ("GLOBAL", "INST"):
                lines = raw_lines(pos, 2)
                try:
                    module, attr = (line.decode("utf-8") for line in lines)
                except UnicodeDecodeError:
                    raise Unverifiable(f"{name} names a global in bytes that are not UTF-8") from None
                record(module, attr, name)
                if name == "INST":
                    pop_mark(name)
                stack.append(None)
            elif name == "STACK_GLOBAL":
                module, attr = pop(2, name)
                record(module, attr, name)
                stack.append(None)
            elif name == "STOP":
                if marks or len(stack) != 1:
                    raise Unverifiable("the stack does not hold exactly one object at STOP")
                stack.pop()
                stopped = True
            else:
                _generic_effect(op, stack, pop, pop_mark)
    except Unverifiable:
        raise
    except Exception as exc:  # noqa: BLE001 - ValueError from pickletools, decoding errors...
        raise Unverifiable(f"it is not a well-formed pickle: {_reason(exc)}") from None
    if not stopped:
        raise Unverifiable("it ends before its STOP opcode")
    if handle.read(1):
        raise Unverifiable("there is data after the end of the pickle (trailing bytes, or several pickles)")
    return found


def _generic_effect(op, stack: list[Any], pop, pop_mark) -> None:
    """Apply an opcode's stack effect as pickletools describes it; results are unknown values."""
    before = [item.name for item in op.stack_before]
    after = [item.name for item in op.stack_after]
    if "mark" in after or "stackslice" in after:  # pragma: no cover - only MARK, handled by the caller
        raise Unverifiable(f"{op.name} is not understood")
    if "mark" in before:
        at = before.index("mark")
        minimum = sum(1 for item in before[at + 1:] if item != "stackslice")
        taken = pop_mark(op.name)
        if len(taken) < minimum:
            raise Unverifiable(f"{op.name} finds too few objects after its MARK")
        pop(at, op.name)
    else:
        if "stackslice" in before:  # pragma: no cover - every stackslice follows a mark
            raise Unverifiable(f"{op.name} is not understood")
        pop(len(before), op.name)
    stack.extend([None] * len(after))


def _reason(exc: BaseException) -> str:
    return describe_exception(exc, 160)
