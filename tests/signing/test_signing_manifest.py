"""Signed manifests: sign_documents, sign_folder, verify_folder, and every way a folder can be tampered with."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest

from auditkit.errors import SignatureError
from auditkit.signing import (
    MANIFEST_JSON,
    MANIFEST_SIG,
    FolderVerification,
    generate_keypair,
    sign_documents,
    sign_folder,
    verify_folder,
)

DOCUMENTS = {
    "report.html": b"<html><body>passed</body></html>\n",
    "results.json": b'{"passed": true}\n',
    "junit.xml": b"<testsuite/>\n",
    "summary.md": "# Summary \u2714\n".encode("utf-8"),
    "charts/fairness.svg": b"<svg/>",
}


@pytest.fixture(scope="module")
def keys():
    return generate_keypair()


@pytest.fixture()
def signed(tmp_path, keys):
    """An output folder with the documents, a hidden file, and the signature."""
    private, _public = keys
    folder = tmp_path / "out"
    for name, content in DOCUMENTS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    (folder / ".auditkit-manifest.json").write_text("{}")  # hidden: neither signed nor checked
    result = sign_folder(folder, private, signed_at="2026-11-30T19:20:00+00:00")
    assert result.files == tuple(sorted(DOCUMENTS))
    return folder


def _problems(folder, public) -> tuple[str, ...]:
    result = verify_folder(folder, public)
    assert isinstance(result, FolderVerification)
    assert result.ok is (not result.problems)
    return result.problems


def test_sign_documents_is_pure_and_canonical(keys):
    private, public = keys
    pair = sign_documents(DOCUMENTS, private, signed_at="2026-11-30T19:20:00+00:00")
    assert list(pair) == [MANIFEST_JSON, MANIFEST_SIG]
    body = pair[MANIFEST_JSON]
    doc = json.loads(body)
    assert body == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert doc["format"] == "auditkit-manifest/1" and doc["algorithm"] == "Ed25519"
    assert doc["key_fingerprint"] == private.fingerprint and doc["signed_at"] == "2026-11-30T19:20:00+00:00"
    assert list(doc["files"]) == sorted(DOCUMENTS)
    for name, content in DOCUMENTS.items():
        assert doc["files"][name] == {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
    assert pair[MANIFEST_SIG].endswith(b"\n") and pair[MANIFEST_SIG].count(b"\n") == 1
    assert public.verify(body, base64.b64decode(pair[MANIFEST_SIG]))
    assert sign_documents(DOCUMENTS, private, signed_at="2026-11-30T19:20:00+00:00") == pair  # Ed25519 is deterministic


def test_sign_documents_default_time_is_utc_seconds(keys):
    doc = json.loads(sign_documents({"a": b"x"}, keys[0])[MANIFEST_JSON])
    assert doc["signed_at"].endswith("+00:00") and "." not in doc["signed_at"]


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a\\b", "", "manifest.json",
                                  "manifest.sig", "C:/x", "bad\udc80name"])
def test_sign_documents_refuses_bad_names(keys, name):
    with pytest.raises(SignatureError):
        sign_documents({name: b"x"}, keys[0])


def test_written_documents_verify_as_a_folder(tmp_path, keys):
    """What audit check would do: sign in memory, write all files, check the folder."""
    private, public = keys
    folder = tmp_path / "out"
    files = {**DOCUMENTS, **sign_documents(DOCUMENTS, private)}
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    result = verify_folder(folder, public)
    assert result.ok and result.files_checked == len(DOCUMENTS) and result.key_fingerprint == public.fingerprint


def test_round_trip(signed, keys):
    _private, public = keys
    result = verify_folder(signed, public)
    assert result.ok, result.problems
    assert result.files_checked == len(DOCUMENTS)
    assert result.signed_at == "2026-11-30T19:20:00+00:00"
    manifest = json.loads((signed / MANIFEST_JSON).read_bytes())
    assert ".auditkit-manifest.json" not in manifest["files"] and MANIFEST_JSON not in manifest["files"]


def test_signing_again_replaces_the_signature(signed, keys):
    private, public = keys
    (signed / "extra.csv").write_text("a,b\n")
    result = sign_folder(signed, private)
    assert "extra.csv" in result.files and MANIFEST_JSON not in result.files
    assert verify_folder(signed, public).ok


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_flipping_one_byte_of_each_file_is_named(signed, keys, name):
    path = signed / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert _problems(signed, keys[1]) == (f"{name} was changed: its SHA-256 differs from the signed one",)


def test_a_longer_file_is_named_with_its_size(signed, keys):
    with open(signed / "results.json", "ab") as handle:
        handle.write(b" ")
    size = len(DOCUMENTS["results.json"])
    assert _problems(signed, keys[1]) == (f"results.json was changed: {size + 1} bytes, signed with {size}",)


def test_removed_file(signed, keys):
    (signed / "junit.xml").unlink()
    result = verify_folder(signed, keys[1])
    assert not result.ok and result.problems == ("junit.xml is missing",)
    assert result.files_checked == len(DOCUMENTS) - 1


def test_added_files(signed, keys):
    (signed / "extra.html").write_text("hello")
    (signed / "charts" / "more.svg").write_text("<svg/>")
    (signed / ".hidden-notes").write_text("not covered, not a problem")
    assert _problems(signed, keys[1]) == ("charts/more.svg is not covered by the signature",
                                          "extra.html is not covered by the signature")


def test_replaced_hash_list_breaks_the_signature(signed, keys):
    """An attacker changes a file and updates manifest.json to match: the signature no longer holds."""
    _private, public = keys
    (signed / "report.html").write_bytes(b"<html>tampered</html>")
    manifest = json.loads((signed / MANIFEST_JSON).read_bytes())
    manifest["files"]["report.html"] = {"sha256": hashlib.sha256(b"<html>tampered</html>").hexdigest(), "size": 21}
    (signed / MANIFEST_JSON).write_bytes(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
    problems = _problems(signed, public)
    assert problems == (f"manifest.json is not signed by this key (fingerprint {public.fingerprint})",)


def test_manifest_without_a_file_listed_breaks_the_signature(signed, keys):
    """Removing a file and its entry: the signature fails, and the file is reported as not covered."""
    manifest = json.loads((signed / MANIFEST_JSON).read_bytes())
    del manifest["files"]["junit.xml"]
    (signed / MANIFEST_JSON).write_bytes(json.dumps(manifest).encode())
    problems = _problems(signed, keys[1])
    assert problems[0].startswith("manifest.json is not signed by this key")
    assert "junit.xml is not covered by the signature" in problems


def test_another_key_fails(signed, keys):
    _other_private, other_public = generate_keypair()
    problems = _problems(signed, other_public)
    assert problems == ((f"manifest.json is not signed by this key (fingerprint {other_public.fingerprint}); "
                         f"it names the key {keys[0].fingerprint}"),)


def test_resigned_by_another_key_fails_against_the_original(signed, keys):
    other_private, _other_public = generate_keypair()
    (signed / "report.html").write_text("forged")
    sign_folder(signed, other_private)
    problems = _problems(signed, keys[1])
    assert len(problems) == 1 and problems[0].startswith("manifest.json is not signed by this key")


def test_missing_or_damaged_signature_file(signed, keys):
    public = keys[1]
    (signed / MANIFEST_SIG).write_text("not base64 at all!\n")
    assert _problems(signed, public) == (f"manifest.json is not signed by this key (fingerprint {public.fingerprint})",)
    (signed / MANIFEST_SIG).write_bytes(b"A" * 100_000)
    assert not verify_folder(signed, public).ok
    (signed / MANIFEST_SIG).unlink()
    assert _problems(signed, public) == ((f"manifest.json is not signed by this key (fingerprint {public.fingerprint})"
                                          ": manifest.sig is missing"),)


def test_unsigned_folder(tmp_path, keys):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "report.html").write_text("x")
    problems = _problems(folder, keys[1])
    assert problems[0].startswith("manifest.json is missing: the folder is not signed")
    assert problems[1:] == ("report.html is not covered by the signature",)


def test_manifest_that_is_not_a_manifest(signed, keys):
    for content, expected in [(b"\xff\xfe", "manifest.json is not valid JSON"),
                              (b"[1, 2]", "manifest.json is not an auditkit manifest"),
                              (b'{"format": "auditkit-manifest/1", "files": {"a": {"sha256": 1}}}',
                               "manifest.json has a file entry without sha256 and size"),
                              (b"[" * 100_000, "manifest.json is not valid JSON")]:
        (signed / MANIFEST_JSON).write_bytes(content)
        problems = _problems(signed, keys[1])
        assert problems[0].startswith("manifest.json is not signed by this key")
        assert any(p.startswith(expected) for p in problems), problems


def test_manifest_is_capped(signed, keys, monkeypatch):
    from auditkit.signing import _manifest

    monkeypatch.setattr(_manifest, "MANIFEST_LIMIT", 100)
    problems = _problems(signed, keys[1])
    assert problems[0].startswith("manifest.json is larger than")


def test_hostile_names_in_a_manifest_are_never_opened(tmp_path, keys):
    """A manifest (even one signed by the right key) cannot make the check read outside the folder."""
    private, public = keys
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    entry = {"sha256": hashlib.sha256(b"secret").hexdigest(), "size": 6}
    manifest = {"format": "auditkit-manifest/1", "algorithm": "Ed25519", "key_fingerprint": private.fingerprint,
                "signed_at": "2026-11-30T19:20:00+00:00",
                "files": {"a.txt": {"sha256": hashlib.sha256(b"a").hexdigest(), "size": 1},
                          "../secret.txt": entry, str(outside): entry, "manifest.sig": entry}}
    body = json.dumps(manifest, sort_keys=True).encode()
    (folder / MANIFEST_JSON).write_bytes(body)
    (folder / MANIFEST_SIG).write_bytes(base64.b64encode(private.sign(body)) + b"\n")
    result = verify_folder(folder, public)
    assert not result.ok and result.files_checked == 1
    assert len(result.problems) == 3
    assert all(p.startswith("manifest.json lists ") and p.endswith(": refused") for p in result.problems)


def test_symlinks_and_special_files(signed, keys, tmp_path):
    private, public = keys
    target = tmp_path / "elsewhere.txt"
    target.write_text("elsewhere")
    os.symlink(target, signed / "link.txt")
    problems = _problems(signed, public)
    assert problems == ("link.txt is a symbolic link: refused, and not covered by the signature",)
    with pytest.raises(SignatureError, match="link.txt is a symbolic link"):
        sign_folder(signed, private)
    os.unlink(signed / "link.txt")

    # a signed file replaced by a link to identical content is still refused
    (tmp_path / "copy.xml").write_bytes(DOCUMENTS["junit.xml"])
    os.unlink(signed / "junit.xml")
    os.symlink(tmp_path / "copy.xml", signed / "junit.xml")
    assert _problems(signed, public) == ("junit.xml is a symbolic link: refused",)
    os.unlink(signed / "junit.xml")
    (signed / "junit.xml").write_bytes(DOCUMENTS["junit.xml"])

    # a signed folder replaced by a link to a copy of it
    charts_copy = tmp_path / "charts"
    os.rename(signed / "charts", charts_copy)
    os.symlink(charts_copy, signed / "charts")
    problems = _problems(signed, public)
    assert "charts/fairness.svg is a symbolic link (charts): refused" in problems
    os.unlink(signed / "charts")
    os.rename(charts_copy, signed / "charts")
    assert verify_folder(signed, public).ok

    if hasattr(os, "mkfifo"):
        os.mkfifo(signed / "pipe")
        assert _problems(signed, public) == (
            "pipe is not a regular file (a pipe, socket or device): refused, and not covered by the signature",)
        with pytest.raises(SignatureError, match="pipe is not a regular file"):
            sign_folder(signed, private)
        os.unlink(signed / "pipe")
        # a listed file replaced by a FIFO: named, never opened (it would block)
        os.unlink(signed / "summary.md")
        os.mkfifo(signed / "summary.md")
        assert _problems(signed, public) == ("summary.md is not a regular file: refused",)


def test_large_file_is_hashed_in_chunks(tmp_path, keys):
    private, public = keys
    folder = tmp_path / "out"
    folder.mkdir()
    big = folder / "predictions.csv"
    with open(big, "wb") as handle:
        handle.writelines(bytes([i]) * (1 << 20) + b"tail" for i in range(5))
    sign_folder(folder, private)
    assert verify_folder(folder, public).ok
    with open(big, "r+b") as handle:
        handle.seek(3 * (1 << 20) + 7)
        handle.write(b"\x09")
    assert _problems(folder, public) == ("predictions.csv was changed: its SHA-256 differs from the signed one",)


def test_folder_errors(tmp_path, keys):
    private, public = keys
    with pytest.raises(SignatureError, match="no such folder"):
        verify_folder(tmp_path / "missing", public)
    with pytest.raises(SignatureError, match="no such folder"):
        sign_folder(tmp_path / "missing", private)
    (tmp_path / "file").write_text("x")
    with pytest.raises(SignatureError, match="is not a folder"):
        verify_folder(tmp_path / "file", public)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".only-hidden").write_text("x")
    with pytest.raises(SignatureError, match="no files to sign"):
        sign_folder(tmp_path / "empty", private)
    assert not (tmp_path / "empty" / MANIFEST_JSON).exists()


def test_signing_updates_an_output_set(tmp_path, keys):
    """When the output set of audit check lists manifest.json, signing again updates the set's record."""
    from auditkit.outputs import read_manifest, write_output_set

    private, public = keys
    folder = tmp_path / "out"
    write_output_set(folder, {**DOCUMENTS_FLAT, **sign_documents(DOCUMENTS_FLAT, private)})
    assert verify_folder(folder, public).ok
    sign_folder(folder, private)
    recorded = {e["name"]: e["sha256"] for e in read_manifest(folder)["files"]}
    assert recorded[MANIFEST_JSON] == hashlib.sha256((folder / MANIFEST_JSON).read_bytes()).hexdigest()
    assert verify_folder(folder, public).ok


DOCUMENTS_FLAT = {name: content for name, content in DOCUMENTS.items() if "/" not in name}


def test_huge_names_in_a_manifest_are_cut_in_messages(tmp_path, keys):
    _private, public = keys
    folder = tmp_path / "out"
    folder.mkdir()
    long_name = "x" * 100_000
    manifest = {"format": "auditkit-manifest/1", "algorithm": "Ed25519", "key_fingerprint": "y" * 100_000,
                "signed_at": "2026-11-30T19:20:00+00:00", "files": {long_name: {"sha256": "0" * 64, "size": 1}}}
    (folder / MANIFEST_JSON).write_bytes(json.dumps(manifest).encode())
    problems = _problems(folder, public)
    assert problems[-1].startswith("xxx") and "x… " in problems[-1] and len(problems[-1]) < 400  # missing / too long
    assert all(len(problem) < 600 for problem in problems)
