"""The compiled event loop of the fast engine (layer 4; the only numba importer).

The loop reproduces, event for event, what :mod:`eda_sim.engine.simpy_engine` does
on SimPy's event queue for the Markov-network subset (FIFO stations, capacity
with loss, no fan-out, blocking, priorities or traces):

* the queue is a binary heap keyed by ``(time, priority, sequence)``, as SimPy's
  is by ``(time, priority, event id)``: a new event's walk starts with SimPy's
  ``URGENT`` priority (a process's ``Initialize``), every other event is
  ``NORMAL``, and events at equal times and priorities fire in scheduling order;
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
"""

from __future__ import annotations

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
    "NORMAL_ORDER",
    "REFILL",
    "TICK",
    "WARMUP",
    "run_kernel",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_compile = cast(Callable[[_F], _F], njit(cache=True))

# Event kinds (the low 3 bits of a heap payload; the rest is the event's index).
ARRIVAL, WALK_START, SERVICE_END, TURN, TICK, WARMUP = 0, 1, 2, 3, 4, 5
#: Added to the sequence number of a NORMAL-priority event (SimPy: URGENT=0 < NORMAL=1).
NORMAL_ORDER = 1 << 60
# Return codes.
DONE, REFILL, GROW_SLOTS, GROW_HEAP, GROW_HIST = 0, 1, 2, 3, 4
# Indices into the integer state vector.
SEQ, HEAP_SIZE, FREE_COUNT, NEED_REFILL, HIST_FULL = 0, 1, 2, 3, 4


@_compile
def heap_push(
    si: np.ndarray, ht: np.ndarray, ho: np.ndarray, hp: np.ndarray, t: float, urgent: bool, pay: int
) -> None:
    """Schedule an event at ``t`` (sift up); ``urgent`` orders it before NORMAL ones."""
    order = si[SEQ] + (0 if urgent else NORMAL_ORDER)
    si[SEQ] += 1
    i = si[HEAP_SIZE]
    si[HEAP_SIZE] = i + 1
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
    hp[i] = pay


