"""Stage 1: the plan. Everything about the policy that can be wrong is found here, before any
expensive work: the data header, the engine's declaration, packs and command-line prerequisites."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from ..engines import Engine, check_support, get_engine
from ..errors import PolicyError
from ..paths import relative_command
from ..policy import Policy, check_columns, load_policy

__all__ = ["AuditPlan", "ledger_url", "plan_audit", "require_mlflow"]


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
    ledger: Any = None  # the auditkit.ledger.Ledger this run appends to (--ledger or the policy's ledger:)
    labels: str = "present"  # "pending": the batch's true outcomes have not arrived; the target column is ignored


def plan_audit(policy, *, data=None, model=None, trust_model: bool = False, explain: bool = True,
               fail_on: str = "error", seed: int = 0, today: date | None = None, command: str | None = None,
               engine: str | None = None, promote: str | None = None, say: Callable[[str], None] | None = None,
               ledger: str | None = None, labels: str = "present") -> AuditPlan:
    """Load and fully validate the policy for this run.

    With ``labels="pending"`` the target column is not required in the data (and is ignored
    when it is there), and the engine must be able to audit without labels.

    Raises
    ------
    PolicyError, DataError
        A mistake in the policy or the command line, or data whose header lacks a column the
        policy names.
    """
    if fail_on not in ("error", "warning"):
        raise ValueError("fail_on must be 'error' or 'warning'")
    if labels not in ("present", "pending"):
        raise ValueError(f"labels must be 'present' or 'pending', got {labels!r}")
    if not isinstance(policy, Policy):
        policy = load_policy(policy)
    policy = policy.with_overrides(data=data, model=model, trust=trust_model, engine=engine)
    if promote is not None:
        _check_promote(policy)
    chosen = get_engine(policy.data.engine)
    check_support(chosen.capabilities, chosen.name, policy, labels=labels)
    header = list(chosen.columns(policy))
    if labels == "pending" and policy.data.target not in header:
        header.append(policy.data.target)  # not needed: the labels of this batch have not arrived
    check_columns(policy, header, data_path=policy.data.location)
    opened = _open_ledger(policy, ledger)
    return AuditPlan(policy=policy, engine=chosen, explain=explain, fail_on=fail_on, seed=seed, today=today,
                     command=relative_command(command, policy.folder), say=say or (lambda _msg: None),
                     ledger=opened, labels=labels)


def ledger_url(policy, override: str | None) -> str | None:
    """The ledger this run appends to: the command line's, else the policy's, else None.

    Raises
    ------
    PolicyError
        The policy names an environment variable that is not set, or has trend rules but no
        ledger is given at all.
    """
    where = policy.source or "policy"
    url = None
    if override:
        url = str(override)
    elif policy.ledger is not None and policy.ledger.env is not None:
        url = os.environ.get(policy.ledger.env)
        if not url:
            raise PolicyError(f"{where}: key 'ledger': the environment variable {policy.ledger.env} is not set; "
                              "set it to the ledger's URL or pass --ledger URL.")
    elif policy.ledger is not None:
        url = str(policy.ledger.path)
    trends = [r.id for r in policy.rules if r.trend is not None]
    if trends and url is None:
        raise PolicyError(f"{where}: rule '{trends[0]}' judges a trend over earlier audits and needs a ledger; "
                          "pass --ledger URL (e.g. --ledger audits.db) or add 'ledger: audits.db' to the policy.")
    return url


def _open_ledger(policy: Policy, override: str | None):
    """The ledger of this run, opened (created and migrated when new) before any work; or None."""
    url = ledger_url(policy, override)
    if url is None:
        return None
    from ..ledger import Ledger

    return Ledger(url, create=True)


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
