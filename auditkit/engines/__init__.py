"""Data engines: where the rows of an audit are read, counted and predicted.

An engine implements :class:`Engine` — read the header and the data, validate the contract,
encode the target, predict, group counts, histograms for drift, a stratified sample for
explanations — and declares what it computes (:class:`Capabilities`). The stages of
:mod:`auditkit.stages` call only this interface, so every engine shares one pipeline and one
tail (rules, summaries, provenance). ``pandas`` reads the data into memory on one machine;
``spark`` (optional extra) computes the same numbers where the data live.

Whatever an engine cannot compute is refused from its declaration by :func:`check_support`
before any work starts.
"""

from __future__ import annotations

from ._interface import (
    AuditData,
    Capabilities,
    Engine,
    EncodedTarget,
    ExplanationRows,
    FairnessOptions,
    ModelRun,
    check_support,
)

__all__ = [
    "AuditData",
    "Capabilities",
    "EncodedTarget",
    "Engine",
    "ExplanationRows",
    "FairnessOptions",
    "ModelRun",
    "check_support",
    "engine_names",
    "get_engine",
]

_ENGINES = {"pandas": ".pandas_engine", "spark": ".spark_engine"}


def engine_names() -> tuple[str, ...]:
    return tuple(_ENGINES)


def get_engine(name: str) -> Engine:
    """The engine called `name` (``pandas`` or ``spark``); imports it on first use."""
    from importlib import import_module

    if name not in _ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(_ENGINES)}")
    return import_module(_ENGINES[name], __name__).ENGINE
