"""Stage 11: what the outputs say about the data, the models and how the audit ran."""

from __future__ import annotations

from ..paths import policy_relative

__all__ = ["data_summary", "model_summary", "provenance"]


def data_summary(plan, data, predicted, explanations) -> dict:
    """What was audited. ``labels`` are the target's classes; ``label_status`` is ``"present"`` or
    ``"pending"`` (the batch's true outcomes have not arrived: the target column was ignored,
    ``labels`` is None and ``base_rate`` null)."""
    policy = plan.policy
    target = predicted.target
    pending = getattr(plan, "labels", "present") == "pending"
    summary = {
        "path": data.shown_path, "rows": data.rows, "columns": len(data.columns),
        "target": policy.data.target, "task": target.task, "positive_label": target.positive_label,
        "labels": None if pending else list(target.labels), "label_status": "pending" if pending else "present",
        "base_rate": target.base_rate,
        "sensitive_features": list(policy.sensitive_features),
        "intersections": [" & ".join(i) for i in policy.intersections],
    }
    if plan.engine.name != "pandas":
        summary.update({"engine": plan.engine.name, "sample_rows": explanations.sample_rows,
                        "sample_population": explanations.population})
    return summary


def model_summary(plan, spec, run) -> dict | None:
    if spec is None:
        return None
    policy = plan.policy
    loaded = run.loaded if run is not None else None
    return {
        "source": "model" if loaded else "columns",
        "path": policy_relative(loaded.path, policy.folder) if loaded else None,
        "uri": spec.uri,
        "type": loaded.type_name if loaded else None,
        "description": loaded.description if loaded else f"predictions from column '{spec.predictions.label}'",
        "format": loaded.format if loaded else None,
        "threshold": run.threshold if run is not None else None,
        "feature_columns": list(run.feature_columns) if run is not None else [],
        "trusted_types": list(loaded.trusted_types) if loaded else [],
    }


def provenance(plan, data, predicted, *, started: str) -> dict:
    """Every input's path and SHA-256, the versions, platform, seed, command, git commit and times."""
    from ..data import sha256_file
    from ..provenance import git_commit, now_iso, package_versions, platform_info

    policy = plan.policy

    def shown(path):
        return policy_relative(path, policy.folder)

    files = {"policy": {"path": policy.source.name if policy.source else None, "sha256": policy.sha256},
             "data": {"path": data.shown_path,
                      "sha256": sha256_file(data.local_file) if data.local_file is not None else None,
                      "rows": data.rows}}
    if policy.data.contract is not None:
        files["contract"] = {"path": shown(policy.data.contract), "sha256": sha256_file(policy.data.contract)}
    if policy.data.reference is not None:
        files["reference"] = {"path": shown(policy.data.reference), "sha256": sha256_file(policy.data.reference)}
    for key, run, spec in (("model", predicted.candidate, policy.model), ("champion", predicted.champion, policy.champion)):
        loaded = run.loaded if run is not None else None
        if loaded is not None:
            files[key] = {"path": shown(loaded.path), "sha256": loaded.sha256, "uri": spec.uri, **_registry_facts(loaded)}
    out = {**files, "versions": package_versions(), "platform": platform_info(), "seed": plan.seed,
           "command": plan.command, "git": git_commit(policy.folder)}
    facts = plan.engine.facts()
    if facts is not None:
        out["engine"] = dict(facts)
    out.update({"started_at": started, "finished_at": now_iso()})
    return out


def _registry_facts(loaded) -> dict:
    facts = getattr(loaded, "registry", None)
    return {"registry": facts.to_dict() if hasattr(facts, "to_dict") else facts} if facts else {}
