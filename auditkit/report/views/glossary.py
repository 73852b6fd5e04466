"""The glossary: a plain-language definition of every term the report shows."""

from __future__ import annotations

from typing import Iterable

from ...metrics import define

__all__ = ["glossary_entries"]


def glossary_entries(terms: Iterable[str]) -> list[dict]:
    """One entry per term with a definition in the metric registry, sorted by term."""
    entries = []
    for term in sorted(set(terms)):
        definition = define(term)
        if definition:
            entries.append({"term": term.replace("_", " "), "key": term, "definition": definition})
    return entries
