"""Verification finds every kind of tampering and names the entry (seq, recorded_at, policy)."""

from __future__ import annotations

import sqlite3

import pytest

from auditkit.errors import LedgerError
from auditkit.ledger import Ledger

from ledger_fakes import FakeKey


def _sql(path, *statements):
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


def _verify(path, **kwargs):
    with Ledger(path) as ledger:
        return ledger.verify(**kwargs)


def _messages(result):
    return [p.message for p in result.problems]


def test_intact(filled, key):
    result = _verify(filled, public_key=key, require_signatures=True)
    assert result.ok and result.entries == 5 and result.signatures_verified == 5 and result.problems == ()


def test_one_byte_of_a_body_edited(filled):
    _sql(filled, "UPDATE ledger_entries SET body = replace(body, '0.8123', '0.8124') WHERE seq = 2")
    result = _verify(filled)
    assert not result.ok
    assert [(p.seq, p.kind) for p in result.problems] == [(2, "edited")]
    message = result.problems[0].message
    assert message.startswith("entry 2 (2026-11-12T12:00:00+00:00, policy 'credit') was edited: its hash does not match")


def test_a_column_edited(filled):
    _sql(filled, "UPDATE ledger_entries SET verdict = 'passed' WHERE seq = 3")
    result = _verify(filled)
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "column")]
    assert "entry 3 (2026-11-13T12:00:00+00:00, policy 'credit') was edited: its verdict column ('passed') differs " \
           "from its body ('failed')" in result.problems[0].message


def test_policy_column_edited(filled):
    _sql(filled, "UPDATE ledger_entries SET policy_name = 'credit' WHERE seq = 4")
    result = _verify(filled)
    assert [(p.seq, p.kind) for p in result.problems] == [(4, "column")]
    assert "policy_name column" in result.problems[0].message


def test_body_rewritten_in_non_canonical_form(filled):
    # the same JSON value with a space: the hash breaks, and so does the canonical form
    _sql(filled, "UPDATE ledger_entries SET body = replace(body, '\"format\":1', '\"format\": 1') WHERE seq = 1")
    result = _verify(filled)
    kinds = {(p.seq, p.kind) for p in result.problems}
    assert kinds == {(1, "edited"), (1, "not_canonical")}


def test_body_and_hash_rewritten_together_breaks_the_next_link(filled):
    from auditkit.ledger._model import compute_entry_hash

    with sqlite3.connect(filled) as conn:
        prev, body = conn.execute("SELECT prev_hash, body FROM ledger_entries WHERE seq = 2").fetchone()
        body = body.replace("0.8123", "0.9999")
        conn.execute("UPDATE ledger_entries SET body = ?, entry_hash = ? WHERE seq = 2",
                     (body, compute_entry_hash(2, prev, body)))
    result = _verify(filled)
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "order")]
    assert "entry 3 (2026-11-13T12:00:00+00:00, policy 'credit') does not follow entry 2" in result.problems[0].message


def test_signature_edited(filled, key):
    with sqlite3.connect(filled) as conn:
        signature = conn.execute("SELECT signature FROM ledger_entries WHERE seq = 5").fetchone()[0]
        flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
        conn.execute("UPDATE ledger_entries SET signature = ? WHERE seq = 5", (flipped,))
    result = _verify(filled, public_key=key)
    assert [(p.seq, p.kind) for p in result.problems] == [(5, "signature")]
    assert "entry 5 (2026-11-15T12:00:00+00:00, policy 'credit'): its signature does not verify" in result.problems[0].message
    assert _verify(filled).ok  # without a key, signatures are not checked


def test_signature_garbage_is_a_problem_not_a_crash(filled, key):
    _sql(filled, "UPDATE ledger_entries SET signature = '%%%not base64' WHERE seq = 1")
    result = _verify(filled, public_key=key)
    assert [(p.seq, p.kind) for p in result.problems] == [(1, "signature")]


def test_other_key_and_unsigned_entries(filled, key, make_body):
    with Ledger(filled, create=True) as ledger:
        ledger.append(make_body(6))
    other = FakeKey("other")
    assert _verify(filled, public_key=key).ok
    assert _verify(filled, public_key=other).ok  # signed by another key: not a problem unless required
    result = _verify(filled, public_key=other, require_signatures=True)
    assert [p.kind for p in result.problems] == ["unsigned"] * 6
    assert "is signed by another key" in result.problems[0].message
    assert "entry 6" in result.problems[5].message and "is not signed" in result.problems[5].message
    result = _verify(filled, public_key=key, require_signatures=True)
    assert [(p.seq, p.kind) for p in result.problems] == [(6, "unsigned")]


