"""``run_audit``: the one place that knows every stage.

policy -> data -> contract -> target and predictions -> fairness and explanations -> rules.
Each stage returns a frozen result; nothing downstream reaches back upstream. Writing the
outputs is the report package's job (:func:`auditkit.report.write_outputs`).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import DataError, ExplanationError, ModelError, PolicyError
from .paths import policy_relative, relative_command
from .policy import Policy, check_columns, load_policy

__all__ = ["AuditResult", "run_audit"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class AuditResult:
    """Everything one audit found. ``to_dict()`` is the ``results.json`` document."""

    policy: Policy
    gate: Any
    contract: Any | None
    fairness: Any | None
    explanations: Any | None
    explanation_status: dict
    data_summary: dict
    model_summary: dict | None
    provenance: dict
    drift: Any | None = None
    data_bias: Any | None = None
    comparison: Any | None = None
    champion_summary: dict | None = None
    adverse_impact: Any | None = None
    ll144: Any | None = None
    fail_on: str = "error"
    warnings: tuple[str, ...] = field(default=())

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
    def rules(self):
        return self.gate.outcomes

    def to_dict(self) -> dict:
        counts = self.gate.counts()
        explanations = dict(self.explanation_status)
        if self.explanations is not None:
            explanations = {**self.explanations.to_dict(), **{"status": "ok"}}
        return {
            "schema_version": SCHEMA_VERSION,
            "status": self.status,
            "policy": {"name": self.policy.name, "version": self.policy.version, "fail_on": self.fail_on,
                       "report_templates": policy_relative(self.policy.report_templates, self.policy.folder)},
            "summary": {"rules": len(self.gate.outcomes), **counts},
            "rules": [o.to_dict() for o in self.gate.outcomes],
            "contract": self.contract.to_dict() if self.contract is not None else None,
            "data": self.data_summary,
            "model": self.model_summary,
            "data_bias": self.data_bias.to_dict() if self.data_bias is not None else None,
            "drift": self.drift.to_dict() if self.drift is not None else None,
            "fairness": self.fairness.to_dict() if self.fairness is not None else None,
            "champion": _champion_dict(self.comparison, self.champion_summary),
            "packs": _packs_dict(self.policy),
            "adverse_impact": self.adverse_impact.to_dict() if self.adverse_impact is not None else None,
            "ll144": self.ll144.to_dict() if self.ll144 is not None else None,
            "explanations": explanations,
            "warnings": list(self.warnings),
            "provenance": self.provenance,
        }

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
    today=None,
    engine: str | None = None,
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
    today : datetime.date, optional
        The day waivers are judged on (default: today, UTC).
    engine : {"pandas", "spark"}, optional
        Override the policy's ``data.engine``.

    Returns
    -------
    AuditResult
        Findings (violations, failed rules) are in the result; only "could not run" raises.

    Raises
    ------
    AuditkitError
        The audit could not be carried out (bad policy, data, contract or model).
    """
    from .provenance import git_commit, now_iso, package_versions, platform_info

    say = progress or (lambda _msg: None)
    started = now_iso()
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    policy = policy.with_overrides(data=data, model=model, trust=trust_model, engine=engine)
    command = relative_command(command, policy.folder)
    if policy.data.engine == "spark":
        return _run_on_spark(policy, explain=explain, fail_on=fail_on, seed=seed, say=say, command=command,
                             today=today, started=started)

    # ---- data
    from .data import load_table, sha256_file

    def shown(path):
        return policy_relative(path, policy.folder)

    say(f"reading {policy.data.path.name}")
    frame = load_table(policy.data.path)
    frame.columns = [str(c) for c in frame.columns]
    check_columns(policy, list(frame.columns))
    _check_sensitive_features(frame, policy)

    # ---- contract
    contract_result = None
    if policy.data.contract is not None:
        from .contract import validate

        say("checking the data contract")
        contract_result = validate(frame, policy.data.contract, contract_name=shown(policy.data.contract))

    # ---- target and predictions (candidate, and champion when one is named)
    from .predictions import encode_target

    target = encode_target(frame[policy.data.target], policy.data.positive_label, source=policy.data.path)
    loaded, predictions = None, None
    if policy.model is not None:
        loaded, predictions = _predict(policy.model, "model", policy, frame, target, contract_result, say)
    champion_loaded, champion_predictions = None, None
    if policy.champion is not None:
        champion_loaded, champion_predictions = _predict(policy.champion, "champion", policy, frame, target,
                                                         contract_result, say)

    # ---- bias in the data itself (no model needed)
    data_bias = None
    if policy.sensitive_features:
        from .data_bias import assess_data_bias

        say("representation, base rates and missingness per group")
        data_bias = assess_data_bias(
            frame, sensitive_features=list(policy.sensitive_features), intersections=policy.intersections,
            target=target.values if target.task == "classification" else None,
            min_group_size=policy.fairness.min_group_size)

    # ---- drift against the reference data
    drift, warnings = None, []
    if policy.data.reference is not None:
        say(f"drift against {policy.data.reference.name}")
        drift = _measure_drift(policy, frame, loaded, predictions, target, warnings)

    # ---- fairness (and the paired comparison with the champion)
    fairness, comparison = None, None
    if predictions is not None:
        fairness, comparison = _assess_fairness(policy, frame, target, predictions, champion_predictions, seed, say)

    # ---- regulatory packs: adverse impact (four-fifths) and the NYC LL144 tables
    adverse_impact, ll144 = _pack_evidence(policy, frame, target, predictions, today, say)

    # ---- explanations
    explanations, explanation_status = None, _explanation_skip_reason(policy, loaded, explain)
    if explanation_status is None:
        from .explanations import explain as explain_model

        say(f"SHAP explanations (up to {policy.explain.max_rows:,} rows)")
        try:
            positive_class = _positive_class(loaded, target.positive_label)
            X = frame[list(predictions.feature_columns)]
            sens = frame[list(policy.sensitive_features)] if policy.sensitive_features else None
            explanations = explain_model(
                loaded.estimator, X, sensitive_features=sens, intersections=policy.intersections,
                positive_class=positive_class, max_rows=policy.explain.max_rows, seed=seed)
            explanation_status = {"status": "ok"}
        except ExplanationError as exc:
            explanation_status = {"status": "error", "reason": exc.message}

    # ---- rules
    from .rules import Evidence, evaluate_rules

    evidence = Evidence(contract=contract_result, fairness=fairness, explanations=explanations,
                        explanation_error=explanation_status.get("reason"), drift=drift, data_bias=data_bias,
                        comparison=comparison, adverse_impact=adverse_impact, ll144=ll144)
    gate = evaluate_rules(policy.rules, evidence, fail_on=fail_on, today=today)

    # ---- summaries and provenance
    data_summary = {
        "path": shown(policy.data.path), "rows": int(len(frame)), "columns": int(frame.shape[1]),
        "target": policy.data.target, "task": target.task, "positive_label": target.positive_label,
        "labels": list(target.labels),
        "base_rate": float(target.values.mean()) if target.task == "classification" else None,
        "sensitive_features": list(policy.sensitive_features),
        "intersections": [" & ".join(i) for i in policy.intersections],
    }
    model_summary = (_model_summary(policy, policy.model, loaded, threshold=predictions.threshold,
                                    feature_columns=predictions.feature_columns)
                     if policy.model is not None else None)
    champion_summary = (_model_summary(policy, policy.champion, champion_loaded, threshold=champion_predictions.threshold,
                                       feature_columns=champion_predictions.feature_columns)
                        if policy.champion is not None else None)
    data_file = {"path": shown(policy.data.path), "sha256": sha256_file(policy.data.path), "rows": int(len(frame))}
    files = _input_files(policy, data_file, loaded, champion_loaded)
    provenance = {
        **files,
        "versions": package_versions(),
        "platform": platform_info(),
        "seed": seed,
        "command": command,
        "git": git_commit(policy.folder),
        "started_at": started,
        "finished_at": now_iso(),
    }
    return AuditResult(policy=policy, gate=gate, contract=contract_result, fairness=fairness,
                       explanations=explanations, explanation_status=explanation_status,
                       data_summary=data_summary, model_summary=model_summary, provenance=provenance,
                       drift=drift, data_bias=data_bias, comparison=comparison, champion_summary=champion_summary,
                       adverse_impact=adverse_impact, ll144=ll144, fail_on=fail_on, warnings=tuple(warnings))


