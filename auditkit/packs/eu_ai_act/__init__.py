"""The ``eu-ai-act`` pack: data governance and accuracy rules for a high-risk AI system under
Regulation (EU) 2024/1689, and its Annex IV technical documentation written from the evidence.

Rules in ``pack.yaml``; the document (:mod:`.documents`, ``templates/document.*.j2``) and the
report section (:mod:`.view`) are pure functions of ``results.json``. See
``docs/regulation-packs.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._plugin import PackPlugin

__all__ = ["EuAiAct", "plugin"]


class EuAiAct(PackPlugin):
    """Art. 10 data rules, the policy's accuracy and discrimination rules, and Annex IV documentation."""

    document_names = frozenset({"technical-documentation.html", "technical-documentation.md"})

    def report_sections(self):
        from ...report.sections import Section
        from .view import section_view

        return (Section(id="eu-ai-act", title="Annex IV technical documentation", template="packs/eu-ai-act/report.html.j2",
                        build=section_view),)

    def warnings(self, policy) -> tuple[str, ...]:
        from .._regulatory import missing_part_warnings
        from .documents import PARTS

        return missing_part_warnings(self.name, "technical-documentation.html", policy.documentation, PARTS, writer="provider")

    def documents(self, results: Mapping[str, Any], templates: Path | None) -> dict[str, str]:
        from .documents import technical_documentation

        return technical_documentation(results, templates=templates)


plugin = EuAiAct()
