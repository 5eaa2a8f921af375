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
    GUIDE_SHIFT_BITS,
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

__all__ = [
    "GUIDED_FROM",
    "blocking_state",
    "fanout_tables",
    "guide_table",
    "route_tables",
    "server_state",
    "trace_state",
]

#: Rows with at least this many entries get a guide table; shorter ones are bisected whole
#: (measured per draw, one row, random uniforms: bisection 5.2 / 7.4 / 12.6 / 50.6 ns over
#: 3 / 4 / 6 / 1,000 entries; guided 5.9 / 6.0 / 5.9 / 7.3 ns).
GUIDED_FROM = 4
#: Guide buckets per entry of a row (at least; rounded up to a power of two): a bucket
#: then holds a cumulative value a quarter of the time, and the search is mostly none.
BUCKETS_PER_ENTRY = 4


def _offsets(lengths: list[int]) -> np.ndarray:
    """Row offsets (CSR ``indptr``) of rows of the given lengths."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def guide_table(cumulative: np.ndarray) -> np.ndarray:
    """The guide table of one cumulative row: where a uniform's search starts and ends.

    With ``M`` the smallest power of two >= ``BUCKETS_PER_ENTRY · L`` (``L``: the
    row's length), entry ``m`` (``0 <= m < M``) is the number of cumulative values
    ``<= m / M`` (``numpy.searchsorted(cumulative, m / M, side="right")``) and
    entry ``M`` is ``L``. A uniform ``u`` in ``[m / M, (m + 1) / M)`` then has its
    answer (the number of values ``<= u``) in ``[guide[m], guide[m + 1]]``: values
    before ``guide[m]`` are ``<= m / M <= u``, those from ``guide[m + 1]`` on are
    ``> (m + 1) / M > u``. A bisection between the two gives the bisection's
    answer over the whole row for every ``u``, ties and zero-probability entries
    included; a bucket holds ``L / M <= 1 / BUCKETS_PER_ENTRY`` values on
    average, so the search mostly has nothing left to compare. ``M`` being a power
    of two, ``u · M`` and ``m / M`` are exact: the bucket ``floor(u · M)`` never
    starts past the answer, so no backward correction is needed.

    The guide (index) table is Chen & Asau's (1974, "On generating random
    variates from an empirical distribution", *AIIE Transactions* 6(2)), in
    Devroye (1986, *Non-Uniform Random Variate Generation*, §III.2.4: expected
    comparisons at most ``1 + L / M``).
    """
    length = len(cumulative)
    buckets = 1 << max(BUCKETS_PER_ENTRY * length - 1, 0).bit_length()
    guide = np.empty(buckets + 1, dtype=np.int64)
    guide[:buckets] = np.searchsorted(cumulative, np.arange(buckets) / buckets, side="right")
    guide[buckets] = length
    return guide


def route_tables(scenario: Scenario) -> RouteTables:
    """Every class's :attr:`~eda_sim.routing.Routing.draw_rows`, stacked by class, no hop taken.

    ``hops`` and the entry arrays end with one padding entry (-1, inf): the draw
    steps read the entry before a row's end even when the row is empty. Rows of
    :data:`GUIDED_FROM` entries or more get a guide table (:func:`guide_table`).
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
    guides = _Guides()
    rows["guide"] = guides.add_rows(hops["cumulative"], rows["start"], rows["stop"])
    entry_start = _offsets([len(to) for to in entry_targets])
    entry_sums = np.concatenate([*entry_cumulative, [np.inf]]).astype(np.float64)
    return RouteTables(
        rows=rows,
        hops=hops,
        entry_start=entry_start,
        entry_targets=np.concatenate([*entry_targets, [-1]]).astype(np.int64),
        entry_cumulative=entry_sums,
        entry_guide=guides.add_rows(entry_sums, entry_start[:-1], entry_start[1:]),
        guide=guides.array(),
    )


class _Guides:
    """The ``guide`` array of :class:`~eda_sim.engine.fast.state.RouteTables`, built row by row."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]  # (unused: 0 is "none")
        self.size = 1

    def add_rows(self, cumulative: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """Guide tables of the rows ``cumulative[start[i]:stop[i]]`` that are long enough.

        Returns each row's packed reference (``offset * 64 + log2(buckets)``; 0:
        the row is searched whole).
        """
        packed = np.zeros(len(start), dtype=np.int64)
        for i in np.flatnonzero(stop - start >= GUIDED_FROM).tolist():
            guide = guide_table(cumulative[start[i] : stop[i]])
            shift = (len(guide) - 1).bit_length() - 1
            packed[i] = (self.size << GUIDE_SHIFT_BITS) + shift
            self.parts.append(guide)
            self.size += len(guide)
        return packed

    def array(self) -> np.ndarray:
        """Every guide table so far, after one unused entry."""
        return np.concatenate(self.parts)


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
