"""``technical-documentation.html`` and ``.md``: the audit's evidence organised by the headings of
Annex IV of Regulation (EU) 2024/1689 (the technical documentation of a high-risk AI system).

A pure function of ``results.json``: the evidence is read from it, and the parts only the
provider can write come from its ``documentation`` key (the policy's ``documentation:`` block).
A missing required part is listed at the top and shown where it belongs as "Not provided";
nothing is invented. The law's headings are quoted as verified against the Regulation's text
(``docs/regulation-packs.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import _regulatory as ev

__all__ = ["ANNEX_IV", "DOCUMENT_NAMES", "PARTS", "technical_documentation", "technical_documentation_view"]

PACK = "eu-ai-act"
DOCUMENT_NAMES = ("technical-documentation.html", "technical-documentation.md")


_part = ev.part


#: The parts of the document only the provider can write: ``documentation.<key>`` in the policy.
PARTS: dict[str, dict] = {
    "provider": _part("Name of the provider", "the provider's name and address (Annex IV point 1(a))"),
    "system_name": _part("Name of the AI system", "the name under which the system is placed on the market or put into service"),
    "system_version": _part("Version of the system and its relation to previous versions",
                            "the version audited here and how it relates to earlier versions (point 1(a))"),
    "intended_purpose": _part("Intended purpose", "what the system is for, for whom, in which setting, and what it must not be used for (point 1(a))"),
    "interactions": _part("Interaction with other hardware, software or AI systems", "point 1(b), where applicable", required=False),
    "deployment_forms": _part("Forms in which the system is placed on the market or put into service",
                              "software package, download, API, … (point 1(d))", required=False),
    "hardware": _part("Hardware on which the system is intended to run", "point 1(e)", required=False),
    "user_interface": _part("User interface provided to the deployer", "a basic description (point 1(g))", required=False),
    "instructions_for_use": _part("Instructions for use for the deployer",
                                  "where they are and what they say, including the declared accuracy levels (point 1(h), Art. 15(3))"),
    "development_methods": _part("Methods and steps of development",
                                 "how the system was developed, including any pre-trained systems or third-party tools (point 2(a))"),
    "design_specifications": _part("Design specifications",
                                   "the general logic, key design choices and their rationale, what the system optimises for, the expected output (point 2(b))"),
    "system_architecture": _part("System architecture and computational resources", "point 2(c)", required=False),
    "data_provenance": _part("How the data were obtained, selected, labelled and cleaned",
                             "the training, validation and testing data: origin, scope, selection, labelling and cleaning (point 2(d), Art. 10)"),
    "bias_measures": _part("Measures to detect, prevent and mitigate possible biases",
                           "what the provider did about the biases examined below (Art. 10(2)(f) and (g))"),
    "human_oversight": _part("Human oversight measures",
                             "the oversight measures (Art. 14) and the technical measures that help deployers interpret the outputs (points 2(e) and 3)"),
    "predetermined_changes": _part("Pre-determined changes", "point 2(f), where applicable", required=False),
    "test_sign_off": _part("Test reports dated and signed by the responsible persons",
                           "who is responsible for the validation and testing reported below, and the date they signed (point 2(g))"),
    "cybersecurity": _part("Cybersecurity measures", "point 2(h)"),
    "limitations": _part("Capabilities and limitations in performance",
                         "what the system cannot do, the groups or conditions where it performs worse (point 3)"),
    "foreseeable_risks": _part("Foreseeable unintended outcomes and sources of risk",
                               "to health and safety, fundamental rights and of discrimination (point 3)"),
    "input_specifications": _part("Specifications on input data", "point 3, as appropriate", required=False),
    "metrics_appropriateness": _part("Why these performance metrics are appropriate",
                                     "why the metrics and thresholds of the rules below suit this system (point 4)"),
    "risk_management": _part("Risk management system", "a description of the risk management system under Art. 9 (point 5)"),
    "lifecycle_changes": _part("Changes through the lifecycle", "relevant changes made by the provider (point 6); write 'none' for a first version"),
    "standards_applied": _part("Harmonised standards and other specifications applied",
                               "the standards applied, or the solutions adopted to meet Chapter III, Section 2 (point 7)"),
    "declaration_of_conformity": _part("EU declaration of conformity", "a copy, or where it is kept (Art. 47, point 8)"),
    "post_market_monitoring": _part("Post-market monitoring system and plan",
                                    "how performance is evaluated after the system is placed on the market, and the plan (Art. 72, point 9)"),
}

#: Annex IV points 1-9: our short title, and the Regulation's own words (verified, /work/law19.md).
ANNEX_IV = (
    ("1", "General description of the AI system", "A general description of the AI system including:"),
    ("2", "Elements of the AI system and its development",
     "A detailed description of the elements of the AI system and of the process for its development, including:"),
    ("3", "Monitoring, functioning and control",
     "Detailed information about the monitoring, functioning and control of the AI system, in particular with regard to:"),
    ("4", "Appropriateness of the performance metrics",
     "A description of the appropriateness of the performance metrics for the specific AI system;"),
    ("5", "Risk management system", "A detailed description of the risk management system in accordance with Article 9;"),
    ("6", "Changes through the lifecycle",
     "A description of relevant changes made by the provider to the system through its lifecycle;"),
    ("7", "Standards applied",
     ("A list of the harmonised standards applied in full or in part the references of which have been published in "
      "the Official Journal of the European Union; where no such harmonised standards have been applied, a detailed "
      "description of the solutions adopted to meet the requirements set out in Chapter III, Section 2, including a "
      "list of other relevant standards and technical specifications applied;")),
    ("8", "EU declaration of conformity", "A copy of the EU declaration of conformity referred to in Article 47;"),
    ("9", "Post-market monitoring",
     ("A detailed description of the system in place to evaluate the AI system performance in the post-market phase "
      "in accordance with Article 72, including the post-market monitoring plan referred to in Article 72(3).")),
)

_POINT_2D = ("where relevant, the data requirements in terms of datasheets describing the training methodologies and "
             "techniques and the training data sets used, including a general description of these data sets, "
             "information about their provenance, scope and main characteristics; how the data was obtained and "
             "selected; labelling procedures (e.g. for supervised learning), data cleaning methodologies (e.g. outliers "
             "detection);")
_POINT_2G = ("the validation and testing procedures used, including information about the validation and testing data "
             "used and their main characteristics; metrics used to measure accuracy, robustness and compliance with "
             "other relevant requirements set out in Chapter III, Section 2, as well as potentially discriminatory "
             "impacts; test logs and all test reports dated and signed by the responsible persons, including with "
             "regard to pre-determined changes as referred to under point (f);")
_ART_10_3 = ("Training, validation and testing data sets shall be relevant, sufficiently representative, and to the best "
             "extent possible, free of errors and complete in view of the intended purpose.")
_ART_15_3 = ("The levels of accuracy and the relevant accuracy metrics of high-risk AI systems shall be declared in the "
             "accompanying instructions of use.")

NOT_ESTABLISHED = (
    "This document is generated by auditkit from one audit's results.json. It is not legal advice, it does not "
    "replace a conformity assessment, and it does not establish that the system complies with Regulation (EU) "
    "2024/1689. It reports what the audit measured on the audited data; the parts marked as provided were written "
    "by the provider and are reproduced as given, unchecked. Passing a rule is not proof that the system is fair or "
    "accurate for every person or period.")


_sub = ev.subsection


def technical_documentation_view(results: Mapping[str, Any]) -> dict:
    """The document's view: its sections in Annex IV order, each with evidence and provider parts."""
    r = dict(results)
    parts = lambda *keys: ev.part_blocks(r, PARTS, keys, writer="provider")
    accuracy_rules = ev.declared_accuracy_rules(r)
    accuracy_note = None if accuracy_rules else (
        "No rule of this audit declares an overall level of accuracy. Declare one as a rule of the policy, e.g. "
        "{id: declared-accuracy, metric: accuracy, min: <level>, decide_on: ci}; it is then tested here with its interval.")
    sections = {
        "1": [_sub("Provider, system and intended purpose", parts("provider", "system_name", "system_version", "intended_purpose"),
                   law="Annex IV point 1(a): its intended purpose, the name of the provider and the version of the system "
                       "reflecting its relation to previous versions;"),
              _sub("The model audited (evidence)", ev.model_blocks(r)),
              _sub("Interaction, forms, hardware, interface and instructions",
                   parts("interactions", "deployment_forms", "hardware", "user_interface", "instructions_for_use"))],
        "2": [_sub("Development and design", parts("development_methods", "design_specifications", "system_architecture")),
              _sub("Data: description, provenance and quality (evidence)",
                   ev.data_blocks(r) + ev.contract_blocks(r) + parts("data_provenance"), law=f"Annex IV point 2(d): {_POINT_2D}"),
              _sub("Examination of the data for possible biases (evidence)",
                   ev.bias_blocks(r) + ev.rules_blocks(r, which="data"),
                   law=f"Article 10(3): {_ART_10_3}"),
              _sub("Measures to detect, prevent and mitigate biases", ev.remedies_blocks(r) + parts("bias_measures")),
              _sub("Human oversight assessment", parts("human_oversight"),
                   note="Shown again under point 3, which asks for the oversight measures themselves."),
              _sub("Pre-determined changes", parts("predetermined_changes")),
              _sub("Validation and testing: procedures, data, metrics and results (evidence)",
                   ev.validation_blocks(r) + ev.rules_blocks(r) + ev.drift_blocks(r) + ev.reasons_blocks(r) +
                   parts("test_sign_off"), law=f"Annex IV point 2(g): {_POINT_2G}"),
              _sub("Potentially discriminatory impacts (evidence)", ev.discrimination_blocks(r)),
              _sub("Cybersecurity measures", parts("cybersecurity"))],
        "3": [_sub("Degrees of accuracy for the groups of persons (evidence)", ev.group_accuracy_blocks(r)),
              _sub("Declared levels of accuracy (evidence)", accuracy_rules, law=f"Article 15(3): {_ART_15_3}",
                   note=accuracy_note),
              _sub("Limitations, risks, oversight and input data",
                   parts("limitations", "foreseeable_risks", "human_oversight", "input_specifications"))],
        "4": [_sub("The provider's reasons", parts("metrics_appropriateness")),
              _sub("The metrics and thresholds the audit applied (evidence)", ev.rationale_blocks(r))],
        "5": [_sub("", parts("risk_management"))],
        "6": [_sub("", parts("lifecycle_changes"))],
        "7": [_sub("", parts("standards_applied"))],
        "8": [_sub("", parts("declaration_of_conformity"))],
        "9": [_sub("The audit as a monitoring record (evidence)", ev.monitoring_blocks(r)),
              _sub("The provider's system and plan", parts("post_market_monitoring"))],
    }
    return ev.document_view(
        r, PACK, PARTS, writer="provider", accuracy=True,
        title="Technical documentation — Annex IV, Regulation (EU) 2024/1689",
        kind="Technical documentation (evidence and provider's parts)",
        intro=("The technical documentation of a high-risk AI system, organised by the numbered points of Annex IV "
               "(“Technical documentation referred to in Article 11(1)”). Parts marked EVIDENCE are read from the "
               "audit's results.json; each number there shows, on hover, the results.json value it comes from. "
               "Parts marked PROVIDED are the provider's own text from the policy's documentation: block."),
        not_established=NOT_ESTABLISHED,
        sections=[{"number": n, "title": t, "law": law, "subs": sections[n]} for n, t, law in ANNEX_IV],
        law_source="Headings quoted from Annex IV of Regulation (EU) 2024/1689 as published; sources in "
                   "auditkit's docs/regulation-packs.md.",
        signature_lines=["Prepared by (name, role)", "Date", "Signature"],
    )


def technical_documentation(results: Mapping[str, Any], *, templates: Path | None = None) -> dict[str, str]:
    """``technical-documentation.html`` and ``.md`` of a results document extending eu-ai-act."""
    out = ev.render(technical_documentation_view(results), PACK, templates=templates)
    return {"technical-documentation.html": out["html"], "technical-documentation.md": out["md"]}
