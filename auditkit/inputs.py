"""Opening input files from a folder auditkit does not trust.

Every file auditkit reads on a user's behalf -- policy, data, contract, reference data, model,
templates, a saved results.json -- comes through :func:`regular_file` first. It refuses what
is not a regular file (a FIFO would block forever, ``/dev/zero`` behind a symlink would grow
memory without bound, a socket cannot be read) and anything larger than the cap for its
kind, *before* a single byte is read. Caps are generous for real inputs and small for files
that are only ever text a person wrote; ``docs/security.md`` lists them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import AuditkitError, DataError

__all__ = ["LIMITS", "open_regular", "read_capped", "regular_file"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

#: The largest file of each kind auditkit opens, in bytes.
LIMITS: dict[str, int] = {
    "policy": 1 * MiB,  # a policy is a page of YAML written by a person
    "contract": 8 * MiB,
    "template": 2 * MiB,
    "results": 256 * MiB,  # a saved results.json
    "model": 8 * GiB,
    "data": 256 * GiB,  # data is read in full by pandas; the machine's memory is the real bound
}


def regular_file(path: str | Path, *, kind: str, what: str, error: type[AuditkitError] = DataError,
                 hint: str = "check the path", allow_empty: bool = True) -> Path:
    """Check that ``path`` is a readable regular file within the size cap of its ``kind``.

    Symbolic links are followed: what counts is the file they lead to.

    Returns
    -------
    Path
        The path, unchanged.

    Raises
    ------
    AuditkitError
        Of the class ``error``: the path does not exist, is a folder, a device, a FIFO or a
        socket, is larger than ``LIMITS[kind]``, cannot be read, or is empty when
        ``allow_empty`` is false. The message names the path and ``what`` it should be.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found; {hint}.") from None
    except OSError as exc:
        raise error(f"{path}: {what} cannot be opened ({exc.strerror or type(exc).__name__}); {hint}.") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a folder, not {what}; give the path of a file.")
    if not stat.S_ISREG(mode):
        kind_name = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                     else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise error(f"{path}: is {kind_name}, not {what}; auditkit reads regular files only, so copy the content into a file.")
    limit = LIMITS[kind]
    if info.st_size > limit:
        raise error(f"{path}: {what} is {_size(info.st_size)}, over auditkit's limit of {_size(limit)} for a {kind} file; "
                    "check that this is the right file.")
    if not allow_empty and info.st_size == 0:
        raise error(f"{path}: {what} is empty; {hint}.")
    if not os.access(path, os.R_OK):
        raise error(f"{path}: {what} is not readable (permission denied); fix its permissions or run as a user who may read it.")
    return path


def open_regular(path: str | Path, *, kind: str, what: str, error: type[AuditkitError] = DataError,
                 hint: str = "check the path", allow_empty: bool = True):
    """Open a file checked by :func:`regular_file` for binary reading, and check what was opened.

    Opened without blocking, and checked again on the descriptor: the path may have been
    swapped for a FIFO or a larger file since it was checked. The caller closes the handle.
    """
    path = regular_file(path, kind=kind, what=what, error=error, hint=hint, allow_empty=allow_empty)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"{path}: {what} cannot be opened ({exc.strerror or type(exc).__name__}); {hint}.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: is not a regular file, not {what}; auditkit reads regular files only.")
        if info.st_size > LIMITS[kind]:
            raise error(f"{path}: {what} is over auditkit's limit of {_size(LIMITS[kind])} for a {kind} file; "
                        "check that this is the right file.")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(path: str | Path, *, kind: str, what: str, error: type[AuditkitError] = DataError,
                hint: str = "check the path", allow_empty: bool = True) -> bytes:
    """The bytes of a regular file opened by :func:`open_regular`, never more than its cap."""
    limit = LIMITS[kind]
    with open_regular(path, kind=kind, what=what, error=error, hint=hint, allow_empty=allow_empty) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(f"{path}: {what} cannot be read ({exc.strerror or type(exc).__name__}); {hint}.") from None
    if len(data) > limit:  # the file grew after it was checked
        raise error(f"{path}: {what} is over auditkit's limit of {_size(limit)} for a {kind} file; check that this is the right file.")
    return data


def _size(n: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
