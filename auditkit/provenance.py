"""Provenance: what exactly was audited, with what, when — so a run can be reproduced.

Nothing here runs a program. The git commit is read from the repository's files in pure
Python, never by running ``git``: a repository shipped with the audited folder can configure
git to run any command (``core.fsmonitor``, ``core.hooksPath``, filters in ``.gitattributes``,
an ``includeIf`` config), and even ``git status`` would run it.
"""

from __future__ import annotations

import os
import platform
import re
import stat
import sys
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["git_commit", "now_iso", "package_versions", "platform_info"]

_PACKAGES = ("auditkit", "pandas", "numpy", "pandera", "fairlearn", "shap", "scikit-learn", "skops",
             "jinja2", "matplotlib", "pyarrow", "scipy")

_SMALL = 4096  # HEAD, a loose ref, a .git file, commondir
_PACKED_REFS = 64 * 1024 * 1024
_MAX_PARENTS = 256  # folders walked up looking for .git
_MAX_SYMREFS = 5
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
# refs that live in a worktree's own git dir rather than the common one (git-worktree(1))
_PER_WORKTREE = ("refs/bisect/", "refs/worktree/", "refs/rewritten/")


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages auditkit uses, from installed metadata (no program runs)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def platform_info() -> dict[str, str]:
    """Operating system and machine, from ``os.uname`` (``platform`` may run ``uname`` or ``ver``)."""
    if hasattr(os, "uname"):
        uname = os.uname()
        system, machine = uname.sysname, uname.machine
    else:  # Windows
        system = "Windows" if sys.platform == "win32" else sys.platform
        machine = os.environ.get("PROCESSOR_ARCHITECTURE", "")
    return {"system": system, "machine": machine, "python": sys.version.split()[0]}


def git_commit(folder: Path) -> dict | None:
    """The git commit checked out in the work tree holding ``folder``, read without running git.

    Finds the enclosing ``.git`` (a folder, or a ``gitdir:`` file as in worktrees and
    submodules), reads ``HEAD`` and resolves it through loose refs and ``packed-refs``. Only
    small regular files are read; nothing is executed and no git configuration is consulted.

    Returns
    -------
    dict or None
        ``{"commit": sha, "branch": name or None, "dirty": None}``: ``branch`` is None for a
        detached HEAD; ``dirty`` is None because telling uncommitted changes apart needs git
        itself (its index, filters and configuration), which auditkit does not run. None when
        ``folder`` is not in a git work tree, the branch has no commit yet, or the repository
        cannot be read (for example a ``reftable`` ref store).
    """
    try:
        found = _find_git_dir(Path(folder))
        if found is None:
            return None
        git_dir, common_dir = found
        head = _read_small(git_dir / "HEAD")
        if head is None:
            return None
        commit, branch = _resolve(head, git_dir, common_dir)
        if commit is None:
            return None
        return {"commit": commit, "branch": branch, "dirty": None}
    except (OSError, ValueError, UnicodeError, RuntimeError):
        return None


# ---------------------------------------------------------------- helpers


def _find_git_dir(folder: Path) -> tuple[Path, Path] | None:
    """(git dir, common dir) of the repository whose work tree holds ``folder``."""
    start = Path(os.path.abspath(folder))
    for i, candidate in enumerate((start, *start.parents)):
        if i > _MAX_PARENTS:
            return None
        dot_git = candidate / ".git"
        try:
            info = os.stat(dot_git)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            git_dir = dot_git
        elif stat.S_ISREG(info.st_mode):
            text = _read_small(dot_git)
            if text is None or not text.startswith("gitdir:"):
                return None
            target = text[len("gitdir:"):].strip()
            if not target or "\0" in target:
                return None
            git_dir = Path(target) if os.path.isabs(target) else candidate / target
            if not git_dir.is_dir():
                return None
        else:
            return None  # a FIFO, device or socket named .git: not a repository we read
        common_dir = git_dir
        common = _read_small(git_dir / "commondir")
        if common is not None:
            common = common.strip()
            if common and "\0" not in common:
                common_dir = Path(common) if os.path.isabs(common) else git_dir / common
                if not common_dir.is_dir():
                    return None
        return git_dir, common_dir
    return None


def _read_small(path: Path, limit: int = _SMALL) -> str | None:
    """The text of a small regular file, or None (missing, not regular, too big, not UTF-8)."""
    fd = _open_regular(path, limit)
    if fd is None:
        return None
    try:
        data = os.read(fd, limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > limit:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _valid_ref(name: str) -> bool:
    """A ref name auditkit will look up: under refs/, no '..', no hidden or empty components."""
    if not name.startswith("refs/") or len(name) > 1024:
        return False
    if any(ch in name for ch in "\0\\:?*[~^ \t\r\n") or name.endswith((".lock", "/", ".")):
        return False
    return all(part and not part.startswith(".") for part in name.split("/"))


def _resolve(head: str, git_dir: Path, common_dir: Path) -> tuple[str | None, str | None]:
    """(commit, branch) that HEAD's content points at."""
    text = head.strip()
    branch = None
    for _ in range(_MAX_SYMREFS):
        if _SHA.match(text):
            return text, branch
        if not text.startswith("ref:"):
            return None, branch
        name = text[len("ref:"):].strip()
        if not _valid_ref(name):
            return None, branch  # includes the "refs/heads/.invalid" of a reftable repository
        if branch is None:
            branch = name.removeprefix("refs/heads/")
        base = git_dir if name.startswith(_PER_WORKTREE) else common_dir
        loose = _read_small(base.joinpath(*name.split("/")))
        if loose is not None:
            text = loose.strip()
            continue
        return _packed_ref(common_dir / "packed-refs", name), branch
    return None, branch


def _open_regular(path: Path, limit: int) -> int | None:
    """A read-only descriptor of ``path`` if it is a regular file of at most ``limit`` bytes.

    Checked before opening (opening some devices has effects) and again on the descriptor
    (the file may have been swapped meanwhile); opened non-blocking so a FIFO cannot hang.
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
    except OSError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        return None
    return fd


def _packed_ref(path: Path, name: str) -> str | None:
    """The sha of ``name`` in a ``packed-refs`` file, or None."""
    fd = _open_regular(path, _PACKED_REFS)
    if fd is None:
        return None
    target = name.encode("utf-8")
    with os.fdopen(fd, "rb") as handle:
        read = 0
        while read <= _PACKED_REFS:
            line = handle.readline(_PACKED_REFS + 1 - read)
            if not line:
                return None
            read += len(line)
            if line.startswith((b"#", b"^")):
                continue
            sha, _, ref = line.rstrip(b"\r\n").partition(b" ")
            if ref == target:
                text = sha.decode("ascii", "replace")
                return text if _SHA.match(text) else None
    return None
