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
from collections.abc import Iterator

import numpy as np

from eda_sim.errors import Fault, ScenarioError
from eda_sim.files import TRACE_LIMIT, InputFileError, iter_csv_rows
from eda_sim.traces.columns import pick_columns
from eda_sim.traces.format import (
    ACCEPTED,
    KINDS,
    MAX_TRACE_EVENTS,
    MAX_TRACE_FAULTS,
    TIME_COLUMNS,
    TYPE_COLUMNS,
)
from eda_sim.traces.row_pass import RowPass
from eda_sim.traces.trace import Trace

__all__ = [
    "ACCEPTED",
    "MAX_TRACE_EVENTS",
    "MAX_TRACE_FAULTS",
    "TIME_COLUMNS",
    "TYPE_COLUMNS",
    "read_trace",
]


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


def _read_rows(where: str, time_column: str | None, type_column: str | None) -> RowPass:
    """One pass over the file: the header picks the columns, each body row is added."""
    rows = iter_csv_rows(where, what="trace file", limit=TRACE_LIMIT)
    for line, row in rows:
        cells = [cell.strip() for cell in row]
        if any(cells):
            time_index, type_index, time_name, type_name = pick_columns(
                where, line, cells, time_column, type_column
            )
            found = RowPass(where, time_name, type_name)
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
    found: RowPass, rows: Iterator[tuple[int, list[str]]], time_index: int, type_index: int | None
) -> None:
    """Add every body row; the common row (a number, in order, a type) takes a short path.

    The short path does what :meth:`RowPass.add` would do for a row that is a
    finite, non-negative number not earlier than the number before it, with a
    non-empty type if there is a type column, once the first rows of numbers have
    been sampled; any other row goes through :meth:`RowPass.add`.
    """
    numbers = found.kinds["number"]
    times_append = found.times.append
    flags_append = found.flags.append
    types_append = found.types.append
    names = found.names
    flags = found.flags
    number_flag = KINDS.index("number") + 1
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