def _assess_fairness(policy: Policy, frame, target, predictions, champion_predictions, seed, say):
    """The fairness result (and the paired comparison with the champion, when there is one)."""
    fairness, comparison = None, None
    with _reference_groups_of(policy):
        import pandas as pd

        fs = policy.fairness
        say(f"fairness metrics with {fs.bootstrap:,} bootstrap resamples" if fs.bootstrap else "fairness metrics")
        sensitive = frame[list(policy.sensitive_features)] if policy.sensitive_features else pd.DataFrame(index=frame.index)
        options = dict(intersections=policy.intersections, metrics=fs.metrics, reference_groups=dict(fs.reference_groups),
                       min_group_size=fs.min_group_size, bootstrap=fs.bootstrap, confidence=fs.confidence, seed=seed,
                       task=target.task)
        if champion_predictions is not None:
            from .fairness import compare_fairness

            say("comparing the candidate with the champion (paired bootstrap)")
            # The candidate keeps its scores either way, so its own result is what it would be
            # without a champion; score-metric changes need both models' scores.
            comparison = compare_fairness(
                target.values, predictions.y_pred, champion_predictions.y_pred, sensitive,
                y_score=predictions.y_score, y_score_champion=champion_predictions.y_score, **options)
            fairness = comparison.candidate
        else:
            from .fairness import assess_fairness

            fairness = assess_fairness(target.values, predictions.y_pred, sensitive, y_score=predictions.y_score,
                                       **options)
    return fairness, comparison


