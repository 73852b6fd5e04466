"""Signing a set of output files, and checking a signed folder.

Signing writes two files beside the outputs:

* ``manifest.json`` -- canonical JSON ``{"format": "auditkit-manifest/1", "algorithm": "Ed25519",
  "key_fingerprint": …, "signed_at": …, "files": {"report.html": {"sha256": …, "size": …}, …}}``;
* ``manifest.sig`` -- the base64 of the Ed25519 signature over the exact bytes of
  ``manifest.json``, and a newline.

A signature establishes that the holder of the private key vouched for exactly these files
(names, sizes, SHA-256) at ``signed_at`` (the signer's clock). It says nothing about whether the
audit in them was run honestly, and a check is only as good as the public key it is given.

Hidden files (any path part starting with ``.``, such as ``.auditkit-manifest.json``) are neither
signed nor checked. Symbolic links and special files are refused: a link can point anywhere,
and a FIFO would hang the reader.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import SignatureError

__all__ = ["MANIFEST_FORMAT", "MANIFEST_JSON", "MANIFEST_LIMIT", "MANIFEST_SIG", "FolderVerification", "SignedFolder",
           "sign_documents", "sign_folder", "verify_folder"]

MANIFEST_JSON = "manifest.json"
MANIFEST_SIG = "manifest.sig"
MANIFEST_FORMAT = "auditkit-manifest/1"
#: The largest manifest.json read (bytes).
MANIFEST_LIMIT = 16 * 1024 * 1024
_SIG_LIMIT = 4096  # base64 of 64 bytes is 88 characters
_CHUNK = 1 << 20
_RESERVED = frozenset({MANIFEST_JSON, MANIFEST_SIG})


def _canonical(obj) -> bytes:
    from ..ledger._canonical import (
        canonical,  # the one canonical JSON of auditkit (the ledger's bodies too)
    )

    return canonical(obj)


@dataclass(frozen=True)
class SignedFolder:
    """What :func:`sign_folder` signed.

    Attributes
    ----------
    folder : Path
    files : tuple of str
        The signed files, relative names with ``/`` separators, sorted.
    key_fingerprint : str
    signed_at : str
        ISO 8601 UTC, seconds.
    """

    folder: Path
    files: tuple[str, ...]
    key_fingerprint: str
    signed_at: str


@dataclass(frozen=True)
class FolderVerification:
    """The outcome of :func:`verify_folder`.

    Attributes
    ----------
    ok : bool
        The manifest is signed by the given key, and every file it lists is there unchanged,
        and no other (non-hidden) file is there.
    files_checked : int
        How many of the listed files were read and compared.
    key_fingerprint : str
        The fingerprint of the key the folder was checked against.
    problems : tuple of str
        One sentence per problem; file names in them come from the folder (make them
        terminal-safe before printing).
    signed_at : str or None
        When the manifest says it was signed (only meaningful when ``ok``).
    """

    ok: bool
    files_checked: int
    key_fingerprint: str
    problems: tuple[str, ...]
    signed_at: str | None = None


# --------------------------------------------------------------------------- names


def _name_problem(name: object) -> str | None:
    """Why ``name`` is not a relative, ``/``-separated file name inside the folder (None when it is)."""
    if not isinstance(name, str) or not name:
        return "is not a file name"
    if name.startswith("/") or "\\" in name or "\x00" in name or (len(name) > 1 and name[1] == ":"):
        return "is not a relative name with / separators"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "climbs out of the folder or has an empty part"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    return None


def _shown(name: str, limit: int = 300) -> str:
    """A file name for a message, cut to ``limit`` characters (a manifest can list megabyte-long names)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _check_document_name(name: object) -> None:
    problem = _name_problem(name)
    if problem is None and name in _RESERVED:
        problem = "is the name of the signature's own files"
    if problem is not None:
        raise SignatureError(f"{name!r}: cannot be signed: the name {problem}; rename the file.")


# --------------------------------------------------------------------------- building the manifest


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _signed_pair(entries: Mapping[str, dict], key, signed_at: str | None) -> dict[str, bytes]:
    manifest = {
        "format": MANIFEST_FORMAT,
        "algorithm": "Ed25519",
        "key_fingerprint": key.fingerprint,
        "signed_at": signed_at or _now(),
        "files": {name: entries[name] for name in sorted(entries)},
    }
    body = _canonical(manifest)
    signature = base64.b64encode(key.sign(body)) + b"\n"
    return {MANIFEST_JSON: body, MANIFEST_SIG: signature}