@_compile
def heap_pop(si: np.ndarray, ht: np.ndarray, ho: np.ndarray, hp: np.ndarray) -> int:
    """Remove the earliest event and return its payload (its time was ``ht[0]``)."""
    pay = hp[0]
    n = si[HEAP_SIZE] - 1
    si[HEAP_SIZE] = n
    if n == 0:
        return int(pay)
    t = ht[n]
    order = ho[n]
    last = hp[n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        right = child + 1
        if right < n and (
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
    return int(pay)


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
def _level(st_f: np.ndarray, st_i: np.ndarray, servers: np.ndarray, i: int, now: float) -> None:
    """The area update shared by ``StationMonitor.arrive`` and ``depart``."""
    elapsed = now - st_f[i, 0]
    if elapsed != 0.0:
        present = st_i[i, 0]
        c = servers[i]
        if present > c:
            st_f[i, 1] += c * elapsed
            st_f[i, 2] += (present - c) * elapsed
        else:
            st_f[i, 1] += present * elapsed
        st_f[i, 0] = now


@_compile
def _system_change(
    sys_f: np.ndarray, sys_i: np.ndarray, r: int, now: float, field: int, sojourn: float
) -> None:
    """``SystemMonitor.enter`` (field 1), ``leave`` (2, with ``sojourn``) or ``lose`` (3)."""
    sys_f[r, 1] += sys_i[r, 0] * (now - sys_f[r, 0])
    sys_f[r, 0] = now
    sys_i[r, 0] += 1 if field == 1 else -1
    sys_i[r, field] += 1
    if field == 2:
        sys_f[r, 2] += sojourn


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
    fbuf: np.ndarray,
    fpos: np.ndarray,
    fend: np.ndarray,
    ibuf: np.ndarray,
    ipos: np.ndarray,
    iend: np.ndarray,
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
    counters; transition counts; stream buffers and positions; the recent waits.
    """
    n_classes = cnt_f.shape[0]
    n_stations = servers.shape[0]
    horizon = sf[1]
    last_tick = grid.shape[0] - 2
    keep = waits.shape[1]
    max_gaps = gaps.shape[1]
    n_bins = hist.shape[1]
    while True:
        now = ht[0]
        if now >= horizon:  # SimPy's stop event: URGENT at the horizon, before any tie
            sf[0] = horizon
            return DONE
        # Checked before an event, so that every return leaves a consistent state.
        if si[NEED_REFILL]:
            return REFILL
        if si[FREE_COUNT] < 2:
            return GROW_SLOTS
        if si[HEAP_SIZE] + 4 > ht.shape[0]:
            return GROW_HEAP
        if si[HIST_FULL]:
            return GROW_HIST
        pay = heap_pop(si, ht, ho, hp)
        sf[0] = now
        kind = pay & 7
        index = pay >> 3
        station = -1
        slot = -1
        if kind == ARRIVAL:  # the class's source resumes
            k = index
            gap = cnt_f[k, 2]
            start = cnt_f[k, 1]
            if now >= start:  # ArrivalCounter.arrive(now, gap)
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
            # the walk process is created with its entry station, then the next gap
            entry = ibuf[k, ipos[k]]
            ipos[k] += 1
            if ipos[k] == iend[k]:
                si[NEED_REFILL] = 1
            count = si[FREE_COUNT] - 1
            si[FREE_COUNT] = count
            new = free[count]
            ev_i[new, 0] = k
            ev_i[new, 1] = entry
            heap_push(si, ht, ho, hp, now, True, new * 8 + WALK_START)
            gap = fbuf[k, fpos[k]]
            fpos[k] += 1
            if fpos[k] == fend[k]:
                si[NEED_REFILL] = 1
            cnt_f[k, 2] = gap
            heap_push(si, ht, ho, hp, now + gap, False, k * 8 + ARRIVAL)
            if cnt_i[k, 1] >= n_bins - 1:
                si[HIST_FULL] = 1
        elif kind == WALK_START:  # system.enter, then the first station
            slot = index
            k = ev_i[slot, 0]
            ev[slot, 2] = now
            _system_change(sys_f, sys_i, 0, now, 1, 0.0)
            _system_change(sys_f, sys_i, 1 + k, now, 1, 0.0)
            station = ev_i[slot, 1]
        elif kind == SERVICE_END:
            slot = index
            k = ev_i[slot, 0]
            i = ev_i[slot, 1]
            row = n_classes + k * n_stations + i
            hop = ibuf[row, ipos[row]]
            ipos[row] += 1
            if ipos[row] == iend[row]:
                si[NEED_REFILL] = 1
            trans[k, i, hop if hop >= 0 else n_stations] += 1
            head = line[i, 0]
            if head >= 0:  # hand the server to the head of the line
                following = ev_i[head, 2]
                line[i, 0] = following
                if following < 0:
                    line[i, 1] = -1
                heap_push(si, ht, ho, hp, now, False, head * 8 + TURN)
            arrived = ev[slot, 0]
            started = ev[slot, 1]
            _level(st_f, st_i, servers, i, now)
            st_i[i, 0] -= 1
            st_i[i, 3] += 1
            st_f[i, 3] += started - arrived
            st_f[i, 4] += now - arrived
            if keep > 0:
                w = wcount[i] % keep
                waits[i, w, 0] = started - arrived
                waits[i, w, 1] = now - arrived
                wcount[i] += 1
            if hop < 0:  # leave the system
                entered = ev[slot, 2]
                _system_change(sys_f, sys_i, 0, now, 2, now - entered)
                _system_change(sys_f, sys_i, 1 + k, now, 2, now - entered)
                free[si[FREE_COUNT]] = slot
                si[FREE_COUNT] += 1
            else:
                station = hop
        elif kind == TURN:  # a departing event handed this one its server
            slot = index
            k = ev_i[slot, 0]
            i = ev_i[slot, 1]
            ev[slot, 1] = now
            row = n_classes + k * n_stations + i
            service = fbuf[row, fpos[row]]
            fpos[row] += 1
            if fpos[row] == fend[row]:
                si[NEED_REFILL] = 1
            heap_push(si, ht, ho, hp, now + service, False, slot * 8 + SERVICE_END)
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
                heap_push(
                    si, ht, ho, hp, now + (grid[index + 1] - now), False, (index + 1) * 8 + TICK
                )
        else:  # WARMUP
            snapshot_all(st_f, st_i, servers, sys_f, sys_i, now, st_warm, sys_warm)

        if station >= 0:  # the event arrives at `station` (from its walk's loop)
            k = ev_i[slot, 0]
            cap = capacity[station]
            if cap >= 0 and st_i[station, 0] >= cap:  # refused: lost to the system
                st_i[station, 1] += 1
                st_i[station, 2] += 1
                _system_change(sys_f, sys_i, 0, now, 3, 0.0)
                _system_change(sys_f, sys_i, 1 + k, now, 3, 0.0)
                free[si[FREE_COUNT]] = slot
                si[FREE_COUNT] += 1
            else:
                server_free = st_i[station, 0] < servers[station]
                _level(st_f, st_i, servers, station, now)
                st_i[station, 0] += 1
                st_i[station, 1] += 1
                ev_i[slot, 1] = station
                ev[slot, 0] = now
                if server_free:
                    ev[slot, 1] = now
                    row = n_classes + k * n_stations + station
                    service = fbuf[row, fpos[row]]
                    fpos[row] += 1
                    if fpos[row] == fend[row]:
                        si[NEED_REFILL] = 1
                    heap_push(si, ht, ho, hp, now + service, False, slot * 8 + SERVICE_END)
                else:
                    ev_i[slot, 2] = -1
                    tail = line[station, 1]
                    if tail >= 0:
                        ev_i[tail, 2] = slot
                    else:
                        line[station, 0] = slot
                    line[station, 1] = slot
