"""The shape of the package (issue 14): layering contracts, the recipes' files, packaging.

The import contracts live in pyproject.toml ([tool.importlinter]); docs/architecture.md
explains them. A broken contract prints which import breaks it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    proc = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                           "sys.exit(lint_imports_command())", "--no-cache"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "broken" not in proc.stdout.split("Contracts:")[-1].split("\n")[0].replace("0 broken", "")


def test_every_package_is_shipped():
    """Every folder of auditkit/ with Python code is a package listed in pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "auditkit").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    assert found - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"


def test_architecture_doc_names_files_that_exist():
    """Each recipe in docs/architecture.md names the files it touches; they must exist."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:auditkit|report_templates|tests|docs)/[\w./<>-]+)`", text))
    assert named, "docs/architecture.md names no files"
    missing = sorted(n for n in named if "<" not in n and not (ROOT / n).exists())
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_every_stage_is_in_the_architecture_doc():
    text = (ROOT / "docs" / "architecture.md").read_text()
    stages = sorted(p.stem for p in (ROOT / "auditkit" / "stages").glob("*.py") if p.stem != "__init__")
    missing = [s for s in stages if f"auditkit/stages/{s}.py" not in text]
    assert not missing, f"stages missing from docs/architecture.md: {missing}"
