"""A pack's ``pack.yaml``: its texts, parameters and rule templates, read and checked.

A pack file holds::

    name, title, description, framing      # framing: what the verdict does and does not establish
    settings: {key: {type, default, required, choices, min, max, help}}
    rules: [rule, ...]                      # the policy rule schema, plus ``for_each``
    report: {sections: [framing, ...]}      # the report sections: framing, then the plugin's, by id

``for_each: sensitive_features`` expands a rule into one rule per sensitive feature (and per
intersection when the pack's ``include_intersections`` setting is true); the expanded ids are
``<id>:<feature>``. Reading the file imports nothing of the pack's code or of the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import AuditkitError

__all__ = ["SETTING_TYPES", "Pack", "PackSetting", "parse_pack"]

SETTING_TYPES = ("bool", "number", "text", "column", "choice", "list", "date")
_KEYS = {"name", "title", "description", "framing", "settings", "rules", "report"}
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


@dataclass(frozen=True)
class PackSetting:
    """One parameter a policy may set under ``packs: {<pack>: {...}}``."""

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


def parse_pack(resource, *, source: str, hint: str) -> Pack:
    """Read and check one ``pack.yaml``.

    Parameters
    ----------
    resource : pathlib.Path or importlib.resources.abc.Traversable
        The file.
    source : str
        How messages name it (``auditkit/packs/four_fifths/pack.yaml``).
    hint : str
        What to do about a malformed file ("reinstall auditkit").

    Raises
    ------
    AuditkitError
        The file is unreadable or malformed (a broken installation).
    """
    raw = _read_pack(resource, source, hint)

    def bad(what: str) -> AuditkitError:
        return AuditkitError(f"{source}: {what}; the pack file is malformed, {hint}.")

    if not isinstance(raw, dict):
        raise bad("the top level is not a mapping")
    unknown = set(raw) - _KEYS
    if unknown:
        raise bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    for key in ("name", "title", "description", "framing"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise bad(f"'{key}' must be non-empty text")
    if not _NAME.fullmatch(raw["name"]):
        raise bad(f"'name' must be lower-case words and digits joined by '-' (like nyc-ll144), not {raw['name']!r}")
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
    report = raw.get("report", {"sections": ["framing"]})
    sections = report.get("sections") if isinstance(report, dict) and set(report) <= {"sections"} else None
    if not isinstance(sections, list) or not all(isinstance(x, str) and x for x in sections) \
            or len(set(sections)) != len(sections):
        raise bad("'report' must be {sections: [framing, ...]}, each section named once")
    return Pack(name=raw["name"], title=raw["title"].strip(), description=" ".join(raw["description"].split()),
                framing=" ".join(raw["framing"].split()), settings=settings,
                rules=tuple(dict(r) for r in rules), sections=tuple(sections))


def _read_pack(resource, source: str, hint: str = "reinstall auditkit") -> Any:
    """The parsed YAML of one pack file, read like every YAML file auditkit opens: capped in size,
    regular files only, and through the strict loader (no duplicate keys, bounded aliases)."""
    from pathlib import Path

    from ..inputs import LIMITS, read_capped
    from ..yaml_loader import load_yaml

    hint = f"the pack file is damaged, {hint}"
    if isinstance(resource, Path):
        data = read_capped(resource, kind="policy", what="a policy pack file", error=AuditkitError, hint=hint)
    else:  # a pack inside a zip or another importer: no file to stat, read it capped all the same
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
