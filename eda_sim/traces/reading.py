"""Reading a trace file as a stream, within stated limits (layer 1).

One pass over the rows keeps, per event, its time (a float) and a reference to
its type (one string object per distinct type), plus one byte of bookkeeping; the
faults are kept as the first :data:`MAX_TRACE_FAULTS` of each kind and counted
beyond. Which kind of timestamp (numbers, date-times with or without a UTC
offset) is the trace's is known only at the end (the most common kind), so the
order check runs per kind as the rows come, and the end decides which findings
are faults.
"""

from __future__ import annotations

import math
import os
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from eda_sim.errors import Fault, ScenarioError
from eda_sim.files import TRACE_LIMIT, InputFileError, iter_csv_rows
from eda_sim.traces.trace import Trace

__all__ = [
    "ACCEPTED",
    "MAX_TRACE_EVENTS",
    "MAX_TRACE_FAULTS",
    "TIME_COLUMNS",
    "TYPE_COLUMNS",
    "read_trace",
]

MAX_TRACE_FAULTS = 10
"""At most this many bad lines of a trace file are reported one by one."""

MAX_TRACE_EVENTS = 50_000_000
"""Most events a trace may hold (about 0.8 GB in memory once read)."""

TIME_COLUMNS = ("time", "timestamp", "ts", "t")
"""Headers (case-insensitive) that mark the timestamp column when none is named."""

TYPE_COLUMNS = ("type", "event_type", "event")
"""Headers (case-insensitive) that mark the event-type column when none is named."""

ACCEPTED = "a number or an ISO-8601 date-time"
"""What a timestamp cell may hold, as said in error messages."""

_Kind = Literal["number", "naive", "aware"]
_KINDS: tuple[_Kind, ...] = ("number", "naive", "aware")
_KIND_LABEL: dict[_Kind, str] = {
    "number": "a number",
    "naive": "a date-time without a UTC offset",
    "aware": "a date-time with a UTC offset",
}
_SECOND = timedelta(seconds=1)
# Per-row bookkeeping byte: the kind's index + 1 (0: no readable timestamp), and flags.
_KIND_MASK = 0b0011
_DIRECT = 0b0100  # a problem of the row itself: unreadable timestamp or empty type
_DISORDER = 0b1000  # earlier than the row before it of the same kind


class _BadCellError(ValueError):
    """A timestamp cell that cannot be read; the message says why (not what it holds)."""


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
            raise _BadCellError("not a finite number; a timestamp must be finite")
        if number < 0:
            raise _BadCellError("a negative number; a timestamp must be >= 0")
        return "number", number
    text = cell[:-1] + "+00:00" if cell[-1] in "Zz" else cell
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _BadCellError(f"not a timestamp; expected {ACCEPTED}") from None
    if moment.utcoffset() is None:
        return "naive", moment
    return "aware", moment.astimezone(UTC)


@dataclass
class _KindState:
    """What the pass knows about the timestamps of one kind."""

    count: int = 0
    first: float | datetime | None = None
    first_line: int = 0
    first_cell: str = ""
    previous: float | datetime | None = None
    previous_line: int = 0
    # (row, line) of the first rows of this kind: the odd ones out if it is not the trace's.
    rows: list[tuple[int, int]] = field(default_factory=list)
    # (row, line, line of the row before) of the first rows earlier than the row before.
    disorder: list[tuple[int, int, int]] = field(default_factory=list)


