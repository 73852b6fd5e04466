"""Loading model files safely, and running the code of a loaded model.

``.skops`` files go through skops' type audit: types skops does not trust by default are
refused, listed by name, unless the policy trusts them. Before skops reads a byte of one, the
zip container is checked (entry count, declared and *actual* uncompressed sizes, compression
ratio, the numpy arrays' declared shapes, nested ``.npz`` archives, how often ``schema.json``
refers to each entry), so a zip bomb is refused for the cost of reading its directory.

``.pkl``/``.pickle``/``.joblib`` files execute code when loaded, so they are never opened
without explicit trust (``model.trust: true`` or ``--trust-model``). A plain pickle may also be
trusted type by type: auditkit then simulates the pickle's stack machine over its whole opcode
stream without executing any of it, and lists every global the pickle would import. Anything
the simulation cannot pin down -- an import whose name is not a plain string, the copyreg
extension registry, persistent ids, a malformed stream, data after the end -- makes the file
unverifiable, and it is refused. Trusting a type means trusting what the pickle can do with
it; trusted code (``--trust-model``, or a trusted type's own code) runs with the auditor's
privileges and can do anything Python can, ``os._exit`` included.

Every model file is checked by :func:`auditkit.inputs.regular_file` and then opened exactly
once: the bytes that are checked are the bytes that are loaded and hashed.

Whatever model code raises -- when it is loaded, when an attribute is read, when it predicts --
including ``SystemExit`` and other ``BaseException`` subclasses (only ``KeyboardInterrupt``, the
user's interrupt, goes through), becomes a :class:`~auditkit.errors.ModelError` that names the
model file: see :func:`run_model_code`.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import AuditkitError, ModelError, UntrustedModelError
from .inputs import LIMITS, regular_file
from .sanitize import one_line, short_repr

__all__ = ["LoadedModel", "describe_exception", "load_model", "pickle_globals", "run_model_code"]

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle")
JOBLIB_SUFFIXES = (".joblib",)

MiB, GiB = 1 << 20, 1 << 30

#: Limits on the zip container of a ``.skops`` file (documented in docs/security.md).
ZIP_MAX_ENTRIES = 250_000  # a 1,000-tree gradient boosting model has ~4,000
ZIP_MAX_CENTRAL_DIRECTORY = 64 * MiB
ZIP_MAX_TOTAL = 2 * GiB  # uncompressed bytes of all entries (and of all entries skops reads)
ZIP_MAX_ENTRY = 2 * GiB
ZIP_MAX_SCHEMA = 256 * MiB  # schema.json of a 1,000-tree gradient boosting model is ~21 MB
ZIP_MAX_RATIO = 200  # uncompressed / compressed, for entries (and archives) larger than:
ZIP_RATIO_FROM = 1 * MiB
ZIP_MAX_NESTED = 512 * MiB  # an .npz archive inside the .skops file (scipy sparse matrices)

T = TypeVar("T")


# ---------------------------------------------------------------------------- model code


def describe_exception(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` of an exception raised by model code, short, on one line, never raising.

    The message is model code too (``__str__`` may raise, loop or return megabytes), so it is
    computed defensively and cut before it is cleaned.
    """
    try:
        name = type(exc).__name__
        if not isinstance(name, str):
            name = "exception"
    except Exception:  # noqa: BLE001 - a hostile metaclass
        name = "exception"
    try:
        text = str(exc)
        text = text[: limit * 4] if isinstance(text, str) else ""
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - str() of a hostile exception
        text = "(message not printable)"
    text = one_line(text, limit)
    return one_line(f"{name}: {text}" if text else name, limit + 40)


