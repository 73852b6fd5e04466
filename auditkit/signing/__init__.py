"""Ed25519 signatures over audit outputs: keys, a signed manifest of a folder, and its check.

``audit keygen`` makes a key pair, ``audit sign OUT --key FILE`` writes ``manifest.json`` and
``manifest.sig`` into an output folder, and ``audit verify OUT --pub FILE`` checks that every
file is there unchanged and nothing was added. The ledger signs its entries with the same
:class:`PrivateKey` (``.fingerprint``, ``.sign``) and checks them with :class:`PublicKey`.

``cryptography`` is imported only when a key is made, loaded or used.
"""

from __future__ import annotations

from ._keys import (
                        PASSPHRASE_ENV,
                        PrivateKey,
                        PublicKey,
                        generate_keypair,
                        load_private_key,
                        load_public_key,
)
from ._manifest import (
                        MANIFEST_JSON,
                        MANIFEST_SIG,
                        FolderVerification,
                        SignedFolder,
                        sign_documents,
                        sign_folder,
                        verify_folder,
)

__all__ = [
    "MANIFEST_JSON",
    "MANIFEST_SIG",
    "PASSPHRASE_ENV",
    "FolderVerification",
    "PrivateKey",
    "PublicKey",
    "SignedFolder",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "sign_documents",
    "sign_folder",
    "verify_folder",
]
