"""The ``nyc-ll144`` pack: the bias audit NYC Local Law 144 asks of an automated employment
decision tool.

The three LL144 tables from one count table (:mod:`.tables`), the warning rule on their
lowest impact ratio (:mod:`.rule`), the report section (:mod:`.view`), the standalone
``ll144.html`` and ``ll144.csv`` (:mod:`.documents`) and ``audit ll144`` (:mod:`.command`).
See ``docs/packs.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .._plugin import PackInputs, PackPlugin

__all__ = ["NycLL144", "plugin"]


class NycLL144(PackPlugin):
    """Selection or scoring rates and impact ratios by sex, race/ethnicity and their intersection."""

    results_key = "ll144"
    document_names = frozenset({"ll144.html", "ll144.csv"})

    def metrics(self):
        from ...metrics import Metric
        from .rule import lowest_ratio_message, lowest_ratio_sentence, observe_lowest_ratio

        return (Metric(
            name="ll144_impact_ratio", family="pack",
            summary="NYC Local Law 144: a category's selection or scoring rate divided by the rate of the most "
                    "selected category; the lowest over the sex, race/ethnicity and intersectional tables.",
            formula="min over the three tables of the category's rate / the highest rate among the categories "
                    "not excluded by the 2% rule",
            direction=1, needs=frozenset({"model"}), evidence=f"pack:{self.name}", sentence=lowest_ratio_sentence,
            observe=observe_lowest_ratio, message=lowest_ratio_message, interval="none", pack=self.name),)

    def glossary(self) -> dict[str, str]:
        return {"scoring_rate": "NYC Local Law 144: the share of a category scoring above the median score of the "
                                "whole sample."}

    def glossary_terms(self, results: Mapping[str, Any]) -> frozenset[str]:
        ll144 = results.get("ll144")
        if not ll144:
            return frozenset()
        return frozenset({"ll144_impact_ratio", "scoring_rate"} if ll144.get("mode") == "scoring"
                         else {"ll144_impact_ratio"})

    def check_settings(self, values: dict[str, Any], context) -> None:
        where = context.settings_key
        if values["sex"] == values["race_ethnicity"]:
            context.fail(f"{where}.race_ethnicity", "names the same column as 'sex'; give the race/ethnicity column")
        if values["data_kind"] == "test" and not values.get("test_data_reason"):
            context.fail(f"{where}.test_data_reason", "LL144 asks why test data were used instead of historical data; "
                                                      "add test_data_reason")
        model = context.model
        if values["mode"] == "scoring" and model is not None and model.predictions is not None and not model.predictions.score:
            context.fail(f"{where}.mode", "scoring mode needs the tool's score: set model.predictions.score, or use "
                                          "mode: selection")

    def evidence(self, inputs: PackInputs, values: Mapping[str, Any]):
        from ...errors import ModelError
        from .tables import ll144_from_counts

        scoring = values["mode"] == "scoring"
        if scoring and not inputs.has_scores:
            raise ModelError(f"key 'packs.{self.name}.mode' is scoring but the model gives no score; set "
                             "model.predictions.score, use a model with predict_proba, or use mode: selection.")
        median = inputs.score_median() if scoring else None
        table = inputs.group_counts([values["sex"], values["race_ethnicity"]],
                                    flag=("score_above", median) if scoring else "decision")
        facts = {"audit_date": values.get("audit_date") or inputs.today.isoformat(),
                 "data_source": values["data_source"], "data_kind": values["data_kind"],
                 "test_data_reason": values.get("test_data_reason"), "tool": values.get("tool"),
                 "auditor": values.get("auditor"), "exclusion_justification": values["exclusion_justification"],
                 "columns": {"sex": values["sex"], "race_ethnicity": values["race_ethnicity"]},
                 "data_file": inputs.data_file}
        return ll144_from_counts(table, mode=values["mode"], median=median, unknown_values=values.get("unknown_values") or (),
                                 exclude_below=values["exclude_below"], facts=facts)

    def report_sections(self):
        from ...report.sections import Section
        from .view import ll144_section_view

        return (Section(id="ll144", title="NYC LL144 bias audit tables", template="packs/nyc-ll144/report.html.j2",
                        build=ll144_section_view),)

    def documents(self, results: Mapping[str, Any], templates: Path | None) -> dict[str, str]:
        from .documents import ll144_documents

        return ll144_documents(results, templates=templates)

    def command(self):
        from .command import ll144

        return ll144


plugin = NycLL144()
