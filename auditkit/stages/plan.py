"""Stage 1: the plan. Everything about the policy that can be wrong is found here, before any
expensive work: the data header, the engine's declaration, packs and command-line prerequisites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from ..engines import Engine, check_support, get_engine
from ..errors import PolicyError
from ..paths import relative_command
from ..policy import Policy, check_columns, load_policy

__all__ = ["AuditPlan", "plan_audit", "require_mlflow"]


@dataclass(frozen=True)
class AuditPlan:
    """A validated policy and how this run carries it out."""

    policy: Policy
    engine: Engine
    explain: bool              # explanations asked for (not --no-explain)
    fail_on: str
    seed: int
    today: date | None
    command: str | None
    say: Callable[[str], None]


def plan_audit(policy, *, data=None, model=None, trust_model: bool = False, explain: bool = True,
               fail_on: str = "error", seed: int = 0, today: date | None = None, command: str | None = None,
               engine: str | None = None, promote: str | None = None, say: Callable[[str], None] | None = None
               ) -> AuditPlan:
    """Load and fully validate the policy for this run.

    Raises
    ------
    PolicyError, DataError
        A mistake in the policy or the command line, or data whose header lacks a column the
        policy names.
    """
    if fail_on not in ("error", "warning"):
        raise ValueError("fail_on must be 'error' or 'warning'")
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    policy = policy.with_overrides(data=data, model=model, trust=trust_model, engine=engine)
    if promote is not None:
        _check_promote(policy)
    chosen = get_engine(policy.data.engine)
    check_support(chosen.capabilities, chosen.name, policy)
    check_columns(policy, chosen.columns(policy), data_path=policy.data.location)
    return AuditPlan(policy=policy, engine=chosen, explain=explain, fail_on=fail_on, seed=seed, today=today,
                     command=relative_command(command, policy.folder), say=say or (lambda _msg: None))


def _check_promote(policy: Policy) -> None:
    """``--promote`` moves a registry alias: the candidate must come from a registry, and MLflow be installed."""
    where = policy.source or "policy"
    if policy.model is None or policy.model.uri is None:
        raise PolicyError(f"{where}: --promote needs model.path to be a registry URI (models:/NAME/VERSION or models:/NAME@ALIAS).")
    require_mlflow("--promote sets an MLflow registry alias", where)


def require_mlflow(what: str, where=None) -> None:
    """Refuse up front a command-line option that needs MLflow when MLflow is not installed."""
    from importlib.util import find_spec

    from ..errors import AuditkitError

    if find_spec("mlflow") is None:
        prefix = f"{where}: " if where is not None else ""
        raise AuditkitError(f"{prefix}{what} and needs MLflow; install it with: pip install 'auditkit[mlflow]'.")
