"""What ``audit check`` records in the ledger: one entry body per audit, built from its results.

The body commits to everything needed to tell later what was decided, when and on which
evidence: the verdict, the whole ``results.json``, the SHA-256 of every input (from the
results' provenance) and of every output written, the policy, the command line, the git
commit, the batch and whether its labels were known, and the key that signed the outputs.
"""

from __future__ import annotations

import hashlib
from typing import Mapping

__all__ = ["INPUT_ROLES", "batch_id", "entry_body", "ledger_facts", "record_audit"]

#: The inputs whose path and SHA-256 an entry lists, as the results' provenance names them.
INPUT_ROLES = ("policy", "data", "contract", "reference", "model", "champion")


def batch_id(results: Mapping, given: str | None) -> str:
    """The batch an audit belongs to: the one given (``--batch``), else its data file's SHA-256."""
    if given:
        return given
    data = (results.get("provenance") or {}).get("data") or {}
    return f"sha256:{data['sha256']}" if data.get("sha256") else "unnamed"


def entry_body(results: Mapping, outputs: Mapping[str, bytes | str], *, batch: str, labels: str = "present",
               labels_for: str | None = None, output_signature: str | None = None) -> dict:
    """The body of the ledger entry of one audit.

    Parameters
    ----------
    results : mapping
        The results document (``results.json``) of the audit.
    outputs : mapping
        Each output file written, by name, with its content (hashed here) or its SHA-256.
    batch : str
        The batch (``--batch``, or the data's SHA-256).
    labels : {"present", "pending"}
        Whether the audit had the true outcomes.
    labels_for : str, optional
        The entry hash of the earlier, label-pending audit of the same batch this one completes.
    output_signature : str, optional
        The fingerprint of the key that signed the outputs.
    """
    provenance = results.get("provenance") or {}
    policy = results.get("policy") or {}
    inputs = {}
    for role in INPUT_ROLES:
        item = provenance.get(role)
        if isinstance(item, dict):
            inputs[role] = {"path": item.get("path"), "sha256": item.get("sha256")}
    status = results.get("status")
    return {
        "format": 1,
        "policy": {"name": policy.get("name"), "version": policy.get("version"),
                   "sha256": (provenance.get("policy") or {}).get("sha256")},
        "verdict": status,
        "exit_code": 0 if status == "passed" else 1,
        "command": provenance.get("command"),
        "git": provenance.get("git"),
        "inputs": inputs,
        "outputs": {name: _digest(content) for name, content in sorted(outputs.items())},
        "output_signature": {"key_fingerprint": output_signature} if output_signature else None,
        "batch": {"id": batch, "labels": labels},
        "links": {"labels_for": labels_for} if labels_for else {},
        "results": dict(results),
    }


def _digest(content: bytes | str) -> str:
    if isinstance(content, str) and len(content) == 64 and all(c in "0123456789abcdef" for c in content):
        return content  # already a SHA-256
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    return hashlib.sha256(data).hexdigest()


def record_audit(ledger, results: Mapping, outputs: Mapping[str, bytes | str], *, signer=None):
    """Append one audit to ``ledger`` and return its :class:`~auditkit.ledger.LedgerEntry`.

    The batch and the labels come from the results (``provenance.ledger.batch``,
    ``data.label_status``). When the audit has labels and an earlier audit of the same policy and
    batch was recorded with labels pending, the new entry links to it (``links.labels_for``).

    Parameters
    ----------
    ledger : auditkit.ledger.Ledger
    results : mapping
        The results document (of a run with the ledger, so it names the batch).
    outputs : mapping
        The output files written (name -> content or SHA-256).
    signer : auditkit.signing.PrivateKey, optional
        Signs the entry's hash.
    """
    name = (results.get("policy") or {}).get("name")
    facts = (results.get("provenance") or {}).get("ledger") or {}
    chosen = facts.get("batch") or batch_id(results, None)
    labels = (results.get("data") or {}).get("label_status") or "present"
    earlier = ledger.find_batch(name, chosen, labels="pending") if labels == "present" else None
    signature = ((results.get("provenance") or {}).get("signature") or {}).get("key_fingerprint")
    body = entry_body(results, outputs, batch=chosen, labels=labels,
                      labels_for=earlier.entry_hash if earlier is not None else None, output_signature=signature)
    return ledger.append(body, signer=signer)


def ledger_facts(ledger, results: Mapping, *, batch: str | None, labels: str) -> dict:
    """What the results say of the ledger before the entry is appended: where, which batch, which entry it completes."""
    chosen = batch_id(results, batch)
    name = (results.get("policy") or {}).get("name")
    earlier = ledger.find_batch(name, chosen, labels="pending") if labels == "present" else None
    return {"url": ledger.display, "id": ledger.info.get("ledger_id", ""), "batch": chosen,
            "labels_for": earlier.seq if earlier is not None else None}
