"""Shared fixtures: the demo built once per session, and small policy helpers."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["postgres_server"]  # postgres_url / pg_url: a real PostgreSQL server


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A built German Credit demo (data, contract, model, audit.yaml). Treat as read-only."""
    from auditkit.demo import build_demo

    root = tmp_path_factory.mktemp("demo")
    build_demo(root, seed=0)
    return root


@pytest.fixture()
def demo_copy(demo_dir, tmp_path) -> Path:
    """A private, writable copy of the demo for tests that change files."""
    target = tmp_path / "demo"
    shutil.copytree(demo_dir, target, ignore=shutil.ignore_patterns("audit-report"))
    return target


@pytest.fixture()
def write_policy(demo_copy):
    """Write an audit.yaml into the demo copy from YAML text; returns its path."""

    def _write(text: str, name: str = "audit.yaml") -> Path:
        path = demo_copy / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write
