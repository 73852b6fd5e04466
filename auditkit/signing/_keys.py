"""Ed25519 keys: make a pair, load one from a file, sign and verify, name a key by its fingerprint.

A key is named everywhere by its OpenSSH fingerprint (``SHA256:`` and the unpadded base64 of
the SHA-256 of the OpenSSH public key blob), so ``ssh-keygen -lf key.pub`` prints the same name
for the key's OpenSSH form. A private key never prints: its ``repr`` shows the fingerprint only,
and no error message quotes a key file's content (a damaged private key is still mostly a key).

``cryptography`` is imported inside the functions that need it, so ``import auditkit`` stays fast.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import stat
import struct
from pathlib import Path

from ..errors import SignatureError

__all__ = ["KEY_FILE_LIMIT", "PASSPHRASE_ENV", "PrivateKey", "PublicKey", "generate_keypair", "load_private_key",
           "load_public_key"]

#: The environment variable holding the passphrase of an encrypted private key (never a CLI option:
#: command lines show up in process lists and shell histories).
PASSPHRASE_ENV = "AUDITKIT_KEY_PASSPHRASE"
#: The largest key file auditkit reads (bytes); an Ed25519 key file is a few hundred bytes.
KEY_FILE_LIMIT = 64 * 1024

_SSH_TYPE = b"ssh-ed25519"


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _fingerprint(raw_public: bytes) -> str:
    """OpenSSH's fingerprint of an Ed25519 public key given as its 32 raw bytes."""
    blob = _ssh_string(_SSH_TYPE) + _ssh_string(raw_public)
    digest = hashlib.sha256(blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


class PublicKey:
    """An Ed25519 public key: checks signatures.

    Attributes
    ----------
    fingerprint : str
        ``SHA256:…``, as ``ssh-keygen -lf`` prints it for :meth:`to_openssh`.
    """

    __slots__ = ("_key", "_raw", "fingerprint")

    def __init__(self, key) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        if not isinstance(key, Ed25519PublicKey):
            raise TypeError("PublicKey wraps a cryptography Ed25519PublicKey")
        self._key = key
        self._raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.fingerprint = _fingerprint(self._raw)

    @classmethod
    def from_raw(cls, data: bytes) -> PublicKey:
        """The public key whose 32 raw bytes are ``data``."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        return cls(Ed25519PublicKey.from_public_bytes(bytes(data)))

    @property
    def raw(self) -> bytes:
        """The 32 bytes of the key."""
        return self._raw

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature of ``message``; never raises for a bad one."""
        from cryptography.exceptions import InvalidSignature

        try:
            self._key.verify(bytes(signature), bytes(message))
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    def to_pem(self) -> bytes:
        """The key as PEM SubjectPublicKeyInfo (``-----BEGIN PUBLIC KEY-----``)."""
        from cryptography.hazmat.primitives import serialization

        return self._key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def to_openssh(self, comment: str = "") -> bytes:
        """The key as one OpenSSH line, ``ssh-ed25519 AAAA… [comment]``, ending with a newline."""
        from cryptography.hazmat.primitives import serialization

        line = self._key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        comment = " ".join(str(comment).split())  # one line, whatever was given
        return line + (b" " + comment.encode("utf-8") if comment else b"") + b"\n"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"PublicKey({self.fingerprint})"


class PrivateKey:
    """An Ed25519 private key: signs. Its ``repr`` shows only the fingerprint.

    Attributes
    ----------
    fingerprint : str
        The fingerprint of its public key (``SHA256:…``).
    public_key : PublicKey
        The matching public key.
    """

    __slots__ = ("_key", "fingerprint", "public_key")

    def __init__(self, key) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("PrivateKey wraps a cryptography Ed25519PrivateKey")
        self._key = key
        self.public_key = PublicKey(key.public_key())
        self.fingerprint = self.public_key.fingerprint

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(bytes(message))

    def to_pem(self, passphrase: str | bytes | None = None) -> bytes:
        """The key as PKCS#8 PEM; encrypted with the best available scheme when ``passphrase`` is given.

        Parameters
        ----------
        passphrase
            Text (encoded as UTF-8) or bytes; None or empty writes the key unencrypted.
        """
        from cryptography.hazmat.primitives import serialization

        if isinstance(passphrase, str):
            passphrase = passphrase.encode("utf-8")
        encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                      else serialization.NoEncryption())
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    def __repr__(self) -> str:
        return f"PrivateKey({self.fingerprint})"

    __str__ = __repr__


