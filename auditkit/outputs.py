"""Writing auditkit's outputs atomically: one file, a set of files that switches as one, or a
whole folder.

Every file auditkit writes goes through this module:

* :func:`write_output_set` -- the outputs of ``audit check`` / ``audit demo`` (``report.html``,
  ``results.json``, ``junit.xml``, ``summary.md`` and the extra documents of the policy's
  packs), and documents a pack's command re-creates into an output folder;
* :func:`write_file` -- one file (``audit report -o``, ``audit schema infer -o``, ``audit init``);
* :func:`write_folder` -- a folder of files built as one unit (``audit demo``);
* :func:`append_text` -- text appended to a file another program owns (GitHub's job summary).

The protocol for a set, in the output folder ``OUT``:

1. Everything is rendered in memory by the caller first; an exception there writes nothing.
2. ``OUT/.auditkit.lock`` is locked (``flock``); a second run on the same folder waits up to
   :data:`LOCK_TIMEOUT` seconds (``AUDITKIT_LOCK_TIMEOUT``), then fails with exit code 2.
3. Staging folders and temporary files left in ``OUT`` by killed runs (``.auditkit-*``, older
   than this run) are removed.
4. Every file is written into a private staging folder ``OUT/.auditkit-stage-RUNID/`` and
   fsynced.
5. ``OUT/.auditkit-manifest.json`` is replaced by one that says ``"status": "writing"``.
6. Each file is renamed into place (a hard link of the file it replaces is kept in the staging
   folder). Files of the previous set that the new set does not contain are removed -- but only
   those the previous manifest lists *and* whose content still has the recorded SHA-256: a file
   auditkit did not write, or that someone changed since, is never deleted.
7. The manifest is replaced by the final one: ``"status": "complete"``, the run id, and every
   file of the set with its SHA-256 and size.

If any step fails, the previous files and manifest are put back and :class:`OutputError` is
raised; if even that fails, the manifest still says ``writing``. A run killed between steps 5 and
7 also leaves ``writing`` behind. Either way the folder is detectably mixed:
:func:`check_output_set` refuses it, and a CI job can check it (docs/ci.md).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Collection, Iterator, Mapping

from .errors import DataError, OutputError

__all__ = ["LOCK_NAME", "LOCK_TIMEOUT", "MANIFEST_NAME", "append_text", "check_output_set", "is_output_name",
           "output_lock", "read_manifest", "write_file", "write_folder", "write_output_set"]

#: The manifest of the output set in a folder.
MANIFEST_NAME = ".auditkit-manifest.json"
#: The lock file of an output folder (exists only while a run writes).
LOCK_NAME = ".auditkit.lock"
#: Seconds a run waits for another run writing to the same folder (env ``AUDITKIT_LOCK_TIMEOUT``).
LOCK_TIMEOUT = 60.0
MANIFEST_FORMAT = "auditkit-output-set"
MANIFEST_VERSION = 1
_MANIFEST_LIMIT = 1 << 20  # a manifest lists a handful of files
_RESERVED = ".auditkit-"  # names auditkit keeps for itself in an output folder
_NAME = re.compile(r"^[^/\\\x00]+$")
_HINT = "choose another output folder"


# --------------------------------------------------------------------------- encoding, hashing


def encode_output(content: str | bytes) -> bytes:
    """The bytes auditkit writes for ``content``: UTF-8; a lone surrogate (which UTF-8 cannot hold) becomes the visible text ``\\ud800``.

    In a JSON string that text is exactly the JSON escape of the same character.
    """
    if isinstance(content, bytes):
        return content
    return content.encode("utf-8", errors="backslashreplace")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    """The SHA-256 of a regular file (never through a symlink), or None when it is not one."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; nothing to sync there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (never an existing file or a symlink's target) with ``data``, fsynced."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o666)  # the umask applies, as for any file the user creates
    try:
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        os.close(fd)


def _temp_name(folder: Path, kind: str = "tmp") -> Path:
    return folder / f"{_RESERVED}{kind}-{os.getpid()}-{secrets.token_hex(6)}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__


# --------------------------------------------------------------------------- the lock