@contextmanager
def _reference_groups_of(policy: Policy):
    """A reference group the data does not have is a mistake in the policy: name its key."""
    from .fairness._engine import UnknownReferenceGroup

    try:
        yield
    except UnknownReferenceGroup as exc:
        raise PolicyError(f"{policy.source or 'policy'}: key 'fairness.reference_groups.{exc.feature}': {exc.message}") from None


def _pack_evidence(policy: Policy, frame, target, predictions, today, say):
    """What impact_ratio and ll144_impact_ratio rules judge (None when no rule or pack needs it)."""
    from .vocabulary import ADVERSE_IMPACT_METRICS

    needs_impact = any(r.metric in ADVERSE_IMPACT_METRICS for r in policy.rules)
    ll144_settings = policy.pack_settings.get("nyc-ll144")
    if predictions is None or not (needs_impact or ll144_settings):
        return None, None
    if target.task != "classification":
        raise DataError(f"{policy.data.path}: adverse impact and LL144 audits need selections (a classification target); "
                        f"'{policy.data.target}' is numeric, so remove the impact rules or set data.positive_label.")
    adverse_impact = ll144 = None
    if needs_impact:
        from .adverse_impact import assess_adverse_impact

        from .packs import load_pack

        say("adverse impact ratios (four-fifths rule)")
        sensitive = frame[list(policy.sensitive_features)]
        # the four-fifths pack's settings; an impact_ratio rule outside the pack gets its defaults
        ff = policy.pack_settings.get("four-fifths") or {
            key: spec.default for key, spec in load_pack("four-fifths").settings.items()}
        adverse_impact = assess_adverse_impact(predictions.y_pred, sensitive, intersections=policy.intersections,
                                               min_group_size=policy.fairness.min_group_size,
                                               confidence=policy.fairness.confidence,
                                               unknown_values=ff.get("unknown_values") or (),
                                               adjust=ff.get("adjust") or "none")
    if ll144_settings:
        from datetime import datetime, timezone

        from .ll144 import assess_ll144

        s = ll144_settings
        if s["mode"] == "scoring" and predictions.y_score is None:
            raise ModelError(f"{policy.source}: packs.nyc-ll144.mode is scoring but the model gives no score; "
                             "set model.predictions.score, use a model with predict_proba, or use mode: selection.")
        say("NYC LL144 bias audit tables")
        audit_date = s.get("audit_date") or (today or datetime.now(timezone.utc).date()).isoformat()
        facts = {"audit_date": audit_date, "data_source": s["data_source"], "data_kind": s["data_kind"],
                 "test_data_reason": s.get("test_data_reason"), "tool": s.get("tool"), "auditor": s.get("auditor"),
                 "exclusion_justification": s["exclusion_justification"],
                 "columns": {"sex": s["sex"], "race_ethnicity": s["race_ethnicity"]},
                 "data_file": policy.data.path.name}
        ll144 = assess_ll144(frame[s["sex"]], frame[s["race_ethnicity"]], mode=s["mode"], selected=predictions.y_pred,
                             score=predictions.y_score, unknown_values=s.get("unknown_values") or (),
                             exclude_below=s["exclude_below"], facts=facts)
    return adverse_impact, ll144


