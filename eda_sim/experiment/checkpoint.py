"""Sweep checkpoints: finished points appended to a JSON-lines file, read back on resume (layer 5).

The first line is a header whose SHA-256 ``fingerprint`` identifies the sweep
(scenario document, parameter, values, run overrides, eda-sim version); each
further line is one finished point with its table rows. Lines are flushed and
synced as they are written; a cut-off last line (a crash while it was being
written) is dropped on resume, any other bad line refuses the file. Floats are
written with ``repr`` (NaN as null, infinities as ``"inf"``), so a resumed sweep
reproduces an uninterrupted one exactly.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eda_sim.errors import Fault, ScenarioError
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
    "RUN_COLUMNS",
    "Resumed",
    "checkpoint_fault",
    "checkpoint_session",
    "data_inputs",
    "decode_point",
    "encode_point",
    "fingerprint",
    "parse_checkpoint",
    "read_checkpoint",
]

#: Version of the checkpoint file's layout.
CHECKPOINT_FORMAT = 1
#: The first line of a checkpoint says this under ``"kind"``.
CHECKPOINT_KIND = "eda-sim sweep checkpoint"
#: Float columns of a point's rows (NaN and infinities need encoding).
FLOAT_COLUMNS = ("mean", "ci_low", "ci_high", "half_width", "theory")
#: Columns of one point's rows, as :meth:`RunResult.to_frame` gives them.
RUN_COLUMNS = ("scope", "name", "metric", *FLOAT_COLUMNS[:4], "n", "theory", "method", "exact")


def checkpoint_fault(path: Path, message: str) -> ScenarioError:
    """The error for a checkpoint file that cannot be used (fault path ``checkpoint``)."""
    return ScenarioError(Fault("checkpoint", f"{path}: {message}"))


def encode_float(value: float) -> float | str | None:
    """A float for strict JSON: NaN as null, infinities as ``"inf"``/``"-inf"``."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def decode_float(value: Any) -> float:
    """Inverse of :func:`encode_float`; ``ValueError`` for anything else."""
    if value is None:
        return math.nan
    if value in ("inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def encode_point(
    index: int, value: float, rows: list[dict[str, Any]], notes: tuple[str, ...]
) -> str:
    """One finished point as a checkpoint line (without the newline)."""
    encoded = [
        {key: encode_float(item) if key in FLOAT_COLUMNS else item for key, item in row.items()}
        for row in rows
    ]
    record = {"index": index, "value": value, "notes": list(notes), "rows": encoded}
    return json.dumps(record, allow_nan=False, ensure_ascii=False)


def decode_point(
    line: str, values: Sequence[float], runnable: set[int]
) -> tuple[int, list[dict[str, Any]], tuple[str, ...]]:
    """Read one point's line; ``ValueError`` (or a subclass) says what is wrong with it."""
    record = json.loads(line)
    if not isinstance(record, dict) or set(record) != {"index", "value", "notes", "rows"}:
        raise ValueError("not a point record")
    index = record["index"]
    if isinstance(index, bool) or not isinstance(index, int) or index not in runnable:
        raise ValueError(f"no sweep point {index!r} to run")
    if record["value"] != values[index]:
        raise ValueError(f"point {index} has value {record['value']!r}, not {values[index]!r}")
    notes = record["notes"]
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise ValueError("notes are not text")
    rows = []
    for item in record["rows"]:
        if not isinstance(item, dict) or set(item) != set(RUN_COLUMNS):
            raise ValueError("a row does not have the table's columns")
        row = {key: decode_float(item[key]) if key in FLOAT_COLUMNS else item[key] for key in item}
        if not all(isinstance(row[key], str) for key in ("scope", "name", "metric", "method")):
            raise ValueError("a row's names are not text")
        if isinstance(row["n"], bool) or not isinstance(row["n"], int):
            raise ValueError("a row's n is not a whole number")
        if not isinstance(row["exact"], bool):
            raise ValueError("a row's exact is not true or false")
        rows.append(row)
    if not rows:
        raise ValueError("a point without rows")
    return index, rows, tuple(notes)


@dataclass
class Resumed:
    """What a checkpoint gave back: finished points, and the text to keep of the file."""

    finished: dict[int, tuple[list[dict[str, Any]], tuple[str, ...]]]
    kept_text: str  # the header and the good lines, each ending in a newline
    clean: bool  # the file is exactly kept_text (no cut-off last line to drop)


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
    return f"; the content of {changed[0]!r} has changed since it was written" + (
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
    if found.get("format") != CHECKPOINT_FORMAT:
        raise checkpoint_fault(
            path,
            f"has checkpoint format {found.get('format')!r}; this eda-sim reads "
            f"format {CHECKPOINT_FORMAT}",
        )
    if found.get("fingerprint") != header["fingerprint"]:
        described = (
            f"scenario {found.get('scenario')!r}, {found.get('param')!r} over "
            f"{len(found.get('values') or [])} values, eda-sim {found.get('eda_sim')}"
        )
        raise checkpoint_fault(
            path,
            f"was written for another sweep ({described}){_changed_inputs(found, header)}: "
            "the scenario, its data files, the parameter, the values or the run settings "
            "differ; use another checkpoint file or delete it",
        )
    finished: dict[int, tuple[list[dict[str, Any]], tuple[str, ...]]] = {}
    kept = [first + "\n"]
    clean = not unterminated
    for number, line, terminated in numbered[1:]:
        try:
            index, rows, notes = decode_point(line, values, runnable)
            if index in finished and finished[index] != (rows, notes):
                raise ValueError(f"point {index} is there twice, with different results")
        except (ValueError, KeyError, TypeError) as error:
            if not terminated:  # cut off by a crash while it was being written
                clean = False
                break
            detail = "not JSON" if isinstance(error, json.JSONDecodeError) else str(error)
            raise checkpoint_fault(
                path,
                f"line {number} is corrupt ({detail}); the {len(finished)} points before it "
                "are sound: delete it and the lines after it to keep them, or the whole "
                "file to start the sweep again",
            ) from None
        if index in finished:  # the same point again: kept once
            clean = False
            continue
        finished[index] = (rows, notes)
        kept.append(line + "\n")
    return Resumed(finished, "".join(kept), clean)


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
        "format": CHECKPOINT_FORMAT,
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
