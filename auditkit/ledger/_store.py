"""The ledger store: open a SQLite file or a PostgreSQL database, append entries, read them.

Appending is one transaction holding the ledger's write lock (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction-scoped advisory lock): read the head, link the new entry to it,
insert, commit. Concurrent appenders wait for each other, so the chain never forks; a unique
violation or a lock error is retried. Readers (``create=False``) never write: SQLite is opened
read-only and PostgreSQL transactions are READ ONLY.

The schema is managed by alembic (``_migrations/``), run programmatically inside the same
transaction as the write lock, with its revision in the table ``auditkit_ledger_version``.
"""

from __future__ import annotations

import base64
import os
import random
import re
import sqlite3
import stat
import time
import urllib.parse
from contextlib import contextmanager
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import LedgerError
from ..sanitize import one_line
from ._canonical import canonical
from ._model import (BODY_LIMIT, GENESIS, HASH, LedgerEntry, Verification, compute_entry_hash, signing_message)
from ._url import LedgerURL, parse_url, scrub

__all__ = ["Ledger", "VERSION_TABLE", "since_text"]

#: The table holding the alembic revision of the ledger schema (not ``alembic_version``: a
#: PostgreSQL database may hold an application's own alembic history).
VERSION_TABLE = "auditkit_ledger_version"
#: Seconds a writer waits for the SQLite write lock (env ``AUDITKIT_LEDGER_TIMEOUT``).
LOCK_TIMEOUT = 60.0
#: The PostgreSQL advisory lock key of the ledger ("auditkit" as a big-endian integer).
ADVISORY_KEY = int.from_bytes(b"auditkit", "big")
MAX_ATTEMPTS = 50
_MIGRATIONS = Path(__file__).with_name("_migrations")
_READ_FIELDS = ("seq", "prev_hash", "entry_hash", "recorded_at", "policy_name", "verdict", "batch_id",
                "signature", "key_fingerprint")
_RETRY_SQLSTATES = {"40001", "40P01", "23505", "55P03"}


# --------------------------------------------------------------------------- helpers


def _lock_timeout() -> float:
    value = os.environ.get("AUDITKIT_LEDGER_TIMEOUT")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    return LOCK_TIMEOUT


def _utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def since_text(since: date | datetime | str | None) -> str | None:
    """``since`` as the stored form of ``recorded_at`` (UTC, seconds), for comparing.

    A date means its midnight UTC; a timestamp without a zone is taken as UTC.

    Raises
    ------
    LedgerError
        A string that is neither a date nor an ISO timestamp.
    """
    if since is None:
        return None
    if isinstance(since, datetime):
        return _utc_text(since)
    if isinstance(since, date):
        return _utc_text(datetime(since.year, since.month, since.day))
    text = str(since).strip()
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            return since_text(date.fromisoformat(text))
        return _utc_text(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise LedgerError(f"since {one_line(repr(text), 80)}: not a date; use YYYY-MM-DD or an ISO 8601 "
                          "timestamp such as 2026-11-30T19:20:00+00:00.") from None


def _normal_recorded_at(value: Any) -> str:
    if value is None:
        return _utc_now()
    if isinstance(value, datetime):
        return _utc_text(value)
    try:
        return _utc_text(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"body['recorded_at'] is not an ISO 8601 timestamp: {value!r}") from None


@lru_cache(maxsize=None)
def _tables():
    """The ledger's tables for queries (the schema itself is created by the migrations)."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    entries = sa.Table(
        "ledger_entries", metadata,
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("policy_name", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.Text()),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text()),
        sa.Column("key_fingerprint", sa.Text()),
    )
    info = sa.Table("ledger_info", metadata, sa.Column("key", sa.Text(), primary_key=True),
                    sa.Column("value", sa.Text(), nullable=False))
    return entries, info


def _alembic_config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = VERSION_TABLE
    return config


@lru_cache(maxsize=None)
def _script_revisions() -> tuple[frozenset[str], str]:
    """(every revision this auditkit knows, the head revision)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return known, script.get_current_head()


# --------------------------------------------------------------------------- errors


def _driver_reason(exc: BaseException, password: str | None) -> str:
    orig = getattr(exc, "orig", None) or exc
    try:
        text = str(orig)
    except Exception:  # noqa: BLE001
        text = type(orig).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    return one_line(scrub(reason, password), 300).rstrip(".")


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _retryable(exc: BaseException) -> bool:
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.IntegrityError):
        return True
    if _sqlstate(exc) in _RETRY_SQLSTATES:
        return True
    if isinstance(exc, sa_exc.OperationalError) and isinstance(getattr(exc, "orig", None), sqlite3.OperationalError):
        text = str(exc.orig).lower()
        return "locked" in text or "busy" in text
    return False


