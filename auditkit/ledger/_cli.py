"""``audit ledger``: verify, export and upgrade an audit ledger (the lead registers the group in cli.py).

Exit codes: 0 intact / done, 1 verification found problems (a finding), 2 the ledger or bundle
could not be read, or the command could not run.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import AuditkitError
from ..sanitize import one_line, terminal_safe as term

__all__ = ["ledger"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _fail(exc: AuditkitError) -> None:
    message = one_line(exc.message)
    click.echo(f"Error: {message}" if message.endswith(".") else f"Error: {message}.", err=True)
    raise click.exceptions.Exit(EXIT_ERROR)


@click.group("ledger", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def ledger() -> None:
    """Verify, export and upgrade an audit ledger.

    A ledger (audit check --ledger LEDGER) records every audit as one entry of a hash chain, in
    a SQLite file or a PostgreSQL database. LEDGER is a file path (ledger.db), sqlite:///PATH or
    postgresql://USER@HOST/DB; a password in a URL is never printed.
    """


@ledger.command("verify")
@click.argument("target")
@click.option("--pub", "pub", type=click.Path(path_type=Path), metavar="FILE",
              help="Public key (PEM or OpenSSH ssh-ed25519 line): every entry signed with its fingerprint must verify.")
@click.option("--require-signatures", is_flag=True,
              help="With --pub: an entry not signed by that key is a problem too.")
@click.option("--expect-head", metavar="HASH",
              help="A head hash (or its first 12+ hex digits) kept from earlier: fail when it is no longer in the "
                   "chain, which is how a deleted tail is detected.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one line, or one line per problem; json: the whole verification.")
def verify_command(target, pub, require_signatures, expect_head, fmt):
    """Check that a ledger or an exported bundle is intact.

    TARGET is a ledger (path or URL) or a bundle folder written by audit ledger export (a
    folder with ledger.json; checked offline, without the database).

    \b
    What it establishes: every entry is exactly as recorded (body and columns), none was
    removed, inserted or reordered between the first and the last, and with --pub that the
    entries signed by that key carry valid signatures.
    What it does not: that no entries were deleted at the end (a shorter chain is still a
    valid chain; use --expect-head with a head hash kept elsewhere), nor that the audits
    themselves were right. A bundle exported with --since is verified from its anchor, the
    hash of the entry before its first one.

    Exit codes: 0 intact · 1 problems found (listed, one per line) · 2 could not be read.
    """
    try:
        public_key = None
        if pub is not None:
            from ..signing import load_public_key

            public_key = load_public_key(pub)
        from ._bundle import is_bundle, verify_bundle

        if Path(target).is_dir() and not is_bundle(target):
            from ..errors import LedgerError

            raise LedgerError(f"{target}: is a folder without ledger.json, so it is neither a ledger nor a bundle; give "
                              "a ledger file or URL, or a folder written by audit ledger export.")
        if is_bundle(target):
            kind, where = "bundle", str(target)
            result = verify_bundle(target, public_key=public_key, expect_head=expect_head,
                                   require_signatures=require_signatures)
        else:
            from ._store import Ledger

            with Ledger(target, create=False) as store:
                kind, where = "ledger", store.url
                result = store.verify(public_key, require_signatures=require_signatures, expect_head=expect_head)
    except AuditkitError as exc:
        _fail(exc)
    if fmt == "json":
        doc = {"format": "auditkit-ledger-verification/1", "target": where, "kind": kind,
               "public_key": public_key.fingerprint if public_key is not None else None, **result.to_dict()}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=True))
        raise click.exceptions.Exit(EXIT_OK if result.ok else EXIT_FINDINGS)
    if result.first_seq == 1:
        start = "from the start of the ledger"
    else:
        start = (f"from entry {result.first_seq}, anchored at {result.anchor[:12]} (the hash of entry "
                 f"{result.first_seq - 1}), not from the start of the ledger")
    details = [term(where), start]
    if public_key is not None:
        details.append(f"{result.signatures_verified} signature{'s' if result.signatures_verified != 1 else ''} "
                       f"verified with {term(public_key.fingerprint)}")
    if expect_head:
        details.append(f"expected head {term(expect_head[:12])} present")
    else:
        details.append("a deleted tail is detected only with --expect-head")
    if result.ok:
        head = result.head[:12] if result.head else "none (empty)"
        click.echo(f"intact: {result.entries} entr{'y' if result.entries == 1 else 'ies'}, head {head} "
                   f"({'; '.join(details)})")
        raise click.exceptions.Exit(EXIT_OK)
    for problem in result.problems:
        click.echo(f"problem: {one_line(problem.message, 1000)}")
    click.echo(f"NOT intact: {len(result.problems)} problem{'s' if len(result.problems) != 1 else ''} in "
               f"{result.entries} entr{'y' if result.entries == 1 else 'ies'} of {term(where)} ({start})")
    raise click.exceptions.Exit(EXIT_FINDINGS)


@ledger.command("export")
@click.argument("url")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), metavar="BUNDLE",
              help="Folder to write entries.jsonl and ledger.json into (created; written all or nothing).")
@click.option("--since", metavar="DATE", help="Only entries recorded on or after this date (YYYY-MM-DD or ISO timestamp, UTC).")
def export_command(url, out, since):
    """Write a ledger's entries to a bundle folder that verifies offline.

    The bundle (entries.jsonl: every stored field of every entry; ledger.json: the ledger id,
    range, count, head and anchor) can be handed to an auditor, who checks it with
    audit ledger verify BUNDLE [--pub KEY] without access to the database.

    With --since the bundle starts later and proves only that its entries link to each other
    and to its anchor (the hash of the entry before the first), not what came before.
    """
    try:
        from ._store import Ledger

        with Ledger(url, create=False) as store:
            path = store.export(out, since=since)
            meta = json.loads((path / "ledger.json").read_text(encoding="utf-8"))
            where = store.url
    except AuditkitError as exc:
        _fail(exc)
    count = meta["count"]
    if count:
        span = f"seq {meta['first_seq']} to {meta['last_seq']}, head {meta['head'][:12]}"
        if meta["first_seq"] != 1:
            span += f", anchored at {meta['anchor'][:12]}"
    else:
        span = "no entries"
    click.echo(f"wrote {term(path)}: {count} entr{'y' if count == 1 else 'ies'} of {term(where)} ({span}); "
               f"entries.jsonl, ledger.json")
    raise click.exceptions.Exit(EXIT_OK)


@ledger.command("upgrade")
@click.argument("url")
def upgrade_command(url):
    """Bring a ledger's schema up to this auditkit's version.

    Needed when audit ledger verify (or audit history) says the ledger's schema is older.
    Runs the schema migrations in one transaction, holding the ledger's write lock; entries
    are not changed, so their hashes and signatures stay valid. Back up the ledger first.
    """
    try:
        from ._store import Ledger
        from ._url import redact

        before, after = Ledger.upgrade(url)
    except AuditkitError as exc:
        _fail(exc)
    where = term(redact(url))
    if before == after:
        click.echo(f"{where}: already at schema revision {after}; nothing to do")
    else:
        click.echo(f"{where}: upgraded the schema from revision {before or 'none'} to {after}")
    raise click.exceptions.Exit(EXIT_OK)
