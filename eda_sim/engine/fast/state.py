"""The fast engine's state: named arrays, one small set per mechanism (NumPy only).

The compiled loop (:mod:`eda_sim.engine.fast.kernel`) keeps everything in the
arrays built here and returns to Python whenever a stream buffer is empty or a
growing array is full; the driver (:mod:`eda_sim.engine.fast.driver`) refills or
grows it and calls the loop again with the same state. Per-station, per-event
and per-row records are structured arrays whose fields are named as the
SimPy engine's objects are (:class:`~eda_sim.stats.StationMonitor`,
:class:`~eda_sim.stats.SystemMonitor`, :class:`~eda_sim.stats.ArrivalCounter`,
:class:`~eda_sim.engine.simpy.lifecycle.Journey`), so that the loop reads like
the engine it reproduces.

==============================  ==========================================================
array                           holds
==============================  ==========================================================
``control`` (1 record)          the clock, the horizon, the loop's counters (:data:`COUNTERS`)
                                and return flags
``queue`` (EventQueue)          the event set (a calendar queue): time, order key, payload each
``events``, ``free``            the event pool: one record per branch present (and per
                                journey whose own branch ended before its copies), free slots
``servers`` (ServerState)       servers and queue discipline: servers per station, one FIFO
                                line per priority level, each class's level
``capacity``                    capacity and loss: the most events a station holds (-1: none)
``blocking`` (BlockingState)    blocking after service: which stations block, their senders
``fanout`` (FanOutTables)       publish–subscribe: the stations each row sends copies to
``monitors``                    station monitors (running totals from time 0)
``system``                      system monitor (row 0) and one per event class (row 1 + k)
``path`` (SamplePathState)      sample-path snapshots on the grid and at the warm-up's end
``arrivals`` (ArrivalState)     arrival counters per class, their histograms and gap samples
``trace`` (TraceState)          trace replay: the recorded instants, each class's place in them
``streams`` (StreamState)       random-value buffers, read positions and refill points
``routes`` (RouteTables)        sparse routing rows that turn uniforms into entries and hops,
                                and the hops taken along each entry (the transitions counted)
``waits`` (RecentWaits)         the last (wait, time per visit) pairs per station
``sketches`` (SketchState)      percentile sketches: a buffer of keys, octave blocks
==============================  ==========================================================

A new mechanism adds its own array (or fields) here, documented in this table,
and takes it as an argument of the steps it owns.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "ARRIVAL_COUNTER",
    "CARRY",
    "CARRY_COUNT",
    "CONTROL",
    "COUNTERS",
    "CURSOR",
    "EVENT",
    "GUIDE_SHIFT_BITS",
    "HOP",
    "HOP_ROW",
    "LINE",
    "MIN_BUCKETS",
    "QUEUE_CURSOR",
    "QUEUE_SCALE",
    "SKETCH_OCTAVES",
    "SKETCH_SUBBUCKETS",
    "SNAPSHOT_FIELDS",
    "STATION_MONITOR",
    "SYSTEM_MONITOR",
    "ArrivalState",
    "BlockingState",
    "Counters",
    "EventQueue",
    "FanOutTables",
    "RecentWaits",
    "RouteTables",
    "SamplePathState",
    "ServerState",
    "SketchState",
    "StreamState",
    "TraceState",
    "grown",
]

#: The flag of a rare key that carries :data:`CARRY_COUNT` values of a full counter.
CARRY = 1 << 62
#: Values a carry stands for (a counter at 65,535 + 1 goes back to 32,768).
CARRY_COUNT = 32768

#: The loop's scalars: kept in registers while it runs, written back when it returns.
CONTROL = np.dtype(
    [
        ("now", np.float64),
        ("horizon", np.float64),
        ("seq", np.int64),  # the next order key: events at equal times fire in key order
        ("heap_size", np.int64),
        ("free_count", np.int64),  # free slots in the event pool
        ("need_refill", np.int64),  # a stream buffer is empty
        ("hist_full", np.int64),  # an arrival histogram needs more bins
        # Free slots and heap room one event may need: 2 + the most copies one
        # service publishes (see kernel._status).
        ("reserve", np.int64),
        ("pool_n", np.int64),  # sketch blocks in use
        ("rare_n", np.int64),  # rare sketched keys waiting for Python
        ("cut_due", np.int64),  # the sketches are to be cut before the next event
        ("cut_label", np.int64),  # ... at this grid point (-1: the warm-up's end)
    ]
)

#: The loop's counters, in this order, kept in registers (a tuple) while it runs:
#: the hook points' steps take them and return them updated; ``control`` holds
#: them between calls of the loop (``size`` is ``heap_size``, ``n_free`` is
#: ``free_count``, ``refill`` is ``need_refill``).
COUNTERS = ("seq", "size", "n_free", "refill", "hist_full", "pool_n", "rare_n")
#: The type of the loop's counters (:data:`COUNTERS`).
Counters = tuple[int, int, int, int, int, int, int]

#: One branch of an event present in the system (a slot of the event pool): the
#: event itself or one of its fan-out copies. The slot of the event itself also
#: holds its journey (``entered``, ``branches``, ``lost``), shared by its copies,
#: and is kept until the journey's last branch ends.
EVENT = np.dtype(
    [
        ("arrived", np.float64),  # at its current station
        ("started", np.float64),  # service there
        ("ended", np.float64),  # service there (it may then be blocked until it departs)
        ("entered", np.float64),  # the system (journey)
        ("event_class", np.int64),
        ("station", np.int64),
        ("next_station", np.int64),  # where a blocked sender goes once let in
        ("admitted", np.int64),  # a sender let in found a free server there (1) or waits (0)
        # The slot behind it in its station's line, or in the line of senders
        # blocked on a station (never both at once), or -1.
        ("next_in_line", np.int64),
        ("journey", np.int64),  # the slot that holds its journey (its own, for the event)
        ("is_copy", np.int64),
        ("branches", np.int64),  # journey: branches still in the system
        ("lost", np.int64),  # journey: some branch was refused by a full station
    ]
)

#: One FIFO line: a linked list of event slots through ``events.next_in_line``.
LINE = np.dtype([("head", np.int64), ("tail", np.int64)])

#: Running totals of one station (:class:`~eda_sim.stats.StationMonitor`).
STATION_MONITOR = np.dtype(
    [
        ("last", np.float64),
        ("area_busy", np.float64),
        ("area_waiting", np.float64),
        ("wait_sum", np.float64),
        ("sojourn_sum", np.float64),
        ("blocked_sum", np.float64),
        ("present", np.int64),
        ("arrivals", np.int64),
        ("lost", np.int64),
        ("completions", np.int64),
    ]
)

#: Running totals of the system or one class (:class:`~eda_sim.stats.SystemMonitor`).
SYSTEM_MONITOR = np.dtype(
    [
        ("last", np.float64),
        ("area", np.float64),
        ("sojourn_sum", np.float64),
        ("present", np.int64),
        ("entered", np.int64),
        ("completions", np.int64),
        ("lost", np.int64),
        ("copies", np.int64),
        ("copies_finished", np.int64),
        ("copies_lost", np.int64),
    ]
)

#: One class's arrival counter (:class:`~eda_sim.stats.ArrivalCounter`).
ARRIVAL_COUNTER = np.dtype(
    [
        ("window", np.float64),
        ("start", np.float64),
        ("gap", np.float64),  # the gap drawn for the next arrival
        ("current", np.int64),  # the current window's index
        ("count", np.int64),  # arrivals in it so far
        ("kept", np.int64),  # gaps kept in the sample
        ("distinct", np.int64),  # distinct counts seen (histogram keys, in first-seen order)
    ]
)

#: One routing row of a class at a station: its entries in ``RouteTables.hops``, its exits,
#: and its guide table in ``RouteTables.guide`` (``offset * 64 + log2(buckets)``, see
#: :data:`GUIDE_SHIFT_BITS`; 0 for a row searched whole). 32 bytes.
HOP_ROW = np.dtype(
    [("start", np.int64), ("stop", np.int64), ("exits", np.int64), ("guide", np.int64)]
)
#: Low bits of a packed guide reference that hold ``log2(buckets)``; the offset is above them.
GUIDE_SHIFT_BITS = 6
#: One routing entry: cumulative probability, target station, hops taken along it.
HOP = np.dtype([("cumulative", np.float64), ("target", np.int64), ("taken", np.int64)])

#: Where the loop reads one stream's buffer row (:class:`StreamState`).
CURSOR = np.dtype([("pos", np.int64), ("end", np.int64)])

#: Columns of a snapshot row: the fields of StationSnapshot / SystemSnapshot, in order.
SNAPSHOT_FIELDS = 10


#: Fields of ``EventQueue.cursor``: the calendar's current day, its buckets - 1, its
#: first free node, the sizes past which the loop returns to resize it, its cost
#: sum and that sum's limit, the earliest event's node (:mod:`eda_sim.engine.fast.event_queue`).
QUEUE_CURSOR = (
    "current", "mask", "free", "grow_at", "shrink_at", "work", "work_limit", "front"
)  # fmt: skip
#: Fields of ``EventQueue.scale``: 1 / the width of a day, the width.
QUEUE_SCALE = ("inv_width", "width")
#: The fewest buckets of the calendar.
MIN_BUCKETS = 8


class EventQueue(NamedTuple):
    """The event set, keyed by ``(time, order)`` as SimPy's by ``(time, priority, id)``.

    A calendar queue (:mod:`eda_sim.engine.fast.event_queue`). ``entries`` has one
    row per event: its time, its order key and its payload (``index * 8 + kind``,
    see :mod:`eda_sim.engine.fast.kinds`), all three as doubles, so that an event
    is one row of one array (numba reads a structured record through a reference
    count, a row of doubles without one); order keys and payloads are integers
    below ``2**53``, which doubles hold exactly. Row 0 is a row of time ``inf``
    (the front of an empty queue), the other rows the calendar's nodes.
    ``links[n]`` is the node after node ``n`` in its bucket (or in the free
    list; -1: none), ``links[rows + b]`` the first node of bucket ``b``.
    """

    entries: np.ndarray  # (rows, 3) float64: time, order, payload
    links: np.ndarray  # (rows + bucket room,) int64: successors, then the buckets' first nodes
    cursor: np.ndarray  # (8,) int64: QUEUE_CURSOR
    scale: np.ndarray  # (2,) float64: QUEUE_SCALE


class ServerState(NamedTuple):
    """Servers and queue discipline (:mod:`eda_sim.engine.fast.servers`).

    Non-preemptive priorities are one FIFO line per priority level, lowest
    priority value first: the order ``(priority, arrival order)`` of the SimPy
    engine's priority line. Without priorities there is one level.
    """

    servers: np.ndarray  # (stations,) servers per station
    lines: np.ndarray  # (stations, levels) LINE
    levels: np.ndarray  # (classes,) the priority level of each class


class BlockingState(NamedTuple):
    """Blocking after service (:mod:`eda_sim.engine.fast.blocking`)."""

    blocks: np.ndarray  # (stations + 1,) 1 where a full station blocks its senders (last: exit)
    any: np.ndarray  # (1,) 1 when some station blocks
    senders: np.ndarray  # (stations, 1) LINE: senders blocked on each station, oldest first


class FanOutTables(NamedTuple):
    """Publish–subscribe targets by row ``k·N + i`` (:mod:`eda_sim.engine.fast.fanout`)."""

    start: np.ndarray  # (K·N + 1,) offsets into targets
    targets: np.ndarray  # the subscribers, in the listed order


class TraceState(NamedTuple):
    """Recorded instants of the replayed classes (:mod:`eda_sim.engine.fast.trace_replay`)."""

    replayed: np.ndarray  # (classes,) 1 for a class whose arrivals replay a trace
    times: np.ndarray  # every replayed class's instants, one after the other
    next: np.ndarray  # (classes,) the position of its next instant in ``times``
    stop: np.ndarray  # (classes,) the position of its first instant at or after the horizon
    previous: np.ndarray  # (classes,) its last instant replayed (0 before the first)


class SamplePathState(NamedTuple):
    """Snapshots (rows of :data:`SNAPSHOT_FIELDS`) on the grid and at the warm-up's end."""

    grid: np.ndarray  # (points,)
    stations: np.ndarray  # (stations, points, 10)
    system: np.ndarray  # (1 + classes, points, 10)
    warm_stations: np.ndarray  # (stations, 10)
    warm_system: np.ndarray  # (1 + classes, 10)


