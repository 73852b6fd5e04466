"""The ledger's records and the hash chain that links them: pure data and pure functions.

An entry's hash covers its position (``seq``), the hash of the entry before it (``prev_hash``)
and its body's canonical JSON, so changing, removing, inserting or reordering an entry breaks
the chain at that point. The signature of an entry covers its hash, so it covers the body too.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

__all__ = [
    "BODY_LIMIT",
    "GENESIS",
    "LedgerEntry",
    "Problem",
    "Verification",
    "compute_entry_hash",
    "signing_message",
]

#: The ``prev_hash`` of entry 1.
GENESIS = "0" * 64
#: The largest body auditkit reads (bytes of canonical JSON); larger ones are refused.
BODY_LIMIT = 64 * 1024 * 1024
#: The stored fields of an entry, in the order of the table and of a bundle line.
FIELDS = ("seq", "prev_hash", "entry_hash", "recorded_at", "policy_name", "verdict", "batch_id", "body_text",
          "signature", "key_fingerprint")
HASH = re.compile(r"^[0-9a-f]{64}$")
RECORDED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def compute_entry_hash(seq: int, prev_hash: str, body_text: str) -> str:
    """The hash of an entry: SHA-256 over ``auditkit-ledger/1``, seq, prev_hash and the body's bytes.

    Parameters
    ----------
    seq
        The entry's position, 1 for the first.
    prev_hash
        The previous entry's hash (``GENESIS`` for entry 1).
    body_text
        The stored body, canonical JSON text.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    data = b"auditkit-ledger/1\n" + str(seq).encode() + b"\n" + prev_hash.encode() + b"\n" + body_text.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def signing_message(entry_hash: str) -> bytes:
    """The bytes an entry's Ed25519 signature is over."""
    return b"auditkit-ledger-entry/1\n" + entry_hash.encode()


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded audit, as stored.

    Attributes
    ----------
    seq
        Position in the chain, 1, 2, 3 ...
    prev_hash, entry_hash
        The hash chain (see :func:`compute_entry_hash`).
    recorded_at
        ISO 8601 UTC, seconds (``2026-11-30T19:20:00+00:00``).
    policy_name, verdict, batch_id
        Copies of the body's values, for indexes (verification checks they agree).
    body_text
        The body, canonical JSON.
    signature, key_fingerprint
        Base64 Ed25519 signature of :func:`signing_message` and the signing key's fingerprint,
        or None for an unsigned entry.
    """

    seq: int
    prev_hash: str
    entry_hash: str
    recorded_at: str
    policy_name: str
    verdict: str
    batch_id: str | None
    body_text: str = field(repr=False)
    signature: str | None = field(default=None, repr=False)
    key_fingerprint: str | None = None

    @cached_property
    def body(self) -> dict:
        """The body, parsed (computed once).

        Raises
        ------
        LedgerError
            The stored body is not a JSON object (a damaged or hostile ledger).
        """
        try:
            value = json.loads(self.body_text)
        except (ValueError, TypeError, RecursionError):
            value = None
        if not isinstance(value, dict):
            from ..errors import LedgerError

            raise LedgerError(f"entry {self.seq} of the ledger has a body that is not a JSON object; "
                              "run audit ledger verify on the ledger to see what was changed.")
        return value

    def to_dict(self) -> dict[str, Any]:
        """The stored fields (a bundle line)."""
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(frozen=True)
class Problem:
    """One thing verification found wrong.

    Attributes
    ----------
    seq
        The entry concerned (None when the problem is not about one entry).
    kind
        ``missing``, ``order``, ``duplicate``, ``edited``, ``column``, ``not_canonical``,
        ``signature``, ``unsigned``, ``head``, ``unreadable`` or ``bundle``.
    message
        One sentence naming the entry (seq, recorded_at, policy) and what is wrong.
    """

    seq: int | None
    kind: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying a ledger or a bundle.

    Attributes
    ----------
    ok
        True when no problem was found.
    entries
        How many entries were checked.
    head
        The hash of the last entry checked (None for an empty ledger).
    problems
        What was found, in chain order.
    first_seq
        The seq verification started from (1 for a whole ledger; a bundle exported with
        ``since`` starts later).
    anchor
        The ``prev_hash`` the first entry was checked against: ``GENESIS`` for a whole ledger,
        the exported anchor for a partial bundle (the chain is verified *from there*).
    signatures_verified
        How many signatures were checked against the public key and verified.
    """

    ok: bool
    entries: int
    head: str | None
    problems: tuple[Problem, ...] = ()
    first_seq: int = 1
    anchor: str = GENESIS
    signatures_verified: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head": self.head, "first_seq": self.first_seq,
                "anchor": self.anchor, "signatures_verified": self.signatures_verified,
                "problems": [problem.to_dict() for problem in self.problems]}
