"""``audit report``: the HTML report re-rendered from a saved ``results.json``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..errors import DataError, OutputError

__all__ = ["load_results", "rerender"]


def load_results(path: str | Path) -> dict:
    """Read a results.json, checking it is one auditkit can render."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: results file not found; pass the results.json written by 'audit check'.")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: is not valid JSON ({exc.__class__.__name__}); pass the results.json written by 'audit check'.") from None
    if not isinstance(results, dict) or "schema_version" not in results or "rules" not in results:
        raise DataError(f"{path}: is not an auditkit results file (no schema_version or rules); pass the results.json written by 'audit check'.")
    if results["schema_version"] != 1:
        raise DataError(f"{path}: results schema version {results['schema_version']} is not supported by this auditkit (reads version 1); upgrade auditkit.")
    from .schema import validate_results

    validate_results(results, source=path)
    return results


def rerender(results_path: str | Path, output: str | Path, *, templates: Path | None = None) -> Path:
    from .writers import render_html

    html = render_html(load_results(results_path), templates=templates)
    output = Path(output)
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{output}: the folder {folder} does not exist; create it or choose another -o.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".auditkit-", suffix=".html", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(html)
        os.replace(tmp, output)
    except OSError as exc:
        raise OutputError(f"{output}: cannot be written ({exc.strerror}); choose another -o.") from None
    return output
