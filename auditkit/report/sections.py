"""The sections of the report, as data: what each is called, which template lays it out, and
the function that builds its view from the results.

``report.html.j2`` loops over :data:`CORE_SECTIONS`: a section whose ``build`` returns None is
left out of the contents and of the page. Each shown section is drawn as
``<section id="ID"><h2>HEADING</h2>`` around its template, which lays out the body and reads
the section's view as ``section`` (and the page's view as ``v``). Adding a section takes one
view function (``auditkit/report/views/``), one partial (``report_templates/partials/``) and
one line in :data:`CORE_SECTIONS`.

Packs contribute sections through their plugin (:meth:`auditkit.packs.PackPlugin.report_sections`,
the same :class:`Section`, templates addressed as ``packs/<pack name>/<file>``); they are
shown inside the "Regulatory packs" section, under the framing of the pack they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from .views.champion import champion_view
from .views.contract import contract_view
from .views.data import data_terms, data_view
from .views.drift import drift_terms, drift_view
from .views.explanations import explanations_terms, explanations_view
from .views.fairness import fairness_terms, fairness_view
from .views.glossary import glossary_entries
from .views.packs import packs_terms, packs_view
from .views.performance import performance_view
from .views.provenance import provenance_view
from .views.reasons import reasons_terms, reasons_view
from .views.remedies import remedies_terms, remedies_view
from .views.rules import rules_terms, rules_view

__all__ = ["CORE_SECTIONS", "Section"]


def _no_terms(results: dict) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class Section:
    """One report section: what the contents call it, which template lays it out, and its view.

    Attributes
    ----------
    id : str
        The section's anchor in the report (``#id``); a pack's sections are listed by id
        in its ``sections`` in ``results.json``.
    title : str
        The section's name in the report's contents and in error messages. A pack's section
        is shown inside "Regulatory packs", under its pack's framing, with no heading of its
        own: its template draws what it needs.
    template : str
        The template laying out the section's body, as the report's loader addresses it:
        ``partials/<file>`` for auditkit's, ``packs/<pack name>/<file>`` for a pack's.
    build : callable
        ``build(results) -> dict | None``: the section's view, a pure function of the
        ``results.json`` document; None leaves the section out.
    heading : str
        The section's heading on the page; the title when empty.
    terms : callable
        ``terms(results) -> iterable of str``: the glossary terms the section shows, defined by
        the metric registry (:func:`auditkit.metrics.define`). A pack's terms may also come
        from its plugin's :meth:`~auditkit.packs.PackPlugin.glossary_terms`.
    """

    id: str
    title: str
    template: str
    build: Callable[[dict], dict | None]
    heading: str = ""
    terms: Callable[[dict], Iterable[str]] = _no_terms


def _glossary_view(results: dict) -> dict:
    """Every term the shown sections use, defined (:mod:`auditkit.metrics`)."""
    terms = {term for section in CORE_SECTIONS for term in section.terms(results)}
    return {"terms": glossary_entries(terms)}


#: The report's sections, in order.
CORE_SECTIONS: tuple[Section, ...] = (
    Section("rules", "Rules", "partials/rules.html.j2", rules_view, terms=rules_terms),
    Section("packs", "Regulatory packs", "partials/pack_framing.html.j2", packs_view, terms=packs_terms),
    Section("contract", "Data contract", "partials/contract.html.j2", contract_view),
    Section("data", "Data", "partials/data.html.j2", data_view, heading="Data overview", terms=data_terms),
    Section("drift", "Drift", "partials/drift.html.j2", drift_view, heading="Drift against the reference data",
            terms=drift_terms),
    Section("performance", "Model performance", "partials/performance.html.j2", performance_view),
    Section("fairness", "Fairness", "partials/fairness.html.j2", fairness_view, terms=fairness_terms),
    Section("remedies", "Remedies", "partials/remedies.html.j2", remedies_view,
            heading="What would change the verdict", terms=remedies_terms),
    Section("champion", "Champion", "partials/champion.html.j2", champion_view, heading="Candidate against champion"),
    Section("explanations", "Explanations", "partials/explanations.html.j2", explanations_view,
            terms=explanations_terms),
    Section("reasons", "Reasons", "partials/reasons.html.j2", reasons_view, heading="Reasons for adverse decisions",
            terms=reasons_terms),
    Section("provenance", "Provenance", "partials/provenance.html.j2", provenance_view),
    Section("glossary", "Glossary", "partials/glossary.html.j2", _glossary_view),
)
