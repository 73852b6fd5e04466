"""Errors raised when an audit *cannot be carried out*: the one error policy of auditkit's API.

Findings -- a violated contract, a failed rule -- are never exceptions; they are data in
the result objects. An exception means auditkit could not compute something, and the
command line maps every one of them to exit code 2 with a single ``Error: ...`` line.

Hierarchy::

    AuditkitError                 anything auditkit cannot do; exit code 2
     +-- PolicyError              the policy file is malformed or inconsistent
     +-- DataError                a data or results file is missing, unreadable or unusable
     +-- ContractError            a contract file is itself invalid (not: data violates it)
     +-- ModelError               a model cannot be loaded or fails to predict
     |    +-- UntrustedModelError the model file asks for types nobody trusted
     +-- ExplanationError         explanations could not be computed
     +-- OutputError              the outputs cannot be written
     +-- LedgerError              an audit ledger cannot be opened, read or written
     +-- SignatureError           a key cannot be loaded, or a folder cannot be signed or checked

What each public function (``auditkit.__all__``) raises; catching :class:`AuditkitError`
catches all of it::

    run_audit         AuditkitError: PolicyError, DataError, ContractError, ModelError (with
                      UntrustedModelError), OutputError (report.templates); explanation
                      failures are recorded in the results, not raised
    load_policy       PolicyError
    validate          ContractError (a violation is a finding: ContractResult.passed)
    assess_fairness   DataError (unusable inputs), AuditkitError (an argument out of range,
                      an unknown metric name)
    compare_fairness  as assess_fairness
    explain           ExplanationError (whatever the model's code raises included)
    load_model        ModelError, UntrustedModelError
    write_outputs     DataError (not a results document: the message names the key),
                      OutputError (the folder or a template)

Anything else escaping these functions -- ``ValueError``, ``TypeError``, ``KeyError`` -- is a
bug in auditkit or a programming error by the caller (an argument of the wrong type where
the signature says otherwise); the command line reports it as an internal error.

Every message is one sentence that names the place (file, key, column) and what to do.
"""

from __future__ import annotations

__all__ = [
    "AuditkitError",
    "ContractError",
    "DataError",
    "ExplanationError",
    "LedgerError",
    "ModelError",
    "OutputError",
    "PolicyError",
    "SignatureError",
    "UntrustedModelError",
]


class AuditkitError(Exception):
    """Base class: the audit could not be carried out (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # Keep messages to one printable line of bounded length: the CLI prints exactly one
        # line per error, and parts of it (column names, values) come from untrusted inputs.
        from .sanitize import one_line

        super().__init__(one_line(message))

    @property
    def message(self) -> str:
        return self.args[0]

    def show(self, file=None) -> None:
        import sys

        print(f"Error: {self.message}", file=file if file is not None else sys.stderr)


class PolicyError(AuditkitError):
    """The policy file is malformed, has unknown or missing keys, or is inconsistent."""


class DataError(AuditkitError):
    """A data file is missing, unreadable, empty, or lacks a required column."""


class ContractError(AuditkitError):
    """A contract (pandera YAML schema) is missing or itself invalid."""


class ModelError(AuditkitError):
    """A model file cannot be loaded, or the model fails to produce predictions."""


class UntrustedModelError(ModelError):
    """A model file needs types that were not trusted (pickle, or skops untrusted types)."""

    def __init__(self, message: str, untrusted_types: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.untrusted_types = tuple(untrusted_types)


class ExplanationError(AuditkitError):
    """SHAP explanations could not be computed for this model."""


class OutputError(AuditkitError):
    """An output file or folder cannot be written."""


class SignatureError(AuditkitError):
    """A signing key cannot be loaded (missing, unreadable, not Ed25519, wrong passphrase), or a
    folder cannot be signed or checked (missing, a symbolic link or special file in it).

    A signature that does not verify is a finding, not this error.
    """


class LedgerError(AuditkitError):
    """An audit ledger cannot be opened, read, upgraded or written (not: a ledger that fails verification)."""
