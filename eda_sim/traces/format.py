"""What a trace file may hold: its columns, its timestamps, its limits (layer 1).

A timestamp cell is a number (seconds, finite, >= 0) or an ISO-8601 date-time
(with or without a UTC offset); :func:`parse_time` reads one and says which
kind it is, and the flags of one row's bookkeeping byte are declared here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Literal

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

Kind = Literal["number", "naive", "aware"]
KINDS: tuple[Kind, ...] = ("number", "naive", "aware")
KIND_LABEL: dict[Kind, str] = {
    "number": "a number",
    "naive": "a date-time without a UTC offset",
    "aware": "a date-time with a UTC offset",
}
SECOND = timedelta(seconds=1)
# Per-row bookkeeping byte: the kind's index + 1 (0: no readable timestamp), and flags.
KIND_MASK = 0b0011
DIRECT = 0b0100  # a problem of the row itself: unreadable timestamp or empty type
DISORDER = 0b1000  # earlier than the row before it of the same kind


class BadCellError(ValueError):
    """A timestamp cell that cannot be read; the message says why (not what it holds)."""


def parse_time(cell: str) -> tuple[Kind, float | datetime]:
    """Read one timestamp cell as a number or a date-time (aware ones in UTC)."""
    if not cell:
        raise BadCellError(f"empty timestamp; expected {ACCEPTED}")
    try:
        number = float(cell)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise BadCellError("not a finite number; a timestamp must be finite")
        if number < 0:
            raise BadCellError("a negative number; a timestamp must be >= 0")
        return "number", number
    text = cell[:-1] + "+00:00" if cell[-1] in "Zz" else cell
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadCellError(f"not a timestamp; expected {ACCEPTED}") from None
    if moment.utcoffset() is None:
        return "naive", moment
    return "aware", moment.astimezone(UTC)
