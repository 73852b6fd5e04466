"""Regulatory policy packs: named, versioned sets of rules and report sections.

A pack is a plain YAML file shipped in this folder (``four-fifths.yaml``,
``nyc-ll144.yaml``). A policy pulls packs in with ``extends: [name, ...]``, may set the
pack's parameters under ``packs: {name: {...}}`` and may override a pack rule's thresholds
or severity by giving a rule with the same id. See ``docs/packs.md``.

A pack file holds::

    name, title, description, framing      # framing: what the verdict does and does not establish
    settings: {key: {type, default, required, choices, min, max, help}}
    rules: [rule, ...]                      # the policy rule schema, plus ``for_each``
    report: {sections: [...]}

``for_each: sensitive_features`` expands a rule into one rule per sensitive feature (and per
intersection when the pack's ``include_intersections`` setting is true); the expanded ids are
``<id>:<feature>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any, Mapping

from ..errors import AuditkitError

__all__ = ["Pack", "PackSetting", "available_packs", "load_pack", "pack_names"]

SECTIONS = ("framing", "adverse_impact", "ll144")
SETTING_TYPES = ("bool", "number", "text", "column", "choice", "list", "date")


@dataclass(frozen=True)
class PackSetting:
    name: str
    type: str
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    help: str = ""


@dataclass(frozen=True)
class Pack:
    """One pack as shipped: its texts, parameters, rule templates and report sections."""

    name: str
    title: str
    description: str
    framing: str
    settings: Mapping[str, PackSetting] = field(default_factory=dict)
    rules: tuple[Mapping[str, Any], ...] = ()
    sections: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description,
                "framing": self.framing, "sections": list(self.sections)}


@lru_cache(maxsize=None)
def pack_names() -> tuple[str, ...]:
    """Names of the packs shipped with auditkit, sorted."""
    folder = files("auditkit.packs")
    return tuple(sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml")))


@lru_cache(maxsize=None)
def load_pack(name: str) -> Pack:
    """Read and check one shipped pack.

    Raises
    ------
    KeyError
        No pack has that name.
    AuditkitError
        The pack file is malformed (a broken installation).
    """
    if name not in pack_names():
        raise KeyError(name)
    source = f"auditkit/packs/{name}.yaml"
    raw = _read_pack(files("auditkit.packs").joinpath(f"{name}.yaml"), source)

    def bad(what: str) -> AuditkitError:
        return AuditkitError(f"{source}: {what}; the pack file is malformed, reinstall auditkit.")

    if not isinstance(raw, dict):
        raise bad("the top level is not a mapping")
    allowed = {"name", "title", "description", "framing", "settings", "rules", "report"}
    unknown = set(raw) - allowed
    if unknown:
        raise bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    for key in ("name", "title", "description", "framing"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise bad(f"'{key}' must be non-empty text")
    if raw["name"] != name:
        raise bad(f"'name' is {raw['name']!r} but the file is {name}.yaml")
    settings = {}
    for key, spec in (raw.get("settings") or {}).items():
        if not isinstance(spec, dict) or spec.get("type") not in SETTING_TYPES:
            raise bad(f"setting '{key}' needs a type ({', '.join(SETTING_TYPES)})")
        settings[key] = PackSetting(name=key, type=spec["type"], default=spec.get("default"),
                                    required=bool(spec.get("required", False)),
                                    choices=tuple(spec.get("choices") or ()), min=spec.get("min"),
                                    max=spec.get("max"), help=str(spec.get("help", "")))
    rules = raw.get("rules") or []
    if not isinstance(rules, list) or not all(isinstance(r, dict) and "id" in r for r in rules):
        raise bad("'rules' must be a list of rules with ids")
    sections = tuple((raw.get("report") or {}).get("sections") or ())
    for section in sections:
        if section not in SECTIONS:
            raise bad(f"unknown report section '{section}' (known: {', '.join(SECTIONS)})")
    return Pack(name=name, title=raw["title"].strip(), description=" ".join(raw["description"].split()),
                framing=" ".join(raw["framing"].split()), settings=settings,
                rules=tuple(dict(r) for r in rules), sections=sections)


def _read_pack(resource, source: str) -> Any:
    """The parsed YAML of one pack file, read like every YAML file auditkit opens: capped in size,
    regular files only, and through the strict loader (no duplicate keys, bounded aliases)."""
    from pathlib import Path

    from ..inputs import read_capped
    from ..yaml_loader import load_yaml

    hint = "the pack file is damaged, reinstall auditkit"
    if isinstance(resource, Path):
        data = read_capped(resource, kind="policy", what="a policy pack file", error=AuditkitError, hint=hint)
    else:  # a pack inside a zip or another importer: no file to stat, read it capped all the same
        from ..inputs import LIMITS

        try:
            with resource.open("rb") as handle:
                data = handle.read(LIMITS["policy"] + 1)
        except OSError as exc:
            raise AuditkitError(f"{source}: cannot be read ({exc}); {hint}.") from None
        if len(data) > LIMITS["policy"]:
            raise AuditkitError(f"{source}: is over auditkit's size limit for a policy file; {hint}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AuditkitError(f"{source}: is not UTF-8 text; {hint}.") from None
    return load_yaml(text, source, AuditkitError)


def available_packs() -> list[Pack]:
    """Every shipped pack, by name."""
    return [load_pack(name) for name in pack_names()]
