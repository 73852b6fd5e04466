"""The JSON Schema of ``results.json`` (shipped in the package) and validation against it."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from ..errors import DataError

__all__ = ["results_schema", "validate_results"]


@lru_cache(maxsize=1)
def results_schema() -> dict:
    """The JSON Schema (draft 2020-12) every ``results.json`` conforms to."""
    return json.loads(files("auditkit").joinpath("results.schema.json").read_text(encoding="utf-8"))


def validate_results(results: dict, *, source: str | Path = "results") -> None:
    """Raise DataError naming the first place where ``results`` breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(results_schema())
    error = next(iter(sorted(validator.iter_errors(results), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise DataError(f"{source}: does not match the results schema at '{where}' ({error.message[:160]}); pass an unmodified results.json from 'audit check'.")
