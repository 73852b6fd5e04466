"""Exported bundles verify offline; edits and hostile content are problems naming the line or entry."""

from __future__ import annotations

import json

import pytest

from auditkit.errors import LedgerError
from auditkit.ledger import Ledger, verify_bundle


def _export(path, out, **kwargs):
    with Ledger(path) as ledger:
        return ledger.export(out, **kwargs), ledger.head(), ledger.ledger_id


def _lines(bundle):
    return (bundle / "entries.jsonl").read_bytes().splitlines(keepends=True)


def _write_lines(bundle, lines):
    (bundle / "entries.jsonl").write_bytes(b"".join(lines))


def test_export_and_verify(filled, tmp_path, key):
    bundle, head, ledger_id = _export(filled, tmp_path / "bundle")
    assert sorted(p.name for p in bundle.iterdir()) == ["entries.jsonl", "ledger.json"]
    meta = json.loads((bundle / "ledger.json").read_text())
    assert meta["ledger_id"] == ledger_id and meta["head"] == head.entry_hash and meta["count"] == 5
    assert (meta["first_seq"], meta["last_seq"], meta["anchor"]) == (1, 5, "0" * 64)
    assert meta["format"] == "auditkit-ledger-bundle/1" and meta["auditkit"]
    lines = _lines(bundle)
    assert len(lines) == 5
    first = json.loads(lines[0])
    assert set(first) == {"seq", "prev_hash", "entry_hash", "recorded_at", "policy_name", "verdict", "batch_id",
                          "body_text", "signature", "key_fingerprint"}
    assert isinstance(first["body_text"], str)
    result = verify_bundle(bundle, public_key=key, expect_head=head.entry_hash[:16], require_signatures=True)
    assert result.ok and result.entries == 5 and result.head == head.entry_hash and result.signatures_verified == 5


def test_export_since_verifies_from_the_anchor(filled, tmp_path):
    bundle, head, _ = _export(filled, tmp_path / "b", since="2026-11-14")
    meta = json.loads((bundle / "ledger.json").read_text())
    with Ledger(filled) as ledger:
        third = ledger.records()[2]
    assert (meta["first_seq"], meta["count"], meta["anchor"], meta["since"]) == (4, 2, third.entry_hash,
                                                                                "2026-11-14T00:00:00+00:00")
    assert "verified from its anchor" in meta["anchor_note"]
    result = verify_bundle(bundle)
    assert result.ok and result.entries == 2 and result.first_seq == 4 and result.anchor == third.entry_hash
    # dropping the bundle's first entry is seen
    _write_lines(bundle, _lines(bundle)[1:])
    result = verify_bundle(bundle)
    assert (4, "missing") in [(p.seq, p.kind) for p in result.problems]


def test_empty_export(filled, tmp_path):
    bundle, _, _ = _export(filled, tmp_path / "b", since="2030-01-01")
    result = verify_bundle(bundle)
    assert result.ok and result.entries == 0 and result.head is None


def test_edited_line_is_named(filled, tmp_path):
    bundle, _, _ = _export(filled, tmp_path / "b")
    lines = _lines(bundle)
    lines[2] = lines[2].replace(b"0.8123", b"0.8124")
    _write_lines(bundle, lines)
    result = verify_bundle(bundle)
    assert [(p.seq, p.kind) for p in result.problems] == [(3, "edited")]
    assert result.problems[0].message.startswith("entry 3 (2026-11-13T12:00:00+00:00, policy 'credit') was edited")


def test_removed_and_reordered_lines(filled, tmp_path):
    bundle, head, _ = _export(filled, tmp_path / "b")
    lines = _lines(bundle)
    _write_lines(bundle, [lines[0], lines[2], lines[1], lines[3], lines[4]])
    result = verify_bundle(bundle)
    assert {(2, "missing"), (2, "duplicate"), (4, "order")} <= {(p.seq, p.kind) for p in result.problems}
    _write_lines(bundle, lines[:4])
    result = verify_bundle(bundle)
    kinds = [p.kind for p in result.problems]
    assert kinds == ["bundle", "bundle"]  # count and head in ledger.json disagree with the lines
    assert not verify_bundle(bundle, expect_head=head.entry_hash).ok


@pytest.mark.parametrize("garbage, why", [
    (b"{not json\n", "is not valid JSON"),
    (b"\xff\xfe\x00garbage\n", "is not valid UTF-8"),
    (b"[1, 2, 3]\n", "is not an entry"),
    (b'{"seq": "1"}\n', "is not an entry"),
    (b"\n", "is empty"),
])
def test_hostile_lines_are_problems(filled, tmp_path, garbage, why):
    bundle, _, _ = _export(filled, tmp_path / "b")
    lines = _lines(bundle)
    lines[1] = garbage
    _write_lines(bundle, lines)
    result = verify_bundle(bundle)
    assert not result.ok
    assert any(p.message.startswith("entries.jsonl line 2: " + why) for p in result.problems), result.problems


def test_wrong_types_in_a_line(filled, tmp_path):
    bundle, _, _ = _export(filled, tmp_path / "b")
    lines = _lines(bundle)
    entry = json.loads(lines[0])
    entry["prev_hash"] = 12
    lines[0] = json.dumps(entry).encode() + b"\n"
    _write_lines(bundle, lines)
    result = verify_bundle(bundle)
    assert result.problems[0].message == "entries.jsonl line 1: entry 1 has a prev_hash that is not text."


def test_overlong_line(filled, tmp_path, monkeypatch):
    from auditkit.ledger import _bundle

    monkeypatch.setattr(_bundle, "LINE_LIMIT", 4096)
    bundle, _, _ = _export(filled, tmp_path / "b")
    lines = _lines(bundle)
    lines.insert(1, b"x" * 20000 + b"\n")
    _write_lines(bundle, lines)
    result = verify_bundle(bundle)
    assert any(p.message.startswith("entries.jsonl line 2: is longer than") for p in result.problems)
    assert result.entries == 5


def test_line_count_cap(filled, tmp_path, monkeypatch):
    from auditkit.ledger import _bundle

    monkeypatch.setattr(_bundle, "MAX_LINES", 3)
    bundle, _, _ = _export(filled, tmp_path / "b")
    result = verify_bundle(bundle)
    assert result.entries == 3 and any("more than 3 lines" in p.message for p in result.problems)


def test_not_a_bundle(tmp_path):
    with pytest.raises(LedgerError, match="no ledger.json there"):
        verify_bundle(tmp_path)
    (tmp_path / "ledger.json").write_text("{nope")
    with pytest.raises(LedgerError, match="is not valid JSON"):
        verify_bundle(tmp_path)
    (tmp_path / "ledger.json").write_text('{"format": "other"}')
    with pytest.raises(LedgerError, match="is not the ledger.json of an auditkit ledger bundle"):
        verify_bundle(tmp_path)


def test_missing_entries_file(filled, tmp_path):
    bundle, _, _ = _export(filled, tmp_path / "b")
    (bundle / "entries.jsonl").unlink()
    with pytest.raises(LedgerError, match="entries.jsonl: is missing"):
        verify_bundle(bundle)


def test_export_is_atomic_into_an_existing_folder(filled, tmp_path):
    out = tmp_path / "b"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    _export(filled, out)
    assert (out / "keep.txt").read_text() == "mine" and verify_bundle(out).ok
