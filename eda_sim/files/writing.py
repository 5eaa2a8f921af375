"""Files written without leaving half a file, and outputs checked before any work (layer 0).

See :mod:`eda_sim.files`: a temporary file in the target's folder renamed over it, a
FIFO or character device written to as a stream, a symbolic link written through.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from contextlib import suppress
from pathlib import Path

from eda_sim.files.reading import file_kind

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
    try:
        _write(Path(path), text)
    except OSError as error:  # a full disk, a failing device: say which file
        if error.filename is not None:
            raise
        raise OSError(error.errno, error.strerror, os.fspath(path)) from error


def _write(target: Path, text: str) -> None:
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