# --------------------------------------------------------------------------- the ledger


class Ledger:
    """An append-only, hash-chained record of audits in SQLite or PostgreSQL.

    Parameters
    ----------
    url
        A file path (``ledger.db``) or ``sqlite:///PATH`` for SQLite; ``postgresql://...`` or
        ``postgresql+psycopg://...`` for PostgreSQL.
    create
        True (writers: ``audit check --ledger``): create the SQLite file when missing (its
        folder must exist) and bring the schema to this auditkit's revision. False (readers):
        never write anything; the ledger must exist at this auditkit's revision.

    Raises
    ------
    LedgerError
        The URL is not accepted, the ledger is missing, not an auditkit ledger, at an older or
        newer schema revision (for readers), or the database cannot be reached; the message
        names the URL with its password hidden.

    Examples
    --------
    >>> with Ledger("ledger.db", create=True) as ledger:      # doctest: +SKIP
    ...     entry = ledger.append(body)
    ...     ledger.verify().ok
    True
    """

    def __init__(self, url: str | Path, *, create: bool = False) -> None:
        self._loc: LedgerURL = parse_url(url)
        self.url = self._loc.display
        self.kind = self._loc.kind
        self.readonly = not create
        self._engine = None
        self._check_location(create)
        self._engine = self._make_engine()
        try:
            if create:
                self.revision_before, self.revision = self._migrate(must_exist=False)
            else:
                self.revision_before = self.revision = self._check_revision_readonly()
            self._info = self._read_info()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening

    @classmethod
    def upgrade(cls, url: str | Path) -> tuple[str | None, str]:
        """Bring an existing ledger's schema to this auditkit's revision.

        Returns
        -------
        (str or None, str)
            The revision before and after (equal when there was nothing to do).

        Raises
        ------
        LedgerError
            No ledger there, written by a newer auditkit, or the database cannot be reached.
        """
        self = cls.__new__(cls)
        self._loc = parse_url(url)
        self.url = self._loc.display
        self.kind = self._loc.kind
        self.readonly = False
        self._engine = None
        self._check_location(create=False)
        self._engine = self._make_engine()
        try:
            return self._migrate(must_exist=True)
        finally:
            self.close()

    def _check_location(self, create: bool) -> None:
        if self.kind != "sqlite":
            return
        path = self._loc.path
        where = self.url
        if os.path.lexists(path):
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:
                raise LedgerError(f"{where}: cannot read the ledger file ({exc.strerror}); check the path and its permissions.") from None
            if stat.S_ISDIR(mode):
                raise LedgerError(f"{where}: is a folder, not a ledger file; give the path of the ledger's .db file.")
            if not stat.S_ISREG(mode):
                raise LedgerError(f"{where}: is not a regular file, so it cannot be a ledger; give the path of the ledger's .db file.")
            return
        if not create:
            raise LedgerError(f"{where}: no ledger at {path}; audit check --ledger {path} creates one.")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise LedgerError(f"{where}: the folder {parent} does not exist; create it first (auditkit does not create "
                              "folders for a ledger, so a typo cannot start a new, empty one).")

    def _make_engine(self):
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import NullPool

        if self.kind == "postgresql":
            return create_engine(self._loc.sqlalchemy_url, poolclass=NullPool,
                                 connect_args={"connect_timeout": int(max(1, _lock_timeout()))})
        path = os.path.abspath(self._loc.path)
        timeout = _lock_timeout()
        if self.readonly:
            uri = "file:" + urllib.parse.quote(path) + "?mode=ro"

            def creator():
                return sqlite3.connect(uri, uri=True, timeout=timeout)
        else:
            def creator():
                return sqlite3.connect(path, timeout=timeout)
        engine = create_engine("sqlite+pysqlite://", creator=creator, poolclass=NullPool)

        # SQLAlchemy's recipe for pysqlite ("Serializable isolation / Savepoints / Transactional
        # DDL"): stop the sqlite3 module from issuing BEGIN itself, and issue our own -- BEGIN
        # IMMEDIATE for a writer, which takes the write lock before the head is read.
        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection):
            write = connection.get_execution_options().get("auditkit_write")
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def close(self) -> None:
        """Release the database connections (the object cannot be used afterwards)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.url!r})"

    @contextmanager
    def _database(self, action: str) -> Iterator[None]:
        """Turn a database error into one LedgerError line (URL redacted, the driver's reason)."""
        from sqlalchemy import exc as sa_exc

        try:
            yield
        except LedgerError:
            raise
        except sa_exc.SQLAlchemyError as exc:
            raise self._error(exc, action) from None
        except sqlite3.Error as exc:
            raise self._error(exc, action) from None

    def _error(self, exc: BaseException, action: str) -> LedgerError:
        reason = _driver_reason(exc, self._loc.password)
        low = reason.lower()
        if self.kind == "sqlite":
            if "not a database" in low or "malformed" in low:
                return LedgerError(f"{self.url}: is not a SQLite database ({reason}), so it is not an auditkit ledger; "
                                   "check the path.")
            if "locked" in low or "busy" in low:
                return LedgerError(f"{self.url}: the ledger stayed locked by another writer for more than "
                                   f"{_lock_timeout():g} s (could not {action}); retry when it has finished.")
            if "readonly" in low or "read-only" in low or "unable to open" in low:
                return LedgerError(f"{self.url}: cannot {action} ({reason}); check the file's and its folder's permissions.")
        return LedgerError(f"{self.url}: cannot {action} ({reason}); check the URL, that the database server is "
                           "running and the credentials.")

    @contextmanager
    def _read(self, action: str = "read the ledger") -> Iterator[Any]:
        if self._engine is None:
            raise LedgerError(f"{self.url}: the ledger was closed; open it again.")
        with self._database(action):
            with self._engine.connect() as conn:
                if self.kind == "postgresql" and self.readonly:
                    conn = conn.execution_options(postgresql_readonly=True)
                with conn.begin():
                    yield conn

    @contextmanager
    def _write(self, action: str) -> Iterator[Any]:
        """A transaction holding the ledger's write lock (database errors are left to the caller)."""
        if self._engine is None:
            raise LedgerError(f"{self.url}: the ledger was closed; open it again.")
        with self._engine.connect() as conn:
            conn = conn.execution_options(auditkit_write=True)
            with conn.begin():
                if self.kind == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_KEY})")
                yield conn

    def _current_revisions(self, conn) -> tuple[str, ...]:
        from alembic.runtime.migration import MigrationContext

        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return tuple(context.get_current_heads())

    def _has_ledger_tables(self, conn) -> bool:
        from sqlalchemy import inspect

        inspector = inspect(conn)
        return inspector.has_table("ledger_entries") or inspector.has_table("ledger_info")

    def _known(self, current: tuple[str, ...]) -> str | None:
        known, head = _script_revisions()
        if len(current) > 1:
            raise LedgerError(f"{self.url}: the ledger's schema has several revisions ({', '.join(current)}); it was "
                              "changed by hand, restore it from a backup.")
        revision = current[0] if current else None
        if revision is not None and revision not in known:
            raise LedgerError(f"{self.url}: the ledger was written by a newer auditkit (schema revision "
                              f"{one_line(revision, 40)}, this auditkit knows up to {head}); upgrade auditkit.")
        return revision

    def _check_revision_readonly(self) -> str:
        with self._read("open the ledger") as conn:
            current = self._current_revisions(conn)
            if not current:
                has_tables = self._has_ledger_tables(conn)
        revision = self._known(current)
        _, head = _script_revisions()
        if revision is None:
            if has_tables:
                raise LedgerError(f"{self.url}: has ledger tables but no auditkit schema revision, so auditkit did not "
                                  "create it; use a ledger made by audit check --ledger.")
            raise LedgerError(f"{self.url}: is not an auditkit ledger (it has no ledger tables); audit check --ledger "
                              f"{self.url} creates one (in a new file or database).")
        if revision != head:
            raise LedgerError(f"{self.url}: the ledger's schema (revision {revision}) is older than this auditkit's "
                              f"({head}); run: audit ledger upgrade {self.url}")
        return revision

    def _migrate(self, *, must_exist: bool) -> tuple[str | None, str]:
        from alembic import command

        _, head = _script_revisions()
        with self._database("open the ledger"):
            with self._engine.connect() as conn:  # already at head: no write lock needed (the usual case)
                with conn.begin():
                    current = self._known(self._current_revisions(conn))
        if current == head:
            return current, head
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self._database("create or upgrade the ledger's schema"):
                    with self._write("upgrade the schema") as conn:
                        before = self._known(self._current_revisions(conn))
                        if before is None and must_exist:
                            if self._has_ledger_tables(conn):
                                raise LedgerError(f"{self.url}: has ledger tables but no auditkit schema revision, so "
                                                  "auditkit did not create it; it cannot be upgraded.")
                            raise LedgerError(f"{self.url}: is not an auditkit ledger (it has no ledger tables); "
                                              f"audit check --ledger {self.url} creates one.")
                        if before != head:
                            command.upgrade(_alembic_config(conn), "head")
                return before, head
            except LedgerError as exc:
                cause = exc.__context__
                if attempt + 1 < MAX_ATTEMPTS and cause is not None and _retryable(cause):
                    time.sleep(random.uniform(0.01, 0.1))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_info(self) -> dict[str, str]:
        from sqlalchemy import select

        _, info = _tables()
        with self._read("read the ledger's information") as conn:
            rows = conn.execute(select(info.c.key, info.c.value)).all()
        return {str(key): str(value) for key, value in rows}

    # ------------------------------------------------------------------ properties

    @property
    def info(self) -> dict[str, str]:
        """The ledger's information: ``ledger_id`` (made when it was created), ``created_at``, ``format``."""
        return dict(self._info)

    @property
    def display(self) -> str:
        """Where the ledger is, for messages and results: the path or the URL with its password hidden."""
        return self.url

    @property
    def ledger_id(self) -> str | None:
        """The ledger's identity (a uuid4 hex made when it was created)."""
        return self._info.get("ledger_id")

    # ------------------------------------------------------------------ append

    def append(self, body: Mapping[str, Any], *, signer=None) -> LedgerEntry:
        """Record one audit at the end of the chain.

        Parameters
        ----------
        body
            The entry's body (see ``auditkit/ledger/_entry.py``): needs ``policy.name`` and
            ``verdict``; ``recorded_at`` is set to now (UTC) when missing. Not modified.
        signer
            An object with ``.fingerprint`` and ``.sign(message: bytes) -> bytes`` (a private
            key), or None for an unsigned entry.

        Returns
        -------
        LedgerEntry
            The entry as stored.

        Raises
        ------
        LedgerError
            The ledger was opened read-only, the body cannot be recorded (not JSON), or the
            database failed (after retrying lock and uniqueness conflicts).
        ValueError
            The body lacks ``policy.name`` or ``verdict`` (a programming error).
        """
        if self.readonly:
            raise LedgerError(f"{self.url}: the ledger was opened for reading; open it with create=True to record audits.")
        body = dict(body)
        body["recorded_at"] = _normal_recorded_at(body.get("recorded_at"))
        policy = body.get("policy")
        if not isinstance(policy, Mapping) or not isinstance(policy.get("name"), str):
            raise ValueError("body['policy']['name'] must be a string")
        verdict = body.get("verdict")
        if not isinstance(verdict, str) or not 0 < len(verdict) <= 16:
            raise ValueError("body['verdict'] must be a string of at most 16 characters")
        batch = body.get("batch")
        batch_id = batch.get("id") if isinstance(batch, Mapping) else None
        if batch_id is not None and not isinstance(batch_id, str):
            raise ValueError("body['batch']['id'] must be a string or None")
        try:
            body_text = canonical(body).decode("utf-8")
        except (TypeError, ValueError) as exc:
            raise LedgerError(f"{self.url}: the audit cannot be recorded: its body is not plain JSON "
                              f"({one_line(exc, 120)}).") from None
        if len(body_text.encode("utf-8")) > BODY_LIMIT:
            raise LedgerError(f"{self.url}: the audit cannot be recorded: its body is larger than "
                              f"{BODY_LIMIT >> 20} MiB.")
        from sqlalchemy import exc as sa_exc, insert, select

        entries, _ = _tables()
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self._write("append") as conn:
                    head = conn.execute(select(entries.c.seq, entries.c.entry_hash)
                                        .order_by(entries.c.seq.desc()).limit(1)).first()
                    seq = head.seq + 1 if head is not None else 1
                    prev_hash = head.entry_hash if head is not None else GENESIS
                    entry_hash = compute_entry_hash(seq, prev_hash, body_text)
                    signature = fingerprint = None
                    if signer is not None:
                        signature = base64.b64encode(signer.sign(signing_message(entry_hash))).decode("ascii")
                        fingerprint = str(signer.fingerprint)
                    entry = LedgerEntry(seq=seq, prev_hash=prev_hash, entry_hash=entry_hash,
                                        recorded_at=body["recorded_at"], policy_name=policy["name"], verdict=verdict,
                                        batch_id=batch_id, body_text=body_text, signature=signature,
                                        key_fingerprint=fingerprint)
                    values = entry.to_dict()
                    values["body"] = values.pop("body_text")
                    conn.execute(insert(entries).values(**values))
                return entry
            except (sa_exc.SQLAlchemyError, sqlite3.Error) as exc:
                if attempt + 1 < MAX_ATTEMPTS and _retryable(exc):
                    time.sleep(random.uniform(0.005, 0.05) * min(attempt + 1, 8))
                    continue
                raise self._error(exc, "append the audit") from None
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ read

    def _select(self, *, policy: str | None = None, since=None, batch_id: str | None = None, descending=False):
        import sqlalchemy as sa

        entries, _ = _tables()
        length = sa.func.length(entries.c.body)
        columns = [entries.c[name] for name in _READ_FIELDS]
        body = sa.case((length > BODY_LIMIT, sa.null()), else_=entries.c.body).label("body")
        stmt = sa.select(*columns, body, length.label("body_length"))
        if policy is not None:
            stmt = stmt.where(entries.c.policy_name == policy)
        if batch_id is not None:
            stmt = stmt.where(entries.c.batch_id == batch_id)
        bound = since_text(since)
        if bound is not None:
            stmt = stmt.where(entries.c.recorded_at >= bound)
        return stmt.order_by(entries.c.seq.desc() if descending else entries.c.seq)

    def _rows(self, stmt, action: str = "read the ledger") -> Iterator[LedgerEntry | Exception]:
        """Entries (or the LedgerError of an unusable row) from a query, streamed."""
        with self._read(action) as conn:
            result = conn.execution_options(stream_results=True, yield_per=500).execute(stmt)
            for row in result:
                yield row_to_entry(row)

    def records(self, policy: str | None = None, since: date | datetime | str | None = None) -> list[LedgerEntry]:
        """The entries, in chain order.

        Parameters
        ----------
        policy
            Only the entries of this policy name.
        since
            Only entries recorded on or after this date or ISO timestamp (UTC when no zone is given).

        Raises
        ------
        LedgerError
            The database failed, or an entry is unusable (a body over 64 MiB, a wrong type).
        """
        out = []
        for item in self._rows(self._select(policy=policy, since=since)):
            if isinstance(item, Exception):
                raise item
            out.append(item)
        return out

    def head(self) -> LedgerEntry | None:
        """The last entry, or None for an empty ledger."""
        import sqlalchemy as sa

        entries, _ = _tables()
        with self._read() as conn:
            last = conn.execute(sa.select(sa.func.max(entries.c.seq))).scalar()
        if last is None:
            return None
        stmt = self._select().where(entries.c.seq == last)
        for item in self._rows(stmt):
            if isinstance(item, Exception):
                raise item
            return item
        return None  # pragma: no cover - deleted meanwhile

    def find_batch(self, policy_name: str, batch_id: str, labels: str = "pending") -> LedgerEntry | None:
        """The latest entry of ``policy_name`` recorded for batch ``batch_id`` with ``batch.labels == labels``."""
        for item in self._rows(self._select(policy=policy_name, batch_id=batch_id, descending=True)):
            if isinstance(item, Exception):
                raise item
            batch = item.body.get("batch")
            if isinstance(batch, dict) and batch.get("labels") == labels:
                return item
        return None

    def entries(self, policy: str | None = None, since: date | datetime | str | None = None):
        """One row per entry, for notebooks: a pandas DataFrame.

        Columns: seq, recorded_at (tz-aware UTC), policy, policy_version, verdict, exit_code,
        rules (count), failed_rules (failed gating rules), model_sha256, data_sha256,
        policy_sha256, batch_id, labels, labels_for (seq of the label-pending entry this one
        completes), completed_by (seq of the later entry that completed this one's labels),
        signed_by (key fingerprint), entry_hash.
        """
        import pandas as pd
        import sqlalchemy as sa

        records = self.records(policy=policy, since=since)
        entries_table, _ = _tables()
        with self._read() as conn:  # links may point before `since`: map every hash to its seq
            seq_of = {h: s for s, h in conn.execute(sa.select(entries_table.c.seq, entries_table.c.entry_hash))}
            links = {}
            stmt = sa.select(entries_table.c.seq, entries_table.c.body).where(
                entries_table.c.body.like('%"labels_for":%')).where(sa.func.length(entries_table.c.body) <= BODY_LIMIT)
            for seq, text in conn.execute(stmt):
                target = _labels_for(text)
                if target is not None:
                    links.setdefault(target, seq)
        rows = []
        for entry in records:
            body = entry.body
            policy_info = body.get("policy") if isinstance(body.get("policy"), dict) else {}
            inputs = body.get("inputs") if isinstance(body.get("inputs"), dict) else {}
            results = body.get("results") if isinstance(body.get("results"), dict) else {}
            rules = [r for r in results.get("rules") or [] if isinstance(r, dict)] if isinstance(results.get("rules"), list) else []
            batch = body.get("batch") if isinstance(body.get("batch"), dict) else {}
            link = body.get("links") if isinstance(body.get("links"), dict) else {}

            rows.append({
                "seq": entry.seq,
                "recorded_at": entry.recorded_at,
                "policy": entry.policy_name,
                "policy_version": policy_info.get("version"),
                "verdict": entry.verdict,
                "exit_code": body.get("exit_code"),
                "rules": len(rules),
                "failed_rules": sum(1 for r in rules if r.get("status") == "fail" and r.get("gating")),
                "model_sha256": _input_sha(inputs, "model"),
                "data_sha256": _input_sha(inputs, "data"),
                "policy_sha256": _input_sha(inputs, "policy"),
                "batch_id": entry.batch_id,
                "labels": batch.get("labels"),
                "labels_for": seq_of.get(link.get("labels_for")) if isinstance(link.get("labels_for"), str) else None,
                "completed_by": links.get(entry.entry_hash),
                "signed_by": entry.key_fingerprint,
                "entry_hash": entry.entry_hash,
            })
        columns = ["seq", "recorded_at", "policy", "policy_version", "verdict", "exit_code", "rules", "failed_rules",
                   "model_sha256", "data_sha256", "policy_sha256", "batch_id", "labels", "labels_for", "completed_by",
                   "signed_by", "entry_hash"]
        frame = pd.DataFrame(rows, columns=columns)
        frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True)
        for column in ("labels_for", "completed_by", "exit_code"):
            frame[column] = frame[column].astype("Int64")
        return frame

    def trend(self, metric: str, feature: str | None = None, *, policy: str | None = None):
        """A metric's values over the recorded audits: ``auditkit.history.trend_frame`` of the records."""
        from ..history import trend_frame

        return trend_frame(self.records(policy=policy), metric, feature)

    # ------------------------------------------------------------------ verify, export

    def verify(self, public_key=None, *, require_signatures: bool = False, expect_head: str | None = None) -> Verification:
        """Check the whole chain (see :func:`auditkit.ledger._verify.verify_chain` for what it establishes).

        Parameters
        ----------
        public_key
            A public key (``.fingerprint``, ``.verify(message, signature) -> bool``): entries
            signed by its fingerprint must verify.
        require_signatures
            With ``public_key``: every entry must be signed by it.
        expect_head
            An entry hash or a prefix of 12+ hex digits known from elsewhere: fails when it is
            no longer in the chain (a deleted tail, which a chain cannot detect by itself).

        Raises
        ------
        LedgerError
            The database cannot be read (a damaged entry is a problem in the result, not an error).
        """
        from ._verify import Unreadable, check_expect_head, verify_chain
        from ._model import Problem

        check_expect_head(expect_head)

        def items():
            for item in self._rows(self._select(), "verify the ledger"):
                if isinstance(item, Exception):
                    seq = getattr(item, "seq", None)
                    yield Unreadable(seq, Problem(seq, "unreadable", item.message))
                else:
                    yield item

        return verify_chain(items(), public_key=public_key, require_signatures=require_signatures,
                            expect_head=expect_head)

    def export(self, out: str | Path, since: date | datetime | str | None = None) -> Path:
        """Write a bundle folder (``entries.jsonl`` and ``ledger.json``) that verifies offline.

        With ``since``, the bundle starts at the first entry recorded on or after it and is
        verified from that entry's ``prev_hash`` (the anchor, stated in ``ledger.json``).

        Returns
        -------
        Path
            The bundle folder.
        """
        from ._bundle import write_bundle

        return write_bundle(Path(out), self.records(since=since), ledger_id=self.ledger_id, source=self.url,
                            since=since_text(since))


