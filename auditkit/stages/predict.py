"""Stage 4: the target, encoded, and the decisions of the candidate (and the champion)."""

from __future__ import annotations

from dataclasses import dataclass

from ..engines import EncodedTarget, ModelRun
from ..errors import ModelError

__all__ = ["Predicted", "load_model_of", "predict"]


@dataclass(frozen=True)
class Predicted:
    target: EncodedTarget
    candidate: ModelRun | None
    champion: ModelRun | None


def predict(plan, data, contract) -> Predicted:
    """Encode the target and run (or read) the models the policy names.

    With labels pending (``plan.labels == "pending"``) the target has no values: its task and
    positive label come from the policy, the model's classes or the prediction column, and no
    label is read (the engine dropped the column).
    """
    policy = plan.policy
    specs = [(spec, role) for spec, role in ((policy.model, "model"), (policy.champion, "champion")) if spec is not None]
    pending = getattr(plan, "labels", "present") == "pending"
    target = None if pending else plan.engine.encode_target(data, policy)
    runs = {}
    for spec, role in specs:
        loaded = load_model_of(spec, role, plan.say) if spec.runnable else None
        if target is None:  # labels pending: the candidate (or its columns) tells the task
            target = plan.engine.pending_target(data, policy, model=loaded)
        runs[role] = _run(plan, data, target, spec, role, contract, loaded)
    if target is None:
        target = plan.engine.pending_target(data, policy)
    return Predicted(target=target, candidate=runs.get("model"), champion=runs.get("champion"))


def _run(plan, data, target, spec, role: str, contract, loaded) -> ModelRun:
    try:
        return plan.engine.predict(data, target, spec, loaded, role=role, policy=plan.policy)
    except ModelError as exc:
        if contract is not None and not contract.passed:
            raise ModelError(f"{exc.message.rstrip('.')}; the data also breaks its contract "
                             f"({contract.total_failures} failing values): run 'audit validate' to see them.") from None
        raise


def load_model_of(spec, role: str, say):
    """The model a spec names: a registry URI fetched from MLflow, or a file loaded safely."""
    if spec.uri is not None:
        from ..mlflow_registry import fetch_model

        say(f"fetching {role} {spec.uri} from the model registry")
        return fetch_model(spec.uri, trust=spec.trust)
    from ..model import load_model

    say(f"loading {role} {spec.path.name}")
    return load_model(spec.path, trust=spec.trust)
