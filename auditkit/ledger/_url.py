"""Ledger locations: a file path or a database URL, parsed once, with the password hidden.

Accepted: a filesystem path (``ledger.db``, ``/x/y.sqlite``) or ``sqlite:///path`` -> SQLite;
``postgresql://...`` or ``postgresql+psycopg://...`` -> PostgreSQL through psycopg 3. A password
in a URL never appears in a message: every message uses :func:`redact`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import LedgerError

__all__ = ["LedgerURL", "parse_url", "redact", "scrub"]

ACCEPTED = "a file path (ledger.db), sqlite:///PATH, postgresql://USER@HOST/DB or postgresql+psycopg://USER@HOST/DB"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
# user:password@ in a URL that SQLAlchemy cannot parse: hide the password anyway
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*):[^@/?#]*@")
_SQLITE = {"sqlite", "sqlite+pysqlite"}
_POSTGRES = {"postgresql", "postgresql+psycopg"}


@dataclass(frozen=True)
class LedgerURL:
    """Where a ledger lives.

    Attributes
    ----------
    kind
        ``"sqlite"`` or ``"postgresql"``.
    display
        The location for messages, the password replaced by ``***``.
    path
        The SQLite file (None for PostgreSQL).
    sqlalchemy_url
        The URL for SQLAlchemy (PostgreSQL: with the ``psycopg`` driver); None for SQLite.
    password
        The password given in the URL, or None (kept only to scrub it from driver messages).
    """

    kind: str
    display: str
    path: Path | None = None
    sqlalchemy_url: object | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never the password
        return f"LedgerURL({self.kind!r}, {self.display!r})"


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (a file path is returned as it is).

    Parameters
    ----------
    url
        A ledger URL or path.

    Returns
    -------
    str
        SQLAlchemy's ``make_url(url).render_as_string(hide_password=True)`` for a URL; when
        the URL cannot be parsed, whatever sits between ``user:`` and ``@`` is hidden anyway.
    """
    url = str(url)
    if not _SCHEME.match(url):
        return url
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - unparseable: hide the userinfo password by hand
        return _USERINFO.sub(r"\1:***@", url)


def scrub(text: str, password: str | None) -> str:
    """``text`` (a driver's message) with every occurrence of ``password`` replaced by ``***``."""
    if password:
        text = text.replace(password, "***")
    return text


def parse_url(url: str | Path) -> LedgerURL:
    """Parse a ledger location.

    Raises
    ------
    LedgerError
        An unknown scheme (mysql://, http://, ...), ``sqlite://`` without a path, or a URL that
        cannot be parsed; the message names the (redacted) URL and what is accepted.
    """
    if isinstance(url, Path):
        return LedgerURL("sqlite", str(url), path=url)
    text = str(url)
    if not text.strip():
        raise LedgerError(f"no ledger given; use {ACCEPTED}.")
    match = _SCHEME.match(text)
    if not match:
        return LedgerURL("sqlite", text, path=Path(text))
    display = redact(text)
    scheme = match.group(1).lower()
    if scheme not in _SQLITE | _POSTGRES:
        raise LedgerError(f"{display}: not a ledger location auditkit can use (scheme {scheme}); use {ACCEPTED}.")
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(text)
    except Exception:  # noqa: BLE001 - the message could quote the URL: keep ours
        raise LedgerError(f"{display}: not a valid database URL; use {ACCEPTED}.") from None
    if scheme in _SQLITE:
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file:"):
            raise LedgerError(f"{display}: a ledger needs a file; use sqlite:///PATH (three slashes, then the path).")
        return LedgerURL("sqlite", display, path=Path(database))
    parsed = parsed.set(drivername="postgresql+psycopg")
    return LedgerURL("postgresql", display, sqlalchemy_url=parsed, password=parsed.password)
