"""The compiled event loop of the fast engine (layer 4; the only numba importer).

The loop reproduces, event for event, what :mod:`eda_sim.engine.simpy_engine` does
on SimPy's event queue for the Markov-network subset (FIFO stations, capacity
with loss, no fan-out, blocking, priorities or traces):

* the queue is a binary heap keyed by ``(time, sequence)``, as SimPy's is by
  ``(time, priority, event id)``, so events at equal times fire in scheduling
  order. SimPy's only ``URGENT`` event in this subset, a new walk's
  ``Initialize``, is always the next event after its arrival, and a server handed
  over at ``now`` (a ``TURN``) is the next event when nothing else is scheduled at
  ``now``: both are run where they are scheduled instead of going through the
  heap (about a third of all events), with the same effect;
* event times are computed with the same floating-point operations
  (``now + delay``; the grid ticks as ``now + (grid[i] − now)``);
* the monitors' running totals (:class:`~eda_sim.stats.StationMonitor`,
  :class:`~eda_sim.stats.SystemMonitor`, :class:`~eda_sim.stats.ArrivalCounter`)
  are updated by the same operations in the same order.

Random values are not drawn here: numba cannot run NumPy ``Generator`` s. The
Python driver (:mod:`eda_sim.engine.fast_engine`) fills one buffer per stream;
the loop returns :data:`REFILL` after an event that emptied a buffer, and
:data:`GROW` when its event pool, heap or histogram is nearly full, and is called
again with the same state. It returns :data:`DONE` at the horizon.

Each per-event step (heap pop and push, monitor updates, drawing a service) is
written once, in line in :func:`run_kernel`, not as a helper: numba passes arrays
to a compiled function with an atomic reference-count increment and decrement
each, which on every event made the loop about twice as slow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit

__all__ = [
    "ARRIVAL",
    "DONE",
    "GROW_HEAP",
    "GROW_HIST",
    "GROW_SLOTS",
    "HIST_FULL",
    "REFILL",
    "TICK",
    "WARMUP",
    "run_kernel",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_compile = cast(Callable[[_F], _F], njit(cache=True))

# Event kinds (the low 3 bits of a heap payload; the rest is the event's index).
ARRIVAL, SERVICE_END, TURN, TICK, WARMUP = 0, 2, 3, 4, 5
# Return codes.
DONE, REFILL, GROW_SLOTS, GROW_HEAP, GROW_HIST = 0, 1, 2, 3, 4
# ``math.floor(x / w)`` is the exact floor of the quotient when ``x / w < FAST_FLOOR_LIMIT``
# and its fraction is more than ``FLOOR_MARGIN`` from 0 and 1: the division's rounding
# error, at most ``FAST_FLOOR_LIMIT · 2⁻⁵³ ≈ 1.1e-7``, cannot then cross an integer.
FAST_FLOOR_LIMIT = 1e9
FLOOR_MARGIN = 1e-6
# Indices into the integer state vector.
SEQ, HEAP_SIZE, FREE_COUNT, NEED_REFILL, HIST_FULL = 0, 1, 2, 3, 4


@_compile
def station_snapshot(
    st_f: np.ndarray, st_i: np.ndarray, servers: np.ndarray, i: int, now: float, out: np.ndarray
) -> None:
    """``StationMonitor.snapshot(now)`` of station ``i`` into the 10-vector ``out``."""
    elapsed = now - st_f[i, 0]
    present = st_i[i, 0]
    busy = present if present < servers[i] else servers[i]
    out[0] = now
    out[1] = st_f[i, 1] + busy * elapsed
    out[2] = st_f[i, 2] + (present - busy) * elapsed
    out[3] = st_i[i, 1]
    out[4] = st_i[i, 2]
    out[5] = st_i[i, 3]
    out[6] = st_f[i, 3]
    out[7] = st_f[i, 4]
    out[8] = present
    out[9] = st_f[i, 5]


@_compile
def system_snapshot(
    sys_f: np.ndarray, sys_i: np.ndarray, r: int, now: float, out: np.ndarray
) -> None:
    """``SystemMonitor.snapshot(now)`` of row ``r`` (0: system, 1 + k: class k)."""
    out[0] = now
    out[1] = sys_f[r, 1] + sys_i[r, 0] * (now - sys_f[r, 0])
    out[2] = sys_i[r, 1]
    out[3] = sys_i[r, 2]
    out[4] = sys_i[r, 3]
    out[5] = sys_f[r, 2]
    out[6] = sys_i[r, 0]
    out[7] = 0.0
    out[8] = 0.0
    out[9] = 0.0


@_compile
def snapshot_all(
    st_f: np.ndarray,
    st_i: np.ndarray,
    servers: np.ndarray,
    sys_f: np.ndarray,
    sys_i: np.ndarray,
    now: float,
    st_out: np.ndarray,
    sys_out: np.ndarray,
) -> None:
    """Snapshots of every station (``st_out[i]``) and system row (``sys_out[r]``)."""
    for i in range(st_f.shape[0]):
        station_snapshot(st_f, st_i, servers, i, now, st_out[i])
    for r in range(sys_f.shape[0]):
        system_snapshot(sys_f, sys_i, r, now, sys_out[r])


@_compile
def run_kernel(
    sf: np.ndarray,
    si: np.ndarray,
    ht: np.ndarray,
    ho: np.ndarray,
    hp: np.ndarray,
    ev: np.ndarray,
    ev_i: np.ndarray,
    free: np.ndarray,
    line: np.ndarray,
    servers: np.ndarray,
    capacity: np.ndarray,
    st_f: np.ndarray,
    st_i: np.ndarray,
    sys_f: np.ndarray,
    sys_i: np.ndarray,
    grid: np.ndarray,
    st_path: np.ndarray,
    sys_path: np.ndarray,
    st_warm: np.ndarray,
    sys_warm: np.ndarray,
    cnt_f: np.ndarray,
    cnt_i: np.ndarray,
    hist: np.ndarray,
    seen: np.ndarray,
    gaps: np.ndarray,
    trans: np.ndarray,
    values: np.ndarray,
    pos: np.ndarray,
    end: np.ndarray,
    draw_order: np.ndarray,
    cumulative: np.ndarray,
    last_entry: np.ndarray,
    waits: np.ndarray,
    wcount: np.ndarray,
) -> int:
    """Run the event loop until the horizon or until a buffer, pool or heap needs Python.

    State (all arrays, updated in place): ``sf = [now, horizon]``; ``si`` the
    scalars at :data:`SEQ` ...; the heap ``ht`` (times), ``ho`` (order keys), ``hp``
    (payloads); per event slot ``ev[s] = (arrived, started, entered)`` and
    ``ev_i[s] = (class, station, next in line)``; ``free`` a stack of free slots;
    ``line[i] = (head, tail)`` of station ``i``'s FIFO line (−1: empty); the
    monitors' running totals; the sample path and warm-up snapshots; the arrival
    counters; transition counts; stream buffers and positions, and the routing
    tables that turn uniforms into hops (:attr:`~eda_sim.routing.Routing.draw_tables`);
    the recent waits.
    """
    n_classes = cnt_f.shape[0]
    n_stations = servers.shape[0]
    horizon = sf[1]
    last_tick = grid.shape[0] - 2
    keep = waits.shape[1]
    max_gaps = gaps.shape[1]
    n_bins = hist.shape[1]
    n_rows = values.shape[0] // 2  # rows [0, n_rows): gaps and services; then uniforms
    # Scalar state kept in registers, written back to `si` whenever the loop returns.
    seq = si[SEQ]
    size = si[HEAP_SIZE]
    n_free = si[FREE_COUNT]
    refill = si[NEED_REFILL]
    hist_full = si[HIST_FULL]
    # What one event schedules and who gets a server: at most 2 of each (an arrival's
    # next arrival and service end; a departure's next service and its line's head).
    new_t = np.empty(2)
    new_o = np.empty(2, dtype=np.int64)
    new_p = np.empty(2, dtype=np.int64)
    begin = np.empty(2, dtype=np.int64)
    while True:
        now = ht[0]
        status = -1
        if now >= horizon:  # SimPy's stop event: URGENT at the horizon, before any tie
            sf[0] = horizon
            status = DONE
        # Checked before an event, so that every return leaves a consistent state.
        elif refill:
            status = REFILL
        elif n_free < 2:
            status = GROW_SLOTS
        elif size + 4 > ht.shape[0]:
            status = GROW_HEAP
        elif hist_full:
            status = GROW_HIST
        if status >= 0:
            si[SEQ] = seq
            si[HEAP_SIZE] = size
            si[FREE_COUNT] = n_free
            si[NEED_REFILL] = refill
            si[HIST_FULL] = hist_full
            return status

        # Pop the earliest event (sift the last one down from the root).
        pay = hp[0]
        size -= 1
        if size > 0:
            t = ht[size]
            order = ho[size]
            last = hp[size]
            i = 0
            while True:
                child = 2 * i + 1
                if child >= size:
                    break
                right = child + 1
                if right < size and (
                    ht[right] < ht[child] or (ht[right] == ht[child] and ho[right] < ho[child])
                ):
                    child = right
                ct = ht[child]
                if t < ct or (t == ct and order < ho[child]):
                    break
                ht[i] = ct
                ho[i] = ho[child]
                hp[i] = hp[child]
                i = child
            ht[i] = t
            ho[i] = order
            hp[i] = last
        sf[0] = now
        kind = pay & 7
        index = pay >> 3

        n_new = 0  # events scheduled by this one: new_t/new_o/new_p[:n_new]
        n_begin = 0  # events that get a server now, in this order: begin[:n_begin]
        station = -1  # the station the event `slot` arrives at, if any
        slot = -1
        k = 0  # the class of `slot`
        enters = False  # SystemMonitor.enter, then leave (2) or lose (3) for `exits`
        exits = 0
        sojourn = 0.0
        turn = -1  # the head of a line handed a server (its TURN event)
        turn_order = 0
        turn_next = False
        if kind == ARRIVAL:  # the class's source resumes
            k = index
            gap = cnt_f[k, 2]
            start = cnt_f[k, 1]
            if now >= start:  # ArrivalCounter.arrive(now, gap)
                # int((now - start) // width), as Python computes it (an exact floor),
                # but without its fmod when the quotient is clearly not near an integer.
                ratio = (now - start) / cnt_f[k, 0]
                floor = math.floor(ratio)
                if ratio < FAST_FLOOR_LIMIT and FLOOR_MARGIN < ratio - floor < 1.0 - FLOOR_MARGIN:
                    window = int(floor)
                else:
                    window = int((now - start) // cnt_f[k, 0])
                current = cnt_i[k, 0]
                if window != current:  # close windows; `seen` keeps the dict's key order
                    closed = cnt_i[k, 1]
                    if hist[k, closed] == 0:
                        seen[k, cnt_i[k, 3]] = closed
                        cnt_i[k, 3] += 1
                    hist[k, closed] += 1
                    if window - current > 1:
                        if hist[k, 0] == 0:
                            seen[k, cnt_i[k, 3]] = 0
                            cnt_i[k, 3] += 1
                        hist[k, 0] += window - current - 1
                    cnt_i[k, 0] = window
                    cnt_i[k, 1] = 0
                cnt_i[k, 1] += 1
                if cnt_i[k, 2] < max_gaps and now - gap >= start:
                    gaps[k, cnt_i[k, 2]] = gap
                    cnt_i[k, 2] += 1
                if cnt_i[k, 1] >= n_bins - 1:
                    hist_full = 1
            # the walk process is created with its entry station, then the next gap
            row = n_rows + k
            u = values[row, pos[row]]
            pos[row] += 1
            if pos[row] == end[row]:
                refill = 1
            p = 0  # Routing.draw_entry: the number of cumulative entries <= u
            while p < n_stations and cumulative[k, n_stations, p] <= u:
                p += 1
            entry = draw_order[k, min(p, last_entry[k])]
            n_free -= 1
            slot = free[n_free]
            ev_i[slot, 0] = k
            gap = values[k, pos[k]]
            pos[k] += 1
            if pos[k] == end[k]:
                refill = 1
            cnt_f[k, 2] = gap
            new_t[n_new] = now + gap
            new_o[n_new] = seq
            new_p[n_new] = k * 8 + ARRIVAL
            n_new += 1
            seq += 1
            # The walk starts now. In SimPy its Initialize event is URGENT at `now`, and
            # no other URGENT event can be pending while a NORMAL one (this arrival) is
            # processed, so it is always the very next event: run it here.
            ev[slot, 2] = now
            enters = True
            station = entry
        elif kind == SERVICE_END:
            slot = index
            k = ev_i[slot, 0]
            i = ev_i[slot, 1]
            row = n_classes + k * n_stations + i
            u = values[n_rows + row, pos[n_rows + row]]
            pos[n_rows + row] += 1
            if pos[n_rows + row] == end[n_rows + row]:
                refill = 1
            p = 0  # Routing.draw_next: the number of cumulative entries <= u
            while p < n_stations and cumulative[k, i, p] <= u:
                p += 1
            hop = draw_order[k, p] if p < n_stations else -1
            trans[k, i, hop if hop >= 0 else n_stations] += 1
            head = line[i, 0]
            if head >= 0:  # hand the server to the head of the line
                following = ev_i[head, 2]
                line[i, 0] = following
                if following < 0:
                    line[i, 1] = -1
                # Its TURN event (NORMAL, at `now`) is the next event when nothing is
                # scheduled at `now` yet: everything this event schedules comes after it.
                turn = head
                turn_order = seq
                seq += 1
                turn_next = size == 0 or ht[0] > now
            # StationMonitor.depart
            elapsed = now - st_f[i, 0]
            if elapsed != 0.0:
                present = st_i[i, 0]
                busy = min(present, servers[i])
                st_f[i, 1] += busy * elapsed
                st_f[i, 2] += (present - busy) * elapsed  # += 0.0 when no one waits
                st_f[i, 0] = now
            st_i[i, 0] -= 1
            st_i[i, 3] += 1
            arrived = ev[slot, 0]
            started = ev[slot, 1]
            st_f[i, 3] += started - arrived
            st_f[i, 4] += now - arrived
            if keep > 0:
                w = wcount[i] % keep
                waits[i, w, 0] = started - arrived
                waits[i, w, 1] = now - arrived
                wcount[i] += 1
            if hop < 0:  # leave the system
                exits = 2
                sojourn = now - ev[slot, 2]
                free[n_free] = slot
                n_free += 1
            else:
                station = hop
        elif kind == TURN:  # a departing event handed this one its server
            begin[n_begin] = index
            n_begin += 1
        elif kind == TICK:
            snapshot_all(
                st_f,
                st_i,
                servers,
                sys_f,
                sys_i,
                grid[index],
                st_path[:, index],
                sys_path[:, index],
            )
            if index < last_tick:
                new_t[n_new] = now + (grid[index + 1] - now)
                new_o[n_new] = seq
                new_p[n_new] = (index + 1) * 8 + TICK
                n_new += 1
                seq += 1
        else:  # WARMUP
            snapshot_all(st_f, st_i, servers, sys_f, sys_i, now, st_warm, sys_warm)

        if station >= 0:  # the event arrives at `station` (from its walk's loop)
            cap = capacity[station]
            if cap >= 0 and st_i[station, 0] >= cap:  # refused: lost to the system
                st_i[station, 1] += 1
                st_i[station, 2] += 1
                exits = 3
                free[n_free] = slot
                n_free += 1
            else:  # StationMonitor.arrive
                present = st_i[station, 0]
                elapsed = now - st_f[station, 0]
                if elapsed != 0.0:
                    busy = min(present, servers[station])
                    st_f[station, 1] += busy * elapsed
                    st_f[station, 2] += (present - busy) * elapsed
                    st_f[station, 0] = now
                st_i[station, 0] = present + 1
                st_i[station, 1] += 1
                ev_i[slot, 1] = station
                ev[slot, 0] = now
                if present < servers[station]:
                    begin[n_begin] = slot
                    n_begin += 1
                else:
                    ev_i[slot, 2] = -1
                    tail = line[station, 1]
                    if tail >= 0:
                        ev_i[tail, 2] = slot
                    else:
                        line[station, 0] = slot
                    line[station, 1] = slot

        if enters or exits:  # SystemMonitor of the system (row 0) and of the class
            for r in (0, 1 + k):
                # An enter and a loss at one instant: the loss's area term is + 0.0.
                sys_f[r, 1] += sys_i[r, 0] * (now - sys_f[r, 0])
                sys_f[r, 0] = now
                if enters:
                    sys_i[r, 0] += 1
                    sys_i[r, 1] += 1
                if exits:
                    sys_i[r, 0] -= 1
                    sys_i[r, exits] += 1
                    if exits == 2:
                        sys_f[r, 2] += sojourn

        if turn >= 0:
            if turn_next:
                begin[n_begin] = turn
                n_begin += 1
            else:
                new_t[n_new] = now
                new_o[n_new] = turn_order
                new_p[n_new] = turn * 8 + TURN
                n_new += 1

        for j in range(n_begin):  # each gets its server: its service ends later
            # Never from an empty buffer: the loop returned before this event if one was
            # empty, and the two begins of one event (an arrival at a free server, then
            # the line's head at the station just left) never share a stream: a free
            # server at the station just left means no one was waiting there.
            slot = begin[j]
            row = n_classes + ev_i[slot, 0] * n_stations + ev_i[slot, 1]
            ev[slot, 1] = now
            service = values[row, pos[row]]
            pos[row] += 1
            if pos[row] == end[row]:
                refill = 1
            new_t[n_new] = now + service
            new_o[n_new] = seq
            new_p[n_new] = slot * 8 + SERVICE_END
            n_new += 1
            seq += 1

        for j in range(n_new):  # push (sift up)
            t = new_t[j]
            order = new_o[j]
            i = size
            size += 1
            while i > 0:
                parent = (i - 1) >> 1
                pt = ht[parent]
                if pt < t or (pt == t and ho[parent] < order):
                    break
                ht[i] = pt
                ho[i] = ho[parent]
                hp[i] = hp[parent]
                i = parent
            ht[i] = t
            ho[i] = order
            hp[i] = new_p[j]
