"""The fast engine's per-scenario tables: routing, servers, blocking, fan-out, traces (no numba).

Each function builds one mechanism's state (:mod:`eda_sim.engine.fast.state`)
from the scenario, in time and memory proportional to the scenario's size
(stations, routing entries, fan-out targets, trace instants), never N² for N
stations: a network of thousands of stations with a few hops each builds in
milliseconds.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.state import (
    HOP,
    HOP_ROW,
    LINE,
    BlockingState,
    FanOutTables,
    RouteTables,
    ServerState,
    TraceState,
)
from eda_sim.scenario import Scenario

__all__ = ["blocking_state", "fanout_tables", "route_tables", "server_state", "trace_state"]


def _offsets(lengths: list[int]) -> np.ndarray:
    """Row offsets (CSR ``indptr``) of rows of the given lengths."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def route_tables(scenario: Scenario) -> RouteTables:
    """Every class's :attr:`~eda_sim.routing.Routing.draw_rows`, stacked by class, no hop taken.

    ``hops`` and the entry arrays end with one padding entry (-1, inf): the draw
    steps read the entry before a row's end even when the row is empty.
    """
    starts: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    cumulative: list[np.ndarray] = []
    entry_targets, entry_cumulative = [], []
    offset = 0
    for event_class in scenario.classes:
        hop_rows, entry_to, entry_sums = event_class.routing.draw_rows
        starts.append(offset + hop_rows.indptr)
        offset += len(hop_rows.columns)
        targets.append(hop_rows.columns)
        cumulative.append(hop_rows.values)
        entry_targets.append(entry_to)
        entry_cumulative.append(entry_sums)
    rows = np.zeros(len(scenario.classes) * len(scenario.stations), dtype=HOP_ROW)
    rows["start"] = np.concatenate([bounds[:-1] for bounds in starts])
    rows["stop"] = np.concatenate([bounds[1:] for bounds in starts])
    hops = np.zeros(offset + 1, dtype=HOP)
    hops["target"] = np.concatenate([*targets, [-1]])
    hops["cumulative"] = np.concatenate([*cumulative, [np.inf]])
    return RouteTables(
        rows=rows,
        hops=hops,
        entry_start=_offsets([len(to) for to in entry_targets]),
        entry_targets=np.concatenate([*entry_targets, [-1]]).astype(np.int64),
        entry_cumulative=np.concatenate([*entry_cumulative, [np.inf]]).astype(np.float64),
    )


def server_state(scenario: Scenario) -> ServerState:
    """Servers per station and one empty line per priority level (one level without priorities).

    The levels are the classes' distinct priorities in increasing order, so that
    a lower number is served first and equal priorities share a FIFO line.
    """
    priorities = np.array([c.priority for c in scenario.classes], dtype=np.float64)
    distinct = np.unique(priorities)
    return ServerState(
        servers=np.array([s.servers for s in scenario.stations], dtype=np.int64),
        lines=_empty_lines(len(scenario.stations), len(distinct)),
        levels=np.searchsorted(distinct, priorities).astype(np.int64),
    )


def _empty_lines(stations: int, levels: int) -> np.ndarray:
    """``(stations, levels)`` empty lines."""
    lines = np.zeros((stations, levels), dtype=LINE)
    lines["head"] = lines["tail"] = -1
    return lines


def blocking_state(scenario: Scenario) -> BlockingState:
    """Which stations block their senders (one entry more, 0, for "leave"), no one blocked."""
    blocks = [1 if s.on_full == "block" else 0 for s in scenario.stations]
    return BlockingState(
        blocks=np.array([*blocks, 0], dtype=np.int64),
        any=np.array([int(any(blocks))], dtype=np.int64),
        senders=_empty_lines(len(scenario.stations), 1),
    )


def fanout_tables(scenario: Scenario) -> FanOutTables:
    """The subscribers of row ``k·N + i`` (class ``k``, station ``i``), in the listed order."""
    rows = [targets for c in scenario.classes for targets in c.routing.fanout]
    flat = [target for targets in rows for target in targets]
    return FanOutTables(
        start=_offsets([len(targets) for targets in rows]),
        targets=np.array([*flat, -1], dtype=np.int64),
    )


def trace_state(scenario: Scenario, horizon: float) -> TraceState:
    """The replayed classes' instants, one class after the other, none replayed yet.

    ``stop[k]`` is the position of class ``k``'s first instant at or after the
    horizon (the SimPy source stops there); ``times`` ends with a padding entry.
    """
    parts: list[np.ndarray] = []
    replayed, start, stop = [], [], []
    offset = 0
    for event_class in scenario.classes:
        times = event_class.arrivals.times
        replayed.append(0 if times is None else 1)
        start.append(offset)
        if times is None:
            stop.append(offset)
            continue
        values = np.asarray(times, dtype=np.float64)
        late = np.flatnonzero(values >= horizon)
        stop.append(offset + (int(late[0]) if late.size else len(values)))
        parts.append(values)
        offset += len(values)
    return TraceState(
        replayed=np.array(replayed, dtype=np.int64),
        times=np.concatenate([*parts, [np.inf]]),
        next=np.array(start, dtype=np.int64),
        stop=np.array(stop, dtype=np.int64),
        previous=np.zeros(len(scenario.classes)),
    )
