"""Files a user names, read with stated limits and recorded with their SHA-256 (layer 0).

See :mod:`eda_sim.files`: only a regular file is read, at most a stated number of
bytes, and every file read inside :func:`recording_inputs` is recorded.
"""

from __future__ import annotations

import contextvars
import csv
import hashlib
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from eda_sim.errors import EdaSimError

_MB = 1_000_000
#: Largest scenario (YAML) file read.
SCENARIO_LIMIT = 10 * _MB
#: Largest CSV file of empirical values read.
EMPIRICAL_LIMIT = 100 * _MB
#: Largest trace (CSV of arrivals) read.
TRACE_LIMIT = 1000 * _MB
#: Largest sweep checkpoint read.
CHECKPOINT_LIMIT = 1000 * _MB
#: Largest result JSON that ``eda-sim report`` reads.
RESULT_LIMIT = 500 * _MB


class InputFileError(EdaSimError):
    """A file that cannot be read as asked; ``reason`` says why, without its content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InputRecord:
    """One file read: its absolute path, what it was read as, its size and SHA-256."""

    path: str
    what: str
    size: int
    sha256: str


_RECORDS: contextvars.ContextVar[list[InputRecord] | None] = contextvars.ContextVar(
    "eda_sim_input_records", default=None
)


@contextmanager
def recording_inputs() -> Iterator[list[InputRecord]]:
    """Record every file read through this module inside the ``with`` block.

    Yields
    ------
    list of InputRecord
        Filled as files are read (completely); nested blocks record in both.
    """
    outer = _RECORDS.get()
    records: list[InputRecord] = []
    token = _RECORDS.set(records)
    try:
        yield records
    finally:
        _RECORDS.reset(token)
        if outer is not None:
            outer.extend(records)


def describe_size(size: int) -> str:
    """``"12 bytes"``, ``"3.4 MB"``, ``"1.2 GB"`` (decimal units, as the limits are stated)."""
    if size < 1000:
        return f"{size} bytes"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12)):
        if size < scale * 1000 or unit == "TB":
            return f"{size / scale:.3g} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words (``"a FIFO (named pipe)"``, ...)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


class _BoundedReader(io.RawIOBase):
    """Reads a descriptor, refusing past ``limit`` bytes, hashing what it reads."""

    def __init__(self, fd: int, path: str, what: str, limit: int) -> None:
        super().__init__()
        self._fd = fd
        self._path = path
        self._what = what
        self._limit = limit
        self._count = 0
        self._hash = hashlib.sha256()
        self._at_end = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        got = os.readv(self._fd, [view])
        if got == 0:
            self._at_end = True
            return 0
        self._count += got
        if self._count > self._limit:
            raise InputFileError(
                f"is larger than {describe_size(self._limit)}, the most a {self._what} may be"
            )
        self._hash.update(view[:got])
        return got

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
            if self._at_end:
                records = _RECORDS.get()
                if records is not None:
                    records.append(
                        InputRecord(self._path, self._what, self._count, self._hash.hexdigest())
                    )
        super().close()


def open_input(path: str | os.PathLike[str], *, what: str, limit: int) -> IO[bytes]:
    """Open a regular file for reading at most ``limit`` bytes.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str
        What it is read as, for messages: ``"scenario file"``, ``"trace file"``...
    limit : int
        Most bytes read; a larger file is refused.

    Raises
    ------
    InputFileError
        Missing, not permitted, not a regular file (a folder, FIFO, device,
        socket), or larger than ``limit``. The reason never quotes the content.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError("no such file") from None
    except NotADirectoryError:
        raise InputFileError("no such file (a part of its path is not a folder)") from None
    except PermissionError:
        raise InputFileError("cannot be read: permission denied") from None
    except ValueError:
        raise InputFileError("is not a usable file name (it holds a NUL character)") from None
    except OSError as error:
        raise InputFileError(f"cannot be opened ({error.strerror or error})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(
                f"is {file_kind(info.st_mode)}, not a regular file; a {what} must be a file"
            )
        if info.st_size > limit:
            raise InputFileError(
                f"is {describe_size(info.st_size)}; a {what} may be at most {describe_size(limit)}"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    absolute = os.path.abspath(os.fsdecode(path))
    return io.BufferedReader(_BoundedReader(fd, absolute, what, limit), buffer_size=1 << 16)


def read_input_text(
    path: str | os.PathLike[str], *, what: str, limit: int, encoding: str = "utf-8"
) -> str:
    """The whole text of a regular file of at most ``limit`` bytes (see :func:`open_input`).

    Raises
    ------
    InputFileError
        As :func:`open_input`, or when the bytes are not text in ``encoding`` (the
        reason gives the byte offset, not the bytes).
    """
    with open_input(path, what=what, limit=limit) as stream:
        data = stream.read()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise InputFileError(
            f"is not UTF-8 text (an invalid byte at offset {error.start})"
        ) from None


# --------------------------------------------------------------------------- writing


def iter_csv_rows(
    path: str | os.PathLike[str], *, what: str, limit: int
) -> Iterator[tuple[int, list[str]]]:
    """Stream a CSV file's rows as ``(line number, cells)``, reading at most ``limit`` bytes.

    The file is decoded as UTF-8 (a byte-order mark is dropped) and parsed with the
    :mod:`csv` module's default dialect, one row at a time, so memory does not grow
    with the file. Rows of blank cells are given too (the caller decides).

    Raises
    ------
    InputFileError
        As :func:`open_input`; not UTF-8 text; not readable as CSV (the reason
        names the line and what :mod:`csv` found, never the content).
    """
    with open_input(path, what=what, limit=limit) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            for row in reader:
                yield reader.line_num, row
        except UnicodeDecodeError:
            raise InputFileError("is not a UTF-8 text file") from None
        except csv.Error as error:
            raise InputFileError(
                f"line {reader.line_num}: not a readable CSV file ({error})"
            ) from None
        finally:
            text.detach()


# --------------------------------------------------------------------------- checking outputs
