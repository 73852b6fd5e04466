"""Shared fixtures: the demo built once per session, and small policy helpers."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest


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


MINIMAL_POLICY = """\
version: 1
name: minimal
data:
  path: data/credit.csv
  contract: schemas/german_credit.yaml
  target: credit_risk
  positive_label: good
model:
  path: models/credit_model.skops
sensitive_features: [sex, age_group]
fairness:
  bootstrap: 200
explain:
  max_rows: 200
rules:
  - id: contract-holds
    metric: contract_violations
    max: 0
  - id: accuracy-floor
    metric: accuracy
    min: 0.5
"""