def sign_documents(documents: Mapping[str, bytes], key, *, signed_at: str | None = None) -> dict[str, bytes]:
    """Sign documents held in memory (the outputs of a run, before they are written).

    Parameters
    ----------
    documents
        Relative name (``/`` separators) -> content.
    key
        A :class:`PrivateKey` (anything with ``.fingerprint`` and ``.sign(bytes) -> bytes``).
    signed_at
        The time to state (ISO 8601); now, in UTC, when omitted.

    Returns
    -------
    dict
        ``{"manifest.json": bytes, "manifest.sig": bytes}``, to be written beside the documents.

    Raises
    ------
    SignatureError
        A name is absolute, climbs out with ``..``, uses ``\\`` or is manifest.json / manifest.sig.
    """
    entries = {}
    for name, content in documents.items():
        _check_document_name(name)
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        entries[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return _signed_pair(entries, key, signed_at)


# --------------------------------------------------------------------------- reading the folder


def _walk(folder: Path) -> Iterator[tuple[str, str | None]]:
    """``(relative name, problem)`` for every non-hidden entry under ``folder`` that is not a
    folder, sorted by folder; ``problem`` is None for a regular file, else why it is not read."""
    pending = [(folder, "")]
    while pending:  # a stack, not recursion: a hostile folder may nest thousands deep
        current, prefix = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            yield prefix.rstrip("/") or ".", f"cannot be listed ({exc.strerror or type(exc).__name__})"
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = prefix + entry.name
            try:
                if entry.is_symlink():
                    yield relative, "is a symbolic link"
                elif entry.is_dir(follow_symlinks=False):
                    folders.append((Path(entry.path), relative + "/"))
                elif entry.is_file(follow_symlinks=False):
                    yield relative, None
                else:
                    yield relative, "is not a regular file (a pipe, socket or device)"
            except OSError as exc:
                yield relative, f"cannot be read ({exc.strerror or type(exc).__name__})"
        pending.extend(reversed(folders))


def _open_regular(path: Path) -> int:
    """A descriptor of ``path`` when it is a regular file reached without following a final link."""
    flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a regular file, read in chunks."""
    fd = _open_regular(path)
    digest = hashlib.sha256()
    size = 0
    try:
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest(), size


def _read_limited(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file, or None when it is larger than ``limit``."""
    fd = _open_regular(path)
    try:
        if os.fstat(fd).st_size > limit:
            return None
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return None if len(data) > limit else data


def _require_folder(folder: Path, hint: str) -> None:
    if not os.path.lexists(folder):
        raise SignatureError(f"{folder}: no such folder; {hint}.")
    if os.path.islink(folder):
        raise SignatureError(f"{folder}: is a symbolic link; give the folder itself.")
    if not folder.is_dir():
        raise SignatureError(f"{folder}: is not a folder; {hint}.")


# --------------------------------------------------------------------------- signing a folder


def sign_folder(folder: str | Path, key, *, signed_at: str | None = None) -> SignedFolder:
    """Sign every regular, non-hidden file under ``folder`` (recursively) and write
    ``manifest.json`` and ``manifest.sig`` into it (each atomically, replacing earlier ones).

    Parameters
    ----------
    folder
        The folder of outputs (``audit check --out``).
    key
        A :class:`PrivateKey`.
    signed_at
        The time to state (ISO 8601); now, in UTC, when omitted.

    Returns
    -------
    SignedFolder

    Raises
    ------
    SignatureError
        The folder is missing or holds nothing to sign; a symbolic link, special file or
        unreadable file is in it (named); a file name cannot be signed.
    OutputError
        The two files cannot be written.
    """
    from ..outputs import write_file

    root = Path(folder)
    _require_folder(root, "give the output folder of audit check")
    entries: dict[str, dict] = {}
    for relative, problem in _walk(root):
        if relative in _RESERVED:
            continue  # an earlier signature: replaced below
        if problem is not None:
            raise SignatureError(f"{root}: {relative} {problem}, so the folder cannot be signed; "
                                 "remove it or sign a folder without it.")
        _check_document_name(relative)
        try:
            sha256, size = _hash_file(root / relative)
        except OSError as exc:
            raise SignatureError(f"{root}: {relative} cannot be read ({exc.strerror or type(exc).__name__}), so the "
                                 "folder cannot be signed; fix its permissions.") from None
        entries[relative] = {"sha256": sha256, "size": size}
    if not entries:
        raise SignatureError(f"{root}: holds no files to sign (hidden files are never signed); "
                             "give the output folder of audit check.")
    pair = _signed_pair(entries, key, signed_at)
    hint = "sign a folder you can write to"
    write_file(root / MANIFEST_JSON, pair[MANIFEST_JSON], hint=hint)
    write_file(root / MANIFEST_SIG, pair[MANIFEST_SIG], hint=hint)
    stated = json.loads(pair[MANIFEST_JSON])["signed_at"]
    return SignedFolder(folder=root, files=tuple(sorted(entries)), key_fingerprint=key.fingerprint, signed_at=stated)


# --------------------------------------------------------------------------- checking a folder


def _parse_manifest(data: bytes) -> tuple[dict | None, str | None]:
    """The manifest document, or why it is not one."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "is not valid JSON"
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        return None, f"is not an auditkit manifest (format {MANIFEST_FORMAT})"
    files = doc.get("files")
    if not isinstance(files, dict):
        return None, "has no file list"
    for entry in files.values():
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and isinstance(entry.get("size"), int) and not isinstance(entry.get("size"), bool)):
            return None, "has a file entry without sha256 and size"
    return doc, None


def _listed_problem(root: Path, name: str) -> str | None:
    """Why the listed file ``name`` cannot be compared (missing, a link on the way, not a file)."""
    current = root
    parts = name.split("/")
    shown = _shown(name)
    for index, part in enumerate(parts):
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return f"{shown} is missing"
        except OSError as exc:
            return f"{shown} cannot be read ({exc.strerror or type(exc).__name__})"
        if stat.S_ISLNK(info.st_mode):
            where = "" if index == len(parts) - 1 else f" ({_shown('/'.join(parts[:index + 1]))})"
            return f"{shown} is a symbolic link{where}: refused"
        if index < len(parts) - 1 and not stat.S_ISDIR(info.st_mode):
            return f"{shown} is missing"
    if not stat.S_ISREG(info.st_mode):
        return f"{shown} is not a regular file: refused"
    return None


def verify_folder(folder: str | Path, public_key) -> FolderVerification:
    """Check that ``folder`` holds exactly the files its ``manifest.json`` lists, unchanged, and that
    the manifest is signed by ``public_key``.

    Every problem is reported, not just the first: a missing or bad signature (after which the
    file list is still compared, but not trusted), each listed file missing or changed, each
    non-hidden file present but not listed, symbolic links and special files (never read).

    Parameters
    ----------
    folder
        The signed folder.
    public_key
        A :class:`PublicKey` (anything with ``.fingerprint`` and ``.verify(message, signature)``).

    Returns
    -------
    FolderVerification

    Raises
    ------
    SignatureError
        The folder is missing or not a folder (the check cannot run).
    """
    root = Path(folder)
    _require_folder(root, "give the folder that was signed")
    fingerprint = public_key.fingerprint
    problems: list[str] = []
    not_signed = f"{MANIFEST_JSON} is not signed by this key (fingerprint {fingerprint})"

    manifest_bytes: bytes | None = None
    manifest_problem = _listed_problem(root, MANIFEST_JSON)
    if manifest_problem is None:
        try:
            manifest_bytes = _read_limited(root / MANIFEST_JSON, MANIFEST_LIMIT)
            if manifest_bytes is None:
                manifest_problem = f"{MANIFEST_JSON} is larger than {MANIFEST_LIMIT >> 20} MiB: not a manifest auditkit wrote"
        except OSError as exc:
            manifest_problem = f"{MANIFEST_JSON} cannot be read ({exc.strerror or type(exc).__name__})"
    if manifest_problem is not None:
        if manifest_problem == f"{MANIFEST_JSON} is missing":
            manifest_problem += f": the folder is not signed (audit sign {root} --key FILE signs it)"
        problems.append(manifest_problem)

    doc = None
    if manifest_bytes is not None:
        doc, shape_problem = _parse_manifest(manifest_bytes)
        claimed = doc.get("key_fingerprint") if doc is not None else None
        other_key = _shown(claimed, 80) if isinstance(claimed, str) and claimed != fingerprint else None
        signature = None
        sig_problem = _listed_problem(root, MANIFEST_SIG)
        if sig_problem is None:
            try:
                raw = _read_limited(root / MANIFEST_SIG, _SIG_LIMIT)
                if raw is not None:
                    signature = base64.b64decode(raw.strip(), validate=True)
            except (OSError, binascii.Error, ValueError):
                signature = None
        if signature is None or not public_key.verify(manifest_bytes, signature):
            detail = f": {sig_problem}" if sig_problem else ""
            if other_key:
                detail += f"; it names the key {other_key}"
            problems.append(not_signed + detail)
        elif other_key:
            problems.append(f"{MANIFEST_JSON} names another signing key ({other_key}) than the one that signed it")
        if shape_problem is not None:
            problems.append(f"{MANIFEST_JSON} {shape_problem}")

    listed: dict[str, dict] = dict(doc["files"]) if doc is not None else {}
    checked = 0
    for name in sorted(listed):
        expected = listed[name]
        bad_name = _name_problem(name)
        if bad_name is None and name in _RESERVED:
            bad_name = "is the name of the signature's own files"
        if bad_name is not None:
            problems.append(f"{MANIFEST_JSON} lists {_shown(repr(name))}, whose name {bad_name}: refused")
            continue
        problem = _listed_problem(root, name)
        if problem is not None:
            problems.append(problem)
            continue
        try:
            sha256, size = _hash_file(root / name)
        except OSError as exc:
            problems.append(f"{_shown(name)} cannot be read ({exc.strerror or type(exc).__name__})")
            continue
        checked += 1
        if size != expected["size"]:
            problems.append(f"{_shown(name)} was changed: {size} bytes, signed with {expected['size']}")
        elif sha256 != expected["sha256"]:
            problems.append(f"{_shown(name)} was changed: its SHA-256 differs from the signed one")

    for relative, problem in sorted(_walk(root), key=lambda item: item[0]):
        if relative in _RESERVED or relative in listed:
            continue
        if problem is not None:
            problems.append(f"{relative} {problem}: refused, and not covered by the signature")
        else:
            problems.append(f"{relative} is not covered by the signature")

    signed_at = doc.get("signed_at") if doc is not None and isinstance(doc.get("signed_at"), str) else None
    return FolderVerification(ok=not problems, files_checked=checked, key_fingerprint=fingerprint,
                              problems=tuple(problems), signed_at=signed_at)
