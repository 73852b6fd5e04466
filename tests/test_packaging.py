"""Packaging: light imports, a public API that matches __all__, templates inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_and_help_load_no_heavy_modules():
    code = (
        "import sys, auditkit, auditkit.cli\n"
        "from click.testing import CliRunner\n"
        "CliRunner().invoke(auditkit.cli.cli, ['--help'])\n"
        "heavy = [m for m in ('shap', 'sklearn', 'matplotlib', 'pandera', 'fairlearn', 'pandas', 'scipy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_public_api_matches_all():
    import auditkit

    public = sorted(n for n in dir(auditkit) if not n.startswith("_") or n == "__version__")
    for name in auditkit.__all__:
        assert getattr(auditkit, name) is not None
    assert sorted(auditkit.__all__) == auditkit.__all__
    assert set(auditkit.__all__) <= set(public)


def test_wheel_ships_templates_and_renders(tmp_path, demo_dir):
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True)
    if proc.returncode != 0 and "No module named" in proc.stderr:
        pytest.skip("the 'build' package is not installed")
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("auditkit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "auditkit/report_templates/report.html.j2" in names
    assert "auditkit/report_templates/partials/rules.html.j2" in names
    assert "auditkit/report/results.schema.json" in names
    assert "auditkit/demo_data/german.data" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import auditkit.report.templates as t; d = t.bundled_templates_dir();"
        "assert 'site' in str(d), d; print(d)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert str(site) in out.stdout


def test_explain_is_the_function_even_after_the_pipeline_ran():
    code = (
        "import auditkit, auditkit.pipeline\n"
        "from auditkit.explanations import ExplanationResult\n"
        "assert callable(auditkit.explain), type(auditkit.explain)\n"
        "assert auditkit.explain.__module__.startswith('auditkit.explanations')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_subpackage_is_listed_in_pyproject():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "auditkit").rglob("__init__.py")}
    assert found - listed == set(), "subpackages missing from [tool.setuptools] packages"
