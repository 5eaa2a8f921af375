"""The fast engine's event loop: a dispatcher over event kinds (numba, compiled and cached).

The loop reproduces, event for event, what the SimPy engine
(:mod:`eda_sim.engine.simpy`) does on SimPy's event queue, for every mechanism
it has (FIFO or priority lines, capacity with loss, blocking after service,
fan-out, renewal arrivals and trace replay):

* the queue is a calendar queue keyed by ``(time, order)``
  (:mod:`~eda_sim.engine.fast.event_queue`), as SimPy's is by ``(time, priority,
  event id)``, so ``NORMAL`` events at equal times fire in scheduling order.
  SimPy's only ``URGENT`` events, the ``Initialize`` of a new walk (an external
  arrival's, or a fan-out copy's), fire right after the event that started the
  walk, before any other event at that instant, in the order started: the loop
  runs them there instead of going through the queue. A server handed over at
  ``now`` (a ``TURN``) is run at the end of the event too when nothing else is
  scheduled at ``now`` (it is then the next event); otherwise it waits in the
  queue with the order key it got;
* event times are computed with the same floating-point operations
  (``now + delay``; the grid ticks as ``now + (grid[i] − now)``, a trace's
  instants as ``now + (instant − now)``);
* the monitors' running totals are updated by the same operations in the same
  order (:mod:`~eda_sim.engine.fast.monitors`), and every stream is read in the
  order the SimPy engine draws from it.

Each event passes the SimPy walk's hook points. The loop is a dispatcher: one
branch per event kind, each one call of the hook point's step, which calls the
mechanisms' steps in their own modules; numba inlines them all here
(:data:`~eda_sim.engine.fast.jit.step`). The loop's counters travel through
the steps as one tuple (:data:`~eda_sim.engine.fast.state.COUNTERS`), in registers.

=====================  ============================  ==========================================
point                  hook step (kind)              mechanisms' steps it calls
=====================  ============================  ==========================================
entering the system    ``sources.external_arrival``  ``trace_replay.replay_instant``,
                       (``ARRIVAL``)                 ``sources.count_arrival``,
                                                     ``draws.entry_station``,
                                                     ``trace_replay.next_instant``,
                                                     ``lifecycle.enter``
arrival at a station   ``arrival.arrive_all``        ``capacity.full`` (then
                       (after every event)           ``monitors.station_refuse``),
                                                     ``monitors.station_arrive``,
                                                     ``service.start_service`` or
                                                     ``servers.join_line``
start of service       ``service.take_turn``         ``service.start_service``
                       (``TURN``),
                       ``service.give_turn``
completion             ``service.end_service``       ``draws.next_hop`` (routing),
                       (``SERVICE_END``)             ``fanout.publish``, ``blocking.holds``
                                                     (then ``blocking.block``)
departure              ``departure.depart``          ``servers.hand_over``,
                                                     ``monitors.station_depart``,
                                                     ``monitors.keep_wait``,
                                                     ``latency.sketch_time`` (W, Wq, blocked),
                                                     ``blocking.let_in``
a sender let in        ``blocking.woken``            then its departure, and
                       (``WAKE``)                    ``arrival.move_on``
a copy's first step    ``arrival.arrive_all``        ``lifecycle.start_copy``, then its arrival
leaving the system     ``lifecycle.leave``           ``lifecycle.end_branch``,
                       (from the arrival point)      ``monitors.system_leave`` (the journey's
                                                     last branch, done or lost),
                                                     ``latency.sketch_time`` (its end-to-end W)
grid tick, warm-up     ``grid.tick`` (``TICK``),     ``monitors.snapshot_all``; at a cut, a
                       ``grid.warm_up``              return (``CUT``) to cut the sketches
                       (``WARMUP``)
beside the events      ``lookahead.fetch_slot``      (at 512 stations or more: prefetches of
                       (after the pop),              the next event's slot, then its station,
                       ``lookahead.fetch_arrival``   routing row and stream; of the station an
                       (after the dispatch),         event goes to, while it departs; hints only)
                       ``lookahead.fetch_station``
                       (after the event)
=====================  ============================  ==========================================

A new mechanism adds its steps in its own module and calls them here at its
points; one that schedules its own events adds a kind
(:mod:`~eda_sim.engine.fast.kinds`) and a branch of the dispatcher below.

Random values are not drawn here: numba cannot run NumPy ``Generator`` s. The
Python driver (:mod:`eda_sim.engine.fast.driver`) fills one buffer per stream;
the loop returns :data:`~eda_sim.engine.fast.kinds.REFILL` after an event that
reached a buffer's refill point, a ``GROW_*`` code when its event pool, queue,
histogram or sketch pool is nearly full, ``CUT`` after a grid tick or warm-up
end where the percentile sketches are cut, and is called again with the same
state. It returns
``DONE`` at the horizon.

numba caches the compiled loop keyed on this file only: :data:`SOURCES_DIGEST`
is the digest of the modules it inlines (:data:`COMPILED_MODULES`), checked by
:func:`eda_sim.engine.fast.support.load_kernel`, which compiles the loop afresh
(not from the cache) when they changed since; a test keeps the digest current.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.arrival import arrive_all, move_on
from eda_sim.engine.fast.blocking import woken
from eda_sim.engine.fast.departure import depart
from eda_sim.engine.fast.event_queue import earliest_time, needs_python, pop_earliest
from eda_sim.engine.fast.fanout import NO_COPIES
from eda_sim.engine.fast.grid import tick, warm_up
from eda_sim.engine.fast.jit import compiled, step
from eda_sim.engine.fast.kinds import (
    ARRIVAL,
    CUT,
    DONE,
    GROW_HEAP,
    GROW_HIST,
    GROW_POOL,
    GROW_RARE,
    GROW_SLOTS,
    KIND_BITS,
    REFILL,
    SERVICE_END,
    TICK,
    TURN,
    WAKE,
)
from eda_sim.engine.fast.latency import sketch_window
from eda_sim.engine.fast.lookahead import FROM_STATIONS, fetch_arrival, fetch_slot, fetch_station
from eda_sim.engine.fast.monitors import snapshot_all
from eda_sim.engine.fast.service import NO_TURN, end_service, give_turn, take_turn
from eda_sim.engine.fast.sources import external_arrival
from eda_sim.engine.fast.state import (
    ArrivalState,
    BlockingState,
    Counters,
    EventQueue,
    FanOutTables,
    RecentWaits,
    RouteTables,
    SamplePathState,
    ServerState,
    SketchState,
    StreamState,
    TraceState,
)

__all__ = ["COMPILED_MODULES", "SOURCES_DIGEST", "run_kernel", "snapshot_all"]

#: The modules whose compiled code the loop contains (besides this one).
COMPILED_MODULES = (
    "arrival",
    "bits",
    "blocking",
    "capacity",
    "departure",
    "draws",
    "event_queue",
    "fanout",
    "grid",
    "jit",
    "kinds",
    "latency",
    "lifecycle",
    "lookahead",
    "monitors",
    "prefetching",
    "servers",
    "service",
    "sources",
    "state",
    "trace_replay",
)
#: SHA-256 of those modules' sources, in that order (see the module docstring).
SOURCES_DIGEST = "c787c29fa5892d09328a84cfa769ca541f76846955199b6f66f48705ab48163f"


@step
def _status(
    queue: EventQueue, horizon: float, reserve: int, sketches: SketchState, counters: Counters
) -> int:
    """Whether the loop must return before the next event, and why (-1: go on).

    Checked before an event, so that every return leaves a consistent state. One
    event takes at most ``reserve`` slots and pushes at most ``reserve + 1`` events
    (the queue also returns to be resized: ``event_queue.needs_python``); it
    sketches at most 5 times, so 8 free sketch blocks and rare places suffice.
    """
    _, size, n_free, refill, hist_full, pool_n, rare_n = counters
    first = earliest_time(queue)
    blocks = sketches.counts.shape[0]
    rare_capacity = sketches.rare_keys.shape[0]
    if size == 0 or first >= horizon:  # SimPy's stop event: URGENT at the horizon, before any
        return DONE  # tie; an empty queue (a trace replayed to its end) also runs to the horizon
    if refill:
        return REFILL
    if n_free < reserve:
        return GROW_SLOTS
    if needs_python(queue, size, reserve):
        return GROW_HEAP
    if hist_full:
        return GROW_HIST
    if pool_n + 8 >= blocks:
        return GROW_POOL
    if rare_n + 8 >= rare_capacity:
        return GROW_RARE
    return -1


@step
def _stop(control: np.ndarray, status: int, counters: Counters, cut_label: int) -> int:
    """Write the loop's counters back into ``control`` and return ``status``."""
    ctl = control[0]
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    ctl.now = ctl.horizon if status == DONE else ctl.now
    ctl.seq, ctl.heap_size, ctl.free_count = seq, size, n_free
    ctl.need_refill, ctl.hist_full = refill, hist_full
    ctl.pool_n, ctl.rare_n, ctl.cut_due, ctl.cut_label = pool_n, rare_n, 0, cut_label
    return status


@step
def _next_event(queue: EventQueue, counters: Counters) -> tuple[float, int, int, Counters]:
    """Take the earliest event off the queue: its time, kind and index, and the counters."""
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    now, payload, size = pop_earliest(queue, size)
    kind, index = payload & 7, payload >> KIND_BITS
    return now, kind, index, (seq, size, n_free, refill, hist_full, pool_n, rare_n)


@compiled
def run_kernel(
    control: np.ndarray,
    queue: EventQueue,
    events: np.ndarray,
    free: np.ndarray,
    servers: ServerState,
    capacity: np.ndarray,
    blocking: BlockingState,
    fanout: FanOutTables,
    monitors: np.ndarray,
    system: np.ndarray,
    path: SamplePathState,
    arrivals: ArrivalState,
    trace: TraceState,
    streams: StreamState,
    routes: RouteTables,
    waits: RecentWaits,
    sketches: SketchState,
) -> int:
    """Run the event loop until the horizon or until a buffer, pool or queue needs Python.

    The arguments are the state of :mod:`eda_sim.engine.fast.state`, updated in
    place; ``control[0]``'s counters (:data:`~eda_sim.engine.fast.state.COUNTERS`)
    are kept in registers while the loop runs and written back whenever it returns.
    """
    ctl = control[0]
    horizon, reserve, cut_due, cut_label = ctl.horizon, ctl.reserve, ctl.cut_due, ctl.cut_label
    counters = (ctl.seq, ctl.heap_size, ctl.free_count, ctl.need_refill, ctl.hist_full,
                ctl.pool_n, ctl.rare_n)  # fmt: skip
    sizes = (arrivals.counters.shape[0], monitors.shape[0])  # classes, stations
    n_rows = streams.values.shape[0] // 2  # rows [0, n_rows): gaps and services; then uniforms
    # Mechanisms a scenario does not use cost one test per point, not a read per station.
    flags = (fanout.targets.shape[0] > 1, blocking.any[0] != 0)  # any fan-out, any blocking
    places = (sketches.layout[0], sketches.layout[0] * sizes[1], sketches.layout[1] - 1)
    sketching = (sketch_window(sketches), places)  # per station, first class's, system's
    ahead = sizes[1] >= FROM_STATIONS  # (large networks: lookahead.py)
    while True:
        status = CUT if cut_due else _status(queue, horizon, reserve, sketches, counters)
        if status >= 0:  # (a cut comes before anything else, even the horizon)
            return _stop(control, status, counters, cut_label)
        now, kind, index, counters = _next_event(queue, counters)
        if ahead:  # the slot of the event after this one, while this one runs
            fetch_slot(queue, events)
        ctl.now = now
        k, moving, to, departing, copies = 0, -1, -1, -1, NO_COPIES
        if kind == ARRIVAL:  # entering the system: the class's source resumes
            k = index
            moving, to, counters = external_arrival(
                arrivals, trace, streams, routes, queue, events, system, free, k, now,
                n_rows + k, counters,
            )  # fmt: skip
        elif kind == SERVICE_END:  # completion: the next hop, the copies, maybe blocked
            k, departing, to, copies, counters = end_service(
                events, system, streams, routes, fanout, blocking, capacity, monitors, index,
                now, n_rows + sizes[0], flags, counters,
            )  # fmt: skip
        elif kind == WAKE:  # a blocked sender, let in at its next station, departs
            k, departing, to = woken(events, index)
        elif kind == TURN:  # start of service: a departure handed this event its server
            counters = take_turn(events, streams, queue, index, now, sizes, counters)
        elif kind == TICK:  # a sample-path snapshot, maybe a cut of the sketches
            cut_due, cut_label, counters = tick(
                path, monitors, servers, system, sketches, queue, index, now, counters
            )
        else:  # WARMUP: the sketches are cut, then the monitors snapshot
            cut_due, cut_label = warm_up(path, monitors, servers, system, now)
        if ahead:  # the station `to` the event arrives at, while it departs
            fetch_arrival(servers, capacity, monitors, streams, to, k)
        turn = NO_TURN
        if departing >= 0:  # departure: the server to the first in line, a sender let in
            turn, counters = depart(
                events, servers, monitors, waits, blocking, queue, sketches, sketching[0],
                places, departing, now, flags[1], counters,
            )  # fmt: skip
            if kind == WAKE:  # on at `to`, where it was admitted when let in
                counters = move_on(events, streams, queue, departing, to, now, sizes, counters)
            else:
                moving = departing
        # Arrivals: the moving event at `to` (or leaving), then each copy just published.
        counters = arrive_all(
            events, free, servers, capacity, monitors, system, streams, queue, sketches,
            fanout, sketching, moving, to, k, copies, now, counters,
        )  # fmt: skip
        # The first in line at the station just left starts now, or when its TURN comes.
        counters = give_turn(events, streams, queue, turn, now, sizes, counters)
        if ahead:  # the next event's station, routing row and stream, before its pop
            fetch_station(queue, events, servers, monitors, routes, streams, n_rows + sizes[0])
