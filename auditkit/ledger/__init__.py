"""The audit ledger: an append-only, hash-chained record of every audit, in SQLite or PostgreSQL.

>>> from auditkit.ledger import Ledger                       # doctest: +SKIP
>>> with Ledger("ledger.db", create=True) as ledger:        # doctest: +SKIP
...     ledger.append(body, signer=key)
...     ledger.verify(public_key).ok

Each entry's hash covers its position, the previous entry's hash and its body (canonical
JSON), so an edited, removed, inserted or reordered entry breaks the chain where it happened
(:meth:`Ledger.verify`). Deleting entries at the *end* leaves a shorter valid chain: keep the
head hash elsewhere and pass it as ``expect_head``. ``Ledger.export`` writes a bundle that
:func:`verify_bundle` checks offline.

SQLAlchemy and alembic are imported only when a ledger is opened.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._canonical import canonical

__all__ = ["Ledger", "LedgerEntry", "Problem", "Verification", "canonical", "record_audit", "redact", "verify_bundle"]

_LAZY = {
    "Ledger": "._store",
    "LedgerEntry": "._model",
    "Problem": "._model",
    "Verification": "._model",
    "verify_bundle": "._bundle",
    "redact": "._url",
    "record_audit": "._entry",  # the lead's: builds the body of an audit and appends it
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'auditkit.ledger' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    from ._bundle import verify_bundle
    from ._entry import record_audit
    from ._model import LedgerEntry, Problem, Verification
    from ._store import Ledger
    from ._url import redact
