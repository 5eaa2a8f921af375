"""Recorded event arrivals read from a CSV file, for trace replay (layer 1).

A scenario may replay real traffic instead of drawing it
(``arrivals: {process: trace, file: events.csv, to: ...}``). :func:`read_trace`
reads such a file into a :class:`Trace`: the arrival times in seconds relative to
the first event, and optionally the type of each event.

The file is a CSV file with a header row. One column holds the timestamps, all
numbers (seconds, >= 0) or all ISO-8601 date-times (``2026-11-02T09:00:00.125Z``,
``...+01:00`` or without an offset; offsets are converted to UTC, and date-times
with and without an offset may not be mixed). An optional column holds the event
types. Rows must be sorted by time; simultaneous events (ties) are allowed. Blank
lines are skipped.

Every problem raises a :class:`~eda_sim.errors.ScenarioError` whose faults have
the path ``"file"`` and a message that starts with the file's path: one fault for
a file that cannot be read or is empty, and one fault per bad line (up to
:data:`MAX_TRACE_FAULTS`, then one ``and N more bad lines``), so that the command
line prints one line per problem.

This module imports only the standard library, numpy and :mod:`eda_sim.errors`.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from eda_sim.errors import Fault, ScenarioError

__all__ = [
    "MAX_TRACE_FAULTS",
    "TIME_COLUMNS",
    "TYPE_COLUMNS",
    "Trace",
    "read_trace",
]

MAX_TRACE_FAULTS = 10
"""At most this many bad lines of a trace file are reported one by one."""

TIME_COLUMNS = ("time", "timestamp", "ts", "t")
"""Headers (case-insensitive) that mark the timestamp column when none is named."""

TYPE_COLUMNS = ("type", "event_type", "event")
"""Headers (case-insensitive) that mark the event-type column when none is named."""

ACCEPTED = "a number or an ISO-8601 date-time"
"""What a timestamp cell may hold, as said in error messages."""

FloatArray = npt.NDArray[np.float64]

_Kind = Literal["number", "naive", "aware"]
_KIND_LABEL: dict[_Kind, str] = {
    "number": "a number",
    "naive": "a date-time without a UTC offset",
    "aware": "a date-time with a UTC offset",
}
_SECOND = timedelta(seconds=1)
_MICROSECOND = timedelta(microseconds=1)


# --------------------------------------------------------------------------- Trace


@dataclass(frozen=True, eq=False, slots=True)
class Trace:
    """Recorded arrivals: sorted times (seconds) and optionally the type of each event.

    Times are relative to the first timestamp of the file they were read from (the
    first event at 0.0); :meth:`select` keeps that origin, so the events of one type
    may start after 0. Equal times (simultaneous events) are allowed.

    Parameters
    ----------
    times : numpy.ndarray
        The arrival times in seconds: at least one, finite, >= 0 and non-decreasing.
        Stored as a read-only float64 copy.
    types : tuple of str or None
        The type of each event (one non-empty string per time), or None when the
        trace has no type column.
    origin : float or str
        The first timestamp of the file as written: the number, or the ISO-8601
        string. Times are seconds after it.
    source : str
        The file read, named in error messages (``""`` if none).

    Examples
    --------
    >>> trace = Trace(np.array([0.0, 1.0, 1.0, 4.0]), types=("a", "b", "a", "a"))
    >>> trace.count, trace.span, trace.rate
    (4, 4.0, 0.75)
    >>> trace.select("a").times.tolist()
    [0.0, 1.0, 4.0]
    """

    times: FloatArray
    types: tuple[str, ...] | None = None
    origin: float | str = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        faults: list[Fault] = []
        try:
            times = np.array(self.times, dtype=np.float64)
        except (TypeError, ValueError):
            raise ScenarioError(Fault("times", "must be an array of numbers")) from None
        if times.ndim != 1 or times.size == 0:
            faults.append(Fault("times", f"must be a non-empty 1-D array, got shape {times.shape}"))
        elif not np.all(np.isfinite(times)):
            faults.append(Fault("times", "must all be finite numbers"))
        elif times[0] < 0:
            faults.append(Fault("times", f"must be >= 0, got {float(times[0])!r}"))
        elif np.any(np.diff(times) < 0):
            index = int(np.argmax(np.diff(times) < 0)) + 1
            faults.append(
                Fault(
                    "times",
                    f"must be sorted: entry {index} ({float(times[index])!r}) is earlier "
                    f"than entry {index - 1} ({float(times[index - 1])!r})",
                )
            )
        types = self.types
        if types is not None:
            types = tuple(types)
            if len(types) != times.size:
                faults.append(
                    Fault("types", f"must hold one type per time: {len(types)} for {times.size}")
                )
            elif not all(isinstance(kind, str) and kind for kind in types):
                faults.append(Fault("types", "must all be non-empty strings"))
        if faults:
            raise ScenarioError(faults)
        times.setflags(write=False)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "types", types)

    @property
    def count(self) -> int:
        """The number of events."""
        return int(self.times.size)

    @property
    def span(self) -> float:
        """The time from the first event to the last (seconds), >= 0."""
        return float(self.times[-1] - self.times[0])

    @property
    def rate(self) -> float:
        """Events per second, ``(count - 1) / span`` (one over the mean gap); NaN if span is 0."""
        span = self.span
        return (self.count - 1) / span if span > 0 else math.nan

    @property
    def gaps(self) -> FloatArray:
        """The ``count - 1`` times between consecutive events, ``numpy.diff(times)``."""
        return np.diff(self.times)

    @property
    def scv(self) -> float:
        """The squared coefficient of variation of the gaps, ``var / mean²``.

        The variance has divisor ``n`` (not ``n - 1``), as in
        :class:`~eda_sim.distributions.Empirical`. It is 1 for a Poisson process in
        the long run, above 1 for bursty traffic. NaN with no gap or a mean gap of 0.
        """
        gaps = self.gaps
        if gaps.size == 0:
            return math.nan
        mean = float(np.mean(gaps))
        if mean <= 0:
            return math.nan
        scaled = gaps / mean - 1.0
        return float(np.mean(scaled * scaled))

    @property
    def types_present(self) -> tuple[str, ...]:
        """The distinct event types, sorted; ``()`` when the trace has no types."""
        return tuple(sorted(set(self.types))) if self.types is not None else ()

    def select(self, event_type: str) -> Trace:
        """Return the events of one type, their times still relative to the same origin.

        Parameters
        ----------
        event_type : str
            One of :attr:`types_present`.

        Returns
        -------
        Trace
            The rows of that type, in order; not shifted to start at 0.

        Raises
        ------
        ScenarioError
            With a fault at ``"event_type"`` when the trace has no types or no event
            of that type.
        """
        where = f"{self.source}: " if self.source else ""
        if self.types is None:
            raise ScenarioError(
                Fault(
                    "event_type",
                    f"{where}the trace has no event-type column, so it has no "
                    f"events of type {event_type!r}",
                )
            )
        mask = np.fromiter((kind == event_type for kind in self.types), bool, self.count)
        if not mask.any():
            present = ", ".join(repr(kind) for kind in self.types_present)
            raise ScenarioError(
                Fault(
                    "event_type",
                    f"{where}no events of type {event_type!r}; the types are {present}",
                )
            )
        selected = self.times[mask]
        return Trace(
            selected, (event_type,) * selected.size, origin=self.origin, source=self.source
        )

    def __len__(self) -> int:
        return self.count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return (
            np.array_equal(self.times, other.times)
            and self.types == other.types
            and self.origin == other.origin
            and self.source == other.source
        )

    def __hash__(self) -> int:
        return hash((self.times.tobytes(), self.types, self.origin, self.source))

    def __repr__(self) -> str:
        kinds = f", types={list(self.types_present)!r}" if self.types is not None else ""
        source = f", source={self.source!r}" if self.source else ""
        return (
            f"Trace(count={self.count}, span={self.span:g}{kinds}, origin={self.origin!r}{source})"
        )


# --------------------------------------------------------------------------- reading


def read_trace(
    path: str | os.PathLike[str],
    *,
    time_column: str | None = None,
    type_column: str | None = None,
) -> Trace:
    r"""Read recorded arrivals from a CSV file with a header row.

    The timestamp column is ``time_column`` if given, else the first column headed
    ``time``, ``timestamp``, ``ts`` or ``t``, else the first column. The type column
    is ``type_column`` if given, else a column headed ``type``, ``event_type`` or
    ``event`` if there is one, else the trace has no types. Headers are matched
    without regard to case. Extra columns are ignored.

    Timestamps are all numbers (seconds, finite and >= 0) or all ISO-8601
    date-times (as :meth:`datetime.datetime.fromisoformat` reads them, plus a
    trailing ``Z``); date-times with a UTC offset are compared in UTC and may not be
    mixed with ones without. Rows must be sorted by time; ties are allowed.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (a scenario resolves it against the scenario file's folder).
    time_column : str, optional
        The header of the timestamp column.
    type_column : str, optional
        The header of the event-type column; an empty type cell is an error.

    Returns
    -------
    Trace
        The times relative to the first timestamp (the first event at 0.0), the
        types if there is a type column, and the first timestamp as ``origin``.

    Raises
    ------
    ScenarioError
        Every fault has the path ``"file"`` and a message starting with the file's
        path. One fault when the file is missing, a directory, not UTF-8 text, not
        CSV, empty, only a header, has no column named ``time_column`` or
        ``type_column``, holds fewer than 2 events, or all its events are at one
        time; else one fault per bad line (a timestamp that is not a number or an
        ISO-8601 date-time, a negative or non-finite number, numbers mixed with
        date-times, an empty type, a time earlier than the line before), up to
        :data:`MAX_TRACE_FAULTS`, then one saying how many more.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "events.csv"
    ...     _ = path.write_text(
    ...         "timestamp,type\n"
    ...         "2026-11-02T09:00:00.000Z,add_to_cart\n"
    ...         "2026-11-02T09:00:01.500Z,create_order\n"
    ...         "2026-11-02T09:00:04.000Z,add_to_cart\n"
    ...     )
    ...     trace = read_trace(path)
    >>> trace.times.tolist()
    [0.0, 1.5, 4.0]
    >>> trace.types_present, trace.span, trace.rate
    (('add_to_cart', 'create_order'), 4.0, 0.5)
    >>> trace.origin
    '2026-11-02T09:00:00.000Z'
    >>> trace.select("add_to_cart").times.tolist()
    [0.0, 4.0]
    """
    where = os.fspath(path)
    rows: list[tuple[int, list[str]]] = []
    for line, row in _read_csv_rows(where):
        cells = [cell.strip() for cell in row]
        if any(cells):
            rows.append((line, cells))
    if not rows:
        raise ScenarioError(
            Fault("file", f"{where}: the file is empty; expected a header row and the events")
        )
    (header_line, header), body = rows[0], rows[1:]
    time_index, type_index = _columns(where, header_line, header, time_column, type_column)
    if not body:
        raise ScenarioError(
            Fault("file", f"{where}: no events, only the header row ({','.join(header)})")
        )

    time_name = header[time_index]
    problems: dict[int, list[str]] = {}

    def problem(line: int, message: str) -> None:
        problems.setdefault(line, []).append(message)

    parsed: list[_Stamp] = []
    types: list[str] = []
    for line, cells in body:
        cell = cells[time_index] if time_index < len(cells) else ""
        try:
            kind, value = _parse_time(cell)
        except _BadCellError as bad:
            problem(line, f"column {time_name!r}: {bad}")
        else:
            parsed.append(_Stamp(line, cell, kind, value))
        if type_index is not None:
            type_cell = cells[type_index] if type_index < len(cells) else ""
            if not type_cell:
                problem(line, f"column {header[type_index]!r}: empty event type")
            types.append(type_cell)

    # The most common kind of timestamp is the trace's; the others are faults.
    if parsed:
        tally = Counter(stamp.kind for stamp in parsed)
        kind = max(tally, key=lambda k: (tally[k], -_first_of(parsed, k).line))
        example = _first_of(parsed, kind)
        for stamp in parsed:
            if stamp.kind != kind:
                problem(
                    stamp.line,
                    f"column {time_name!r}: {stamp.cell!r} is {_KIND_LABEL[stamp.kind]} but "
                    f"line {example.line}: {example.cell!r} is {_KIND_LABEL[kind]}; the "
                    "timestamps must be all numbers, or all date-times with a UTC offset, "
                    "or all date-times without",
                )
        parsed = [stamp for stamp in parsed if stamp.kind == kind]
    keys, seconds = _relative(parsed)
    for i in range(1, len(parsed)):
        if keys[i] < keys[i - 1]:
            before, after = parsed[i - 1], parsed[i]
            problem(
                after.line,
                f"{after.cell} is earlier than line {before.line}: {before.cell}; "
                "the trace must be sorted by time",
            )
    if problems:
        raise ScenarioError(_line_faults(where, problems))

    # No problem: every body row gave one valid timestamp, all of the same kind.
    if len(parsed) < 2:
        raise ScenarioError(
            Fault(
                "file",
                f"{where}: only 1 event (line {parsed[0].line}); a trace needs at least 2 "
                "events, so that it spans some time",
            )
        )
    if seconds[-1] <= 0:
        raise ScenarioError(
            Fault(
                "file",
                f"{where}: all {len(parsed)} events are at the same time {parsed[0].cell}; "
                "a trace must span some time",
            )
        )
    first = parsed[0]
    return Trace(
        np.array(seconds, dtype=np.float64),
        tuple(types) if type_index is not None else None,
        origin=first.value if isinstance(first.value, float) else first.cell,
        source=where,
    )


class _Stamp(NamedTuple):
    """One readable timestamp cell."""

    line: int
    cell: str
    kind: _Kind
    value: float | datetime


def _first_of(stamps: list[_Stamp], kind: _Kind) -> _Stamp:
    """The first timestamp of one kind."""
    return next(stamp for stamp in stamps if stamp.kind == kind)


def _relative(stamps: list[_Stamp]) -> tuple[list[float], list[float]]:
    """Return exact sort keys and the seconds since the first, for stamps of one kind.

    Keys are the numbers themselves, or whole microseconds after the first
    date-time, so that the sort check is not blurred by rounding.
    """
    if not stamps:
        return [], []
    first = stamps[0].value
    keys: list[float] = []
    seconds: list[float] = []
    for stamp in stamps:
        value = stamp.value
        if isinstance(value, datetime) and isinstance(first, datetime):
            delta = value - first
            keys.append(delta // _MICROSECOND)
            seconds.append(delta / _SECOND)
        elif isinstance(value, float) and isinstance(first, float):
            keys.append(value)
            seconds.append(value - first)
        else:  # pragma: no cover - the caller keeps one kind only
            raise TypeError("timestamps of different kinds")
    return keys, seconds


class _BadCellError(ValueError):
    """A timestamp cell that cannot be read; the message says why."""


def _parse_time(cell: str) -> tuple[_Kind, float | datetime]:
    """Read one timestamp cell as a number or a date-time (aware ones in UTC)."""
    if not cell:
        raise _BadCellError(f"empty timestamp; expected {ACCEPTED}")
    try:
        number = float(cell)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise _BadCellError(f"{cell!r} is not a finite number")
        if number < 0:
            raise _BadCellError(f"{cell} is negative; a timestamp must be >= 0")
        return "number", number
    text = cell[:-1] + "+00:00" if cell[-1] in "Zz" else cell
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        shown = cell if len(cell) <= 60 else cell[:57] + "..."
        raise _BadCellError(f"{shown!r} is not a timestamp; expected {ACCEPTED}") from None
    if moment.utcoffset() is None:
        return "naive", moment
    return "aware", moment.astimezone(UTC)


def _columns(
    where: str,
    header_line: int,
    header: list[str],
    time_column: str | None,
    type_column: str | None,
) -> tuple[int, int | None]:
    """Pick the timestamp and type columns' indices from the header row."""
    folded = [name.casefold() for name in header]
    shown = ", ".join(repr(name) for name in header)
    faults: list[Fault] = []

    def find(name: str, option: str) -> int | None:
        for candidates in (header, folded):
            key = name if candidates is header else name.strip().casefold()
            if key in candidates:
                return candidates.index(key)
        faults.append(
            Fault("file", f"{where}: no column {name!r} ({option}); the columns are {shown}")
        )
        return None

    time_index: int | None
    if time_column is not None:
        time_index = find(time_column, "time_column")
    else:
        time_index = next((i for i, name in enumerate(folded) if name in TIME_COLUMNS), None)
        if time_index is None:
            time_index = 0
            try:
                _parse_time(header[0])
            except _BadCellError:
                pass
            else:
                faults.append(
                    Fault(
                        "file",
                        f"{where}, line {header_line}: the first row ({','.join(header)}) "
                        "looks like data; the file must start with a header row naming its "
                        "columns, e.g. timestamp,type",
                    )
                )
    type_index: int | None
    if type_column is not None:
        type_index = find(type_column, "type_column")
        if type_index is not None and type_index == time_index:
            faults.append(
                Fault(
                    "file",
                    f"{where}: type_column {type_column!r} is also the timestamp column",
                )
            )
    else:
        type_index = next(
            (i for i, name in enumerate(folded) if name in TYPE_COLUMNS and i != time_index),
            None,
        )
    if faults:
        raise ScenarioError(faults)
    assert time_index is not None  # a missing column was a fault
    return time_index, type_index


def _line_faults(where: str, problems: dict[int, list[str]]) -> list[Fault]:
    """One fault per bad line, in line order, up to :data:`MAX_TRACE_FAULTS`."""
    faults = [
        Fault("file", f"{where}, line {line}: {'; '.join(messages)}")
        for line, messages in sorted(problems.items())
    ]
    if len(faults) > MAX_TRACE_FAULTS:
        extra = len(faults) - MAX_TRACE_FAULTS
        faults = [*faults[:MAX_TRACE_FAULTS], Fault("file", f"{where}: and {extra} more bad lines")]
    return faults


def _read_csv_rows(where: str) -> list[tuple[int, list[str]]]:
    """Read a CSV file into ``(line number, cells)`` pairs, as ScenarioError on failure."""
    try:
        with open(where, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            try:
                return [(reader.line_num, row) for row in reader]
            except csv.Error as exc:
                message = f"{where}, line {reader.line_num}: not a readable CSV file ({exc})"
    except FileNotFoundError:
        message = f"{where}: no such file"
    except IsADirectoryError:
        message = f"{where}: is a directory, not a trace file"
    except UnicodeDecodeError:
        message = f"{where}: not a UTF-8 text file"
    except OSError as exc:
        message = f"{where}: cannot be read ({exc.strerror or exc})"
    raise ScenarioError(Fault("file", message))