class _RowError(LedgerError):
    def __init__(self, seq, message: str) -> None:
        super().__init__(message)
        self.seq = seq


def row_to_entry(row) -> LedgerEntry | LedgerError:
    """A database row as an entry, or the error saying why it cannot be one (a hostile database)."""
    values = dict(row._mapping)
    seq = values.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        return _RowError(None, f"a ledger row has a seq that is not a number ({one_line(repr(seq), 40)}); the table was changed by hand.")
    if values.get("body") is None and (values.get("body_length") or 0) > BODY_LIMIT:
        return _RowError(seq, f"entry {seq} of the ledger has a body larger than {BODY_LIMIT >> 20} MiB; it was not "
                              "written by auditkit and is not read.")
    values["body_text"] = values.pop("body")
    values.pop("body_length", None)
    for name in ("prev_hash", "entry_hash", "recorded_at", "policy_name", "verdict", "body_text"):
        if not isinstance(values.get(name), str):
            return _RowError(seq, f"entry {seq} of the ledger has a {name} that is not text; the table was changed by hand.")
    for name in ("batch_id", "signature", "key_fingerprint"):
        if values.get(name) is not None and not isinstance(values[name], str):
            return _RowError(seq, f"entry {seq} of the ledger has a {name} that is not text; the table was changed by hand.")
    if len(values["body_text"].encode("utf-8", "surrogatepass")) > BODY_LIMIT:
        return _RowError(seq, f"entry {seq} of the ledger has a body larger than {BODY_LIMIT >> 20} MiB; it is not read.")
    return LedgerEntry(**values)


def _input_sha(inputs: dict, name: str) -> str | None:
    item = inputs.get(name)
    return item.get("sha256") if isinstance(item, dict) else None


def _labels_for(text: str) -> str | None:
    import json

    try:
        body = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None
    links = body.get("links") if isinstance(body, dict) else None
    target = links.get("labels_for") if isinstance(links, dict) else None
    return target if isinstance(target, str) and HASH.match(target) else None