def _lock_timeout() -> float:
    value = os.environ.get("AUDITKIT_LOCK_TIMEOUT")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    return LOCK_TIMEOUT


try:  # pragma: no branch
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False


@contextmanager
def output_lock(folder: str | Path, *, hint: str = _HINT) -> Iterator[None]:
    """Hold the lock of an output folder (which must exist) for the duration of the block.

    The lock file is removed when the block ends; a run that locked a lock file removed
    meanwhile notices (the path no longer leads to the file it holds) and locks again.

    Raises
    ------
    OutputError
        Another run held the lock for longer than the timeout, or the lock cannot be created.
    """
    out = Path(folder)
    path = out / LOCK_NAME
    timeout = _lock_timeout()
    deadline = time.monotonic() + timeout
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        try:
            fd = os.open(path, flags, 0o666)
        except OSError as exc:
            raise OutputError(f"{out}: cannot lock the output folder ({_reason(exc)}); {hint} or fix its permissions.") from None
        try:
            locked = _try_lock(fd)
            if locked:
                try:
                    current = os.stat(path, follow_symlinks=False)
                    held = os.fstat(fd)
                    same = (current.st_ino, current.st_dev) == (held.st_ino, held.st_dev)
                except OSError:
                    same = False
                if same:
                    break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        if locked:
            continue  # the previous holder removed the file we locked: lock the new one
        if time.monotonic() >= deadline:
            raise OutputError(f"{out}: another auditkit run is writing to this folder and did not finish within "
                              f"{timeout:g} s; wait for it to finish or {hint}.")
        time.sleep(0.05)
    try:
        yield
    finally:
        try:
            os.unlink(path)  # while still locked, so no other run can hold this file
        except OSError:
            pass
        os.close(fd)


# --------------------------------------------------------------------------- the manifest


def read_manifest(folder: str | Path) -> dict | None:
    """The manifest of the output set in ``folder``; None without one.

    Raises
    ------
    DataError
        A manifest is there but is not one auditkit wrote (unreadable, not JSON, wrong shape).
    """
    path = Path(folder) / MANIFEST_NAME
    if not os.path.lexists(path):
        return None
    where = Path(folder)
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MANIFEST_LIMIT:
            raise ValueError("not a regular file of a manifest's size")
        with open(path, "rb") as handle:
            manifest = json.loads(handle.read(_MANIFEST_LIMIT + 1).decode("utf-8"))
        files = manifest["files"]
        if not isinstance(manifest.get("status"), str) or not isinstance(files, list):
            raise ValueError("no status or files")
        for entry in files + list(manifest.get("replacing") or []):
            if not (isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("sha256"), str)):
                raise ValueError("a file entry without name or sha256")
            if not is_output_name(entry["name"]):  # "../data.csv" or "/etc/x" would reach outside the folder
                raise ValueError("a file entry outside the folder")
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise DataError(f"{where}: its output manifest {MANIFEST_NAME} is damaged, so the outputs in it cannot be "
                        "trusted to belong together; rerun audit check.") from None
    return manifest


def check_output_set(results_path: str | Path) -> None:
    """Refuse a ``results.json`` whose folder holds a mixed or incomplete set of outputs.

    With no manifest beside the file (a results.json copied elsewhere), the file is accepted.
    Otherwise the manifest must say ``complete`` and every file it lists that is present must
    still have the recorded SHA-256 (a file deleted since is not a mix).

    Raises
    ------
    DataError
        Naming the folder: an interrupted run left the set half switched, or a listed file was
        replaced since (e.g. results.json copied over another run's outputs).
    """
    path = Path(results_path)
    folder = path.parent if str(path.parent) else Path(".")
    manifest = read_manifest(folder)
    if manifest is None:
        return
    problem = None
    if manifest.get("status") != "complete":
        problem = f"the manifest says '{manifest.get('status')}'"
    else:
        for entry in manifest["files"]:
            target = folder / entry["name"]
            if not os.path.lexists(target):
                continue
            if _file_sha256(target) != entry["sha256"]:
                problem = f"{entry['name']} is not the file that run wrote: replaced or changed since"
                break
    if problem:
        raise DataError(f"{folder}: holds a mixed or incomplete set of outputs from an interrupted run ({problem}); "
                        "rerun audit check.")