def generate_keypair() -> tuple[PrivateKey, PublicKey]:
    """A new random Ed25519 key pair.

    Returns
    -------
    (PrivateKey, PublicKey)
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = PrivateKey(Ed25519PrivateKey.generate())
    return private, private.public_key


# --------------------------------------------------------------------------- reading key files


def _read_key_file(path: Path, what: str, fix: str) -> bytes:
    """The bytes of a small regular file; a folder, a FIFO, a device or a big file is refused unread."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    except FileNotFoundError:
        raise SignatureError(f"{path}: no such {what} file; {fix}.") from None
    except IsADirectoryError:
        raise SignatureError(f"{path}: is a folder, not a {what} file; {fix}.") from None
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise SignatureError(f"{path}: is a folder, not a {what} file; {fix}.") from None
        raise SignatureError(f"{path}: the {what} file cannot be read ({exc.strerror or type(exc).__name__}); "
                             f"check its permissions, or {fix}.") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SignatureError(f"{path}: is a folder, not a {what} file; {fix}.")
        if not stat.S_ISREG(info.st_mode):
            raise SignatureError(f"{path}: is not a regular file (a pipe, socket or device), so it is not read as a "
                                 f"{what}; {fix}.")
        if info.st_size > KEY_FILE_LIMIT:
            raise SignatureError(f"{path}: is larger than {KEY_FILE_LIMIT // 1024} KiB, so it is not a {what} file; {fix}.")
        chunks, size = [], 0
        while size <= KEY_FILE_LIMIT:
            chunk = os.read(fd, KEY_FILE_LIMIT + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise SignatureError(f"{path}: the {what} file cannot be read ({exc.strerror or type(exc).__name__}); "
                             f"{fix}.") from None
    finally:
        os.close(fd)
    if len(data) > KEY_FILE_LIMIT:  # it grew while being read
        raise SignatureError(f"{path}: is larger than {KEY_FILE_LIMIT // 1024} KiB, so it is not a {what} file; {fix}.")
    return data


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8", errors="surrogateescape") if value else None


def _kind_name(key) -> str:
    """A short name of a key type cryptography loaded ("an RSA key"), for a message."""
    from cryptography.hazmat.primitives.asymmetric import (
        dsa,
        ec,
        ed448,
        rsa,
        x448,
        x25519,
    )

    kinds = [(rsa.RSAPrivateKey, rsa.RSAPublicKey, "an RSA key"),
             (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey, "an ECDSA key"),
             (dsa.DSAPrivateKey, dsa.DSAPublicKey, "a DSA key"),
             (ed448.Ed448PrivateKey, ed448.Ed448PublicKey, "an Ed448 key"),
             (x25519.X25519PrivateKey, x25519.X25519PublicKey, "an X25519 key"),
             (x448.X448PrivateKey, x448.X448PublicKey, "an X448 key")]
    for private, public, name in kinds:
        if isinstance(key, (private, public)):
            return name
    return "a key of another type"


_PRIVATE_FIX = "give the private key written by audit keygen (PREFIX.key)"
_PUBLIC_FIX = "give the public key written by audit keygen (PREFIX.pub) or an ssh-ed25519 line"


def load_private_key(path: str | Path) -> PrivateKey:
    """Load an Ed25519 private key: PEM PKCS#8 (``audit keygen``) or an OpenSSH private key.

    An encrypted key is decrypted with the passphrase in the environment variable
    ``AUDITKIT_KEY_PASSPHRASE`` (never a command-line option). A passphrase set for an
    unencrypted key is ignored.

    Raises
    ------
    SignatureError
        The file is missing, unreadable, a folder or special file, larger than 64 KiB, not a
        private key, not Ed25519, encrypted without a passphrase, or the passphrase is wrong.
        The message names the path and the fix and never quotes the file's content.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    data = _read_key_file(path, "private key", _PRIVATE_FIX)
    text = data.lstrip()
    if text.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
        loader, form = serialization.load_ssh_private_key, "OpenSSH private key"
    elif text.startswith((b"-----BEGIN PRIVATE KEY-----", b"-----BEGIN ENCRYPTED PRIVATE KEY-----",
                          b"-----BEGIN RSA PRIVATE KEY-----", b"-----BEGIN EC PRIVATE KEY-----",
                          b"-----BEGIN DSA PRIVATE KEY-----")):
        loader, form = serialization.load_pem_private_key, "PEM private key"
    elif text.startswith((b"-----BEGIN PUBLIC KEY-----", b"ssh-", b"ecdsa-sha2-")):
        raise SignatureError(f"{path}: is a public key, but signing needs the private key; {_PRIVATE_FIX}.")
    else:
        raise SignatureError(f"{path}: is not a PEM (PKCS#8) or OpenSSH private key; {_PRIVATE_FIX}.")

    try:
        key = loader(data, None)
    except TypeError:  # encrypted: decrypt below
        key = None
    except UnsupportedAlgorithm:
        raise SignatureError(f"{path}: is a {form} of a kind this installation cannot read; {_PRIVATE_FIX}.") from None
    except (ValueError, IndexError):
        raise SignatureError(f"{path}: is a damaged or unsupported {form}; {_PRIVATE_FIX}.") from None
    if key is None:
        passphrase = _passphrase()
        if passphrase is None:
            raise SignatureError(f"{path}: the private key is encrypted; set the environment variable "
                                 f"{PASSPHRASE_ENV} to its passphrase.")
        try:
            key = loader(data, passphrase)
        except UnsupportedAlgorithm:
            hint = (" (encrypted OpenSSH keys need the bcrypt package: pip install bcrypt)"
                    if loader is serialization.load_ssh_private_key else "")
            raise SignatureError(f"{path}: the private key is encrypted with a scheme this installation cannot "
                                 f"decrypt{hint}; {_PRIVATE_FIX}.") from None
        except (ValueError, TypeError, IndexError):
            raise SignatureError(f"{path}: the passphrase in {PASSPHRASE_ENV} does not decrypt this private key "
                                 "(wrong passphrase, or the file is damaged); set the right passphrase.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path}: holds {_kind_name(key)}, not an Ed25519 key; make one with audit keygen.")
    return PrivateKey(key)


def load_public_key(path: str | Path) -> PublicKey:
    """Load an Ed25519 public key: PEM SubjectPublicKeyInfo (``audit keygen``'s ``.pub``) or one
    OpenSSH line ``ssh-ed25519 AAAA… comment`` (blank lines and ``#`` comments around it are allowed).

    Raises
    ------
    SignatureError
        The file is missing, unreadable, a folder or special file, larger than 64 KiB, not a
        public key (a private key is refused: it must not be handed around), or not Ed25519.
        The message names the path and the fix and never quotes the file's content.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    path = Path(path)
    data = _read_key_file(path, "public key", _PUBLIC_FIX)
    text = data.strip()
    if b"PRIVATE KEY-----" in text[:80]:
        raise SignatureError(f"{path}: is a private key; checking needs only the public key, and the private key "
                             f"must not be handed around; {_PUBLIC_FIX}.")
    try:
        if text.startswith(b"-----BEGIN PUBLIC KEY-----"):
            key = serialization.load_pem_public_key(text)
        else:
            lines = [line.strip() for line in text.splitlines()]
            lines = [line for line in lines if line and not line.startswith(b"#")]
            if len(lines) != 1 or not lines[0].startswith((b"ssh-", b"ecdsa-sha2-", b"sk-")):
                raise SignatureError(f"{path}: is not a PEM public key or a single OpenSSH public key line; "
                                     f"{_PUBLIC_FIX}.")
            key = serialization.load_ssh_public_key(lines[0])
    except SignatureError:
        raise
    except UnsupportedAlgorithm:
        raise SignatureError(f"{path}: holds a public key of a type auditkit does not use, not Ed25519; "
                             f"{_PUBLIC_FIX}.") from None
    except (ValueError, TypeError, IndexError):
        raise SignatureError(f"{path}: is a damaged or unsupported public key; {_PUBLIC_FIX}.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{path}: holds {_kind_name(key)}, not an Ed25519 key; {_PUBLIC_FIX}.")
    return PublicKey(key)
