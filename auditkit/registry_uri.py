"""Model-registry URIs (``models:/NAME/VERSION``, ``models:/NAME@ALIAS``), recognised without MLflow.

The policy loader uses this to accept registry URIs in ``model.path``; the MLflow
integration uses it to resolve them.
"""

from __future__ import annotations

import os
import re

__all__ = ["is_registry_uri", "parse_registry_uri"]

_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")
_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[A-Za-z0-9_\-]+)$")


def parse_registry_uri(text: str) -> tuple[str, str | None, str | None] | None:
    """``(name, version, alias)`` for a registry URI (one of version/alias is None), else None."""
    text = str(text)
    match = _VERSION_URI.match(text)
    if match:
        return match["name"], match["version"], None
    match = _ALIAS_URI.match(text)
    if match:
        return match["name"], None, match["alias"]
    return None


def is_registry_uri(text) -> bool:
    """Whether ``text`` is ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``."""
    return isinstance(text, (str, os.PathLike)) and parse_registry_uri(os.fspath(text)) is not None
