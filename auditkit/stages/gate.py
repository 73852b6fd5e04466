"""Stage 10: the gate — every rule judged on the evidence of the stages before."""

from __future__ import annotations

from ..rules import Evidence, Gate, evaluate_rules

__all__ = ["judge"]


def judge(plan, *, contract, data_bias, drift, fairness, explanations, packs, reasons=None,
          history=None) -> tuple[Gate, Evidence]:
    """The gate's verdict and the evidence it was reached on."""
    evidence = Evidence(contract=contract, fairness=fairness.fairness, comparison=fairness.comparison,
                        explanations=explanations.result, explanation_error=explanations.reason,
                        drift=drift.result, data_bias=data_bias, packs=packs,
                        reasons=reasons.result if reasons is not None else None,
                        reasons_error=reasons.reason if reasons is not None else None,
                        history=history.points if history is not None else None)
    return evaluate_rules(plan.policy.rules, evidence, fail_on=plan.fail_on, today=plan.today,
                          labels=getattr(plan, "labels", "present"), target=plan.policy.data.target), evidence
