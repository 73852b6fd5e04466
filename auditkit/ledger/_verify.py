"""Walking a chain of entries and reporting every break in it.

What verification establishes: every entry from the first checked one to the last is exactly
as it was recorded (its body, its columns, its place in the chain), none was removed, inserted
or reordered between them, and -- with a public key -- which entries that key signed.

What it cannot establish on its own: that entries were not removed *from the end*. A chain
whose last entries were deleted is still a valid, shorter chain. Keep the head hash somewhere
else (a CI log, a ticket, a signed release) and pass it as ``expect_head``: verification then
fails when that entry is no longer in the chain.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Iterable

from ..errors import LedgerError
from ..sanitize import one_line
from ._canonical import canonical
from ._model import GENESIS, HASH, LedgerEntry, Problem, Verification, compute_entry_hash, signing_message

__all__ = ["Unreadable", "check_expect_head", "name_entry", "verify_chain"]

_PREFIX = re.compile(r"^[0-9a-f]{12,64}$")


@dataclass(frozen=True)
class Unreadable:
    """A row or bundle line that could not be turned into an entry (already a problem)."""

    seq: int | None
    problem: Problem


def name_entry(entry: LedgerEntry) -> str:
    """``entry 5 (2026-11-30T19:20:00+00:00, policy 'credit')``, safe to print."""
    return f"entry {entry.seq} ({one_line(entry.recorded_at, 40)}, policy {one_line(repr(entry.policy_name), 80)})"


def check_expect_head(expect_head: str | None) -> str | None:
    """The normalised (lowercase) expected head, or None.

    Raises
    ------
    LedgerError
        Not 12 to 64 hex digits.
    """
    if expect_head is None:
        return None
    value = str(expect_head).strip().lower()
    if not _PREFIX.match(value):
        raise LedgerError(f"--expect-head {one_line(repr(expect_head), 80)}: not an entry hash; give the hash "
                          "(or its first 12 or more hex digits) that audit ledger verify printed as the head.")
    return value


def _body_problems(entry: LedgerEntry, label: str) -> list[Problem]:
    """The body must be canonical JSON of an object, and the columns must equal its values."""
    text = entry.body_text
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return [Problem(entry.seq, "not_canonical", f"{label} was edited: its body is not valid JSON.")]
    if not isinstance(body, dict):
        return [Problem(entry.seq, "not_canonical", f"{label} was edited: its body is not a JSON object.")]
    try:
        same = canonical(body) == text.encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError):
        same = False
    problems = []
    if not same:
        problems.append(Problem(entry.seq, "not_canonical",
                                f"{label} was edited: its body is not in canonical JSON form, so it is not the text that was recorded."))
    policy = body.get("policy")
    batch = body.get("batch")
    expected = {
        "recorded_at": body.get("recorded_at"),
        "policy_name": policy.get("name") if isinstance(policy, dict) else None,
        "verdict": body.get("verdict"),
        "batch_id": batch.get("id") if isinstance(batch, dict) else None,
    }
    for column, value in expected.items():
        stored = getattr(entry, column)
        if stored != value:
            problems.append(Problem(entry.seq, "column",
                                    f"{label} was edited: its {column} column ({one_line(repr(stored), 60)}) differs "
                                    f"from its body ({one_line(repr(value), 60)})."))
    return problems


def _signature_problem(entry: LedgerEntry, label: str, public_key, require_signatures: bool) -> tuple[Problem | None, bool]:
    """(a problem or None, whether a signature was verified)."""
    if public_key is None:
        return None, False
    fingerprint = public_key.fingerprint
    if not entry.signature:
        if require_signatures:
            return Problem(entry.seq, "unsigned", f"{label} is not signed (signatures are required, key {fingerprint})."), False
        return None, False
    if entry.key_fingerprint != fingerprint:
        if require_signatures:
            return Problem(entry.seq, "unsigned",
                           f"{label} is signed by another key ({one_line(entry.key_fingerprint, 80)}), not by {fingerprint}."), False
        return None, False
    try:
        signature = base64.b64decode(entry.signature.encode("ascii"), validate=True)
        good = bool(public_key.verify(signing_message(entry.entry_hash), signature))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        good = False
    if not good:
        return Problem(entry.seq, "signature",
                       f"{label}: its signature does not verify with key {fingerprint}: the entry or its signature was changed."), False
    return None, True


def verify_chain(items: Iterable[LedgerEntry | Unreadable], *, public_key=None, require_signatures: bool = False,
                 expect_head: str | None = None, first_seq: int = 1, anchor: str = GENESIS) -> Verification:
    """Verify entries given in seq order (a ledger's rows or a bundle's lines).

    Parameters
    ----------
    items
        The entries in stored order; :class:`Unreadable` stands for one that could not be read.
    public_key
        An object with ``.fingerprint`` and ``.verify(message, signature) -> bool``; entries
        signed with that fingerprint must verify.
    require_signatures
        With ``public_key``: an entry not signed by that key is a problem.
    expect_head
        An entry hash (or a prefix of 12 or more hex digits) that must be in the chain.
    first_seq, anchor
        Where the chain starts: seq 1 and ``GENESIS`` for a whole ledger; a partial bundle's
        first seq and its first entry's ``prev_hash``.

    Returns
    -------
    Verification
    """
    expect = check_expect_head(expect_head)
    problems: list[Problem] = []
    count = 0
    signed = 0
    expected_seq = first_seq
    prev_hash: str | None = anchor
    prev_label = "the start of the ledger" if first_seq == 1 else f"the anchor (entry {first_seq - 1})"
    head: str | None = None
    found_expected = False
    for item in items:
        if isinstance(item, Unreadable):
            problems.append(item.problem)
            if item.seq is not None and item.seq >= expected_seq:
                expected_seq = item.seq + 1
            prev_hash = None  # unknown: the next entry cannot be checked against it
            prev_label = f"entry {item.seq}" if item.seq is not None else "an unreadable line"
            continue
        entry = item
        count += 1
        label = name_entry(entry)
        if entry.seq < expected_seq:
            problems.append(Problem(entry.seq, "duplicate",
                                    f"{label} appears again or out of order (after {prev_label}): entries were copied or reordered."))
        elif entry.seq > expected_seq:
            missing = (f"entry {expected_seq} is missing" if entry.seq == expected_seq + 1
                       else f"entries {expected_seq} to {entry.seq - 1} are missing")
            problems.append(Problem(expected_seq, "missing",
                                    f"{missing} (deleted?): the chain goes from {prev_label} to {label}."))
        elif prev_hash is not None and entry.prev_hash != prev_hash:
            before = f"entry {entry.seq - 1}" if entry.seq > first_seq else prev_label
            problems.append(Problem(entry.seq, "order",
                                    f"{label} does not follow {before}: reordered, or an entry was removed or inserted "
                                    f"(it links to {one_line(entry.prev_hash, 64)[:12]}…, {before} is {prev_hash[:12]}…)."))
        if not (isinstance(entry.entry_hash, str) and HASH.match(entry.entry_hash)) or \
                compute_entry_hash(entry.seq, entry.prev_hash, entry.body_text) != entry.entry_hash:
            problems.append(Problem(entry.seq, "edited", f"{label} was edited: its hash does not match its content."))
        problems.extend(_body_problems(entry, label))
        problem, verified = _signature_problem(entry, label, public_key, require_signatures)
        if problem is not None:
            problems.append(problem)
        signed += verified
        if expect and entry.entry_hash.startswith(expect):
            found_expected = True
        head = entry.entry_hash
        prev_hash = entry.entry_hash
        prev_label = label
        expected_seq = max(expected_seq, entry.seq + 1)
    if expect and not found_expected:
        ends = f"it ends at {prev_label}, head {head[:12]}…" if head else "it has no entries"
        problems.append(Problem(None, "head",
                                f"the expected head {expect[:12]}… is not in the chain ({ends}): entries after it were "
                                "deleted, or this is another ledger."))
    return Verification(ok=not problems, entries=count, head=head, problems=tuple(problems), first_seq=first_seq,
                        anchor=anchor, signatures_verified=signed)
