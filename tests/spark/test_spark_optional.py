"""pyspark is optional: a clear message without it, and no import until it is needed.

These run whether or not pyspark is installed.
"""

from __future__ import annotations

import sys

import pytest

from auditkit.errors import AuditkitError


def test_missing_pyspark_says_what_to_install(monkeypatch):
    from auditkit.spark import require_pyspark, session

    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now raises ImportError
    with pytest.raises(AuditkitError, match=r"pip install 'auditkit\[spark\]'") as info:
        require_pyspark()
    assert "\n" not in info.value.message and "Java" in info.value.message
    with pytest.raises(AuditkitError, match="auditkit\\[spark\\]"):
        session("local[1]")


def test_importing_auditkit_spark_does_not_import_pyspark():
    import subprocess

    code = "import sys, auditkit.spark; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
