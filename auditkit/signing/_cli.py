"""``audit keygen``, ``audit sign`` and ``audit verify``: the command lines of output signatures.

The lead registers them on the ``audit`` group (``cli.add_command``). Each command also works on
its own (tests run it with click's ``CliRunner``): an :class:`~auditkit.errors.AuditkitError`
becomes one ``Error: ...`` line on stderr and exit code 2.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..errors import AuditkitError, OutputError
from ..sanitize import one_line
from ..sanitize import terminal_safe as term

__all__ = ["keygen", "sign", "verify"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@contextmanager
def _errors() -> Iterator[None]:
    """An AuditkitError ends the command with one ``Error:`` line and exit 2 (as the ``audit`` group does)."""
    try:
        yield
    except AuditkitError as exc:
        message = one_line(exc.message)
        click.echo(f"Error: {message}" if message.endswith(".") else f"Error: {message}.", err=True)
        raise click.exceptions.Exit(EXIT_ERROR) from None


@click.command()
@click.option("--out", "prefix", required=True, type=click.Path(path_type=Path), metavar="PREFIX",
              help="Write the private key to PREFIX.key and the public key to PREFIX.pub.")
@click.option("--force", is_flag=True, help="Replace existing PREFIX.key / PREFIX.pub (the old key is lost).")
def keygen(prefix: Path, force: bool) -> None:
    """Make an Ed25519 key pair for signing audit outputs and ledger entries.

    \b
    PREFIX.key  the private key (PKCS#8 PEM, readable by you only: mode 0600). Keep it secret:
                whoever holds it can sign. It is encrypted when the environment variable
                AUDITKIT_KEY_PASSPHRASE is set (a passphrase is never a command-line option).
    PREFIX.pub  the public key (PEM). Hand it to whoever checks: audit verify --pub, audit
                ledger verify --pub. OpenSSH "ssh-ed25519 AAAA…" lines are accepted there too.

    The key is named by its fingerprint (SHA256:…, the same as ssh-keygen -lf prints), which
    signed files record. Existing files are never replaced without --force.
    """
    from ..outputs import write_file
    from ._keys import PASSPHRASE_ENV, generate_keypair

    with _errors():
        key_path = Path(f"{prefix}.key")
        pub_path = Path(f"{prefix}.pub")
        if not force:
            for path in (key_path, pub_path):
                if os.path.lexists(path):
                    raise OutputError(f"{path}: already exists and is not replaced; move it away, choose another "
                                      "--out PREFIX, or pass --force")
        private, public = generate_keypair()
        passphrase = os.environ.get(PASSPHRASE_ENV) or None
        hint = "choose another --out PREFIX"
        old_mask = os.umask(0o077)  # the key file is created readable by its owner only, never briefly more
        try:
            write_file(key_path, private.to_pem(passphrase), overwrite=force, hint=hint)
        finally:
            os.umask(old_mask)
        try:
            try:
                os.chmod(key_path, 0o600)
            except OSError as exc:
                raise OutputError(f"{key_path}: its mode cannot be set to 0600 ({exc.strerror}); "
                                  f"{hint}.") from None
            write_file(pub_path, public.to_pem(), overwrite=force, hint=hint)
        except BaseException:
            if not force:
                try:
                    os.unlink(key_path)  # no private key without its public half
                except OSError:
                    pass
            raise
    state = "encrypted with the passphrase in " + PASSPHRASE_ENV if passphrase else "not encrypted"
    click.echo(term(f"private key: {key_path} (mode 0600, {state}; keep it secret)"))
    click.echo(term(f"public key:  {pub_path}"))
    click.echo(f"fingerprint: {public.fingerprint}")


@click.command()
@click.argument("out_dir", type=click.Path(path_type=Path), metavar="OUT_DIR")
@click.option("--key", "key_file", required=True, type=click.Path(path_type=Path), metavar="FILE",
              help="The private key (PREFIX.key of audit keygen, or an OpenSSH ed25519 key). An encrypted key "
                   "is decrypted with the environment variable AUDITKIT_KEY_PASSPHRASE.")
def sign(out_dir: Path, key_file: Path) -> None:
    """Sign every file in OUT_DIR: write manifest.json (each file's SHA-256 and size) and manifest.sig.

    The signature establishes that the key's holder vouched for exactly these files, unchanged;
    audit verify detects a changed, missing or added file. It does not establish that the audit
    in them was run honestly, nor when (signed_at is the signer's clock). Hidden files are not
    signed; symbolic links and special files are refused. Signing again replaces the manifest.
    """
    from ._keys import load_private_key
    from ._manifest import sign_folder

    with _errors():
        key = load_private_key(key_file)
        signed = sign_folder(out_dir, key)
    count = len(signed.files)
    click.echo(term(f"signed {count} file{'s' if count != 1 else ''} in {out_dir} with key {signed.key_fingerprint}"))


@click.command()
@click.argument("out_dir", type=click.Path(path_type=Path), metavar="OUT_DIR")
@click.option("--pub", "pub_file", required=True, type=click.Path(path_type=Path), metavar="FILE",
              help="The public key of the signer (PREFIX.pub of audit keygen, or an ssh-ed25519 line).")
def verify(out_dir: Path, pub_file: Path) -> None:
    """Check that OUT_DIR is signed by the key in --pub and that no file changed, went missing or was added.

    \b
    Exit codes: 0 every file is there unchanged and the signature is good;
                1 a problem was found (each on one line);
                2 the check could not run (the key or the folder cannot be read).

    A good result establishes that the files are those the key's holder signed; it does not
    establish that you have the right public key: get it from its owner, and compare its
    fingerprint. Hidden files are not covered.
    """
    from ._keys import load_public_key
    from ._manifest import verify_folder

    with _errors():
        public = load_public_key(pub_file)
        result = verify_folder(out_dir, public)
    if result.ok:
        count = result.files_checked
        when = f" at {result.signed_at}" if result.signed_at else ""
        click.echo(term(f"verified: {count} file{'s' if count != 1 else ''} unchanged, signed by "
                        f"{result.key_fingerprint}{when}"))
        raise click.exceptions.Exit(EXIT_OK)
    click.echo(term(f"NOT verified: {out_dir} against key {result.key_fingerprint}"))
    for problem in result.problems:
        click.echo(f"  {term(problem)}")
    raise click.exceptions.Exit(EXIT_FINDINGS)
