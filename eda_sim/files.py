"""Files a user names: read with stated limits, written without leaving half a file (layer 0).

Reading (:func:`open_input`, :func:`read_input_text`):

* only a **regular file** is read: a folder, a FIFO (named pipe), a device such as
  ``/dev/zero`` or a socket is refused at once, without blocking (the file is opened
  non-blocking and checked with ``fstat`` on the open descriptor, so there is no
  window between the check and the read);
* at most a **stated number of bytes** is read (:data:`SCENARIO_LIMIT`,
  :data:`EMPIRICAL_LIMIT`, :data:`TRACE_LIMIT`, ...): a larger file is refused from
  its size before reading, and one whose size is not known in advance (``/proc``)
  as soon as it passes the limit;
* every file read while :func:`recording_inputs` is active is **recorded** with
  the SHA-256 of exactly the bytes read, so that a checkpoint can tell whether a
  data file changed (:class:`InputRecord`).

Writing (:func:`write_output`): ``text`` goes to a temporary file in the target's
folder that is renamed over the target, so a crash or Ctrl-C leaves the old file
or none, never a truncated one. A FIFO or a character device (``/dev/stdout``) is
written to directly, as a stream. A symbolic link is written **through**: the file
it points to is replaced and the link is kept. A new file gets the permissions
the umask allows (``0o666 & ~umask``); a replaced file keeps its own.
:func:`remove_temporaries` deletes the temporary files still being written, for a
process that must exit at once (a second Ctrl-C).

Errors while reading are :class:`InputFileError` with a reason that never quotes
the file's content; the callers put it into their own fault.

This module imports only the standard library and :mod:`eda_sim.errors`.
"""

from __future__ import annotations

import contextvars
import csv
import hashlib
import io
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from eda_sim.errors import EdaSimError

__all__ = [
    "CHECKPOINT_LIMIT",
    "EMPIRICAL_LIMIT",
    "RESULT_LIMIT",
    "SCENARIO_LIMIT",
    "TRACE_LIMIT",
    "InputFileError",
    "InputRecord",
    "describe_size",
    "file_kind",
    "folder_problem",
    "identity",
    "iter_csv_rows",
    "open_input",
    "output_problem",
    "read_input_text",
    "recording_inputs",
    "remove_temporaries",
    "write_output",
]

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

_TEMPORARIES: set[str] = set()
_TEMPORARIES_LOCK = threading.Lock()


def remove_temporaries() -> None:
    """Delete the temporary files of writes still in progress (before an immediate exit)."""
    with _TEMPORARIES_LOCK:
        pending = list(_TEMPORARIES)
    for name in pending:
        with suppress(OSError):
            os.unlink(name)


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def _streamed(target: Path) -> bool:
    """True when ``target`` is a FIFO or a character device: written to, never replaced."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def write_output(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so that no reader ever sees half of it.

    A regular file (or a new one) is replaced atomically through a temporary file
    in the same folder; a symbolic link is written through (its target is
    replaced, the link kept); a FIFO or a character device is written to as a
    stream. New files get ``0o666 & ~umask``; a replaced file keeps its mode.
    """
    target = Path(path)
    if _streamed(target):
        with open(target, "w", encoding="utf-8") as stream:
            stream.write(text)
        return
    real = Path(os.path.realpath(target))
    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    with _TEMPORARIES_LOCK:
        _TEMPORARIES.add(temporary)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), mode)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, real)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        with _TEMPORARIES_LOCK:
            _TEMPORARIES.discard(temporary)


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


def _probe_folder(folder: Path) -> str | None:
    """Why no file can be created in ``folder`` (a real attempt), or None."""
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".eda-sim-probe.", suffix=".tmp")
    except OSError as error:
        return f"cannot be written: no file can be created in {str(folder)!r} ({error.strerror})"
    os.close(handle)
    with suppress(OSError):
        os.unlink(name)
    return None


def output_problem(path: str | os.PathLike[str]) -> str | None:
    """Why :func:`write_output` could not write ``path``, checked before any work; None if it can.

    A regular file (existing or new) needs a folder that exists and where a file
    can be created (tried for real); a FIFO or character device needs to be
    writable; a folder, a socket or a block device is refused.
    """
    name = os.fspath(path)
    if "\0" in str(name):
        return "is not a usable file name (it holds a NUL character)"
    target = Path(name)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        return "cannot be written: a part of its path is not a folder"
    except OSError as error:
        return f"cannot be written ({error.strerror or error})"
    if mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        return None if os.access(target, os.W_OK) else "cannot be written: permission denied"
    if mode is not None and not stat.S_ISREG(mode):
        return f"is {file_kind(mode)}; name a file to write"
    real = Path(os.path.realpath(target))
    if not real.parent.is_dir():
        return f"cannot be written: folder {str(real.parent)!r} does not exist"
    return _probe_folder(real.parent)


def folder_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a folder ``path`` could not be created or replaced (its parent is probed), or None."""
    parent = Path(os.path.realpath(os.path.abspath(os.fspath(path)))).parent
    return _probe_folder(parent) if parent.is_dir() else None


def identity(path: str | os.PathLike[str]) -> tuple[object, ...]:
    """What makes two names the same file: device and inode if it exists, else its real path."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return ("path", os.path.realpath(os.fspath(path)))
    return ("inode", info.st_dev, info.st_ino)