def run_model_code(path: Any, doing: str, fn: Callable[[], T], *, hint: str | None = None,
                   error: type[AuditkitError] = ModelError) -> T:
    """Call ``fn`` (code that runs the model's own code) and turn whatever it raises into ``error``.

    ``SystemExit``, ``GeneratorExit`` and any other ``BaseException`` are converted too, so model
    code can neither end the process with an exit code of its choice nor escape as an
    exception auditkit does not expect; only ``KeyboardInterrupt`` (the user's interrupt)
    propagates.

    Parameters
    ----------
    path : path or str
        The model file (named first in the message).
    doing : str
        What failed, e.g. ``"predict_proba() failed to predict"`` or ``"reading its classes_
        attribute failed"``; the reason follows in parentheses.
    fn : callable
        No arguments; its result is returned.
    hint : str, optional
        What to do, ending the message.
    error : AuditkitError subclass
        The exception class raised.
    """
    try:
        return fn()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - model code may raise anything
        reason = describe_exception(exc)
    raise error(f"{path}: the model could not run: {doing} ({reason}); "
                f"{hint or 'check that the model and the data belong together, and that you trust the model file'}.")


# ---------------------------------------------------------------------------- loaded models


@dataclass(frozen=True)
class LoadedModel:
    """A model object together with where it came from."""

    estimator: Any
    path: Path
    sha256: str
    format: str
    trusted_types: tuple[str, ...] = ()

    @property
    def type_name(self) -> str:
        try:
            cls = type(self.estimator)
            name = f"{cls.__module__}.{cls.__qualname__}"
            return one_line(name, 200) if isinstance(name, str) else "(unknown type)"
        except Exception:  # noqa: BLE001 - a hostile metaclass
            return "(unknown type)"

    @property
    def description(self) -> str:
        est = self.estimator

        def describe() -> str:
            steps = getattr(est, "steps", None)
            if steps and isinstance(steps, (list, tuple)) and len(steps) <= 100:
                return "Pipeline(" + " → ".join(type(s[1]).__name__ for s in steps) + ")"
            return type(est).__name__

        try:
            text = describe()
            return one_line(text, 300) if isinstance(text, str) else "(unknown model)"
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - a hostile 'steps' property
            try:
                return one_line(type(est).__name__, 300)
            except Exception:  # noqa: BLE001
                return "(unknown model)"


