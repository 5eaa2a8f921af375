"""Sweep checkpoints: finished points appended to a JSON-lines file, read back on resume (layer 5).

The first line is a header whose SHA-256 ``fingerprint`` identifies the sweep
(scenario document, parameter, values, run overrides, eda-sim version); each
further line is one finished point with its table rows, or the replications of
a point that was cut short (:mod:`eda_sim.experiment.checkpoint_lines`). Lines
are flushed and synced as they are written; a cut-off last line (a crash while
it was being written) is dropped on resume, any other bad line refuses the file.
Floats are written with ``repr`` (NaN as null, infinities as ``"inf"``), so a
resumed sweep reproduces an uninterrupted one exactly.

Format 2 (this one) added the partial points; a format-1 file (finished points
only) is read and continued as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment.checkpoint_lines import (
    FLOAT_COLUMNS,
    RUN_COLUMNS,
    PartialPoint,
    decode_partial,
    decode_point,
    encode_partial,
    encode_point,
    is_partial_line,
)
from eda_sim.files import (
    CHECKPOINT_LIMIT,
    InputFileError,
    describe_size,
    file_kind,
    read_input_text,
)
from eda_sim.scenario import Scenario

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_KIND",
    "FLOAT_COLUMNS",
    "READABLE_FORMATS",
    "RUN_COLUMNS",
    "PartialPoint",
    "Resumed",
    "checkpoint_fault",
    "checkpoint_session",
    "data_inputs",
    "decode_partial",
    "decode_point",
    "encode_partial",
    "encode_point",
    "fingerprint",
    "parse_checkpoint",
    "read_checkpoint",
]

#: Version of the checkpoint file's layout (2: partial points too).
CHECKPOINT_FORMAT = 2
#: The layouts this eda-sim reads (1: finished points only).
READABLE_FORMATS = (1, 2)
#: The first line of a checkpoint says this under ``"kind"``.
CHECKPOINT_KIND = "eda-sim sweep checkpoint"
#: Version of what the fingerprint covers (unchanged by format 2's partial points, so
#: that a format-1 checkpoint still belongs to its sweep).
_FINGERPRINT_VERSION = 1


def checkpoint_fault(path: Path, message: str) -> ScenarioError:
    """The error for a checkpoint file that cannot be used (fault path ``checkpoint``)."""
    return ScenarioError(Fault("checkpoint", f"{path}: {message}"))


@dataclass
class Resumed:
    """What a checkpoint gave back: finished points, partial ones, the text to keep of the file.

    ``partial`` holds the points cut short that have not finished since.
    """

    finished: dict[int, tuple[list[dict[str, Any]], tuple[str, ...]]]
    kept_text: str  # the header and the good lines, each ending in a newline
    clean: bool  # the file is exactly kept_text (no cut-off last line to drop)
    partial: dict[int, PartialPoint] = field(default_factory=dict)


def _unreadable(path: Path, error: InputFileError) -> ScenarioError:
    reason = error.reason
    if reason == "no such file":
        reason = "does not exist: there is nothing to resume (run without --resume to start)"
    elif reason.startswith("is not UTF-8"):
        reason = "is not an eda-sim sweep checkpoint (not text)"
    return checkpoint_fault(path, reason)


def _changed_inputs(found: dict[str, Any], header: dict[str, Any]) -> str:
    """Which data files differ between a checkpoint's header and this sweep's, in words."""
    before = {item.get("path"): item.get("sha256") for item in found.get("inputs") or []}
    now = {item["path"]: item["sha256"] for item in header.get("inputs") or []}
    changed = [path for path in now if path in before and before[path] != now[path]]
    if not changed:
        return ""
    return f"was written before the content of {changed[0]!r} changed" + (
        f" (and {len(changed) - 1} more data files)" if len(changed) > 1 else ""
    )


def parse_checkpoint(
    path: Path, text: str, header: dict[str, Any], values: Sequence[float], runnable: set[int]
) -> Resumed:
    """Read a checkpoint's text for the sweep described by ``header``; refuse a foreign one.

    A cut-off last line (a crash while it was written) is dropped; a point written
    twice with the same rows (two sweeps that resumed the same checkpoint, before
    checkpoints were locked) is kept once; any other bad line refuses the file.
    """
    lines = text.split("\n")
    unterminated = lines.pop()  # "" when the file ends with a newline
    numbered = [(number, line, True) for number, line in enumerate(lines, start=1)]
    if unterminated:
        numbered.append((len(lines) + 1, unterminated, False))
    if not numbered:
        raise checkpoint_fault(path, "is empty, not an eda-sim sweep checkpoint")
    _, first, _ = numbered[0]
    try:
        found = json.loads(first)
    except ValueError:
        found = None
    if not isinstance(found, dict) or found.get("kind") != CHECKPOINT_KIND:
        raise checkpoint_fault(path, "is not an eda-sim sweep checkpoint (line 1 is no header)")
    if found.get("format") not in READABLE_FORMATS:
        raise checkpoint_fault(
            path,
            f"has checkpoint format {found.get('format')!r}; this eda-sim reads "
            f"formats {' and '.join(map(str, READABLE_FORMATS))}",
        )
    if found.get("fingerprint") != header["fingerprint"]:
        described = (
            f"scenario {found.get('scenario')!r}, {found.get('param')!r} over "
            f"{len(found.get('values') or [])} values, eda-sim {found.get('eda_sim')}"
        )
        # A changed data file is the whole reason: the line stays short enough for its advice.
        reason = _changed_inputs(found, header) or (
            f"was written for another sweep ({described}): the scenario, its data files, "
            "the parameter, the values or the run settings differ"
        )
        raise checkpoint_fault(path, f"{reason}; use another checkpoint file or delete it")
    resumed = Resumed({}, first + "\n", not unterminated)
    for number, line, terminated in numbered[1:]:
        try:
            _read_line(resumed, line, values, runnable)
        except (ValueError, KeyError, TypeError, RecursionError) as error:
            if not terminated:  # cut off by a crash while it was being written
                resumed.clean = False
                break
            detail = "not JSON" if isinstance(error, json.JSONDecodeError) else str(error)
            raise checkpoint_fault(
                path,
                f"line {number} is corrupt ({detail}); the {len(resumed.finished)} points "
                "before it are sound: delete it and the lines after it to keep them, or the "
                "whole file to start the sweep again",
            ) from None
    for index in resumed.finished:  # finished since it was cut short
        resumed.partial.pop(index, None)
    return resumed


def _read_line(resumed: Resumed, line: str, values: Sequence[float], runnable: set[int]) -> None:
    """Add one line's point to ``resumed`` (and to its kept text, unless a repeat).

    A finished point written twice with the same rows (two sweeps that resumed the
    same checkpoint, before checkpoints were locked) is kept once; partial lines
    are kept as they are, their replications merged by number.
    """
    record = json.loads(line)
    if is_partial_line(record):
        index, partial = decode_partial(record, values, runnable)
        resumed.partial.setdefault(index, PartialPoint()).merge(partial, index)
        resumed.kept_text += line + "\n"
        return
    index, rows, notes = decode_point(record, values, runnable)
    if index in resumed.finished:
        if resumed.finished[index] != (rows, notes):
            raise ValueError(f"point {index} is there twice, with different results")
        resumed.clean = False  # the same point again: kept once
        return
    resumed.finished[index] = (rows, notes)
    resumed.kept_text += line + "\n"


def read_checkpoint(
    path: Path, header: dict[str, Any], values: Sequence[float], runnable: set[int]
) -> Resumed:
    """Read a checkpoint for the sweep described by ``header``; refuse a foreign or corrupt one."""
    try:
        text = read_input_text(path, what="checkpoint", limit=CHECKPOINT_LIMIT)
    except InputFileError as error:
        raise _unreadable(path, error) from None
    return parse_checkpoint(path, text, header, values, runnable)


def _lock(path: Path, fd: int) -> None:
    """Hold an exclusive lock on the open checkpoint, or refuse: another sweep writes it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise checkpoint_fault(
            path,
            "is being written by another eda-sim sweep; wait for it to finish or use "
            "another checkpoint file",
        ) from None