class ArrivalState(NamedTuple):
    """Arrival counters per class and what they keep (bounded)."""

    counters: np.ndarray  # (classes,) ARRIVAL_COUNTER
    histogram: np.ndarray  # (classes, bins): windows that saw n arrivals
    seen: np.ndarray  # (classes, bins): the counts n in the order first seen
    gaps: np.ndarray  # (classes, MAX_GAP_SAMPLE)


class StreamState(NamedTuple):
    """Random-value buffers: one row per stream (see :mod:`eda_sim.engine.fast.streams`).

    Reading the value at a row's refill point (``cursor[row].end``) asks for a
    refill; the values from there on are a reserve, so that the few reads one
    event makes never run past the row. A row's read position and refill point
    sit side by side (one cache line for both).
    """

    values: np.ndarray  # (2 R, width): rows [0, R) values, [R, 2R) uniforms
    cursor: np.ndarray  # (2 R,) CURSOR: the next value to read, the refill point


class RouteTables(NamedTuple):
    """Every class's :attr:`~eda_sim.routing.Routing.draw_rows`, stacked, with the hops taken.

    Hops after station ``i`` for class ``k``: row ``k·N + i`` of ``rows``
    (:data:`HOP_ROW`), which spans ``hops[start:stop]`` (:data:`HOP`): the stations
    a uniform can pick, with their cumulative probabilities in station-name
    order, and how often each was taken; the row counts its exits. Entry and
    count of one hop share a cache line, so that a hop touches two lines,
    whatever N. ``hops`` ends with one padding entry, so that the entry before a
    row's end can always be read. Entries of class ``k``: ``entry_targets`` and
    ``entry_cumulative`` from ``entry_start[k]`` to ``entry_start[k + 1]``.

    ``guide`` holds the guide tables (Chen & Asau 1974) of the long rows, hop
    rows' and entry rows' alike (:func:`eda_sim.engine.fast.tables.guide_table`),
    after one unused entry: a uniform's search in such a row starts within one
    bucket of it, not over all of it. ``entry_guide[k]`` is class ``k``'s packed
    reference, as ``HOP_ROW.guide`` (0: none, the row is bisected whole).
    """

    rows: np.ndarray  # (K·N,) HOP_ROW
    hops: np.ndarray  # (entries + 1,) HOP
    entry_start: np.ndarray  # (K + 1,)
    entry_targets: np.ndarray
    entry_cumulative: np.ndarray
    entry_guide: np.ndarray  # (K,) packed references into guide
    guide: np.ndarray  # (1 + the guided rows' buckets + 1 each,) int64


