"""The fast engine's event loop: a dispatcher over event kinds (numba, compiled and cached).

The loop reproduces, event for event, what the SimPy engine
(:mod:`eda_sim.engine.simpy`) does on SimPy's event queue for the Markov-network
subset (FIFO stations, capacity with loss; no fan-out, blocking, priorities or
traces yet):

* the queue is a binary heap keyed by ``(time, order)`` (:mod:`~eda_sim.engine.fast.event_queue`),
  as SimPy's is by ``(time, priority, event id)``, so events at equal times fire
  in scheduling order. SimPy's only ``URGENT`` event in this subset, a new walk's
  ``Initialize``, is always the next event after its arrival, and a server handed
  over at ``now`` (a ``TURN``) is the next event when nothing else is scheduled
  at ``now``: both are run where they are scheduled instead of going through the
  heap (about a third of all events), with the same effect;
* event times are computed with the same floating-point operations
  (``now + delay``; the grid ticks as ``now + (grid[i] − now)``);
* the monitors' running totals are updated by the same operations in the same
  order (:mod:`~eda_sim.engine.fast.monitors`).

Each event passes the SimPy walk's hook points, each handled by a step of the
mechanism's own module, which numba inlines here (:data:`~eda_sim.engine.fast.jit.step`):

=====================  =====================================================
point                  steps
=====================  =====================================================
external arrival       ``sources.count_arrival``, ``draws.entry_station``,
                       ``monitors.system_enter``
arrival at a station   ``capacity.full`` (then ``monitors.station_refuse``,
                       ``monitors.system_lose``), ``monitors.station_arrive``,
                       ``servers.join_line``
start of service       ``service.start_service``
completion             ``draws.next_hop`` (routing)
departure              ``servers.hand_over``, ``monitors.station_depart``,
                       ``monitors.keep_wait``
leaving the system     ``monitors.system_leave``
grid tick, warm-up     ``monitors.snapshot_all``
=====================  =====================================================

A new mechanism adds its steps in its own module and calls them here at its
points (fan-out and blocking at the completion, priorities in ``servers``, a
trace in ``sources``); one that schedules its own events adds a kind
(:mod:`~eda_sim.engine.fast.kinds`) and a branch of the dispatcher below.

Random values are not drawn here: numba cannot run NumPy ``Generator`` s. The
Python driver (:mod:`eda_sim.engine.fast.driver`) fills one buffer per stream;
the loop returns :data:`~eda_sim.engine.fast.kinds.REFILL` after an event that
emptied a buffer, a ``GROW_*`` code when its event pool, heap or histogram is
nearly full, and is called again with the same state. It returns ``DONE`` at
the horizon.

numba caches the compiled loop keyed on this file only: :data:`SOURCES_DIGEST`
is the digest of the modules it inlines (:data:`COMPILED_MODULES`), checked by
:func:`eda_sim.engine.fast.support.load_kernel`, which compiles the loop afresh
(not from the cache) when they changed since; a test keeps the digest current.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.capacity import full
from eda_sim.engine.fast.draws import entry_station, next_hop, next_value
from eda_sim.engine.fast.event_queue import pop_earliest, push
from eda_sim.engine.fast.jit import compiled, step
from eda_sim.engine.fast.kinds import (
    ARRIVAL,
    DONE,
    GROW_HEAP,
    GROW_HIST,
    GROW_SLOTS,
    KIND_BITS,
    REFILL,
    SERVICE_END,
    TICK,
    TURN,
)
from eda_sim.engine.fast.monitors import (
    keep_wait,
    snapshot_all,
    station_arrive,
    station_depart,
    station_refuse,
    system_enter,
    system_leave,
    system_lose,
)
from eda_sim.engine.fast.servers import hand_over, join_line
from eda_sim.engine.fast.service import service_row, start_service
from eda_sim.engine.fast.sources import count_arrival
from eda_sim.engine.fast.state import (
    ArrivalState,
    EventQueue,
    RecentWaits,
    RouteTables,
    SamplePathState,
    StreamState,
)

__all__ = ["COMPILED_MODULES", "SOURCES_DIGEST", "run_kernel", "snapshot_all"]

#: The modules whose compiled code the loop contains (besides this one).
COMPILED_MODULES = (
    "capacity",
    "draws",
    "event_queue",
    "jit",
    "kinds",
    "monitors",
    "servers",
    "service",
    "sources",
    "state",
)
#: SHA-256 of those modules' sources, in that order (see the module docstring).
SOURCES_DIGEST = "4c5da823330dcd915c87bb15e6db8737684100fbe0a37dbfb97c446cc4597b74"


@step
def _status(
    queue: EventQueue, size: int, horizon: float, refill: int, n_free: int, hist_full: int
) -> int:
    """Whether the loop must return before the next event, and why (-1: go on).

    Checked before an event, so that every return leaves a consistent state.
    """
    if queue.time[0] >= horizon:  # SimPy's stop event: URGENT at the horizon, before any tie
        return DONE
    if refill:
        return REFILL
    if n_free < 2:
        return GROW_SLOTS
    if size + 4 > queue.time.shape[0]:
        return GROW_HEAP
    if hist_full:
        return GROW_HIST
    return -1


@compiled
def run_kernel(
    control: np.ndarray,
    queue: EventQueue,
    events: np.ndarray,
    free: np.ndarray,
    lines: np.ndarray,
    capacity: np.ndarray,
    monitors: np.ndarray,
    system: np.ndarray,
    path: SamplePathState,
    arrivals: ArrivalState,
    transitions: np.ndarray,
    streams: StreamState,
    routes: RouteTables,
    waits: RecentWaits,
) -> int:
    """Run the event loop until the horizon or until a buffer, pool or heap needs Python.

    The arguments are the state of :mod:`eda_sim.engine.fast.state`, updated in
    place; ``control[0]``'s counters are kept in registers while the loop runs
    and written back whenever it returns.
    """
    ctl = control[0]
    horizon = ctl.horizon
    n_classes = arrivals.counters.shape[0]
    n_stations = lines.shape[0]
    n_rows = streams.values.shape[0] // 2  # rows [0, n_rows): gaps and services; then uniforms
    last_tick = path.grid.shape[0] - 2
    seq, size, n_free = ctl.seq, ctl.heap_size, ctl.free_count
    refill, hist_full = ctl.need_refill, ctl.hist_full
    while True:
        status = _status(queue, size, horizon, refill, n_free, hist_full)
        if status >= 0:
            ctl.now = horizon if status == DONE else ctl.now
            ctl.seq, ctl.heap_size, ctl.free_count = seq, size, n_free
            ctl.need_refill, ctl.hist_full = refill, hist_full
            return status
        now, payload, size = pop_earliest(queue, size)
        ctl.now = now
        kind = payload & 7
        index = payload >> KIND_BITS

        station = -1  # the station the event in `slot` arrives at, if any
        slot = -1
        k = 0  # the class of `slot`
        turn = -1  # the head of a line handed a server by a departure
        turn_order = 0
        turn_next = False
        if kind == ARRIVAL:  # external arrival: the class's source resumes
            k = index
            hist_full = count_arrival(arrivals, k, now, hist_full)
            u, refill = next_value(streams, n_rows + k, refill)
            entry = entry_station(routes, k, u)
            n_free -= 1
            slot = free[n_free]
            events[slot].event_class = k
            gap, refill = next_value(streams, k, refill)
            arrivals.counters[k].gap = gap
            size = push(queue, size, now + gap, seq, (k << KIND_BITS) + ARRIVAL)
            seq += 1
            # The walk starts now. In SimPy its Initialize event is URGENT at `now`, and
            # no other URGENT event can be pending while a NORMAL one (this arrival) is
            # processed, so it is always the very next event: run it here.
            events[slot].entered = now
            system_enter(system, k, now)
            station = entry
        elif kind == SERVICE_END:
            slot = index
            k = events[slot].event_class
            i = events[slot].station
            # completion: the next hop
            row = service_row(n_classes, n_stations, k, i)
            u, refill = next_value(streams, n_rows + row, refill)
            hop = next_hop(routes, k, i, u)
            transitions[k, i, hop if hop >= 0 else n_stations] += 1
            # departure: the server goes to the head of the line
            turn = hand_over(lines, events, i)
            if turn >= 0:
                # Its TURN event (NORMAL, at `now`) is the next event when nothing is
                # scheduled at `now` yet: everything this event schedules comes after it.
                turn_order = seq
                seq += 1
                turn_next = size == 0 or queue.time[0] > now
            arrived, started = events[slot].arrived, events[slot].started
            station_depart(monitors, lines[i].servers, i, now, started - arrived, now - arrived)
            keep_wait(waits, i, started - arrived, now - arrived)
            if hop < 0:  # leaving the system
                system_leave(system, k, now, now - events[slot].entered)
                free[n_free] = slot
                n_free += 1
            else:
                station = hop
        elif kind == TURN:  # start of service: a departing event handed this one its server
            row = service_row(
                n_classes, n_stations, events[index].event_class, events[index].station
            )
            seq, size, refill = start_service(
                events, streams, queue, index, now, row, seq, size, refill
            )
        elif kind == TICK:
            snapshot_all(
                monitors,
                lines,
                system,
                path.grid[index],
                path.stations[:, index],
                path.system[:, index],
            )
            if index < last_tick:
                tick = now + (path.grid[index + 1] - now)
                size = push(queue, size, tick, seq, ((index + 1) << KIND_BITS) + TICK)
                seq += 1
        else:  # WARMUP
            snapshot_all(monitors, lines, system, now, path.warm_stations, path.warm_system)

        if station >= 0:  # arrival at `station`
            if full(capacity, monitors, station):  # refused: it leaves the system, lost
                station_refuse(monitors, station)
                system_lose(system, k, now)
                free[n_free] = slot
                n_free += 1
            else:
                servers = lines[station].servers
                present = station_arrive(monitors, servers, station, now)
                events[slot].station = station
                events[slot].arrived = now
                if present < servers:  # start of service at once
                    row = service_row(n_classes, n_stations, k, station)
                    seq, size, refill = start_service(
                        events, streams, queue, slot, now, row, seq, size, refill
                    )
                else:
                    join_line(lines, events, station, slot)

        if turn >= 0:  # the head of the line starts now, or when its TURN comes
            if turn_next:
                row = service_row(
                    n_classes, n_stations, events[turn].event_class, events[turn].station
                )
                seq, size, refill = start_service(
                    events, streams, queue, turn, now, row, seq, size, refill
                )
            else:
                size = push(queue, size, now, turn_order, (turn << KIND_BITS) + TURN)
