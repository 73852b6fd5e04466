"""Reading a saved ``results.json`` (``audit report``, ``audit diff``, a pack's commands).

A results file is read as untrusted input: it may have been edited, truncated or replaced.
:func:`load_results` fails closed -- every way a file can be wrong ends in one
:class:`~auditkit.errors.DataError` line naming the file and, where there is one, the JSON key
path -- and what it returns is a document the renderers can show.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..sanitize import short_repr
from .schema import key_path, validate_results

__all__ = ["MAX_DEPTH", "load_results"]

#: Deepest nesting of objects and lists accepted in a results file. auditkit writes at most ~8.
MAX_DEPTH = 64

_HINT = "pass the results.json written by 'audit check'"


class _Refused:
    """Stands in for a value the JSON parser met but auditkit refuses; reported with its key path."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


class _DuplicateKeys(dict):
    """An object in which a key appeared more than once (``duplicate`` names the first such key)."""

    duplicate: str = ""


def _object(pairs: list[tuple[str, Any]]) -> dict:
    result: dict[str, Any] = {}
    duplicate = None
    for key, value in pairs:
        if key in result and duplicate is None:
            duplicate = key
        result[key] = value
    if duplicate is None:
        return result
    flagged = _DuplicateKeys(result)
    flagged.duplicate = duplicate
    return flagged


def _constant(name: str) -> _Refused:
    return _Refused(f"holds {name}, which is not a JSON number (auditkit writes null for an undefined value)")


def _float(text: str) -> float | _Refused:
    value = float(text)
    if not math.isfinite(value):
        return _Refused(f"holds the number {short_repr(text, 40)[1:-1]}, too large to represent")
    return value


def _int(text: str) -> int | _Refused:
    if len(text) > 100:
        return _Refused(f"holds an integer of {len(text):,} digits")
    return int(text)


def _parse(path: Path, raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: is not UTF-8 text (bad byte at offset {exc.start}); {_HINT}.") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float,
                          parse_int=_int)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {_HINT}.") from None
    except RecursionError:
        raise DataError(f"{path}: is nested too deeply to be a results file (more than {MAX_DEPTH} levels); "
                        f"{_HINT}.") from None
    except ValueError as exc:  # anything else the parser refuses
        raise DataError(f"{path}: is not valid JSON ({short_repr(str(exc), 120)}); {_HINT}.") from None


def _check_document(path: Path, document: Any) -> None:
    """Refuse what the parser let through but auditkit cannot trust, naming its key path.

    * a key that appears twice in one object (which value counts is ambiguous);
    * ``NaN``/``Infinity`` literals, numbers too large for a float, integers of over 100 digits;
    * nesting deeper than :data:`MAX_DEPTH`;
    * text that cannot be written out as UTF-8: JSON may spell a lone UTF-16 surrogate
      (``"\\ud800"``), which Python reads but no HTML, Markdown or terminal output can hold.

    Walked iteratively, so depth itself cannot exhaust the stack.
    """
    stack: list[tuple[Any, tuple]] = [(document, ())]
    while stack:
        value, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise DataError(f"{path}: key '{key_path(where[:8])}…' is nested more than {MAX_DEPTH} levels deep, "
                            f"deeper than any results file; {_HINT}.")
        if isinstance(value, str):
            _check_text(path, value, where)
        elif isinstance(value, _Refused):
            place = f"key '{key_path(where)}'" if where else "the top level"
            raise DataError(f"{path}: {place} {value.what}; {_HINT}.")
        elif isinstance(value, dict):
            if isinstance(value, _DuplicateKeys):
                raise DataError(f"{path}: key '{key_path((*where, value.duplicate))}' appears twice in one object, "
                                f"so which value counts is ambiguous; {_HINT}.")
            for key, item in value.items():
                _check_text(path, key, where, is_key=True)
                stack.append((item, (*where, key)))
        elif isinstance(value, list):
            stack.extend((item, (*where, index)) for index, item in enumerate(value))


def _check_text(path: Path, text: str, where: tuple, *, is_key: bool = False) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        place = f"a key of '{key_path(where)}'" if is_key and where else "a top-level key" if is_key else f"key '{key_path(where)}'"
        raise DataError(f"{path}: {place} holds text that is not valid Unicode (a lone surrogate such as \\ud800); "
                        f"{_HINT}.") from None


def load_results(path: str | Path) -> dict:
    """Read a results.json, checking it is one auditkit can render.

    The file is read through :func:`auditkit.inputs.read_capped` (a regular file, at most
    ``LIMITS["results"]`` bytes), parsed strictly (see :func:`_check_document`: no duplicate
    keys, no ``NaN``/``Infinity``, no out-of-range numbers, bounded nesting, valid Unicode) and
    validated against the
    results schema (:func:`auditkit.report.schema.results_schema`: the core schema and each
    installed pack's), which states every assumption the report, ``audit diff`` and the packs'
    commands make.

    Raises
    ------
    DataError
        One line naming the file and, for a schema violation, the JSON key path, e.g.
        ``results.json: key 'fairness.groups[3].n' must be an integer ≥ 0, not 'x'; ...``.
    """
    from ..inputs import read_capped

    path = Path(path)
    raw = read_capped(path, kind="results", what="the results file", error=DataError, hint=_HINT, allow_empty=False)
    results = _parse(path, raw)
    _check_document(path, results)
    if not isinstance(results, dict):
        kind = "a list" if isinstance(results, list) else short_repr(results, 40)
        raise DataError(f"{path}: is not an auditkit results file (it holds {kind}, not an object); {_HINT}.")
    if "schema_version" not in results:
        raise DataError(f"{path}: key 'schema_version' is missing, so this is not an auditkit results file; {_HINT}.")
    version = results["schema_version"]
    if version != 1 or isinstance(version, bool):
        if isinstance(version, int) and not isinstance(version, bool) and version > 1:
            raise DataError(f"{path}: key 'schema_version' is {version}: results schema version {version} is not "
                            "supported by this auditkit (it reads version 1); upgrade auditkit.")
        raise DataError(f"{path}: key 'schema_version' must be 1, not {short_repr(version, 40)}; {_HINT}.")
    validate_results(results, source=path)
    # A results.json beside files of another run (an interrupted switch, or a copy over another
    # run's outputs) is refused: its manifest says so (docs/ci.md).
    from ..outputs import check_output_set

    check_output_set(path)
    return results