def _packs_dict(policy: Policy) -> list[dict] | None:
    if not policy.extends:
        return None
    from .packs import load_pack

    out = []
    for name in policy.extends:
        pack = load_pack(name)
        out.append({**pack.to_dict(), "settings": dict(policy.pack_settings.get(name) or {}),
                    "rules": [r.id for r in policy.rules if r.pack == name]})
    return out


def _run_on_spark(policy: Policy, *, explain: bool, fail_on: str, seed: int, say, command, today, started) -> AuditResult:
    """The audit with the data read, validated, predicted and counted by Spark (docs/spark.md).

    Row-level work runs on the executors; the driver receives group counts and a stratified
    sample for explanations. Drift, data-bias rules, champions and packs are refused up front
    by the policy loader.
    """
    from .data import sha256_file
    from .provenance import git_commit, now_iso, package_versions, platform_info
    from .rules import Evidence, evaluate_rules
    from .spark import audit_spark

    loaded = None
    if policy.model is not None and policy.model.runnable:
        loaded = _load_model(policy.model, "model", say)
    explaining = _explanation_skip_reason(policy, loaded, explain) is None
    cols = policy.model.predictions if policy.model is not None else None
    fs = policy.fairness
    with _reference_groups_of(policy):
        sa = audit_spark(
            policy.data.location, target=policy.data.target, positive_label=policy.data.positive_label,
            sensitive_features=policy.sensitive_features, intersections=policy.intersections,
            contract=policy.data.contract, model=loaded, threshold=policy.model.threshold if policy.model else 0.5,
            prediction_label=cols.label if cols else None, prediction_score=cols.score if cols else None,
            metrics=fs.metrics, reference_groups=dict(fs.reference_groups), min_group_size=fs.min_group_size,
            bootstrap=fs.bootstrap, confidence=fs.confidence, seed=seed,
            explain_rows=policy.explain.max_rows if explaining else 0, progress=say)
    check_columns(policy, list(sa.columns), data_path=policy.data.location)
    contract_result = sa.contract
    if contract_result is not None:
        from dataclasses import replace

        contract_result = replace(contract_result, contract=policy_relative(policy.data.contract, policy.folder))

    explanations, explanation_status = None, _explanation_skip_reason(policy, loaded, explain)
    if explaining and sa.sample is not None:
        from .explanations import explain as explain_model

        say(f"SHAP explanations on a stratified sample of {len(sa.sample):,} rows")
        try:
            sens = sa.sample[list(policy.sensitive_features)] if policy.sensitive_features else None
            explanations = explain_model(
                loaded.estimator, sa.sample[list(sa.feature_columns)], sensitive_features=sens,
                intersections=policy.intersections, positive_class=_positive_class(loaded, sa.positive_label),
                max_rows=policy.explain.max_rows, seed=seed)
            explanation_status = {"status": "ok"}
        except ExplanationError as exc:
            explanation_status = {"status": "error", "reason": exc.message}

    gate = evaluate_rules(policy.rules, Evidence(contract=contract_result, fairness=sa.fairness, explanations=explanations,
                                                  explanation_error=explanation_status.get("reason")),
                          fail_on=fail_on, today=today)
    fairness = sa.fairness
    data_summary = {
        "path": policy_relative(policy.data.location, policy.folder), "rows": int(sa.rows), "columns": len(sa.columns),
        "target": policy.data.target,
        "task": "classification", "positive_label": sa.positive_label, "labels": list(sa.labels),
        "base_rate": fairness.overall.get("base_rate") if fairness is not None else None,
        "sensitive_features": list(policy.sensitive_features),
        "intersections": [" & ".join(i) for i in policy.intersections],
        "engine": "spark", "sample_rows": int(len(sa.sample)) if sa.sample is not None else None,
        "sample_population": sa.sample_population,
    }
    model_summary = None
    if policy.model is not None:
        model_summary = _model_summary(policy, policy.model, loaded, threshold=policy.model.threshold if loaded else None,
                                       feature_columns=sa.feature_columns)
    local = policy.data.path if policy.data.path.is_file() else None
    data_entry = {"path": policy_relative(policy.data.location, policy.folder), "sha256": sha256_file(local) if local else None, "rows": int(sa.rows)}
    files = _input_files(policy, data_entry, loaded)
    provenance = {**files, "versions": package_versions(), "platform": platform_info(), "seed": seed,
                  "command": command, "git": git_commit(policy.folder), "engine": _spark_facts(),
                  "started_at": started, "finished_at": now_iso()}
    return AuditResult(policy=policy, gate=gate, contract=contract_result, fairness=fairness, explanations=explanations,
                       explanation_status=explanation_status, data_summary=data_summary, model_summary=model_summary,
                       provenance=provenance, fail_on=fail_on)


