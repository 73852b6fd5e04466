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
    """Encode the target and run (or read) the models the policy names."""
    policy = plan.policy
    target = plan.engine.encode_target(data, policy)
    candidate = champion = None
    if policy.model is not None:
        candidate = _run(plan, data, target, policy.model, "model", contract)
    if policy.champion is not None:
        champion = _run(plan, data, target, policy.champion, "champion", contract)
    return Predicted(target=target, candidate=candidate, champion=champion)


def _run(plan, data, target, spec, role: str, contract) -> ModelRun:
    loaded = load_model_of(spec, role, plan.say) if spec.runnable else None
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
