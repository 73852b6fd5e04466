"""The ``four-fifths`` pack: adverse impact under 29 CFR 1607.4(D).

One ``impact_ratio`` rule per sensitive feature (its metric judges each group with the
practical 0.8 test and a statistical test, :mod:`.judgement`), computed from count tables
(:mod:`.impact`), and the adverse impact tables in the report (:mod:`.view`). See
``docs/packs.md``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .._plugin import PackInputs, PackPlugin

__all__ = ["FourFifths", "plugin"]


class FourFifths(PackPlugin):
    """Impact ratios with Koopman intervals, Fisher's exact or the z-test, optionally Holm-adjusted."""

    results_key = "adverse_impact"

    def metrics(self):
        from ...metrics import Metric
        from .judgement import RULE_OPTIONS, describe_impact_rule, impact_rule_sentence, judge_impact_rule

        return (Metric(
            name="impact_ratio", family="pack",
            summary="A group's selection rate divided by the selection rate of the group selected most often "
                    "(29 CFR 1607.4(D)); below 0.8 is generally regarded as evidence of adverse impact.",
            formula="selection rate of the group / selection rate of the most selected group, over the groups of "
                    "known category with at least fairness.min_group_size rows",
            direction=1, feature="group", feature_required=True, needs=frozenset({"model"}),
            evidence=f"pack:{self.name}", sentence=impact_rule_sentence, judge=judge_impact_rule,
            describe=describe_impact_rule, rule_options=RULE_OPTIONS, interval="analytic", pack=self.name),)

    def glossary(self) -> dict[str, str]:
        return {
            "fisher_exact": "Fisher's exact test: the probability, if selection did not depend on the group, of a "
                            "split of selections between the two groups at least as uneven as the one observed "
                            "(two-sided p-value).",
            "z_test": "Two-proportion z-test (pooled): the difference in selection rates in standard errors; |z| "
                      "above about 2 corresponds to a two-sided p-value below 0.05.",
        }

    def check_settings(self, values: dict[str, Any], context) -> None:
        if not context.sensitive_features:
            context.fail(context.key, f"pack '{self.name}' compares the groups of each sensitive feature; "
                                      "list them in sensitive_features")

    def wants_evidence(self, values: Mapping[str, Any] | None, rules: Sequence) -> bool:
        """Every impact_ratio rule needs the evidence, whether or not the policy extends the pack."""
        return any(rule.metric == "impact_ratio" for rule in rules)

    def evidence(self, inputs: PackInputs, values: Mapping[str, Any]):
        from .impact import count_tables, impact_from_counts

        tables = count_tables(inputs, inputs.sensitive_features, inputs.intersections)
        return impact_from_counts(tables, min_group_size=inputs.min_group_size, confidence=inputs.confidence,
                                  unknown_values=values.get("unknown_values") or (), adjust=values.get("adjust") or "none")

    def report_sections(self):
        from ...report.sections import Section
        from .view import adverse_impact_view

        return (Section(id="adverse_impact", title="Impact ratios (four-fifths rule)",
                        template="packs/four-fifths/report.html.j2", build=adverse_impact_view),)


plugin = FourFifths()
