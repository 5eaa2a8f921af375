"""One pass over a trace's rows: what each kind of timestamp holds, and the faults found (layer 1).

The kind of timestamp that is the trace's (the most common one) is known only at the
end, so the order check runs per kind as the rows come, and :meth:`RowPass.faults`
decides at the end which findings are faults.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from eda_sim.errors import Fault, ScenarioError
from eda_sim.traces.format import (
    DIRECT,
    DISORDER,
    KIND_LABEL,
    KIND_MASK,
    KINDS,
    MAX_TRACE_EVENTS,
    MAX_TRACE_FAULTS,
    SECOND,
    BadCellError,
    Kind,
    parse_time,
)


@dataclass
class KindState:
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
class RowPass:
    """The state of one pass over a trace's rows."""

    where: str
    time_name: str
    type_name: str | None
    times: array[float] = field(default_factory=lambda: array("d"))
    flags: bytearray = field(default_factory=bytearray)
    types: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    kinds: dict[Kind, KindState] = field(
        default_factory=lambda: {kind: KindState() for kind in KINDS}
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
            kind, value = parse_time(cell)
        except BadCellError as bad:
            messages.append(f"column {self.time_name}: {bad}")
            self.times.append(math.nan)
        else:
            state = self.kinds[kind]
            flag = KINDS.index(kind) + 1
            if state.first is None:
                state.first, state.first_line, state.first_cell = value, line, cell
            if state.previous is not None and value < state.previous:  # type: ignore[operator]
                flag |= DISORDER
                if len(state.disorder) < MAX_TRACE_FAULTS:
                    state.disorder.append((row, line, state.previous_line))
            state.previous, state.previous_line = value, line
            state.count += 1
            if len(state.rows) <= MAX_TRACE_FAULTS:
                state.rows.append((row, line))
            if isinstance(value, datetime):
                assert isinstance(state.first, datetime)
                self.times.append((value - state.first) / SECOND)
            else:
                self.times.append(value)
        if type_cell is not None:
            if not type_cell:
                messages.append(f"column {self.type_name}: empty event type")
            self.types.append(self.names.setdefault(type_cell, type_cell))
        if messages:
            flag |= DIRECT
            if len(self.direct) < MAX_TRACE_FAULTS:
                self.direct.append((row, line, messages))
        self.flags.append(flag)

    def faults(self) -> tuple[Kind | None, list[Fault]]:
        """The trace's kind of timestamp, and one fault per bad line (capped)."""
        counted = [kind for kind in KINDS if self.kinds[kind].count]
        if not counted:
            chosen = None
        else:  # the most common kind; on a tie, the one met first
            chosen = max(counted, key=lambda k: (self.kinds[k].count, -self.kinds[k].first_line))
        flags = np.frombuffer(bytes(self.flags), dtype=np.uint8)
        kind_of = flags & KIND_MASK
        index = KINDS.index(chosen) + 1 if chosen is not None else 0
        bad = (
            ((flags & DIRECT) != 0)
            | ((kind_of != 0) & (kind_of != index))
            | ((kind_of == index) & ((flags & DISORDER) != 0))
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
            for kind in KINDS:
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
                        f"column {self.time_name}: {KIND_LABEL[kind]}, but line "
                        f"{example.first_line} is {KIND_LABEL[chosen]}; the timestamps must "
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