def _manifest_doc(status: str, run_id: str, files: dict[str, dict], replacing: list[dict] | None = None) -> bytes:
    from ._version import __version__

    doc = {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "status": status, "run_id": run_id,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "auditkit": __version__,
        "files": [files[name] for name in sorted(files)],
    }
    if replacing is not None:
        doc["replacing"] = replacing
    return (json.dumps(doc, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def _put_manifest(out: Path, stage: Path, data: bytes) -> None:
    tmp = stage / f"manifest-{secrets.token_hex(4)}"
    _write_new(tmp, data)
    os.replace(tmp, out / MANIFEST_NAME)
    _fsync_dir(out)


# --------------------------------------------------------------------------- the folder


def missing_folders(path: Path) -> list[Path]:
    """The folders ``path.mkdir(parents=True)`` would create, shallowest first."""
    missing = []
    probe = path
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    return list(reversed(missing))


def remove_created(created: list[Path]) -> None:
    """Remove folders a failed write created (from :func:`missing_folders`), deepest first, if empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()  # only when empty: never anything else
        except OSError:
            break


def _make_folder(out: Path, hint: str) -> list[Path]:
    """Create ``out`` (and missing parents); the folders created, shallowest first."""
    missing = missing_folders(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({_reason(exc)}); {hint}.") from None
    if not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; {hint}.")
    return missing


def _clean_stale(out: Path, before: float) -> None:
    """Remove staging folders and temporary files killed runs left in ``out``.

    Only names auditkit reserves (``.auditkit-*``, never the manifest) and only entries older
    than ``before``: the caller holds the folder's lock, so no live run is writing them.
    """
    try:
        entries = list(os.scandir(out))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(_RESERVED) or entry.name == MANIFEST_NAME:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if info.st_mtime >= before:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def is_output_name(name: str) -> bool:
    """A file name directly inside the folder, and not one auditkit keeps for itself."""
    return bool(_NAME.match(name)) and name not in (".", "..") and not name.startswith(_RESERVED) and name != LOCK_NAME


def _check_names(documents: Mapping[str, object]) -> None:
    for name in documents:
        if not is_output_name(name):
            raise ValueError(f"not a plain output file name: {name!r}")


def _backup(target: Path, backup: Path) -> None:
    """Keep the file ``target`` at ``backup`` without moving it (a hard link, else a copy)."""
    try:
        os.link(target, backup, follow_symlinks=False)
    except (OSError, NotImplementedError):
        if os.path.islink(target):
            os.symlink(os.readlink(target), backup)
        else:
            shutil.copy2(target, backup, follow_symlinks=False)


# --------------------------------------------------------------------------- the set


def write_output_set(folder: str | Path, documents: Mapping[str, str | bytes], *, replace_set: bool = True,
                     removable: Collection[str] = (), hint: str = _HINT) -> list[Path]:
    """Write rendered documents into ``folder`` so that they switch in as one set.

    Parameters
    ----------
    folder
        The output folder; created when missing.
    documents
        File name -> content (text is written as UTF-8).
    replace_set
        True (``audit check``): the documents are the whole new set; files of the previous set
        that it does not contain are removed when the previous manifest vouches for them.
        False (``audit ll144 -o``, one file re-rendered into an output folder): the documents
        are added to, or replace files in, the set already there.
    removable
        With ``replace_set``: the only file names an earlier set may have left that this one
        may remove (the names this kind of set can ever hold). A manifest is a file in a folder
        auditkit does not control, so it cannot on its own make auditkit delete ``data.csv``.
    hint
        What the user can do, for error messages ("choose another folder with --out").

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    OutputError
        The folder cannot be created, locked or written; the previous set is left in place
        (or, if even that fails, the manifest says ``writing``).
    ValueError
        A document name is not a plain file name (:func:`is_output_name`): a programming error.
    """
    out = Path(folder)
    _check_names(documents)
    data = {name: encode_output(content) for name, content in documents.items()}
    created = _make_folder(out, hint)
    try:
        with output_lock(out, hint=hint):
            _switch(out, data, replace_set=replace_set, removable=frozenset(removable), hint=hint)
    except BaseException:
        remove_created(created)
        raise
    return [out / name for name in data]


def _switch(out: Path, data: dict[str, bytes], *, replace_set: bool, removable: frozenset[str], hint: str) -> None:
    started = time.time()
    run_id = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(started))}-{secrets.token_hex(4)}"
    manifest_path = out / MANIFEST_NAME
    try:
        previous = read_manifest(out)
    except DataError:
        previous = None  # a damaged manifest vouches for nothing; it is replaced below
    previous_bytes = None  # to put back if this run fails
    if previous is not None:
        try:
            previous_bytes = manifest_path.read_bytes()
        except OSError:
            pass
    _clean_stale(out, started)

    stage = out / f"{_RESERVED}stage-{run_id}"
    try:
        os.mkdir(stage, 0o700)
        (stage / "new").mkdir()
        (stage / "old").mkdir()
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise OutputError(f"{out}: the output folder is not writable ({_reason(exc)}); {hint} or fix its permissions.") from None

    entries = {name: {"name": name, "sha256": _sha256(blob), "bytes": len(blob)} for name, blob in data.items()}
    previous_files = {e["name"]: e for e in (previous or {}).get("files", [])}
    # What earlier runs wrote: the files of the last set, and those an interrupted run was replacing.
    owned: dict[str, set[str]] = {}
    for entry in [*(previous or {}).get("files", []), *((previous or {}).get("replacing") or [])]:
        owned.setdefault(entry["name"], set()).add(entry["sha256"])
    if replace_set:
        final = entries
        status = "complete"
    else:
        final = {**{n: e for n, e in previous_files.items() if n not in entries}, **entries}
        status = "complete" if previous is None or previous.get("status") == "complete" else "incomplete"

    replaced: list[tuple[str, bool]] = []
    removed: list[str] = []
    keep_stage = False
    try:
        for name, blob in data.items():
            _write_new(stage / "new" / name, blob)
        _fsync_dir(stage / "new")
        replacing = [{"name": n, "sha256": s} for n in sorted(owned) for s in sorted(owned[n])]
        _put_manifest(out, stage, _manifest_doc("writing", run_id, final, replacing))
        try:
            for name in data:
                target = out / name
                existed = os.path.lexists(target)
                if existed:
                    if os.path.isdir(target) and not os.path.islink(target):
                        raise OutputError(f"{target}: is a folder, so the output {name} cannot be written there; {hint}.")
                    _backup(target, stage / "old" / name)
                os.replace(stage / "new" / name, target)
                replaced.append((name, existed))
            if replace_set:
                for name in sorted(owned):
                    if name in data or name not in removable:
                        continue
                    target = out / name
                    if _file_sha256(target) in owned[name]:  # still the file an earlier run wrote
                        os.replace(target, stage / "old" / name)
                        removed.append(name)
            _fsync_dir(out)
            _put_manifest(out, stage, _manifest_doc(status, run_id, final))
        except BaseException as exc:
            restored = _rollback(out, stage, replaced, removed, previous_bytes)
            keep_stage = not restored
            if isinstance(exc, OutputError):
                raise
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt, SystemExit: after putting things back
            state = ("the previous outputs were put back" if restored else
                     f"the previous outputs could not all be put back (copies kept in {stage.name}) and the folder is "
                     "marked as incomplete")
            raise OutputError(f"{out}: writing the outputs failed ({_reason(exc)}); {state}; {hint}.") from None
    except OSError as exc:  # writing the staged files or the first manifest: nothing switched yet
        raise OutputError(f"{out}: writing the outputs failed ({_reason(exc)}); the previous outputs were left as they "
                          f"were; {hint}.") from None
    finally:
        if not keep_stage:
            shutil.rmtree(stage, ignore_errors=True)


def _rollback(out: Path, stage: Path, replaced: list[tuple[str, bool]], removed: list[str],
              previous_manifest: bytes | None) -> bool:
    """Put the previous files and manifest back; True when everything was restored."""
    ok = True
    for name in reversed(removed):
        try:
            os.replace(stage / "old" / name, out / name)
        except OSError:
            ok = False
    for name, existed in reversed(replaced):
        try:
            if existed:
                os.replace(stage / "old" / name, out / name)
            else:
                os.unlink(out / name)
        except OSError:
            ok = False
    if not ok:
        return False  # keep the manifest saying "writing": the folder is detectably mixed
    try:
        if previous_manifest is None:
            (out / MANIFEST_NAME).unlink(missing_ok=True)
        else:
            _put_manifest(out, stage, previous_manifest)
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- one file


def _listed(folder: Path, name: str) -> bool:
    try:
        manifest = read_manifest(folder)
    except DataError:
        return False
    return manifest is not None and any(entry["name"] == name for entry in manifest["files"])


def write_file(path: str | Path, content: str | bytes, *, overwrite: bool = True,
               hint: str = "choose another path") -> Path:
    """Write one file atomically: a temporary file beside it, fsynced, then renamed into place.

    The temporary file never outlives the call, whatever fails. With ``overwrite=False`` an
    existing file is never replaced, even one created while writing (``audit init``). When the
    folder's output manifest lists a file of that name (``audit report -o OUT/report.html``),
    the file replaces it as a partial update of that set, under the folder's lock.

    Raises
    ------
    OutputError
        The folder cannot be created or written, ``path`` is a folder, or (without
        ``overwrite``) ``path`` exists.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    data = encode_output(content)
    if path.name in ("", ".", "..") or path.name.startswith(_RESERVED) or path.name == LOCK_NAME:
        raise OutputError(f"{path}: is not a file name auditkit can write; {hint}.")
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a folder; {hint}.")
    if not overwrite and os.path.lexists(path):
        raise OutputError(f"{path}: already exists and is never overwritten; move it away or {hint}.")
    if overwrite and _listed(folder, path.name):  # e.g. report.html re-rendered in place: update the set
        write_output_set(folder, {path.name: data}, replace_set=False, hint=hint)
        return path
    created = _make_folder(folder, hint)
    tmp = _temp_name(folder)
    done = False
    try:
        _write_new(tmp, data)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if path exists: never replaces a file made meanwhile
            except FileExistsError:
                raise OutputError(f"{path}: already exists and is never overwritten; move it away or {hint}.") from None
            except (OSError, NotImplementedError):  # no hard links here: claim the name, then replace it
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
                os.close(fd)
                os.replace(tmp, path)
        _fsync_dir(folder)
        done = True
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({_reason(exc)}); {hint}.") from None
    finally:
        try:
            os.unlink(tmp)  # gone already after a rename; removed on any failure
        except OSError:
            pass
        if not done:
            remove_created(created)
    return path


def append_text(path: str | Path, text: str) -> None:
    """Append ``text`` to a file another program owns and reads, such as GitHub's job summary.

    Text is written as UTF-8, a lone surrogate as the visible text ``\\ud800``. Appending is
    not atomic: the file belongs to the other program, which created it.

    Raises
    ------
    OutputError
        The file cannot be opened or written.
    """
    try:
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be appended to ({_reason(exc)}).") from None


# --------------------------------------------------------------------------- a folder


_FOLDER_STAGING = ".auditkit-folder-"
_STALE_FOLDER_AFTER = 3600.0  # seconds: a staging folder this old belongs to a killed run


def write_folder(folder: str | Path, files: Mapping[str, str | bytes], *, hint: str = "choose another folder") -> list[Path]:
    """Write ``files`` into ``folder`` all or nothing.

    Every file is written and fsynced in a staging folder on the same file system -- beside
    ``folder`` when it does not exist yet, which is then renamed into place in one step; inside
    it when it does, and the files are then switched in one by one, the files they replace kept
    until the end and put back if a step fails. Other files in an existing ``folder`` are left
    alone.

    Parameters
    ----------
    folder
        The folder to write into; created (with missing parents) when missing.
    files
        Path relative to ``folder`` (``/``-separated, sub-folders allowed) -> content (text is
        written as UTF-8).
    hint
        What the user can do, for error messages.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    OutputError
        The folder cannot be created or written; it was left as it was.
    ValueError
        A path is absolute, climbs out with ``..`` or names a file auditkit keeps for itself:
        a programming error.
    """
    root = Path(folder)
    data = {_relative_path(name): encode_output(content) for name, content in files.items()}
    if os.path.lexists(root) and not root.is_dir():
        raise OutputError(f"{root}: exists and is not a folder; {hint}.")
    staging, created = _staging_folder(root, hint)
    try:
        try:
            for relative, blob in data.items():
                (staging / relative).parent.mkdir(parents=True, exist_ok=True)
                _write_new(staging / relative, blob)
        except OSError as exc:
            raise OutputError(f"{root}: writing the folder failed ({_reason(exc)}); it was left as it was; {hint}.") from None
        _switch_folder_in(staging, root, hint)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        remove_created(created)
        raise
    shutil.rmtree(staging, ignore_errors=True)  # gone already when it was renamed into place
    return [root / relative for relative in data]


def _relative_path(name: str) -> Path:
    parts = name.split("/")
    if not name or any(not is_output_name(part) for part in parts):
        raise ValueError(f"not a relative path of plain file names: {name!r}")
    return Path(*parts)


def _staging_folder(root: Path, hint: str) -> tuple[Path, list[Path]]:
    """A fresh staging folder on the same file system as ``root``, and the folders created for it.

    Beside ``root`` (``.NAME.auditkit-folder-XXXX``) when ``root`` does not exist yet, so that the
    finished folder is renamed into place in one step; inside it when it does.
    """
    exists = root.is_dir()
    parent = root if exists else (root.parent if str(root.parent) else Path("."))
    prefix = _FOLDER_STAGING if exists else f".{root.name}{_FOLDER_STAGING}"
    created = missing_folders(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_folders(parent, prefix)
        while True:
            staging = parent / f"{prefix}{secrets.token_hex(6)}"
            try:
                os.mkdir(staging, 0o777)  # the umask applies, as for any folder the user creates
                return staging, created
            except FileExistsError:
                continue
    except OSError as exc:
        remove_created(created)
        raise OutputError(f"{root}: cannot create the folder ({_reason(exc)}); {hint}.") from None


def _remove_stale_folders(parent: Path, prefix: str) -> None:
    """Staging folders of runs that were killed (older than an hour)."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        try:
            if (entry.name.startswith(prefix) and entry.is_dir(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_mtime < time.time() - _STALE_FOLDER_AFTER):
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass


def _switch_folder_in(staging: Path, root: Path, hint: str) -> None:
    """Move the staged files into ``root``: one rename when ``root`` does not exist, else file by
    file with the files they replace kept until the end and put back if a step fails."""
    if not root.is_dir():
        try:
            os.rename(staging, root)
            return
        except OSError:
            if not root.is_dir():
                raise OutputError(f"{root}: cannot create the folder; {hint}.") from None
            # created meanwhile: fall through and merge
    files = sorted(p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
    backups = staging / ".replaced"
    done: list[tuple[Path, bool]] = []
    made: list[Path] = []
    try:
        for relative in files:
            target = root / relative
            for folder in reversed(target.parents):
                if folder != root and root in folder.parents and not folder.is_dir():
                    folder.mkdir()
                    made.append(folder)
            existed = os.path.lexists(target)
            if existed:
                if target.is_dir() and not target.is_symlink():
                    raise OutputError(f"{target}: is a folder, so the file {relative.as_posix()} cannot be written there; {hint}.")
                (backups / relative).parent.mkdir(parents=True, exist_ok=True)
                _backup(target, backups / relative)  # a hard link: the old file stays in place until replaced
            os.replace(staging / relative, target)
            done.append((relative, existed))
        _fsync_dir(root)
    except BaseException as exc:
        for relative, existed in reversed(done):
            try:
                if existed:
                    os.replace(backups / relative, root / relative)
                else:
                    os.unlink(root / relative)
            except OSError:
                pass
        remove_created(made)
        if isinstance(exc, OSError):
            raise OutputError(f"{root}: writing the folder failed ({_reason(exc)}); its earlier files were put back; "
                              f"{hint}.") from None
        raise
