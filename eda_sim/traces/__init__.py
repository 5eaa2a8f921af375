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

The file is read as a stream, in memory that grows only with the events kept (a
float and a reference per event), and within stated limits: at most
:data:`~eda_sim.files.TRACE_LIMIT` bytes and :data:`MAX_TRACE_EVENTS` events, from
a regular file only (:mod:`eda_sim.files`).

Every problem raises a :class:`~eda_sim.errors.ScenarioError` whose faults have
the path ``"file"`` and a message that starts with the file's path: one fault for
a file that cannot be read or is empty, and one fault per bad line (up to
:data:`MAX_TRACE_FAULTS`, then one ``and N more bad lines``), so that the command
line prints one line per problem. A message says where and why (the line, the
column, the form expected) but never quotes the file's content: a scenario that
names ``/etc/shadow`` as its trace learns only that it is not a trace.

This package imports only the standard library, numpy, :mod:`eda_sim.errors` and
:mod:`eda_sim.files`.
"""

from eda_sim.traces.reading import (
    ACCEPTED,
    MAX_TRACE_EVENTS,
    MAX_TRACE_FAULTS,
    TIME_COLUMNS,
    TYPE_COLUMNS,
    read_trace,
)
from eda_sim.traces.trace import Trace

__all__ = [
    "ACCEPTED",
    "MAX_TRACE_EVENTS",
    "MAX_TRACE_FAULTS",
    "TIME_COLUMNS",
    "TYPE_COLUMNS",
    "Trace",
    "read_trace",
]
