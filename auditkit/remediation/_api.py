"""``auditkit.remedies(...)``: the remedies of a policy's audit, as a DataFrame for notebooks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

__all__ = ["remedies", "search_remedies"]


def search_remedies(policy, **run_audit_options):
    """Run the audit of ``policy`` with remedies requested; returns the :class:`AuditResult`
    whose ``remedies`` holds the search (None only when the audit has no model scores to
    remedy, e.g. a regression).

    ``run_audit_options`` are those of :func:`auditkit.run_audit` (``data``, ``model``,
    ``seed``, ``explain``, ...).
    """
    from ..pipeline import run_audit
    from ..policy import Policy, load_policy

    loaded = policy if isinstance(policy, Policy) else load_policy(Path(policy))
    if not loaded.remedies.enabled:
        loaded = replace(loaded, remedies=replace(loaded.remedies, enabled=True))
    loaded = replace(loaded, remedies=replace(loaded.remedies, requested=True))
    return run_audit(loaded, **run_audit_options)


def remedies(policy, **run_audit_options):
    """Candidate remedies of the fairness rules a policy's audit fails, one row per candidate.

    Each candidate (one threshold for everyone, group-specific thresholds, a neutralised proxy,
    a reweighed refit) is fitted on K-1 folds of the audit rows and decided on the fold it never
    saw, then judged by the policy's own rules with bootstrap intervals. Columns: ``passes``
    (no failing rule would block any more), accuracy and selection rate with their changes and
    intervals, ``group_aware`` (disparate treatment), and ``rule:<id>`` statuses. The full
    search is in ``frame.attrs["remedies"]`` (a :class:`~auditkit.remediation.RemedyResult`).

    Parameters
    ----------
    policy : str, Path or Policy
        The ``audit.yaml`` (or a loaded policy).
    **run_audit_options
        As for :func:`auditkit.run_audit`.

    Returns
    -------
    DataFrame
        Empty when the audit has nothing to remedy.

    Raises
    ------
    AuditkitError
        The audit could not be carried out.
    """
    import pandas as pd

    found = search_remedies(policy, **run_audit_options).remedies
    if found is None:
        return pd.DataFrame()
    frame = found.to_frame()
    frame.attrs["remedies"] = found
    return frame
