"""Reading data tables (CSV, gzipped CSV, Parquet) and fingerprinting files."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from .errors import DataError
from .inputs import LIMITS, regular_file

__all__ = ["SUPPORTED_SUFFIXES", "load_table", "read_columns", "sha256_file"]

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks so large files stay cheap in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".csv.gz") or name.endswith(".csv"):
        return "csv"
    if name.endswith(".parquet") or name.endswith(".pq"):
        return "parquet"
    raise DataError(f"{path}: unsupported file type; use .csv, .csv.gz or .parquet.")


def load_table(path: str | Path, *, columns: list[str] | None = None):
    """Load a data table into a pandas DataFrame.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.csv.gz`` or ``.parquet`` file.
    columns : list of str, optional
        Read only these columns (Parquet reads them alone; CSV filters after parsing).

    Raises
    ------
    DataError
        The file is missing, empty, unreadable, has no rows or duplicate column names.
    """
    import pandas as pd

    path = Path(path)
    fmt = _readable_format(path)
    try:
        if fmt == "parquet":
            _check_parquet_footer(path)
            frame = pd.read_parquet(path, columns=columns)
        else:
            frame = _read_csv(path)
            if columns is not None:
                frame = frame[[c for c in columns if c in frame.columns]]
    except DataError:
        raise
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not UTF-8 text; re-encode the file as UTF-8.") from None
    except Exception as exc:  # pandas/pyarrow raise many types for corrupt files
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot be read as {fmt.upper()} ({reason}); check the file is complete and in that format.") from None
    _check_frame(frame, path)
    return frame


def read_columns(path: str | Path) -> list[str]:
    """The column names of a data table, from its header alone (the CSV header row or the
    Parquet schema), so a policy can be checked against them before the data are read.

    Raises
    ------
    DataError
        As :func:`load_table` for a missing, empty or unreadable file or duplicate names.
    """
    path = Path(path)
    fmt = _readable_format(path)
    if fmt == "csv":
        names = _csv_header(path)
    else:
        import pyarrow.parquet as pq

        try:
            _check_parquet_footer(path)
            names = [str(n) for n in pq.ParquetFile(path).schema_arrow.names]
        except DataError:
            raise
        except Exception as exc:  # pyarrow raises many types for corrupt files
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"{path}: cannot be read as PARQUET ({reason}); check the file is complete and in that format.") from None
    if fmt != "csv":
        _reject_duplicates(names, path)
    return names


def _readable_format(path: Path) -> str:
    """The table format of a regular, non-empty data file (DataError otherwise)."""
    regular_file(path, kind="data", what="the data file", hint="check data.path in the policy or --data")
    fmt = _format_of(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty; export the data again.")
    return fmt


def _check_parquet_footer(path: Path) -> None:
    """Refuse a Parquet file whose own footer says it decodes to far more than its size.

    Parquet pages are compressed and run-length encoded, so a file of a megabyte can claim a
    billion rows. Real tables hold at most a few dozen cells per byte on disk; the cap allows 128 (and
    never fewer than 50 million cells), checked before any page is read.
    """
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    cells = meta.num_rows * max(1, meta.num_columns)
    size = path.stat().st_size
    cap = max(50_000_000, 128 * size)
    if cells > cap:
        raise DataError(f"{path}: its footer claims {meta.num_rows:,} rows × {meta.num_columns:,} columns from "
                        f"{size:,} bytes ({cells / max(1, size):,.0f} cells per byte), which real data does not "
                        "compress to; check the file, or export it again (or as CSV).")


def _read_csv(path: Path):
    import pandas as pd

    _csv_header(path)
    if not path.name.lower().endswith(".gz"):
        return pd.read_csv(path, encoding="utf-8", low_memory=False)
    with _CappedGzip(path) as handle:
        return pd.read_csv(handle, encoding="utf-8", low_memory=False, compression=None)


class _CappedGzip(io.RawIOBase):
    """A gzip stream that refuses to inflate past a cap, so a small compressed bomb cannot fill memory.

    Real CSV compresses about 5 to 20 times; the cap allows 200 times the compressed size, and
    never less than 256 MiB nor more than the data limit.
    """

    def __init__(self, path: Path) -> None:
        import gzip

        self._path = path
        self._cap = min(LIMITS["data"], max(256 << 20, 200 * path.stat().st_size))
        self._seen = 0
        self._inner = gzip.open(path, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._inner.read(len(buffer))
        self._seen += len(data)
        if self._seen > self._cap:
            raise DataError(f"{self._path}: inflates to more than {self._cap >> 20:,} MiB "
                            f"({self._cap // max(1, self._path.stat().st_size):,} times its size), which real CSV data "
                            "does not; check the file, or store the data uncompressed or as Parquet.")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _csv_header(path: Path) -> list[str]:
    """The header row of a comma-separated file, refused when it is separated otherwise or
    names a column twice (pandas would rename duplicates, "a" and "a.1", silently)."""
    names = _header_row(path)
    if len(names) == 1 and any(sep in names[0] for sep in (";", "\t", "|")):
        sep = next(s for s in (";", "\t", "|") if s in names[0])
        raise DataError(f"{path}: the header has one column '{names[0][:60]}'; the file seems to be separated by {sep!r}, but auditkit reads comma-separated CSV; convert it.")
    _reject_duplicates(names, path)
    return names


def _header_row(path: Path) -> list[str]:
    """The first record of a CSV file, decoded on its own (a damaged body is the reader's business)."""
    import csv
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.readline(_HEADER_LIMIT)
            while raw.count(b'"') % 2 and len(raw) < _HEADER_LIMIT:  # a quoted name spanning lines
                more = handle.readline(_HEADER_LIMIT - len(raw))
                if not more:
                    break
                raw += more
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot be read ({exc}); check the file is complete.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not UTF-8 text; re-encode the file as UTF-8.") from None
    try:
        row = next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error as exc:
        raise DataError(f"{path}: the header row cannot be read as CSV ({exc}); check the file is comma-separated text with a header line.") from None
    if not row or all(not cell.strip() for cell in row):
        raise DataError(f"{path}: has no header row; the first line must name the columns.")
    return row


_HEADER_LIMIT = 1 << 20  # a header row longer than 1 MiB is not a table auditkit reads


def _reject_duplicates(names: list[str], path: Path) -> None:
    seen, dups = set(), []
    for name in names:
        base = name
        if base in seen:
            dups.append(base)
        seen.add(base)
    if dups:
        raise DataError(f"{path}: duplicate column name(s) {', '.join(repr(d) for d in dups)}; give every column a unique name.")


def _check_frame(frame, path: Path) -> None:
    if frame.shape[1] == 0:
        raise DataError(f"{path}: has no columns; export the data again with a header row.")
    if len(frame) == 0:
        raise DataError(f"{path}: has a header but no rows; an audit needs data.")
    _reject_duplicates([str(c) for c in frame.columns], path)
