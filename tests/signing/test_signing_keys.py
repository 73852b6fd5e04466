"""Ed25519 keys: fingerprints (against ssh-keygen), PEM/OpenSSH forms, passphrases, hostile key files."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys

import pytest

from auditkit.errors import AuditkitError, SignatureError
from auditkit.signing import (
    PASSPHRASE_ENV,
    PrivateKey,
    PublicKey,
    generate_keypair,
    load_private_key,
    load_public_key,
)


@pytest.fixture(autouse=True)
def _no_passphrase(monkeypatch):
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


def _pem_body(pem: bytes) -> bytes:
    """The base64 body of a PEM block (the secret part of a private key file)."""
    return b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))


def test_sign_and_verify_round_trip():
    private, public = generate_keypair()
    signature = private.sign(b"message")
    assert len(signature) == 64
    assert public.verify(b"message", signature)
    assert not public.verify(b"messagE", signature)
    assert not public.verify(b"message", signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not public.verify(b"message", b"short")
    _other_private, other_public = generate_keypair()
    assert not other_public.verify(b"message", signature)
    assert private.public_key == public and private.fingerprint == public.fingerprint
    assert other_public != public


def test_signature_error_is_an_auditkit_error():
    assert issubclass(SignatureError, AuditkitError)
    assert SignatureError("x").exit_code == 2


def test_fingerprint_is_openssh_convention():
    _private, public = generate_keypair()
    line = public.to_openssh()
    kind, blob = line.split()[:2]
    assert kind == b"ssh-ed25519"
    import hashlib

    expected = "SHA256:" + base64.b64encode(hashlib.sha256(base64.b64decode(blob)).digest()).decode().rstrip("=")
    assert public.fingerprint == expected
    assert len(public.fingerprint) == len("SHA256:") + 43 and not public.fingerprint.endswith("=")


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_fingerprint_equals_ssh_keygen(tmp_path):
    _private, public = generate_keypair()
    path = tmp_path / "key.pub"
    path.write_bytes(public.to_openssh(comment="auditkit test"))
    out = subprocess.run(["ssh-keygen", "-lf", str(path)], capture_output=True, text=True, check=True).stdout
    # "256 SHA256:… auditkit test (ED25519)"
    assert out.split()[1] == public.fingerprint
    assert out.strip().endswith("(ED25519)")


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_keys_made_by_ssh_keygen_load(tmp_path):
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "someone@example", "-f", str(path)], check=True)
    private = load_private_key(path)
    public = load_public_key(tmp_path / "id_ed25519.pub")
    assert private.fingerprint == public.fingerprint
    out = subprocess.run(["ssh-keygen", "-lf", str(path) + ".pub"], capture_output=True, text=True, check=True).stdout
    assert out.split()[1] == public.fingerprint
    assert public.verify(b"m", private.sign(b"m"))


def test_repr_never_shows_the_key():
    private, public = generate_keypair()
    secret = _pem_body(private.to_pem())
    for text in (repr(private), str(private), f"{private}", repr([private])):
        assert private.fingerprint in text
        assert secret.decode() not in text and secret[:20].decode() not in text
    assert repr(public) == f"PublicKey({public.fingerprint})"


def test_pem_round_trip(tmp_path):
    private, public = generate_keypair()
    (tmp_path / "k.key").write_bytes(private.to_pem())
    (tmp_path / "k.pub").write_bytes(public.to_pem())
    assert private.to_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.to_pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    loaded = load_private_key(tmp_path / "k.key")
    assert isinstance(loaded, PrivateKey) and loaded.fingerprint == private.fingerprint
    loaded_pub = load_public_key(tmp_path / "k.pub")
    assert isinstance(loaded_pub, PublicKey) and loaded_pub == public
    assert loaded_pub.verify(b"x", loaded.sign(b"x"))


def test_openssh_public_key_form(tmp_path):
    private, public = generate_keypair()
    path = tmp_path / "k.pub"
    path.write_bytes(b"# the release key\n\n" + public.to_openssh(comment="release key 2026") + b"\n")
    assert load_public_key(path) == public
    path.write_bytes(public.to_openssh().strip())  # no newline, no comment
    assert load_public_key(path).fingerprint == private.fingerprint
    path.write_bytes(public.to_openssh() + public.to_openssh())
    with pytest.raises(SignatureError, match="single OpenSSH public key line"):
        load_public_key(path)


def test_openssh_private_key_form(tmp_path):
    from cryptography.hazmat.primitives import serialization

    private, _public = generate_keypair()
    raw = private._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                     serialization.NoEncryption())
    (tmp_path / "id").write_bytes(raw)
    assert load_private_key(tmp_path / "id").fingerprint == private.fingerprint


def test_encrypted_key_with_and_without_passphrase(tmp_path, monkeypatch):
    private, _public = generate_keypair()
    path = tmp_path / "k.key"
    path.write_bytes(private.to_pem(passphrase="correct horse"))
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")

    with pytest.raises(SignatureError) as info:
        load_private_key(path)
    assert str(path) in info.value.message and PASSPHRASE_ENV in info.value.message and "encrypted" in info.value.message

    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(SignatureError) as info:
        load_private_key(path)
    assert "does not decrypt" in info.value.message and "wrong" not in info.value.message.split("(")[0].split(":")[0]

    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert load_private_key(path).fingerprint == private.fingerprint


def test_passphrase_set_for_an_unencrypted_key_is_ignored(tmp_path, monkeypatch):
    private, _public = generate_keypair()
    path = tmp_path / "k.key"
    path.write_bytes(private.to_pem())
    monkeypatch.setenv(PASSPHRASE_ENV, "whatever")
    assert load_private_key(path).fingerprint == private.fingerprint


def _corruptions(pem: bytes) -> dict[str, bytes]:
    lines = pem.splitlines(keepends=True)
    middle = len(lines) // 2
    flipped = bytearray(pem)
    position = pem.index(b"\n") + 10  # inside the base64 body
    flipped[position] = ord("A") if flipped[position] != ord("A") else ord("B")
    return {
        "truncated": pem[: len(pem) // 2],
        "a line dropped": b"".join(lines[:middle] + lines[middle + 1:]),
        "a byte changed": bytes(flipped),
        "no footer": b"".join(lines[:-1]),
        "garbage body": lines[0] + b"!!!!not base64!!!!\n" + lines[-1],
    }


def test_malformed_private_keys_never_quote_the_key(tmp_path):
    private, _public = generate_keypair()
    pem = private.to_pem()
    body = _pem_body(pem)
    for label, data in _corruptions(pem).items():
        path = tmp_path / "k.key"
        path.write_bytes(data)
        try:
            key = load_private_key(path)
        except SignatureError as exc:
            message = exc.message
            assert str(path) in message, label
            assert "audit keygen" in message, label
            for line in data.splitlines():
                if not line.startswith(b"-----") and len(line) > 8:
                    assert line.decode(errors="replace") not in message, label
            assert body.decode()[:16] not in message, label
        else:  # a changed byte inside the seed still makes *a* key: never the same one
            assert label == "a byte changed" and key.fingerprint != private.fingerprint


def test_malformed_public_keys(tmp_path):
    _private, public = generate_keypair()
    for label, data in _corruptions(public.to_pem()).items():
        path = tmp_path / "k.pub"
        path.write_bytes(data)
        try:
            key = load_public_key(path)
        except SignatureError as exc:
            assert str(path) in exc.message, label
            assert _pem_body(public.to_pem()).decode()[:16] not in exc.message, label
        else:
            assert label == "a byte changed" and key != public
    line = public.to_openssh()
    (tmp_path / "k.pub").write_bytes(line[:30] + b"\n")
    with pytest.raises(SignatureError) as info:
        load_public_key(tmp_path / "k.pub")
    assert line[12:30].decode() not in info.value.message


def test_wrong_kind_of_key_file(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    private, public = generate_keypair()
    (tmp_path / "k.key").write_bytes(private.to_pem())
    (tmp_path / "k.pub").write_bytes(public.to_pem())
    with pytest.raises(SignatureError, match="is a public key"):
        load_private_key(tmp_path / "k.pub")
    with pytest.raises(SignatureError, match="is a private key") as info:
        load_public_key(tmp_path / "k.key")
    assert _pem_body(private.to_pem()).decode()[:16] not in info.value.message

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "rsa.key").write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
    (tmp_path / "rsa.pub").write_bytes(rsa_key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH))
    with pytest.raises(SignatureError, match="an RSA key, not an Ed25519 key"):
        load_private_key(tmp_path / "rsa.key")
    with pytest.raises(SignatureError, match="not Ed25519|an RSA key"):
        load_public_key(tmp_path / "rsa.pub")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.pub").write_bytes(ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(SignatureError, match="an ECDSA key"):
        load_public_key(tmp_path / "ec.pub")

    (tmp_path / "notes.txt").write_text("just some notes\n")
    with pytest.raises(SignatureError, match="not a PEM"):
        load_private_key(tmp_path / "notes.txt")
    with pytest.raises(SignatureError, match="not a PEM public key"):
        load_public_key(tmp_path / "notes.txt")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(SignatureError):
        load_private_key(tmp_path / "empty")
    with pytest.raises(SignatureError):
        load_public_key(tmp_path / "empty")


@pytest.mark.parametrize("loader", [load_private_key, load_public_key])
def test_key_paths_that_are_not_key_files(tmp_path, loader):
    with pytest.raises(SignatureError, match="no such"):
        loader(tmp_path / "missing.key")
    with pytest.raises(SignatureError, match="is a folder"):
        loader(tmp_path)
    big = tmp_path / "big.key"
    big.write_bytes(b"-----BEGIN PRIVATE KEY-----\n" + b"A" * (70 * 1024))
    with pytest.raises(SignatureError, match="larger than 64 KiB") as info:
        loader(big)
    assert "AAAA" not in info.value.message
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.key"
        os.mkfifo(fifo)
        with pytest.raises(SignatureError, match="not a regular file"):
            loader(fifo)  # must not hang waiting for a writer
    if os.path.exists("/dev/zero"):
        with pytest.raises(SignatureError, match="not a regular file"):
            loader("/dev/zero")


def test_unreadable_key_file(tmp_path, monkeypatch):
    path = tmp_path / "k.key"
    path.write_bytes(generate_keypair()[0].to_pem())
    real_open = os.open

    def denied(target, *args, **kwargs):  # root reads every file: simulate the permission error
        if str(target) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(SignatureError, match=r"cannot be read \(Permission denied\); check its permissions"):
        load_private_key(path)


def test_hostile_path_in_message_is_one_line(tmp_path):
    path = tmp_path / "evil\nname\x1b[32m.key"
    with pytest.raises(SignatureError) as info:
        load_private_key(path)
    assert "\n" not in info.value.message and "\x1b" not in info.value.message


def test_importing_signing_does_not_import_cryptography():
    code = ("import sys, auditkit.signing, auditkit.signing._cli; "
            "print([m for m in sys.modules if m.split('.')[0] == 'cryptography'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_encrypted_openssh_private_key(tmp_path, monkeypatch):
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "open sesame", "-f", str(path)], check=True)
    expected = load_public_key(tmp_path / "id_ed25519.pub").fingerprint
    with pytest.raises(SignatureError, match=f"encrypted; set the environment variable {PASSPHRASE_ENV}"):
        load_private_key(path)
    monkeypatch.setenv(PASSPHRASE_ENV, "open sesame")
    try:
        import bcrypt  # noqa: F401 - cryptography decrypts OpenSSH keys with it
    except ImportError:
        with pytest.raises(SignatureError, match="pip install bcrypt"):
            load_private_key(path)
    else:
        assert load_private_key(path).fingerprint == expected
