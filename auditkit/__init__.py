"""auditkit: decide whether a machine-learning model may be promoted.

The public API is imported lazily, so ``import auditkit`` and ``audit --help`` stay instant
and heavy libraries (shap, scikit-learn, matplotlib) load only in the stage that needs them.

>>> import auditkit
>>> result = auditkit.run_audit("audit.yaml")          # doctest: +SKIP
>>> result.status, result.to_dict()["rules"][0]         # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

# pandera imports pyspark.pandas whenever pyspark is installed, and pyspark warns about
# pandas 3 on that import, in every notebook that validates a contract. auditkit's pandas
# path never uses pyspark.pandas, so that one warning (matched by its text) is kept quiet.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

__all__ = [
    "AuditResult",
    "AuditkitError",
    "ContractError",
    "ContractResult",
    "DataError",
    "ExplanationError",
    "ExplanationResult",
    "FairnessComparison",
    "FairnessResult",
    "Ledger",
    "LedgerError",
    "ModelError",
    "OutputError",
    "Policy",
    "PolicyError",
    "SignatureError",
    "UntrustedModelError",
    "__version__",
    "assess_fairness",
    "compare_fairness",
    "explain",
    "generate_keypair",
    "load_model",
    "load_policy",
    "reasons",
    "remedies",
    "reweigh",
    "run_audit",
    "sign_folder",
    "validate",
    "verify_folder",
    "write_outputs",
]

_LAZY = {
    "AuditResult": ".pipeline",
    "run_audit": ".pipeline",
    "Policy": ".policy",
    "load_policy": ".policy",
    "ContractResult": ".contract",
    "validate": ".contract",
    "FairnessResult": ".fairness",
    "assess_fairness": ".fairness",
    "FairnessComparison": ".fairness",
    "compare_fairness": ".fairness",
    "ExplanationResult": ".explanations",
    "explain": ".explanations",
    "load_model": ".model",
    "reasons": ".adverse_action._api",
    "remedies": ".remediation._api",
    "reweigh": ".remediation._reweigh",
    "write_outputs": ".report",
    "Ledger": ".ledger",
    "generate_keypair": ".signing",
    "sign_folder": ".signing",
    "verify_folder": ".signing",
    "AuditkitError": ".errors",
    "ContractError": ".errors",
    "DataError": ".errors",
    "ExplanationError": ".errors",
    "ModelError": ".errors",
    "OutputError": ".errors",
    "PolicyError": ".errors",
    "UntrustedModelError": ".errors",
    "LedgerError": ".errors",
    "SignatureError": ".errors",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'auditkit' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    from .contract import ContractResult, validate
    from .errors import (AuditkitError, ContractError, DataError, ExplanationError, ModelError, OutputError,
                         PolicyError, UntrustedModelError)
    from .explanations import ExplanationResult, explain
    from .fairness import FairnessComparison, FairnessResult, assess_fairness, compare_fairness
    from .model import load_model
    from .pipeline import AuditResult, run_audit
    from .policy import Policy, load_policy
    from .report import write_outputs
