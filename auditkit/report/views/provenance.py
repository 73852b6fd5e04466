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
    }


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
