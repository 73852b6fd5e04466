"""A real PostgreSQL server for the tests that need one (the ledger's): a pytest plugin.

Loaded by ``tests/conftest.py`` (``pytest_plugins``), so every test folder can ask for
``postgres_url`` (the server) or ``pg_url`` (a fresh database on it). ``.ci/run`` installs
Debian's ``postgresql`` when its binaries are missing; where the server cannot be started the
tests skip and say exactly why.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def _find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: [int(x) if x.isdigit() else x for x in Path(p).parts[-3].split(".")])
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A PostgreSQL server URL (``postgresql+psycopg://USER@/DB?host=SOCKETDIR&port=PORT``).

    ``AUDITKIT_TEST_POSTGRES_URL`` when set; otherwise a temporary cluster made with
    initdb/pg_ctl (run as the ``postgres`` user when we are root), listening only on a Unix
    socket in its temp folder, stopped at the end. Skips, saying why, when that is impossible.
    """
    given = os.environ.get("AUDITKIT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    pytest.importorskip("psycopg", reason="the PostgreSQL tests need psycopg 3 (pip install 'psycopg[binary]')")
    initdb, pg_ctl = _find_bin("initdb"), _find_bin("pg_ctl")
    missing = [name for name, path in (("initdb", initdb), ("pg_ctl", pg_ctl)) if path is None]
    if missing:
        pytest.skip(f"PostgreSQL tests skipped: {' and '.join(missing)} not found on PATH nor under "
                    "/usr/lib/postgresql/*/bin (apt-get install postgresql, or set AUDITKIT_TEST_POSTGRES_URL)")
    prefix: list[str] = []
    user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="akpg-"))  # short: a Unix socket path is limited to ~107 bytes
    if os.geteuid() == 0:
        import pwd

        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip("PostgreSQL tests skipped: running as root and there is no 'postgres' user to run the server "
                        "as (PostgreSQL refuses to run as root)")
        if not shutil.which("runuser"):
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip("PostgreSQL tests skipped: running as root and runuser is missing")
        os.chown(root, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = root / "data", root / "server.log"
    port = _free_port()
    init = subprocess.run(prefix + [initdb, "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8",
                                    "--no-sync", "--no-instructions"],
                          check=False, capture_output=True, text=True)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"PostgreSQL tests skipped: initdb failed: {(init.stderr or init.stdout).strip()[-300:]}")
    options = f"-c listen_addresses='' -k {root} -p {port} -c fsync=off -c max_connections=60"
    start = subprocess.run(prefix + [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
                           check=False, capture_output=True, text=True)
    if start.returncode != 0:
        reason = (start.stderr or start.stdout).strip()[-200:]
        tail = _tail(log)
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"PostgreSQL tests skipped: the server did not start ({reason}; log: {tail})")
    try:
        yield f"postgresql+psycopg://{user}@/postgres?host={root}&port={port}"
    finally:
        subprocess.run(prefix + [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def pg_url(postgres_url):
    """A fresh, empty database on the PostgreSQL server, for one test; dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(postgres_url)
    name = f"ak_ledger_{uuid.uuid4().hex[:12]}"
    admin = server.set(drivername="postgresql", database=server.database or "postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error:
            pass