@dataclass
class _Pass:
    """The state of one pass over a trace's rows."""

    where: str
    time_name: str
    type_name: str | None
    times: array[float] = field(default_factory=lambda: array("d"))
    flags: bytearray = field(default_factory=bytearray)
    types: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    kinds: dict[_Kind, _KindState] = field(
        default_factory=lambda: {kind: _KindState() for kind in _KINDS}
    )
    # (row, line, messages) of the first rows with a problem of their own.
    direct: list[tuple[int, int, list[str]]] = field(default_factory=list)

    def add(self, line: int, cell: str, type_cell: str | None) -> None:
        """Take one body row: its timestamp cell and (with a type column) its type cell."""
        row = len(self.flags)
        if row >= MAX_TRACE_EVENTS:
            raise ScenarioError(
                Fault(
                    "file",
                    f"{self.where}: holds more than {MAX_TRACE_EVENTS:,} events, the most a "
                    "trace may have",
                )
            )
        messages: list[str] = []
        flag = 0
        try:
            kind, value = _parse_time(cell)
        except _BadCellError as bad:
            messages.append(f"column {self.time_name}: {bad}")
            self.times.append(math.nan)
        else:
            state = self.kinds[kind]
            flag = _KINDS.index(kind) + 1
            if state.first is None:
                state.first, state.first_line, state.first_cell = value, line, cell
            if state.previous is not None and value < state.previous:  # type: ignore[operator]
                flag |= _DISORDER
                if len(state.disorder) < MAX_TRACE_FAULTS:
                    state.disorder.append((row, line, state.previous_line))
            state.previous, state.previous_line = value, line
            state.count += 1
            if len(state.rows) <= MAX_TRACE_FAULTS:
                state.rows.append((row, line))
            if isinstance(value, datetime):
                assert isinstance(state.first, datetime)
                self.times.append((value - state.first) / _SECOND)
            else:
                self.times.append(value)
        if type_cell is not None:
            if not type_cell:
                messages.append(f"column {self.type_name}: empty event type")
            self.types.append(self.names.setdefault(type_cell, type_cell))
        if messages:
            flag |= _DIRECT
            if len(self.direct) < MAX_TRACE_FAULTS:
                self.direct.append((row, line, messages))
        self.flags.append(flag)

    def faults(self) -> tuple[_Kind | None, list[Fault]]:
        """The trace's kind of timestamp, and one fault per bad line (capped)."""
        counted = [kind for kind in _KINDS if self.kinds[kind].count]
        if not counted:
            chosen = None
        else:  # the most common kind; on a tie, the one met first
            chosen = max(counted, key=lambda k: (self.kinds[k].count, -self.kinds[k].first_line))
        flags = np.frombuffer(bytes(self.flags), dtype=np.uint8)
        kind_of = flags & _KIND_MASK
        index = _KINDS.index(chosen) + 1 if chosen is not None else 0
        bad = (
            ((flags & _DIRECT) != 0)
            | ((kind_of != 0) & (kind_of != index))
            | ((kind_of == index) & ((flags & _DISORDER) != 0))
        )
        total = int(bad.sum())
        if total == 0:
            return chosen, []
        messages: dict[int, tuple[int, list[str]]] = {}

        def note(row: int, line: int, message: str) -> None:
            messages.setdefault(row, (line, []))[1].append(message)

        for row, line, found in self.direct:
            for message in found:
                note(row, line, message)
        if chosen is not None:
            example = self.kinds[chosen]
            for kind in _KINDS:
                if kind == chosen:
                    for row, line, before in example.disorder:
                        note(
                            row,
                            line,
                            f"earlier than line {before}; the trace must be sorted by time",
                        )
                    continue
                for row, line in self.kinds[kind].rows:
                    note(
                        row,
                        line,
                        f"column {self.time_name}: {_KIND_LABEL[kind]}, but line "
                        f"{example.first_line} is {_KIND_LABEL[chosen]}; the timestamps must "
                        "be all numbers, or all date-times with a UTC offset, or all "
                        "date-times without",
                    )
        shown = sorted(messages.items())[:MAX_TRACE_FAULTS]
        faults = [
            Fault("file", f"{self.where}, line {line}: {'; '.join(found)}")
            for _, (line, found) in shown
        ]
        if total > MAX_TRACE_FAULTS:
            faults.append(
                Fault("file", f"{self.where}: and {total - MAX_TRACE_FAULTS} more bad lines")
            )
        return chosen, faults


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
        path. One fault when the file is missing, not a regular file, larger than
        :data:`~eda_sim.files.TRACE_LIMIT` or :data:`MAX_TRACE_EVENTS`, not UTF-8
        text, not CSV, empty, only a header, has no column named ``time_column``
        or ``type_column``, holds fewer than 2 events, or all its events are at one
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
    try:
        found = _read_rows(where, time_column, type_column)
    except InputFileError as error:
        raise ScenarioError(Fault("file", f"{where}: {error.reason}")) from None
    kind, faults = found.faults()
    if faults:
        raise ScenarioError(faults)
    # No problem: every body row gave one valid timestamp, all of the same kind.
    assert kind is not None
    state = found.kinds[kind]
    times = np.frombuffer(found.times, dtype=np.float64)
    if kind == "number":
        assert isinstance(state.first, float)
        times = times - state.first
    if len(times) < 2:
        raise ScenarioError(
            Fault(
                "file",
                f"{where}: only 1 event (line {state.first_line}); a trace needs at least 2 "
                "events, so that it spans some time",
            )
        )
    if times[-1] <= 0:
        raise ScenarioError(
            Fault(
                "file",
                f"{where}: all {len(times)} events are at the same time; a trace must span "
                "some time",
            )
        )
    first = state.first
    return Trace(
        times,
        tuple(found.types) if found.type_name is not None else None,
        origin=first if isinstance(first, float) else state.first_cell,
        source=where,
    )


