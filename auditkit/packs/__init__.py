"""Regulatory policy packs: named, versioned sets of rules, evidence and report sections.

A pack is a plugin (:class:`PackPlugin`): a package holding its ``pack.yaml`` and the code
that computes its evidence, judges its metrics and renders its report section and extra
documents. The core names no pack; it asks :func:`plugins`. Packs come from two places only,
both installed code, never the audited policy's folder:

* the subpackages of this package (``auditkit/packs/four_fifths/``, ``nyc_ll144/``), each
  named after its pack with ``-`` written ``_``;
* the entry-point group ``auditkit.packs`` of installed distributions, each entry named after
  its pack and pointing at the plugin object (``toy = "auditkit_toy:plugin"``).

A policy pulls packs in with ``extends: [name, ...]``, may set their parameters under
``packs: {name: {...}}`` and may override a pack rule's thresholds or severity by giving a
rule with the same id. See ``docs/packs.md``.
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import Mapping

from ..errors import AuditkitError
from ._definition import Pack, PackSetting
from ._plugin import PackInputs, PackPlugin

__all__ = ["ENTRY_POINT_GROUP", "Pack", "PackInputs", "PackPlugin", "PackSetting", "available_packs", "load_pack",
           "pack_names", "plugins"]

ENTRY_POINT_GROUP = "auditkit.packs"


@cache
def plugins() -> Mapping[str, PackPlugin]:
    """Every installed pack, by name: the packs shipped with auditkit, then those installed
    packages register under the ``auditkit.packs`` entry-point group.

    Discovering a pack registers its metrics and glossary terms (:mod:`auditkit.metrics`).
    The answer is cached; ``plugins.cache_clear()`` discovers again.

    Raises
    ------
    AuditkitError
        A pack is broken (no ``plugin``, no or a malformed ``pack.yaml``, a name that does not
        match its folder or entry point) or clashes with another (one name, one metric name):
        an installation error.
    """
    found: dict[str, PackPlugin] = {}
    for folder, plugin in _shipped():
        _add(found, plugin, expected=folder.replace("_", "-"), origin=f"auditkit/packs/{folder}")
    for entry in _entry_points():
        try:
            plugin = entry.load()
        except Exception as exc:  # a third-party package that fails to import
            raise AuditkitError(f"pack '{entry.name}' (entry point {entry.value}) cannot be loaded "
                                f"({type(exc).__name__}: {exc}); reinstall or uninstall the package providing it.") from exc
        _add(found, plugin, expected=entry.name, origin=f"entry point {entry.value}")
    _register(found.values())
    return MappingProxyType(dict(sorted(found.items())))


def pack_names() -> tuple[str, ...]:
    """Names of the installed packs, sorted."""
    return tuple(plugins())


def load_pack(name: str) -> Pack:
    """The definition (``pack.yaml``) of one installed pack.

    Raises
    ------
    KeyError
        No pack has that name.
    """
    return plugins()[name].definition


def available_packs() -> list[Pack]:
    """Every installed pack's definition, by name."""
    return [plugin.definition for plugin in plugins().values()]


def _shipped():
    """(folder name, plugin) of every subpackage of this package."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if not module.ispkg or module.name.startswith("_"):
            continue
        package = importlib.import_module(f"{__name__}.{module.name}")
        plugin = getattr(package, "plugin", None)
        if plugin is None:
            raise AuditkitError(f"auditkit/packs/{module.name}: the pack defines no 'plugin'; "
                                "the installation is broken, reinstall auditkit.")
        yield module.name, plugin


def _entry_points():
    """The group's entry points of installed distributions. A distribution found in the current
    folder is no installation (that folder may be the audited one, and ``python -m auditkit``
    takes it off ``sys.path`` for the same reason): its entry points are ignored."""
    import os
    from importlib.metadata import entry_points

    here = os.path.realpath(os.getcwd())

    def installed(entry) -> bool:
        return entry.dist is None or os.path.realpath(entry.dist.locate_file("")) != here

    return sorted((e for e in entry_points(group=ENTRY_POINT_GROUP) if installed(e)), key=lambda e: e.name)


def _add(found: dict[str, PackPlugin], plugin, *, expected: str, origin: str) -> None:
    if not isinstance(plugin, PackPlugin):
        raise AuditkitError(f"{origin}: 'plugin' is {type(plugin).__name__}, not a PackPlugin; "
                            "the pack is broken, reinstall the package providing it.")
    name = plugin.name
    if name != expected:
        raise AuditkitError(f"{origin}: the pack is named '{name}' in its pack.yaml but installed as '{expected}'; "
                            "the pack is broken, reinstall the package providing it.")
    if name in found:
        raise AuditkitError(f"{origin}: a pack named '{name}' is already installed ({found[name].package}); "
                            "uninstall one of them.")
    found[name] = plugin


def _register(found) -> None:
    """Make the packs' metrics and glossary terms known to the metric registry."""
    from ..metrics import register_metric, register_term

    for plugin in found:
        for metric in plugin.metrics():
            try:
                register_metric(metric)
            except ValueError as exc:
                raise AuditkitError(f"pack '{plugin.name}' ({plugin.package}) defines metric '{metric.name}', "
                                    f"but {exc}; uninstall one of the packs.") from None
        for term, definition in plugin.glossary().items():
            register_term(term, definition)
