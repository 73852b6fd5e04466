"""The packs a results document extends, as installed plugins (:func:`auditkit.packs.plugins`).

The report names no pack: every pack reaches it through its plugin's hooks -- report
sections, extra documents, glossary terms, templates and results schema. A results document
naming a pack that is not installed still shows the pack's framing (it is in the results);
that pack's own sections and documents are left out.
"""

from __future__ import annotations

from typing import Any

__all__ = ["extended_packs"]


def extended_packs(results: dict) -> list[Any]:
    """The installed plugins of the packs ``results["packs"]`` names, in that order."""
    from ..packs import plugins

    installed = plugins()
    names = [pack.get("name") for pack in results.get("packs") or []]
    return [installed[name] for name in names if name in installed]