def _read_rows(where: str, time_column: str | None, type_column: str | None) -> _Pass:
    """One pass over the file: the header picks the columns, each body row is added."""
    rows = iter_csv_rows(where, what="trace file", limit=TRACE_LIMIT)
    for line, row in rows:
        cells = [cell.strip() for cell in row]
        if any(cells):
            time_index, type_index, time_name, type_name = _columns(
                where, line, cells, time_column, type_column
            )
            found = _Pass(where, time_name, type_name)
            _read_body(found, rows, time_index, type_index)
            if not found.flags:
                raise ScenarioError(
                    Fault("file", f"{where}: no events, only the header row (line {line})")
                )
            return found
    raise ScenarioError(
        Fault("file", f"{where}: the file is empty; expected a header row and the events")
    )


def _read_body(
    found: _Pass, rows: Iterator[tuple[int, list[str]]], time_index: int, type_index: int | None
) -> None:
    """Add every body row; the common row (a number, in order, a type) takes a short path.

    The short path does what :meth:`_Pass.add` would do for a row that is a
    finite, non-negative number not earlier than the number before it, with a
    non-empty type if there is a type column, once the first rows of numbers have
    been sampled; any other row goes through :meth:`_Pass.add`.
    """
    numbers = found.kinds["number"]
    times_append = found.times.append
    flags_append = found.flags.append
    types_append = found.types.append
    names = found.names
    flags = found.flags
    number_flag = _KINDS.index("number") + 1
    for line, row in rows:
        cell = row[time_index].strip() if time_index < len(row) else ""
        if not cell and not any(part.strip() for part in row):
            continue  # a blank line
        type_cell = None
        if type_index is not None:
            type_cell = row[type_index].strip() if type_index < len(row) else ""
        previous = numbers.previous
        if (
            type_cell != ""
            and previous is not None
            and len(numbers.rows) > MAX_TRACE_FAULTS
            and len(flags) < MAX_TRACE_EVENTS
        ):
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if previous <= value < math.inf:  # type: ignore[operator]
                times_append(value)
                flags_append(number_flag)
                numbers.previous, numbers.previous_line = value, line
                numbers.count += 1
                if type_cell is not None:
                    types_append(names.setdefault(type_cell, type_cell))
                continue
        found.add(line, cell, type_cell)


def _label(header: list[str], index: int, named: bool) -> str:
    """How a column is named in messages: by a name eda-sim knows or was given, or by number.

    A header the user did not name and eda-sim does not know is the file's
    content, so it is not quoted.
    """
    name = header[index]
    known = name.casefold() in (*TIME_COLUMNS, *TYPE_COLUMNS)
    return repr(name) if named or known else str(index + 1)


def _columns(
    where: str,
    header_line: int,
    header: list[str],
    time_column: str | None,
    type_column: str | None,
) -> tuple[int, int | None, str, str | None]:
    """Pick the timestamp and type columns from the header row; name them for messages."""
    folded = [name.casefold() for name in header]
    faults: list[Fault] = []

    def find(name: str, option: str) -> int | None:
        for candidates in (header, folded):
            key = name if candidates is header else name.strip().casefold()
            if key in candidates:
                return candidates.index(key)
        faults.append(
            Fault(
                "file",
                f"{where}: no column {name!r} ({option}) in the header row (line "
                f"{header_line}, {len(header)} column{'s' if len(header) != 1 else ''})",
            )
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
                        f"{where}, line {header_line}: the first row looks like data (its "
                        "first cell is a timestamp); the file must start with a header row "
                        "naming its columns, e.g. timestamp,type",
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
    time_name = _label(header, time_index, time_column is not None)
    type_name = None if type_index is None else _label(header, type_index, type_column is not None)
    return time_index, type_index, time_name, type_name
