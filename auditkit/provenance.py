"""Provenance: what exactly was audited, with what, when — so a run can be reproduced."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["git_commit", "now_iso", "package_versions"]

_PACKAGES = ("auditkit", "pandas", "numpy", "pandera", "fairlearn", "shap", "scikit-learn", "skops",
             "jinja2", "matplotlib", "pyarrow", "scipy")


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def git_commit(folder: Path) -> dict | None:
    """The git commit of ``folder``'s work tree and whether it had uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                               capture_output=True, text=True, timeout=5)
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def platform_info() -> dict[str, str]:
    return {"system": platform.system(), "machine": platform.machine(), "python": sys.version.split()[0]}