def load_model(path: str | Path, *, trust: bool | tuple[str, ...] | list[str] = False) -> LoadedModel:
    """Load a model file, refusing code it was not told to trust.

    Parameters
    ----------
    path : str or Path
        A ``.skops``, ``.pkl``/``.pickle`` or ``.joblib`` file.
    trust : bool or sequence of str
        ``True`` trusts everything in the file; a sequence trusts those type names only.

    Raises
    ------
    UntrustedModelError
        The file needs types that are not trusted (the message lists them), or it is a pickle
        whose imports cannot be verified without running it.
    ModelError
        The file is missing, not a regular file, too large, corrupt, a zip bomb, of an unknown
        kind, holds no usable model, or its code raised while it was loaded.
    """
    path = Path(path)
    regular_file(path, kind="model", what="model file", error=ModelError,
                 hint="check model.path in the policy or --model")
    suffix = path.suffix.lower()
    if suffix not in SKOPS_SUFFIXES + PICKLE_SUFFIXES + JOBLIB_SUFFIXES:
        raise ModelError(f"{path}: unknown model file type {short_repr(suffix, 20)}; save the model with skops (.skops) or, "
                         "if you trust it, joblib (.joblib).")
    trusted_names = tuple(trust) if isinstance(trust, (list, tuple)) else ()
    with _open_model_file(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise ModelError(f"{path}: the model file is empty; save the model again.")
        if suffix in SKOPS_SUFFIXES:
            estimator, used, digest = _load_skops(handle, path, size, trust)
            fmt = "skops"
        elif suffix in PICKLE_SUFFIXES:
            (estimator, digest), used = _load_pickle(handle, path, trust), trusted_names
            fmt = "pickle"
        else:
            (estimator, digest), used = _load_joblib(handle, path, trust), trusted_names
            fmt = "joblib"
    usable = run_model_code(path, "checking for a predict method failed",
                            lambda: hasattr(estimator, "predict") or hasattr(estimator, "predict_proba"))
    if not usable:
        raise ModelError(f"{path}: holds a {_type_name(estimator)}, which has no predict(); save a fitted estimator or Pipeline.")
    return LoadedModel(estimator=estimator, path=path.resolve(), sha256=digest, format=fmt,
                       trusted_types=tuple(used))


def _type_name(obj: Any) -> str:
    try:
        return one_line(type(obj).__name__, 100)
    except Exception:  # noqa: BLE001
        return "object"


class _open_model_file:
    """Open a checked model file once, without blocking, and check what was opened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = None

    def __enter__(self):
        path = self.path
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise ModelError(f"{path}: the model file cannot be opened ({exc.strerror or type(exc).__name__}); "
                             "check model.path in the policy or --model.") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # replaced after it was checked
                raise ModelError(f"{path}: is not a regular file, not a model file; auditkit reads regular files only.")
            if info.st_size > LIMITS["model"]:
                raise ModelError(f"{path}: the model file is over auditkit's limit for a model file; check that this is the right file.")
            self.handle = os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        return self.handle

    def __exit__(self, *exc) -> None:
        self.handle.close()


def _sha256(handle, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(chunk_size), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _reason(exc: BaseException) -> str:
    return describe_exception(exc, 160)


# ---------------------------------------------------------------------------- skops


def _load_skops(handle, path: Path, size: int, trust) -> tuple[Any, tuple[str, ...], str]:
    check_skops_archive(handle, size, path)
    import skops.io as sio

    handle.seek(0)
    try:
        untrusted = list(sio.get_untrusted_types(file=handle))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - skops and whatever it calls
        raise ModelError(f"{path}: is not a readable skops file ({_reason(exc)}); save the model again with skops.io.dump.") from None
    if trust is True:
        allowed = untrusted
    else:
        allowed = [t for t in untrusted if t in set(trust or ())]
        refused = [t for t in untrusted if t not in allowed]
        if refused:
            shown = ", ".join(short_repr(t, 120)[1:-1] for t in refused[:20]) + (" …" if len(refused) > 20 else "")
            raise UntrustedModelError(
                f"{path}: the model needs types skops does not trust by default: {shown}; "
                "if you trust this file, list them under model.trust in the policy (or pass --trust-model).",
                refused)
    digest = _sha256(handle)
    try:
        estimator = sio.load(handle, trusted=allowed)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - trusted types' code may raise anything
        raise ModelError(f"{path}: could not be loaded by skops ({_reason(exc)}); save the model again with skops.io.dump.") from None
    return estimator, tuple(allowed), digest


def check_skops_archive(handle, size: int, path: Any) -> None:
    """Refuse a ``.skops`` zip that would cost far more to read than its size suggests.

    Checked before skops reads anything: the number of entries and the size of the central
    directory; every entry's declared uncompressed size (each and in total), its compression
    method (stored or deflate only: zipfile decompresses bzip2 and lzma entries in one
    unbounded step), its compression ratio; that entries do not overlap; the *actual*
    decompressed size of every deflated entry, by decompressing it in bounded steps (zipfile
    cuts an entry's output at its declared size only after decompressing a block of up to
    2 GiB); the shapes numpy arrays declare against the bytes that hold them (numpy allocates
    the declared shape before reading); ``.npz`` archives inside the file, the same way; and
    the bytes skops would read through ``schema.json``'s references to entries.

    Raises
    ------
    ModelError
        The message names the file and the limit that was hit.
    """
    _ZipCheck(path).archive(handle, size)


class _ZipCheck:
    def __init__(self, path: Any) -> None:
        self.path = path
        self._headers: dict[tuple, int] = {}  # parsed .npy headers: many arrays share one

    def refuse(self, what: str) -> ModelError:
        return ModelError(f"{self.path}: {what}; auditkit refuses it before loading (a possible zip bomb), "
                          "so save the model again with skops.io.dump.")

    # -- one archive (the .skops file, or an .npz inside it) --------------------------
    def archive(self, fp, size: int, nested: bool = False) -> dict[str, int]:
        """Check an archive; returns, per entry name, the bytes reading it costs (nested included)."""
        import zipfile

        where = "the .npz archive inside it" if nested else "the skops file"
        # zipfile's own end-of-directory reader, to see the directory's size before it is parsed
        # into one object per entry (if a Python version lacks it, zipfile's parse decides alone).
        find_end = getattr(zipfile, "_EndRecData", None)
        if find_end is not None:
            try:
                fp.seek(0)
                end = find_end(fp)
            except Exception:  # noqa: BLE001 - OSError, struct.error on a damaged file
                end = None
            if not end:
                raise ModelError(f"{self.path}: is not a readable skops file ({where} is not a zip archive); "
                                 "save the model again with skops.io.dump.")
            entries, directory = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # noqa: SLF001
            if entries > ZIP_MAX_ENTRIES:
                raise self.refuse(f"{where} declares {entries:,} entries, over auditkit's limit of {ZIP_MAX_ENTRIES:,}")
            if directory > min(ZIP_MAX_CENTRAL_DIRECTORY, size):
                raise self.refuse(f"{where} declares a {directory:,}-byte directory, larger than the file or "
                                  f"auditkit's limit of {ZIP_MAX_CENTRAL_DIRECTORY // MiB} MiB")
        try:
            fp.seek(0)
            archive = zipfile.ZipFile(fp)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - BadZipFile, NotImplementedError, struct errors...
            raise ModelError(f"{self.path}: is not a readable skops file ({where}: {_reason(exc)}); "
                             "save the model again with skops.io.dump.") from None
        infos = archive.infolist()
        self.entries(infos, size, where)
        costs: dict[str, int] = {}
        for info in infos:
            if info.compress_type == zipfile.ZIP_DEFLATED:
                self.inflated_size(fp, size, info, where)
            costs[info.filename] = info.file_size + self.content(archive, info, where, nested)
        if not nested:
            self.schema(archive, costs)
        return costs

    def entries(self, infos, size: int, where: str) -> None:
        import zipfile

        if len(infos) > ZIP_MAX_ENTRIES:
            raise self.refuse(f"{where} has {len(infos):,} entries, over auditkit's limit of {ZIP_MAX_ENTRIES:,}")
        names: set[str] = set()
        total = packed = 0
        for info in infos:
            name = short_repr(info.filename, 60)
            if info.filename in names:
                raise self.refuse(f"{where} holds the entry {name} twice")
            names.add(info.filename)
            if info.flag_bits & 0x1:
                raise self.refuse(f"entry {name} of {where} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self.refuse(f"entry {name} of {where} uses compression method {info.compress_type}; "
                                  "auditkit reads stored and deflate entries only")
            if info.file_size > ZIP_MAX_ENTRY:
                raise self.refuse(f"entry {name} of {where} declares {info.file_size:,} bytes uncompressed, over "
                                  f"auditkit's limit of {ZIP_MAX_ENTRY // GiB} GiB per entry")
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise self.refuse(f"entry {name} of {where} is stored uncompressed but declares two different sizes")
            if info.file_size > ZIP_RATIO_FROM and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
                raise self.refuse(f"entry {name} of {where} expands {info.file_size / max(info.compress_size, 1):,.0f} "
                                  f"times ({info.compress_size:,} to {info.file_size:,} bytes), over auditkit's limit "
                                  f"of {ZIP_MAX_RATIO}")
            if info.header_offset < 0 or info.header_offset + 30 + info.compress_size > size:
                raise self.refuse(f"entry {name} of {where} lies outside the file")
            total += info.file_size
            packed += info.compress_size
        if total > ZIP_MAX_TOTAL:
            raise self.refuse(f"{where} declares {total:,} bytes uncompressed in total, over auditkit's limit of "
                              f"{ZIP_MAX_TOTAL // GiB} GiB")
        if packed > size:
            raise self.refuse(f"the entries of {where} overlap (their compressed sizes add up to more than the file)")
        if total > ZIP_RATIO_FROM and total > ZIP_MAX_RATIO * size:
            raise self.refuse(f"{where} expands {total / size:,.0f} times ({size:,} to {total:,} bytes), over "
                              f"auditkit's limit of {ZIP_MAX_RATIO}")

    def inflated_size(self, fp, size: int, info, where: str) -> None:
        """Decompress a deflate entry in bounded steps: its real size must be the declared size."""
        import struct
        import zlib

        name = short_repr(info.filename, 60)
        fp.seek(info.header_offset)
        header = fp.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise self.refuse(f"entry {name} of {where} has no valid local header")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        fp.seek(info.header_offset + 30 + name_length + extra_length)
        left = info.compress_size
        inflate = zlib.decompressobj(-15)
        produced = 0
        limit = info.file_size
        try:
            while left > 0 and not inflate.eof:
                chunk = fp.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
                data = chunk
                while data and not inflate.eof:
                    out = inflate.decompress(data, 1 << 20)
                    produced += len(out)
                    if produced > limit:
                        raise self.refuse(f"entry {name} of {where} decompresses to more than the {limit:,} bytes it "
                                          "declares")
                    data = inflate.unconsumed_tail
        except zlib.error as exc:
            raise ModelError(f"{self.path}: is not a readable skops file (entry {name} of {where} is corrupt: "
                             f"{_reason(exc)}); save the model again with skops.io.dump.") from None
        if produced != limit:
            raise self.refuse(f"entry {name} of {where} decompresses to {produced:,} bytes but declares {limit:,}")

    def content(self, archive, info, where: str, nested: bool) -> int:
        """Check what numpy would allocate for an entry; returns extra bytes a nested .npz costs."""
        import io

        name = short_repr(info.filename, 60)
        try:
            with archive.open(info) as entry:
                head = entry.read(6)
                if head == b"\x93NUMPY":
                    self.numpy_header(entry, info, name, where)
                    return 0
                if head[:4] != b"PK\x03\x04" and head[:4] != b"PK\x05\x06":
                    return 0
                if nested:
                    raise self.refuse(f"entry {name} of {where} is a zip archive inside a zip archive inside the file")
                if info.file_size > ZIP_MAX_NESTED:
                    raise self.refuse(f"entry {name} of {where} is a {info.file_size:,}-byte archive, over auditkit's "
                                      f"limit of {ZIP_MAX_NESTED // MiB} MiB for an archive inside a skops file")
                data = head + entry.read(info.file_size)
        except ModelError:
            raise
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - BadZipFile (CRC), EOFError...
            raise ModelError(f"{self.path}: is not a readable skops file (entry {name} of {where}: {_reason(exc)}); "
                             "save the model again with skops.io.dump.") from None
        inner = self.archive(io.BytesIO(data), len(data), nested=True)
        return sum(inner.values())

    def numpy_header(self, entry, info, name: str, where: str) -> None:
        """The bytes a .npy entry's header declares must fit in the entry (numpy allocates them first)."""
        import io
        import struct

        import numpy as np
        from numpy.lib import format as npformat

        try:
            version = tuple(entry.read(2))
            size_format = "<H" if version == (1, 0) else "<I"
            size_bytes = entry.read(struct.calcsize(size_format))
            (length,) = struct.unpack(size_format, size_bytes)
            if length > 100_000:  # numpy refuses headers over 10,000 bytes by default
                raise ValueError(f"a {length:,}-byte header")
            header = entry.read(length)
            key = (version, header)
            if key not in self._headers:
                # numpy's own header parser, on the same bytes numpy will read
                reader = getattr(npformat, "_read_array_header", None)
                stream = io.BytesIO(b"\x93NUMPY" + bytes(version) + size_bytes + header)
                stream.seek(8)
                if reader is not None:
                    shape, _fortran, dtype = reader(stream, version)
                elif version == (1, 0):
                    shape, _fortran, dtype = npformat.read_array_header_1_0(stream)
                else:
                    shape, _fortran, dtype = npformat.read_array_header_2_0(stream)
                count = 1
                for dim in shape:
                    count *= int(dim)
                self._headers[key] = count * np.dtype(dtype).itemsize
            needed = self._headers[key]
            offset = 8 + len(size_bytes) + length
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"{self.path}: is not a readable skops file (entry {name} of {where} is not a valid numpy "
                             f"array: {_reason(exc)}); save the model again with skops.io.dump.") from None
        if needed > info.file_size - offset:
            raise self.refuse(f"entry {name} of {where} declares a numpy array of {needed:,} bytes but holds "
                              f"{max(info.file_size - offset, 0):,}")

    def schema(self, archive, costs: dict[str, int]) -> None:
        """What skops reads through schema.json's references: each referenced entry, once per reference."""
        import json

        if "schema.json" not in costs:
            return  # skops itself refuses the file
        info = archive.getinfo("schema.json")
        if info.file_size > ZIP_MAX_SCHEMA:
            raise self.refuse(f"its schema.json is {info.file_size:,} bytes, over auditkit's limit of "
                              f"{ZIP_MAX_SCHEMA // MiB} MiB")
        raw = archive.read("schema.json")
        if raw.isascii() and b"\\u" not in raw:
            # Without \u escapes, every "file" key is spelt out: its count bounds the references.
            largest = max((cost for name, cost in costs.items()
                           if name != "schema.json" or b'"schema.json"' in raw), default=0)
            if raw.count(b'"file"') * largest <= ZIP_MAX_TOTAL:
                return
        references: list[str] = []

        def hook(node: dict) -> dict:
            ref = node.get("file")
            if ref.__class__ is str and "__loader__" in node:
                references.append(ref)
            return node

        try:
            json.loads(raw, object_hook=hook)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - ValueError, RecursionError, MemoryError
            raise ModelError(f"{self.path}: is not a readable skops file (schema.json: {_reason(exc)}); "
                             "save the model again with skops.io.dump.") from None
        total = sum(costs.get(ref, 0) for ref in references)
        if total > ZIP_MAX_TOTAL:
            raise self.refuse(f"its schema.json makes skops read {total:,} bytes of entries (some many times), over "
                              f"auditkit's limit of {ZIP_MAX_TOTAL // GiB} GiB")


# ---------------------------------------------------------------------------- pickle and joblib


def _load_pickle(handle, path: Path, trust) -> tuple[Any, str]:
    import pickle

    if trust is not True:
        try:
            needed = _analyse_pickle(handle)
        except _Unverifiable as exc:
            raise UntrustedModelError(
                f"{path}: the pickle cannot be verified without running it ({exc}), so auditkit does not load it; "
                "prefer a .skops file, or if you trust this file set model.trust: true (or pass --trust-model).",
                ()) from None
        refused = [g for g in needed if g not in set(trust or ())]
        if refused or not trust:
            listed = refused or needed
            shown = ", ".join(short_repr(g, 120)[1:-1] for g in listed[:20]) + (" …" if len(listed) > 20 else "")
            raise UntrustedModelError(
                f"{path}: loading a pickle runs code, and it was not trusted (it imports: {shown or '(none found)'}); "
                "prefer a .skops file, or if you trust this file set model.trust: true (or pass --trust-model).",
                listed)
    digest = _sha256(handle)
    try:
        # The settings _analyse_pickle assumes (they are pickle.load's defaults).
        return pickle.load(handle, fix_imports=True, encoding="ASCII", errors="strict"), digest
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - unpickling runs trusted code, which may raise anything
        raise ModelError(f"{path}: could not be unpickled ({_reason(exc)}); check the file is complete and saved "
                         "with a compatible scikit-learn.") from None


def _load_joblib(handle, path: Path, trust) -> tuple[Any, str]:
    if trust is not True:
        raise UntrustedModelError(
            f"{path}: loading a joblib file runs code, and it was not trusted; prefer a .skops file, "
            "or if you trust this file set model.trust: true (or pass --trust-model).", ())
    digest = _sha256(handle)
    try:
        import joblib

        return joblib.load(handle), digest
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - unpickling runs trusted code, which may raise anything
        raise ModelError(f"{path}: could not be loaded by joblib ({_reason(exc)}); check the file is complete and saved "
                         "with a compatible scikit-learn.") from None


def pickle_globals(path: str | Path) -> list[str]:
    """The ``module.name`` globals a pickle would import, read from its opcodes without executing it.

    Raises
    ------
    UntrustedModelError
        The imports cannot be verified (see :func:`auditkit.model` docs): the message says why.
    ModelError
        The file is not a readable regular file.
    """
    path = Path(path)
    regular_file(path, kind="model", what="model file", error=ModelError, hint="check the path")
    with _open_model_file(path) as handle:
        try:
            return _analyse_pickle(handle)
        except _Unverifiable as exc:
            raise UntrustedModelError(f"{path}: the pickle cannot be verified without running it ({exc}).", ()) from None


class _Unverifiable(Exception):
    """The pickle's imports cannot be determined without running it."""