def test_middle_entry_deleted(filled):
    _sql(filled, "DELETE FROM ledger_entries WHERE seq = 3")
    result = _verify(filled)
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "missing")]
    assert result.problems[0].message.startswith("entry 3 is missing (deleted?): the chain goes from entry 2 "
                                                 "(2026-11-12T12:00:00+00:00, policy 'credit') to entry 4 "
                                                 "(2026-11-14T12:00:00+00:00, policy 'hiring')")


def test_first_entry_deleted(filled):
    _sql(filled, "DELETE FROM ledger_entries WHERE seq = 1")
    result = _verify(filled)
    assert [(p.seq, p.kind) for p in result.problems] == [(1, "missing")]
    assert "entry 1 is missing (deleted?): the chain goes from the start of the ledger to entry 2" in result.problems[0].message


def test_two_entries_deleted(filled):
    _sql(filled, "DELETE FROM ledger_entries WHERE seq IN (2, 3)")
    result = _verify(filled)
    assert [(p.seq, p.kind) for p in result.problems] == [(2, "missing")]
    assert "entries 2 to 3 are missing" in result.problems[0].message


def test_two_entries_swapped(filled):
    _sql(filled, "UPDATE ledger_entries SET seq = -2 WHERE seq = 2", "UPDATE ledger_entries SET seq = 2 WHERE seq = 3",
         "UPDATE ledger_entries SET seq = 3 WHERE seq = -2")
    result = _verify(filled)
    assert not result.ok
    kinds = [(p.seq, p.kind) for p in result.problems]
    assert (2, "order") in kinds and (3, "order") in kinds and (4, "order") in kinds
    assert (2, "edited") in kinds and (3, "edited") in kinds
    message = next(p.message for p in result.problems if p.seq == 2 and p.kind == "order")
    assert "entry 2 (2026-11-13T12:00:00+00:00, policy 'credit') does not follow entry 1: reordered" in message


def test_entry_inserted(filled, key):
    from auditkit.ledger._model import compute_entry_hash

    with sqlite3.connect(filled) as conn:
        row = list(conn.execute("SELECT * FROM ledger_entries WHERE seq = 5").fetchone())
        # the schema refuses a fork: a second entry linked to entry 4
        prev = conn.execute("SELECT entry_hash FROM ledger_entries WHERE seq = 4").fetchone()[0]
        body = row[7].replace("0.8123", "0.5")
        forged = compute_entry_hash(5, prev, body)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO ledger_entries VALUES (6, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                         (prev, forged, row[3], row[4], row[5], row[6], body))
        # so the forger moves entry 5 to 6, relinks it to a forged entry 5 with a correct hash of its own
        conn.execute("UPDATE ledger_entries SET seq = 6, prev_hash = ? WHERE seq = 5", (forged,))
        conn.execute("INSERT INTO ledger_entries VALUES (5, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                     (prev, forged, row[3], row[4], row[5], row[6], body))
    result = _verify(filled)
    assert [(p.seq, p.kind) for p in result.problems] == [(6, "edited")]
    result = _verify(filled, public_key=key, require_signatures=True)
    assert [(p.seq, p.kind) for p in result.problems] == [(5, "unsigned"), (6, "edited")]


def test_deleted_tail_needs_expect_head(filled):
    with Ledger(filled) as ledger:
        head = ledger.head().entry_hash
        fourth = ledger.records()[3].entry_hash
    assert _verify(filled, expect_head=head).ok
    assert _verify(filled, expect_head=head[:12]).ok
    assert _verify(filled, expect_head=fourth.upper()[:20]).ok  # an earlier entry is in the chain
    _sql(filled, "DELETE FROM ledger_entries WHERE seq = 5")
    assert _verify(filled).ok  # a chain cannot see its own missing tail
    result = _verify(filled, expect_head=head[:12])
    assert [(p.seq, p.kind) for p in result.problems] == [(None, "head")]
    assert f"the expected head {head[:12]}… is not in the chain (it ends at entry 4 (2026-11-14T12:00:00+00:00, " \
           "policy 'hiring')" in result.problems[0].message


@pytest.mark.parametrize("bad", ["abc", "xyz123456789012", "", "0" * 65])
def test_expect_head_must_be_a_hash_prefix(filled, bad):
    with pytest.raises(LedgerError, match="not an entry hash"):
        _verify(filled, expect_head=bad)


def test_hostile_policy_name_is_escaped_in_problems(ledger_path, make_body):
    with Ledger(ledger_path, create=True) as ledger:
        ledger.append(make_body(1, policy="evil\x1b[32mPASS\r\n"))
    _sql(ledger_path, "UPDATE ledger_entries SET body = replace(body, '0.8123', '0.1') WHERE seq = 1")
    result = _verify(ledger_path)
    message = result.problems[0].message
    assert "\x1b" not in message and "\r" not in message and "\n" not in message and "\\x1b" in message