class RecentWaits(NamedTuple):
    """The last ``keep`` (wait, time per visit) pairs per station, in a ring."""

    pairs: np.ndarray  # (stations, keep, 2)
    written: np.ndarray  # (stations,) pairs written so far


#: Octaves of a time the loop counts itself, up to the horizon's (smaller times go to Python).
SKETCH_OCTAVES = 64
#: Counters per octave block: the 7 mantissa bits of a bucket (eda_sim.stats.sketch).
SKETCH_SUBBUCKETS = 128


class SketchState(NamedTuple):
    """The percentile sketches' counts (see :mod:`eda_sim.engine.fast.latency`).

    ``layout`` is ``(sketches per station, number of sketches)``; ``slots[s, c]``
    (int32) the block counting column ``c`` of sketch ``s`` in the current chunk
    (-1: none yet): zeros for ``c = 0``, else the octave with exponent field
    ``base + c``; ``counts[b]`` block ``b``'s 128 counters (uint16), filled by the
    driver; ``rare_keys`` the buffer of keys the loop writes, one per sketched
    time, counted by the driver; ``is_cut[g]`` 1 where the sketches are cut at
    grid point ``g``.
    """

    layout: np.ndarray  # (2,)
    base: np.ndarray  # (1,)
    slots: np.ndarray  # (sketches, SKETCH_OCTAVES) int32
    counts: np.ndarray  # (blocks + 1, SKETCH_SUBBUCKETS) uint16
    rare_keys: np.ndarray  # (capacity,) the loop's buffer of keys
    is_cut: np.ndarray  # (grid points,)


def grown(array: np.ndarray, size: int, fill: float = 0) -> np.ndarray:
    """``array`` with its first axis grown to ``size`` (new rows set to ``fill``)."""
    bigger = np.full((size, *array.shape[1:]), fill, dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger
