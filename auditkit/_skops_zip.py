"""Checking the zip container of a ``.skops`` file before skops reads a byte of it.

A ``.skops`` file is a zip archive of numpy arrays and a ``schema.json``. A small archive can
declare, or actually hold, gigabytes: a zip bomb. :func:`check_skops_archive` reads the central
directory and decompresses every deflated entry in bounded steps, so a bomb costs the price of
reading its directory and is refused with a ModelError that names the limit it hit.
"""

from __future__ import annotations

from typing import Any

from .errors import ModelError
from .sanitize import describe_exception, short_repr

__all__ = ["check_skops_archive"]

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


def _reason(exc: BaseException) -> str:
    return describe_exception(exc, 160)
