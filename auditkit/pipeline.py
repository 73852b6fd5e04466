"""``run_audit``: the stages of :mod:`auditkit.stages`, composed; and the result they make.

plan -> data -> contract -> predictions -> data bias -> drift -> fairness -> packs ->
explanations -> gate -> summaries and provenance. Every engine runs the same stages and the
same tail; each stage returns a frozen result and nothing downstream reaches back upstream.
Writing the outputs is the report package's job (:func:`auditkit.report.write_outputs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping

from .paths import policy_relative
from .policy import Policy
from .rules import Evidence, Gate, RuleOutcome

__all__ = ["AuditResult", "run_audit"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class AuditResult:
    """Everything one audit found. ``to_dict()`` is the ``results.json`` document.

    The stage results are in :attr:`evidence` (and under their own names: ``contract``,
    ``fairness``, ``comparison``, ``drift``, ``data_bias``, ``explanations``;
    :meth:`pack_evidence` for a pack's).
    """

    policy: Policy
    gate: Gate
    evidence: Evidence
    explanation_status: Mapping[str, Any]
    data_summary: Mapping[str, Any]
    model_summary: Mapping[str, Any] | None
    champion_summary: Mapping[str, Any] | None
    provenance: Mapping[str, Any]
    fail_on: str = "error"
    warnings: tuple[str, ...] = field(default=())
    remedies: Any = None  # RemedyResult when a fairness rule failed (or the policy asked)
    ledger: Any = None  # the auditkit.ledger.Ledger the audit is to be recorded in (--ledger or ledger:)

    @property
    def status(self) -> str:
        return self.gate.status

    @property
    def passed(self) -> bool:
        return self.gate.passed

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def rules(self) -> tuple[RuleOutcome, ...]:
        return self.gate.outcomes

    @property
    def contract(self):
        return self.evidence.contract

    @property
    def fairness(self):
        return self.evidence.fairness

    @property
    def comparison(self):
        return self.evidence.comparison

    @property
    def drift(self):
        return self.evidence.drift

    @property
    def data_bias(self):
        return self.evidence.data_bias

    @property
    def explanations(self):
        return self.evidence.explanations

    def pack_evidence(self, name: str):
        """The evidence a pack computed (None when the pack did not run)."""
        return self.evidence.pack(name)

    def to_dict(self) -> dict:
        from .packs import plugins

        counts = self.gate.counts()
        explanations = dict(self.explanation_status)
        if self.explanations is not None:
            explanations = {**self.explanations.to_dict(), **{"status": "ok"}}
        document = {
            "schema_version": SCHEMA_VERSION,
            "status": self.status,
            "policy": {"name": self.policy.name, "version": self.policy.version, "fail_on": self.fail_on,
                       "report_templates": policy_relative(self.policy.report_templates, self.policy.folder)},
            "summary": {"rules": len(self.gate.outcomes), **counts},
            "rules": [o.to_dict() for o in self.gate.outcomes],
            "contract": self.contract.to_dict() if self.contract is not None else None,
            "data": dict(self.data_summary),
            "model": dict(self.model_summary) if self.model_summary is not None else None,
            "data_bias": self.data_bias.to_dict() if self.data_bias is not None else None,
            "drift": self.drift.to_dict() if self.drift is not None else None,
            "fairness": self.fairness.to_dict() if self.fairness is not None else None,
            "champion": _champion_dict(self.comparison, self.champion_summary),
            "packs": _packs_dict(self.policy),
        }
        for name, plugin in sorted(plugins().items()):
            if plugin.results_key is not None:
                evidence = self.evidence.pack(name)
                document[plugin.results_key] = evidence.to_dict() if evidence is not None else None
        document["documentation"] = dict(self.policy.documentation) if self.policy.documentation is not None else None
        document["remedies"] = self.remedies.to_dict() if self.remedies is not None else None
        document["reasons"] = self.evidence.reasons.to_dict() if self.evidence.reasons is not None else None
        document.update({"explanations": explanations, "warnings": list(self.warnings),
                         "provenance": dict(self.provenance)})
        return document

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(f"<tr><td>{escape(o.rule.id)}</td><td>{escape(o.status)}</td><td>{escape(o.message)}</td></tr>"
                       for o in self.gate.outcomes)
        return (f"<p><strong>{escape(self.policy.name)}: {self.status.upper()}</strong></p>"
                f"<table><tr><th>rule</th><th>status</th><th>detail</th></tr>{rows}</table>")


def run_audit(
    policy: Policy | str | Path,
    *,
    data: str | Path | None = None,
    model: str | Path | None = None,
    trust_model: bool = False,
    explain: bool = True,
    fail_on: str = "error",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
    today: date | None = None,
    engine: str | None = None,
    promote: str | None = None,
    ledger: str | Path | None = None,
    batch: str | None = None,
    labels: str = "present",
) -> AuditResult:
    """Run the whole audit described by a policy.

    Parameters
    ----------
    policy : Policy, str or Path
        A loaded policy or the path of an ``audit.yaml``.
    data, model : path, optional
        Override the policy's data file or model file.
    trust_model : bool
        Trust every type in the model file (as ``model.trust: true``).
    explain : bool
        Compute SHAP explanations (when the policy enables them).
    fail_on : {"error", "warning"}
        Which rule severities gate.
    seed : int
        Seed for bootstrap resampling and explanation sampling.
    progress : callable, optional
        Called with a short description as each stage starts.
    command : str, optional
        The command line, recorded in the provenance.
    today : datetime.date, optional
        The day waivers are judged on (default: today, UTC).
    engine : {"pandas", "spark"}, optional
        Override the policy's ``data.engine``.
    promote : str, optional
        The registry alias ``audit check --promote`` will set when the gate passes; its
        prerequisites are checked before any work.
    ledger : str or Path, optional
        The audit ledger (a SQLite path or a SQLAlchemy URL) overriding the policy's
        ``ledger:``; it is opened before any work and its history feeds the trend rules.
        Appending this audit's entry is done after the outputs are written
        (:func:`auditkit.ledger.record_audit`, as ``audit check --ledger`` does).
    batch : str, optional
        The batch of production data this audit covers (default: the data file's SHA-256);
        an audit with labels links to the earlier label-pending audit of the same batch.
    labels : {"present", "pending"}
        ``"pending"`` audits a batch whose true outcomes have not arrived: the target column is
        ignored (it need not be in the data), only what needs no labels is computed (selection
        rates, scores and drift per group, the contract without the target's checks), and rules
        on metrics that need labels get the status ``pending`` (not gating) until a later audit
        of the batch with its labels judges them. Anything else is a ``ValueError``.

    Returns
    -------
    AuditResult
        Findings (violations, failed rules) are in the result; only "could not run" raises.

    Raises
    ------
    AuditkitError
        The audit could not be carried out (bad policy, data, contract or model); see
        :mod:`auditkit.errors` for the subclasses.
    """
    from .provenance import now_iso
    from .stages import (contract, data_bias, drift, explain as explaining, fairness, gate, history, packs, predict,
                         reasons, remedies, summary)
    from .stages.data import read_data
    from .stages.plan import plan_audit

    started = now_iso()
    plan = plan_audit(policy, data=data, model=model, trust_model=trust_model, explain=explain, fail_on=fail_on,
                      seed=seed, today=today, command=command, engine=engine, promote=promote, say=progress,
                      ledger=None if ledger is None else str(ledger), labels=labels)
    rows = read_data(plan)
    if plan.labels == "pending":  # never read stale or partial labels of a batch whose labels are pending
        rows = plan.engine.without_columns(rows, [plan.policy.data.target])
    contract_result = contract.check_contract(plan, rows)
    predicted = predict.predict(plan, rows, contract_result)
    bias = data_bias.assess_data(plan, rows, predicted)
    drifted = drift.measure(plan, rows, predicted)
    fair = fairness.assess(plan, rows, predicted)
    pack_results = packs.pack_evidence(plan, rows, predicted)
    explained = explaining.explain_candidate(plan, rows, predicted)
    stated = reasons.audit(plan, rows, predicted, explained)
    earlier = history.read_history(plan)
    verdict, evidence = gate.judge(plan, contract=contract_result, data_bias=bias, drift=drifted, fairness=fair,
                                   explanations=explained, packs=pack_results, reasons=stated, history=earlier)
    remedied = remedies.search(plan, rows, predicted, verdict, evidence, explained)
    return AuditResult(
        policy=plan.policy, gate=verdict, evidence=evidence, explanation_status=explained.status,
        data_summary=summary.data_summary(plan, rows, predicted, explained),
        model_summary=summary.model_summary(plan, plan.policy.model, predicted.candidate),
        champion_summary=summary.model_summary(plan, plan.policy.champion, predicted.champion),
        provenance=_with_ledger(plan, summary.provenance(plan, rows, predicted, started=started), batch),
        fail_on=fail_on, warnings=drifted.warnings + _pack_warnings(plan.policy), remedies=remedied, ledger=plan.ledger)


def _pack_warnings(policy: Policy) -> tuple[str, ...]:
    """What the extended packs warn of from the policy alone (a document's missing required parts)."""
    from .packs import plugins

    installed = plugins()
    return tuple(w for name in policy.extends for w in installed[name].warnings(policy))


def _with_ledger(plan, provenance: dict, batch: str | None) -> dict:
    """The provenance, with where this audit will be recorded (and which earlier entry it completes)."""
    if plan.ledger is None:
        return provenance
    from .ledger._entry import ledger_facts

    partial = {"policy": {"name": plan.policy.name}, "provenance": provenance}
    return {**provenance, "ledger": ledger_facts(plan.ledger, partial, batch=batch,
                                                   labels=getattr(plan, "labels", "present"))}


def _champion_dict(comparison, summary) -> dict | None:
    if comparison is None:
        return None
    doc = comparison.to_dict()
    return {"model": summary, "fairness": doc["champion"], "changes": doc["changes"],
            "bootstrap": doc.get("bootstrap")}


def _packs_dict(policy: Policy) -> list[dict] | None:
    if not policy.extends:
        return None
    from .packs import plugins

    installed = plugins()
    return [{**installed[name].definition.to_dict(), "settings": dict(policy.pack_settings.get(name) or {}),
             "rules": [r.id for r in policy.rules if r.pack == name]} for name in policy.extends]