def _spark_facts() -> dict:
    """Which Spark ran the audit: pyspark version and master (or Spark Connect)."""
    facts = {"name": "spark"}
    try:
        import pyspark
        from pyspark.sql import SparkSession

        facts["pyspark"] = pyspark.__version__
        active = SparkSession.getActiveSession()
        if active is not None:
            try:
                facts["master"] = active.sparkContext.master
            except Exception:  # Spark Connect sessions have no SparkContext
                facts["master"] = "spark connect"
    except ImportError:  # pragma: no cover - the Spark path imported pyspark already
        pass
    return facts


def _predict(spec, role: str, policy: Policy, frame, target, contract_result, say):
    """Load the model named by ``spec`` (file or registry URI) and predict, or read its columns."""
    from .predictions import predict_with_model, predictions_from_columns

    if not spec.runnable:
        cols = spec.predictions
        return None, predictions_from_columns(frame, target, label=cols.label, score=cols.score,
                                              threshold=spec.threshold, source=policy.data.path)
    loaded = _load_model(spec, role, say)
    try:
        predictions = predict_with_model(loaded, frame, target, threshold=spec.threshold, exclude={policy.data.target})
    except ModelError as exc:
        if contract_result is not None and not contract_result.passed:
            raise ModelError(f"{exc.message.rstrip('.')}; the data also breaks its contract "
                             f"({contract_result.total_failures} failing values): run 'audit validate' to see them.") from None
        raise
    return loaded, predictions


