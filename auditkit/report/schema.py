"""The JSON Schema of ``results.json`` and validation against it.

The schema states every assumption the renderers make about a results document (``audit
report``, ``audit diff``, the packs' commands): a document that validates renders. It is the
core schema shipped beside this module (``results.schema.json``) with each installed pack's
part merged in: the schema of the pack's key (its plugin's ``results_schema()``, under its
``results_key``) and its report section ids (allowed in ``packs[].sections``). Violations are
reported as one line naming the JSON key path, what the key must be, and what it is instead::

    results.json: key 'fairness.groups[3].n' must be an integer ≥ 0, not 'x'; key 'status' is missing
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterable

from ..errors import DataError
from ..sanitize import short_repr

__all__ = ["key_path", "results_schema", "schema_problems", "validate_results"]

#: How many problems one error message lists before "and N more".
MAX_LISTED = 3
#: Problems collected at most (a damaged file can have millions; the count then reads "N+").
_MAX_COLLECTED = 1000

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE_WORDS = {"object": "an object", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}


def results_schema() -> dict:
    """The JSON Schema (draft 2020-12) every ``results.json`` conforms to: the core schema with
    every installed pack's key and section ids merged in.

    Raises
    ------
    AuditkitError
        A pack's schema would replace a key of the core schema or of another pack (a broken pack).
    """
    return _schema_for(_installed())


def _installed() -> tuple:
    """The installed packs as ``(name, plugin)`` pairs: the key of the schema built for them."""
    from ..packs import plugins

    return tuple(plugins().items())


@lru_cache(maxsize=4)
def _schema_for(packs: tuple) -> dict:
    from ..errors import AuditkitError

    schema = json.loads(files(__package__).joinpath("results.schema.json").read_text(encoding="utf-8"))
    section_ids = schema["properties"]["packs"]["items"]["properties"]["sections"]["items"]["enum"]
    for name, plugin in packs:
        section_ids.extend(section.id for section in plugin.report_sections())
        part = plugin.results_schema()
        if part is None:
            continue
        key = plugin.results_key
        if key in schema["properties"]:
            raise AuditkitError(f"pack '{name}' defines the results key '{key}', which is taken already; the pack is "
                                "broken, reinstall or uninstall the package providing it.")
        schema["properties"][key] = part
    return schema


@lru_cache(maxsize=4)
def _validator_for(packs: tuple):
    import jsonschema

    return jsonschema.Draft202012Validator(_schema_for(packs))


def key_path(parts: Iterable[Any]) -> str:
    """``fairness.groups[3].n`` for the parts ``("fairness", "groups", 3, "n")``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += "[" + json.dumps(short_repr(str(part), 40)[1:-1], ensure_ascii=False) + "]"
    return out


def schema_problems(results: Any) -> list[str]:
    """Every place where ``results`` breaks the schema, as short phrases, in document order."""
    import itertools

    errors = sorted(itertools.islice(_validator_for(_installed()).iter_errors(results), _MAX_COLLECTED),
                    key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.absolute_path])
    problems: list[str] = []
    for error in errors:
        text = _describe_error(error)
        if text not in problems:
            problems.append(text)
    return problems


def validate_results(results: Any, *, source: str | Path = "results") -> None:
    """Raise DataError naming where ``results`` breaks the schema (up to three places), or the
    first number in it that JSON cannot hold (NaN, infinity).

    The message is one line: ``{source}: key 'a.b[2].c' must be ..., not ...; ...``.
    """
    where = _non_finite(results)
    if where is not None:
        raise DataError(f"{source}: key '{key_path(where)}' is not a finite number (NaN or infinity, which JSON cannot "
                        "hold; auditkit writes null for an undefined value).")
    problems = schema_problems(results)
    if not problems:
        return
    listed = "; ".join(problems[:MAX_LISTED])
    extra = len(problems) - MAX_LISTED
    more = f" (and {extra}{'+' if len(problems) >= _MAX_COLLECTED else ''} more)" if extra > 0 else ""
    raise DataError(f"{source}: {listed}{more}; this is not a results.json as 'audit check' writes it "
                    "(edited or damaged?): re-run 'audit check' to write it again.")


def _non_finite(document: Any) -> tuple | None:
    """The key path of the first NaN or infinite float in ``document``, walked iteratively."""
    stack: list[tuple[Any, tuple]] = [(document, ())]
    while stack:
        value, where = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return where
        if isinstance(value, dict):
            stack.extend((item, (*where, key)) for key, item in reversed(value.items()))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, (*where, index)) for index, item in reversed(list(enumerate(value))))
    return None


def _describe_error(error) -> str:
    where = list(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = _missing_key(error)
        return f"key '{key_path([*where, missing])}' is missing"
    if kind == "additionalProperties" and error.validator_value is False:
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
        name = key_path([*where, extra[0]]) if extra else key_path(where)
        return f"key '{name}' is not allowed here (allowed: {', '.join(allowed)})"
    if kind == "minProperties":
        return f"key '{key_path(where) or '(top level)'}' must be {_expected(error.schema)}, not an empty object"
    label = f"key '{key_path(where)}'" if where else "the top level"
    return f"{label} must be {_expected(error.schema)}, not {_shown(error.instance)}"


def _missing_key(error) -> str:
    match = re.match(r"^'(.*)' is a required property$", error.message)
    if match:
        return match.group(1)
    required = error.validator_value or []
    present = error.instance if isinstance(error.instance, dict) else {}
    return next((k for k in required if k not in present), "?")


def _expected(schema: dict) -> str:
    """What a value must be, in words, from the (sub)schema it failed."""
    if "title" in schema and "$schema" not in schema:
        return schema["title"]
    if "const" in schema:
        return short_repr(schema["const"])
    if "enum" in schema:
        values = ["null" if v is None else f"'{v}'" for v in schema["enum"]]
        return "one of " + ", ".join(values)
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in types) or "a valid value"
    bounds = []
    if "minimum" in schema:
        bounds.append(f"≥ {schema['minimum']}")
    if "exclusiveMinimum" in schema:
        bounds.append(f"> {schema['exclusiveMinimum']}")
    if "maximum" in schema:
        bounds.append(f"≤ {schema['maximum']}")
    if "exclusiveMaximum" in schema:
        bounds.append(f"< {schema['exclusiveMaximum']}")
    if bounds:
        words += " " + " and ".join(bounds)
    if "minItems" in schema or "maxItems" in schema:
        low, high = schema.get("minItems"), schema.get("maxItems")
        words += (f" of exactly {low} items" if low == high else
                  f" of at least {low} items" if high is None else
                  f" of at most {high} items" if low is None else f" of {low} to {high} items")
    if "required" in schema and "object" in types:
        words += " with the keys " + ", ".join(f"'{k}'" for k in schema["required"])
    return words


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}" if value else "an empty list"
    return short_repr(value, 60)