_MARK_OPS = {"MARK"}
_STRING_OPS = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8"}
_GET_OPS = {"GET", "BINGET", "LONG_BINGET"}
_PUT_OPS = {"PUT", "BINPUT", "LONG_BINPUT"}
_REFUSED_OPS = {
    "EXT1": "it imports through the copyreg extension registry (EXT1)",
    "EXT2": "it imports through the copyreg extension registry (EXT2)",
    "EXT4": "it imports through the copyreg extension registry (EXT4)",
    "PERSID": "it refers to persistent ids (PERSID)",
    "BINPERSID": "it refers to persistent ids (BINPERSID)",
}
# Strings longer than this cannot be module or attribute names anyone trusts; they are
# tracked as unknown values, so importing through one makes the pickle unverifiable.
_MAX_NAME = 1000


def _analyse_pickle(handle) -> list[str]:
    """Simulate the pickle stack machine over the whole opcode stream; returns the imported globals.

    The simulation follows CPython's ``_pickle`` unpickler: an object stack with mark
    positions (a pop never crosses the topmost mark), a memo written by PUT/BINPUT/
    LONG_BINPUT/MEMOIZE from the top of the stack and read by GET/BINGET/LONG_BINGET, and the
    stack effect of every other opcode from :mod:`pickletools`. Values are tracked only as
    "this exact ``str``" or "something else", which is all an import needs: STACK_GLOBAL must
    find two exact strings on top of the stack, GLOBAL and INST carry their names (read from
    the raw bytes, decoded as the unpickler does), and for protocols below 3 names go through
    the same Python 2 name mapping the unpickler applies.

    Raises
    ------
    _Unverifiable
        Anything the unpickler would resolve differently or dynamically, or refuse: a
        STACK_GLOBAL operand that is not a known string, EXT1/EXT2/EXT4, PERSID/BINPERSID, a
        stack underflow or crossed mark, an unknown memo key, an unknown opcode or truncated
        argument, anything but exactly one object left at STOP, or data after STOP.
    """
    import pickle
    import pickletools

    stack: list[Any] = []  # a str for an exactly known string, None for anything else
    marks: list[int] = []
    memo: dict[int, Any] = {}
    proto = 0
    found: list[str] = []
    seen: set[str] = set()

    def fence() -> int:
        return marks[-1] if marks else 0

    def pop(n: int, opname: str) -> list[Any]:
        if n == 0:
            return []
        if len(stack) - n < fence():
            raise _Unverifiable(f"{opname} takes more from the stack than there is")
        items = stack[-n:]
        del stack[-n:]
        return items

    def pop_mark(opname: str) -> list[Any]:
        if not marks:
            raise _Unverifiable(f"{opname} finds no MARK on the stack")
        at = marks.pop()
        items = stack[at:]
        del stack[at:]
        return items

    def raw_lines(start: int, count: int) -> list[bytes]:
        end = handle.tell()
        handle.seek(start + 1)
        raw = handle.read(end - start - 1)
        handle.seek(end)
        lines = raw.split(b"\n")
        if len(lines) != count + 1 or lines[-1] != b"":
            raise _Unverifiable("a text argument is malformed")
        return lines[:count]

    def record(module: Any, name: Any, opname: str) -> None:
        if not isinstance(module, str) or not isinstance(name, str):
            raise _Unverifiable(f"{opname} imports a name that is not a plain string known without running the pickle")
        if proto < 3:  # the unpickler's fix_imports for Python 2 pickles
            import _compat_pickle

            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        if full not in seen:
            seen.add(full)
            found.append(full)

    def memo_key(op, arg, pos) -> int:
        if op.name in ("GET", "PUT"):
            (line,) = raw_lines(pos, 1)
            if not line.isdigit() or not line.isascii():
                raise _Unverifiable(f"{op.name} has a memo key that is not a plain number")
            return int(line)
        return int(arg)

    handle.seek(0)
    stopped = False
    try:
        for op, arg, pos in pickletools.genops(handle):
            name = op.name
            if name in _REFUSED_OPS:
                raise _Unverifiable(_REFUSED_OPS[name])
            if name == "PROTO":
                if not 0 <= int(arg) <= pickle.HIGHEST_PROTOCOL:
                    raise _Unverifiable(f"it asks for unsupported pickle protocol {int(arg)}")
                proto = int(arg)
            elif name == "FRAME":
                pass
            elif name in _MARK_OPS:
                marks.append(len(stack))
            elif name in _STRING_OPS:
                stack.append(arg if isinstance(arg, str) and len(arg) <= _MAX_NAME else None)
            elif name in _GET_OPS:
                key = memo_key(op, arg, pos)
                if key not in memo:
                    raise _Unverifiable(f"{name} reads memo entry {key}, which was never written")
                stack.append(memo[key])
            elif name in _PUT_OPS:
                key = memo_key(op, arg, pos)
                if len(stack) <= fence():
                    raise _Unverifiable(f"{name} memoizes from an empty stack")
                memo[key] = stack[-1]
            elif name == "MEMOIZE":
                if len(stack) <= fence():
                    raise _Unverifiable("MEMOIZE memoizes from an empty stack")
                memo[len(memo)] = stack[-1]
            elif name == "DUP":
                if len(stack) <= fence():
                    raise _Unverifiable("DUP finds an empty stack")
                stack.append(stack[-1])
            elif name == "POP":
                if marks and marks[-1] == len(stack):
                    marks.pop()
                else:
                    pop(1, name)
            elif name in ("GLOBAL", "INST"):
                lines = raw_lines(pos, 2)
                try:
                    module, attr = (line.decode("utf-8") for line in lines)
                except UnicodeDecodeError:
                    raise _Unverifiable(f"{name} names a global in bytes that are not UTF-8") from None
                record(module, attr, name)
                if name == "INST":
                    pop_mark(name)
                stack.append(None)
            elif name == "STACK_GLOBAL":
                module, attr = pop(2, name)
                record(module, attr, name)
                stack.append(None)
            elif name == "STOP":
                if marks or len(stack) != 1:
                    raise _Unverifiable("the stack does not hold exactly one object at STOP")
                stack.pop()
                stopped = True
            else:
                _generic_effect(op, stack, pop, pop_mark)
    except _Unverifiable:
        raise
    except Exception as exc:  # noqa: BLE001 - ValueError from pickletools, decoding errors...
        raise _Unverifiable(f"it is not a well-formed pickle: {_reason(exc)}") from None
    if not stopped:
        raise _Unverifiable("it ends before its STOP opcode")
    if handle.read(1):
        raise _Unverifiable("there is data after the end of the pickle (trailing bytes, or several pickles)")
    return found


def _generic_effect(op, stack: list[Any], pop, pop_mark) -> None:
    """Apply an opcode's stack effect as pickletools describes it; results are unknown values."""
    before = [item.name for item in op.stack_before]
    after = [item.name for item in op.stack_after]
    if "mark" in after or "stackslice" in after:  # pragma: no cover - only MARK, handled by the caller
        raise _Unverifiable(f"{op.name} is not understood")
    if "mark" in before:
        at = before.index("mark")
        minimum = sum(1 for item in before[at + 1:] if item != "stackslice")
        taken = pop_mark(op.name)
        if len(taken) < minimum:
            raise _Unverifiable(f"{op.name} finds too few objects after its MARK")
        pop(at, op.name)
    else:
        if "stackslice" in before:  # pragma: no cover - every stackslice follows a mark
            raise _Unverifiable(f"{op.name} is not understood")
        pop(len(before), op.name)
    stack.extend([None] * len(after))