def _load_model(spec, role: str, say):
    """The model a spec names: a registry URI fetched from MLflow, or a file loaded safely."""
    if spec.uri is not None:
        from .mlflow_registry import fetch_model

        say(f"fetching {role} {spec.uri} from the model registry")
        return fetch_model(spec.uri, trust=spec.trust)
    from .model import load_model

    say(f"loading {role} {spec.path.name}")
    return load_model(spec.path, trust=spec.trust)


def _model_summary(policy: Policy, spec, loaded, *, threshold, feature_columns) -> dict:
    return {
        "source": "model" if loaded else "columns",
        "path": policy_relative(loaded.path, policy.folder) if loaded else None,
        "uri": spec.uri,
        "type": loaded.type_name if loaded else None,
        "description": loaded.description if loaded else f"predictions from column '{spec.predictions.label}'",
        "format": loaded.format if loaded else None,
        "threshold": threshold,
        "feature_columns": list(feature_columns),
        "trusted_types": list(loaded.trusted_types) if loaded else [],
    }


def _input_files(policy: Policy, data: dict, loaded=None, champion_loaded=None) -> dict:
    """Provenance of every input: path and SHA-256 of policy, data, contract, reference and models."""
    from .data import sha256_file

    def shown(path):
        return policy_relative(path, policy.folder)

    files = {"policy": {"path": policy.source.name if policy.source else None, "sha256": policy.sha256},
             "data": data}
    if policy.data.contract is not None:
        files["contract"] = {"path": shown(policy.data.contract), "sha256": sha256_file(policy.data.contract)}
    if policy.data.reference is not None:
        files["reference"] = {"path": shown(policy.data.reference), "sha256": sha256_file(policy.data.reference)}
    for key, model, spec in (("model", loaded, policy.model), ("champion", champion_loaded, policy.champion)):
        if model is not None:
            files[key] = {"path": shown(model.path), "sha256": model.sha256, "uri": spec.uri, **_registry_facts(model)}
    return files


def _registry_facts(loaded) -> dict:
    facts = getattr(loaded, "registry", None)
    return {"registry": facts.to_dict() if hasattr(facts, "to_dict") else facts} if facts else {}


def _champion_dict(comparison, summary) -> dict | None:
    if comparison is None:
        return None
    doc = comparison.to_dict()
    return {"model": summary, "fairness": doc["champion"], "changes": doc["changes"],
            "bootstrap": doc.get("bootstrap")}


def _measure_drift(policy: Policy, frame, loaded, predictions, target, warnings: list[str]):
    """Drift of every shared column, the target and the model's outputs against the reference."""
    import pandas as pd

    from .data import load_table
    from .drift import measure_drift

    reference = load_table(policy.data.reference)
    reference.columns = [str(c) for c in reference.columns]
    skip = {policy.data.target}
    if policy.model is not None and policy.model.predictions is not None:
        skip |= {policy.model.predictions.label, policy.model.predictions.score}
    columns = []
    for column in frame.columns:
        if column in skip:
            continue
        if column not in reference.columns:
            warnings.append(f"drift: column '{column}' is not in the reference data {policy.data.reference.name}; not measured.")
            continue
        if pd.api.types.is_numeric_dtype(reference[column]) and not pd.api.types.is_numeric_dtype(frame[column]):
            warnings.append(f"drift: column '{column}' is numeric in the reference data but not in the audited data; not measured (the contract shows why).")
            continue
        columns.append(column)
    target_column = policy.data.target if policy.data.target in reference.columns else None
    ref_out = cur_out = None
    if predictions is not None:
        cur_out = predictions.y_score if predictions.y_score is not None else predictions.y_pred
        if loaded is not None:
            ref_out = _reference_predictions(policy, reference, loaded, target, target_column,
                                             scores=predictions.y_score is not None, warnings=warnings)
        else:
            cols = policy.model.predictions
            source = cols.score if predictions.y_score is not None else cols.label
            if source in reference.columns:
                ref_out = reference[source].to_numpy()
                if predictions.y_score is None:
                    from .predictions import label_key

                    ref_out = (reference[source].map(label_key) == target.positive_label).astype("int8").to_numpy()
        if ref_out is None:
            cur_out = None
    return measure_drift(reference, frame, columns=columns, target=target_column,
                         reference_predictions=ref_out, current_predictions=cur_out)


