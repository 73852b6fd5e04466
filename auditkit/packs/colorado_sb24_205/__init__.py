"""The ``colorado-sb24-205`` pack: data rules for a high-risk AI system under Colorado SB 24-205,
and the deployer's impact assessment written from the evidence.

Rules in ``pack.yaml``; the document (:mod:`.documents`, ``templates/document.*.j2``) and the
report section (:mod:`.view`) are pure functions of ``results.json``. See
``docs/regulation-packs.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._plugin import PackPlugin

__all__ = ["ColoradoSB24205", "plugin"]


class ColoradoSB24205(PackPlugin):
    """Data rules, the policy's discrimination rules, and the deployer's impact assessment."""

    document_names = frozenset({"impact-assessment.html", "impact-assessment.md"})

    def report_sections(self):
        from ...report.sections import Section
        from .view import section_view

        return (Section(id="colorado-sb24-205", title="Impact assessment", template="packs/colorado-sb24-205/report.html.j2",
                        build=section_view),)

    def warnings(self, policy) -> tuple[str, ...]:
        from .._regulatory import missing_part_warnings
        from .documents import PARTS

        return missing_part_warnings(self.name, "impact-assessment.html", policy.documentation, PARTS, writer="deployer")

    def documents(self, results: Mapping[str, Any], templates: Path | None) -> dict[str, str]:
        from .documents import impact_assessment

        return impact_assessment(results, templates=templates)


plugin = ColoradoSB24205()