def _open_locked(path: Path, resume: bool) -> int:
    """Open (a new one: create) the checkpoint for reading and appending, locked."""
    flags = os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    if not resume:
        flags |= os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0), 0o666)
    except FileExistsError:
        raise checkpoint_fault(path, "exists: use --resume to continue it or delete it") from None
    except FileNotFoundError:
        raise _unreadable(path, InputFileError("no such file")) from None
    except OSError as error:
        raise checkpoint_fault(path, f"cannot be opened: {error.strerror or error}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise checkpoint_fault(path, f"is {file_kind(info.st_mode)}, not a checkpoint file")
    if info.st_size > CHECKPOINT_LIMIT:
        os.close(fd)
        raise checkpoint_fault(
            path, f"is larger than {describe_size(CHECKPOINT_LIMIT)}, the most a checkpoint may be"
        )
    os.set_blocking(fd, True)
    _lock(path, fd)
    return fd


@contextmanager
def checkpoint_session(
    path: Path | None,
    header: dict[str, Any],
    values: Sequence[float],
    runnable: set[int],
    resume: bool,
) -> Iterator[tuple[Resumed | None, Callable[[str], None]]]:
    """Open, lock and (on resume) read a checkpoint; yield what it holds and ``append(line)``.

    The file stays locked (``flock``) until the block ends, so a second sweep that
    writes the same checkpoint is refused with one line instead of appending the
    same points. A cut-off last line is truncated away in place (the file, and its
    lock, stay the same). Each appended line is flushed and synced. Without a
    checkpoint ``append`` does nothing.
    """
    if path is None:
        yield None, lambda line: None
        return
    fd = _open_locked(path, resume)
    with os.fdopen(fd, "r+b", buffering=0) as stream:
        resumed: Resumed | None = None
        if resume:
            data = stream.read()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise _unreadable(path, InputFileError("is not UTF-8 text")) from None
            resumed = parse_checkpoint(path, text, header, values, runnable)
            if not resumed.clean:  # drop the cut-off last line or a repeated point
                kept = resumed.kept_text.encode("utf-8")
                if data.startswith(kept):
                    os.ftruncate(fd, len(kept))
                else:
                    os.ftruncate(fd, 0)
                    stream.write(kept)
                os.fsync(fd)

        def append(line: str) -> None:
            stream.write((line + "\n").encode("utf-8"))
            os.fsync(fd)

        if not resume:
            append(json.dumps(header, allow_nan=False))
        yield resumed, append


def data_inputs(scenario: Scenario) -> list[dict[str, str]]:
    """The data files a scenario read (traces, empirical values), with their SHA-256.

    The scenario file itself is not among them: its parsed document is in the
    fingerprint (so a comment edited in it does not make a checkpoint foreign).
    """
    return [
        {"path": record.path, "sha256": record.sha256}
        for record in scenario.inputs
        if record.what != "scenario file"
    ]


def fingerprint(
    scenario: Scenario,
    param: str,
    values: Sequence[float],
    overrides: dict[str, object],
    allow_unstable: bool,
) -> tuple[str, str]:
    """The checkpoint's identity: (SHA-256 hex, the eda-sim version it includes).

    It covers the scenario's document, the content of every data file it read
    (:func:`data_inputs`), the parameter, the values, the run overrides and the
    eda-sim version: a data file edited between an interruption and ``--resume``
    makes the checkpoint foreign instead of mixing old and new results.
    """
    from eda_sim.version import __version__

    identity = {
        "format": _FINGERPRINT_VERSION,
        "scenario": scenario.document.model_dump(mode="json"),
        "name": scenario.name,
        "param": param,
        "values": list(values),
        "overrides": overrides,
        "allow_unstable": allow_unstable,
        "eda_sim": __version__,
        "inputs": data_inputs(scenario),
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest(), __version__
