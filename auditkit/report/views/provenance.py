"""Provenance: the audited files by SHA-256, versions, seed, command line, git commit, times."""

from __future__ import annotations

from ..formatting import fmt_number

__all__ = ["auditkit_version", "provenance_view"]

#: The inputs listed, in this order, when the results name them.
INPUT_KINDS = ("policy", "data", "reference", "contract", "model")


def provenance_view(results: dict) -> dict:
    """The provenance section (always shown)."""
    provenance = results.get("provenance") or {}
    files = []
    for kind in INPUT_KINDS:
        item = provenance.get(kind)
        if item and item.get("path"):
            files.append({"kind": kind, "path": item["path"], "sha256": item.get("sha256") or "—",
                          "rows": fmt_number(item.get("rows")) if item.get("rows") is not None else ""})
    return {
        "files": files,
        "versions": sorted((provenance.get("versions") or {}).items()),
        "seed": provenance.get("seed"),
        "command": provenance.get("command") or "(Python API)",
        "git": _git_line(provenance.get("git") or {}),
        "started_at": provenance.get("started_at", ""),
        "finished_at": provenance.get("finished_at", ""),
        "platform": {"system": "", "machine": "", **(provenance.get("platform") or {})},
        "signature": _signature_line(provenance.get("signature")),
        "ledger": _ledger_line(provenance.get("ledger")),
    }


def _signature_line(signature: dict | None) -> str | None:
    """Who signed the outputs: the key's fingerprint, and how to check it (None when unsigned)."""
    if not signature:
        return None
    return (f"{signature.get('algorithm', 'Ed25519')} key {signature.get('key_fingerprint', '')}: "
            "manifest.json lists the SHA-256 of every output and manifest.sig signs it; "
            "check with audit verify FOLDER --pub KEY.pub")


def _ledger_line(ledger: dict | None) -> str | None:
    """Where the audit is recorded (None without a ledger)."""
    if not ledger:
        return None
    completes = (f"; it completes entry #{ledger['labels_for']} (the same batch, audited before its labels arrived)"
                 if ledger.get("labels_for") else "")
    return (f"{ledger.get('url', '')} (ledger {str(ledger.get('id', ''))[:12]}), batch {ledger.get('batch', '')}"
            f"{completes}; check the chain with audit ledger verify")


def auditkit_version(results: dict) -> str:
    """The version of auditkit that wrote the results ('' when they do not say)."""
    versions = (results.get("provenance") or {}).get("versions") or {}
    return versions.get("auditkit", "")


def _git_line(git: dict) -> str:
    """The commit of the policy's folder, and what is known of uncommitted changes."""
    if not git:
        return "not a git work tree"
    branch = f" on {git['branch']}" if git.get("branch") else ""
    dirty = git.get("dirty")
    state = (" (uncommitted changes)" if dirty else " (no uncommitted changes)" if dirty is False
             else " (uncommitted changes not checked: auditkit runs no git in the audited folder)")
    return f"{git.get('commit', '')}{branch}{state}"
