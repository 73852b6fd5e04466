"""A stand-in signing key for the ledger tests (importable by name: tests/ledger is on sys.path)."""

from __future__ import annotations

import uuid


class FakeKey:
    """An Ed25519 key with the interface of auditkit.signing's keys (sign, verify, fingerprint)."""

    def __init__(self, name: str = "test") -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        self._key = Ed25519PrivateKey.generate()
        self.fingerprint = f"SHA256:fake-{name}-{uuid.uuid4().hex[:8]}"

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def verify(self, message: bytes, signature: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self._key.public_key().verify(signature, message)
            return True
        except InvalidSignature:
            return False
