"""A ledger bundle: the entries of a ledger in a folder, verifiable offline without the database.

``entries.jsonl`` holds one canonical JSON object per line with every stored field of an entry
(the body as the exact stored text, ``body_text``); ``ledger.json`` says which ledger, which
range, how many entries, the head hash, and the anchor: the ``prev_hash`` of the first
exported entry. A bundle exported with ``since`` is verified *from its anchor*: it proves the
exported entries link to each other and to that hash, not what came before.

``ledger.json`` itself is not signed: to know a bundle is complete, compare its head with a
head hash kept elsewhere (``expect_head``), and verify signatures with the public key.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Iterator

from ..errors import LedgerError
from ..sanitize import one_line
from ._canonical import canonical
from ._model import BODY_LIMIT, FIELDS, GENESIS, HASH, LedgerEntry, Problem, Verification
from ._verify import Unreadable, check_expect_head, verify_chain

__all__ = ["BUNDLE_FORMAT", "MAX_LINES", "verify_bundle", "write_bundle"]

BUNDLE_FORMAT = "auditkit-ledger-bundle/1"
ENTRIES = "entries.jsonl"
META = "ledger.json"
#: The most lines a bundle may hold.
MAX_LINES = 10_000_000
#: The longest line (a body of 64 MiB plus the other fields, JSON-escaped).
LINE_LIMIT = BODY_LIMIT + (1 << 20)
_META_LIMIT = 1 << 20


def write_bundle(out: Path, records: list[LedgerEntry], *, ledger_id: str | None, source: str,
                 since: str | None) -> Path:
    """Write ``records`` as a bundle folder (atomically, through ``auditkit.outputs.write_folder``)."""
    from .._version import __version__
    from ..outputs import write_folder

    lines = b"".join(canonical(entry.to_dict()) + b"\n" for entry in records)
    meta = {
        "format": BUNDLE_FORMAT,
        "ledger_id": ledger_id,
        "source": source,
        "auditkit": __version__,
        "count": len(records),
        "since": since,
        "first_seq": records[0].seq if records else None,
        "last_seq": records[-1].seq if records else None,
        "head": records[-1].entry_hash if records else None,
        "anchor": records[0].prev_hash if records else None,
        "anchor_note": ("the chain starts at the beginning of the ledger" if not records or records[0].seq == 1 else
                        f"the bundle starts at entry {records[0].seq}; it is verified from its anchor (the hash of "
                        f"entry {records[0].seq - 1}), not from the beginning of the ledger"),
    }
    text = json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_folder(out, {ENTRIES: lines, META: text}, hint="choose another --out folder")
    return out


def is_bundle(path: str | Path) -> bool:
    """True when ``path`` is a folder holding a ``ledger.json``."""
    path = Path(path)
    return path.is_dir() and (path / META).is_file()


def _read_meta(folder: Path) -> dict:
    path = folder / META
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise LedgerError(f"{path}: is not a regular file; a bundle's ledger.json is one.")
        if info.st_size > _META_LIMIT:
            raise LedgerError(f"{path}: is larger than 1 MiB, so it is not a bundle's ledger.json.")
        with open(path, "rb") as handle:
            meta = json.loads(handle.read(_META_LIMIT + 1).decode("utf-8"))
    except FileNotFoundError:
        raise LedgerError(f"{folder}: no {META} there, so it is not a ledger bundle; make one with audit ledger export.") from None
    except OSError as exc:
        raise LedgerError(f"{path}: cannot be read ({exc.strerror}); check its permissions.") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise LedgerError(f"{path}: is not valid JSON, so the bundle cannot be checked; export it again.") from None
    if not isinstance(meta, dict) or meta.get("format") != BUNDLE_FORMAT:
        raise LedgerError(f"{path}: is not the ledger.json of an auditkit ledger bundle (format {BUNDLE_FORMAT}).")
    return meta


def _entry_from_line(number: int, raw: bytes) -> LedgerEntry | Unreadable:
    def bad(why: str, seq=None) -> Unreadable:
        return Unreadable(seq, Problem(seq, "unreadable", f"{ENTRIES} line {number}: {why}."))

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return bad("is not valid UTF-8")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return bad("is not valid JSON")
    if not isinstance(value, dict) or set(value) != set(FIELDS):
        return bad("is not an entry (it must be an object with exactly the fields " + ", ".join(FIELDS) + ")")
    seq = value["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return bad("has no valid seq")
    for name in ("prev_hash", "entry_hash", "recorded_at", "policy_name", "verdict", "body_text"):
        if not isinstance(value[name], str):
            return bad(f"entry {seq} has a {name} that is not text", seq)
    for name in ("batch_id", "signature", "key_fingerprint"):
        if value[name] is not None and not isinstance(value[name], str):
            return bad(f"entry {seq} has a {name} that is not text", seq)
    try:
        value["body_text"].encode("utf-8")
    except UnicodeEncodeError:
        return bad(f"entry {seq} has a body that is not valid UTF-8 text", seq)
    return LedgerEntry(**value)


def _lines(path: Path, problems: list[Problem], state: dict) -> Iterator[LedgerEntry | Unreadable]:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise LedgerError(f"{path}: is not a regular file; a bundle's entries.jsonl is one.")
        handle = open(path, "rb")
    except FileNotFoundError:
        raise LedgerError(f"{path}: is missing, so the bundle cannot be checked; export it again.") from None
    except OSError as exc:
        raise LedgerError(f"{path}: cannot be read ({exc.strerror}); check its permissions.") from None
    with handle:
        number = 0
        while True:
            raw = handle.readline(LINE_LIMIT + 1)
            if not raw:
                return
            number += 1
            state["lines"] = number
            if number > MAX_LINES:
                problems.append(Problem(None, "bundle", f"{ENTRIES} has more than {MAX_LINES:,} lines; the rest was not "
                                                        "checked (not a bundle auditkit wrote)."))
                return
            if len(raw) > LINE_LIMIT and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line, in pieces
                    raw = handle.readline(1 << 20)
                yield Unreadable(None, Problem(None, "unreadable", f"{ENTRIES} line {number}: is longer than "
                                                                  f"{LINE_LIMIT >> 20} MiB; not read."))
                continue
            line = raw.rstrip(b"\n").rstrip(b"\r")
            if not line.strip():
                yield Unreadable(None, Problem(None, "unreadable", f"{ENTRIES} line {number}: is empty."))
                continue
            yield _entry_from_line(number, line)


def verify_bundle(path: str | Path, public_key=None, expect_head: str | None = None, *,
                  require_signatures: bool = False) -> Verification:
    """Verify a bundle folder offline: the same checks as :meth:`Ledger.verify`.

    Parameters
    ----------
    path
        The bundle folder (``entries.jsonl`` and ``ledger.json``).
    public_key, require_signatures, expect_head
        As for :meth:`Ledger.verify`.

    Returns
    -------
    Verification
        Verified from the bundle's anchor (``first_seq``/``anchor``); a line that is not valid
        UTF-8 or JSON, or not an entry, is a problem naming the line. The entry count and the
        head stated in ``ledger.json`` must match the lines.

    Raises
    ------
    LedgerError
        Not a bundle (no readable ``ledger.json`` or ``entries.jsonl``), or ``expect_head`` is
        not a hash.
    """
    folder = Path(path)
    check_expect_head(expect_head)
    meta = _read_meta(folder)
    first_seq = meta.get("first_seq")
    anchor = meta.get("anchor")
    extra: list[Problem] = []
    if first_seq is None and meta.get("count") == 0:
        first_seq, anchor = 1, GENESIS
    if not (isinstance(first_seq, int) and not isinstance(first_seq, bool) and first_seq >= 1
            and isinstance(anchor, str) and HASH.match(anchor)):
        raise LedgerError(f"{folder / META}: has no valid first_seq and anchor, so the bundle cannot be checked; export it again.")
    if first_seq == 1 and anchor != GENESIS:
        extra.append(Problem(None, "bundle", f"{META} says the bundle starts at entry 1 but its anchor is not the "
                                             "start of a ledger; ledger.json was changed."))
    read_problems: list[Problem] = []
    state = {"lines": 0}
    result = verify_chain(_lines(folder / ENTRIES, read_problems, state), public_key=public_key,
                          require_signatures=require_signatures, expect_head=expect_head, first_seq=first_seq,
                          anchor=anchor)
    extra.extend(read_problems)
    if meta.get("count") != state["lines"] and not read_problems:
        extra.append(Problem(None, "bundle", f"{META} says {one_line(repr(meta.get('count')), 30)} entries, "
                                             f"{ENTRIES} holds {state['lines']}: entries were added or removed."))
    unreadable = any(problem.kind == "unreadable" for problem in result.problems)
    if meta.get("head") != result.head and not unreadable:
        extra.append(Problem(None, "bundle", f"{META} says the head is {one_line(str(meta.get('head')), 64)[:12]}…, "
                                             f"the last entry of {ENTRIES} is "
                                             f"{(result.head or 'none')[:12]}…: entries were removed or added at the end."))
    problems = result.problems + tuple(extra)
    return Verification(ok=not problems, entries=result.entries, head=result.head, problems=problems,
                        first_seq=result.first_seq, anchor=result.anchor,
                        signatures_verified=result.signatures_verified)