def _reference_predictions(policy: Policy, reference, loaded, target, target_column, *, scores: bool, warnings):
    """The model's outputs on the reference data, or None (with a warning) when it cannot take that data.

    A reference without the target's labels or the model's columns only leaves the drift of the
    predictions unmeasured; a model that fails or misbehaves on rows it can take is exit 2, as
    on the audited data.
    """
    from .predictions import encode_target, model_feature_columns, predict_with_model

    try:
        ref_target = encode_target(reference[policy.data.target], policy.data.positive_label,
                                   source=policy.data.reference) if target_column else target
        model_feature_columns(loaded.estimator, list(reference.columns), exclude={policy.data.target}, path=loaded.path)
    except (DataError, ModelError) as exc:
        warnings.append(f"drift of the predictions not measured: {exc.message}")
        return None
    try:
        predicted = predict_with_model(loaded, reference, ref_target, threshold=policy.model.threshold,
                                       exclude={policy.data.target})
    except ModelError as exc:
        raise ModelError(f"{exc.message.rstrip('.')} (on the reference data {policy.data.reference.name}).") from None
    return predicted.y_score if scores else predicted.y_pred


def _check_sensitive_features(frame, policy: Policy) -> None:
    """A sensitive feature must split the rows into at least two groups to be compared."""
    for feature in policy.sensitive_features:
        column = frame[feature]
        _require_categories(column, feature, policy.data.path)
        if column.isna().all():
            raise DataError(f"{policy.data.path}: sensitive feature '{feature}' is missing in every row; fill the column or remove it from sensitive_features.")
        groups = column.nunique(dropna=False)
        if groups < 2:
            raise DataError(f"{policy.data.path}: sensitive feature '{feature}' has a single group ('{column.iloc[0]}'); fairness compares groups, so audit data that holds every group or remove the feature.")


_CATEGORY_KINDS = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float", "decimal", "boolean",
                             "datetime", "datetime64", "date", "timedelta", "categorical", "bytes"})


def _require_categories(column, feature: str, path) -> None:
    """A sensitive feature holds one category per row: text, a number, a flag or a date, never a list or mapping."""
    import numpy as np
    import pandas as pd

    if not pd.api.types.is_object_dtype(column) and not isinstance(column.dtype, pd.ArrowDtype):
        return
    if pd.api.types.infer_dtype(column, skipna=True) in _CATEGORY_KINDS:  # one C-level pass in the usual case
        return
    for position, value in enumerate(column.to_numpy()):
        if value is None or isinstance(value, (str, bool, int, float, np.generic, pd.Timestamp)):
            continue
        if value is pd.NA or value is pd.NaT:
            continue
        raise DataError(f"{path}: sensitive feature '{feature}' holds {type(value).__name__} values (row {position}); "
                        "a sensitive feature must hold one category per row, so flatten the column to text before auditing.")


def _explanation_skip_reason(policy: Policy, loaded, explain: bool) -> dict | None:
    if policy.model is None:
        return {"status": "skipped", "reason": "the policy has no model"}
    if loaded is None:
        return {"status": "skipped", "reason": "the model is known only by its prediction columns, which cannot be explained"}
    if not policy.explain.enabled:
        return {"status": "skipped", "reason": "explain.enabled is false in the policy"}
    if not explain:
        return {"status": "skipped", "reason": "--no-explain was given"}
    return None


def _positive_class(loaded, positive_label):
    """The model's own class object for the positive label (read as model code: it may raise)."""
    from .model import run_model_code
    from .predictions import label_key

    def find():
        for cls in list(getattr(loaded.estimator, "classes_", [])):
            if label_key(cls) == positive_label:
                return cls
        return None

    return run_model_code(loaded.path, "reading its classes_ attribute failed", find)
