"""The fast engine's event loop: a dispatcher over event kinds (numba, compiled and cached).

The loop reproduces, event for event, what the SimPy engine
(:mod:`eda_sim.engine.simpy`) does on SimPy's event queue, for every mechanism
it has (FIFO or priority lines, capacity with loss, blocking after service,
fan-out, renewal arrivals and trace replay):

* the queue is a binary heap keyed by ``(time, order)`` (:mod:`~eda_sim.engine.fast.event_queue`),
  as SimPy's is by ``(time, priority, event id)``, so ``NORMAL`` events at equal
  times fire in scheduling order. SimPy's only ``URGENT`` events, the
  ``Initialize`` of a new walk (an external arrival's, or a fan-out copy's), fire
  right after the event that started the walk, before any other event at that
  instant, in the order started: the loop runs them there instead of going
  through the heap. A server handed over at ``now`` (a ``TURN``) is run at the
  end of the event too when nothing else is scheduled at ``now`` (it is then
  the next event); otherwise it waits in the heap with the order key it got;
* event times are computed with the same floating-point operations
  (``now + delay``; the grid ticks as ``now + (grid[i] − now)``, a trace's
  instants as ``now + (instant − now)``);
* the monitors' running totals are updated by the same operations in the same
  order (:mod:`~eda_sim.engine.fast.monitors`), and every stream is read in the
  order the SimPy engine draws from it.

Each event passes the SimPy walk's hook points, each handled by a step of the
mechanism's own module, which numba inlines here (:data:`~eda_sim.engine.fast.jit.step`):

=====================  =====================================================
point                  steps
=====================  =====================================================
external arrival       ``trace_replay.replay_instant``, ``sources.count_arrival``,
                       ``draws.entry_station``, ``trace_replay.next_instant``,
                       ``lifecycle.enter``
arrival at a station   ``capacity.full`` (then ``monitors.station_refuse``),
                       ``monitors.station_arrive``, ``servers.join_line``
start of service       ``service.start_service``
completion             ``draws.next_hop`` (routing), ``fanout.publish``,
                       ``blocking.holds`` (then ``blocking.block``)
departure              ``servers.hand_over``, ``monitors.station_depart``,
                       ``monitors.keep_wait``, ``blocking.oldest_sender``,
                       ``latency.sketch_time`` (W, Wq, blocked)
a copy's first step    ``lifecycle.start_copy``, then its arrival
leaving the system     ``lifecycle.end_branch``, ``monitors.system_leave`` (the
                       journey's last branch, done or lost), ``latency.sketch_time``
                       (its end-to-end W, when done)
grid tick, warm-up     ``monitors.snapshot_all``; at a cut, a return (``CUT``) to
                       cut the percentile sketches
=====================  =====================================================

A new mechanism adds its steps in its own module and calls them here at its
points; one that schedules its own events adds a kind
(:mod:`~eda_sim.engine.fast.kinds`) and a branch of the dispatcher below.

Random values are not drawn here: numba cannot run NumPy ``Generator`` s. The
Python driver (:mod:`eda_sim.engine.fast.driver`) fills one buffer per stream;
the loop returns :data:`~eda_sim.engine.fast.kinds.REFILL` after an event that
reached a buffer's refill point, a ``GROW_*`` code when its event pool, heap,
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

from eda_sim.engine.fast.blocking import block, holds, oldest_sender
from eda_sim.engine.fast.capacity import full
from eda_sim.engine.fast.draws import entry_station, next_hop, next_value
from eda_sim.engine.fast.event_queue import pop_earliest, push
from eda_sim.engine.fast.fanout import publish
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
from eda_sim.engine.fast.latency import sketch_time, sketch_window
from eda_sim.engine.fast.lifecycle import end_branch, enter, start_copy
from eda_sim.engine.fast.monitors import (
    keep_wait,
    snapshot_all,
    station_arrive,
    station_depart,
    station_refuse,
    system_leave,
)
from eda_sim.engine.fast.servers import hand_over, join_line
from eda_sim.engine.fast.service import service_row, start_service
from eda_sim.engine.fast.sources import count_arrival
from eda_sim.engine.fast.state import (
    ArrivalState,
    BlockingState,
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
from eda_sim.engine.fast.trace_replay import next_instant, replay_instant

__all__ = ["COMPILED_MODULES", "SOURCES_DIGEST", "run_kernel", "snapshot_all"]

#: The modules whose compiled code the loop contains (besides this one).
COMPILED_MODULES = (
    "bits",
    "blocking",
    "capacity",
    "draws",
    "event_queue",
    "fanout",
    "jit",
    "kinds",
    "latency",
    "lifecycle",
    "monitors",
    "servers",
    "service",
    "sources",
    "state",
    "trace_replay",
)
#: SHA-256 of those modules' sources, in that order (see the module docstring).
SOURCES_DIGEST = "e6ef7b9789511f97310c36c4f61fae28c20153c6e6d7f5e78f234a7e884ed9d9"


@step
def _status(
    queue: EventQueue,
    size: int,
    horizon: float,
    refill: int,
    n_free: int,
    hist_full: int,
    reserve: int,
    sketches: SketchState,
    pool_n: int,
    rare_n: int,
    cut_due: int,
) -> int:
    """Whether the loop must return before the next event, and why (-1: go on).

    Checked before an event, so that every return leaves a consistent state. One
    event takes at most ``reserve`` slots and pushes at most ``reserve + 1`` events;
    it sketches at most 5 times, so 8 free sketch blocks and rare places suffice.
    """
    first = queue.time[0]
    blocks = sketches.counts.shape[0]
    rare_capacity = sketches.rare_keys.shape[0]
    if cut_due:  # the event just run was a cut: before anything else, even the horizon
        return CUT
    if first >= horizon:  # SimPy's stop event: URGENT at the horizon, before any tie
        return DONE
    if refill:
        return REFILL
    if n_free < reserve:
        return GROW_SLOTS
    if size + reserve + 2 > queue.time.shape[0]:
        return GROW_HEAP
    if hist_full:
        return GROW_HIST
    if pool_n + 8 >= blocks:
        return GROW_POOL
    if rare_n + 8 >= rare_capacity:
        return GROW_RARE
    return -1


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
    """Run the event loop until the horizon or until a buffer, pool or heap needs Python.

    The arguments are the state of :mod:`eda_sim.engine.fast.state`, updated in
    place; ``control[0]``'s counters are kept in registers while the loop runs
    and written back whenever it returns.
    """
    ctl = control[0]
    horizon, reserve = ctl.horizon, ctl.reserve
    n_classes = arrivals.counters.shape[0]
    n_stations = monitors.shape[0]
    n_rows = streams.values.shape[0] // 2  # rows [0, n_rows): gaps and services; then uniforms
    last_tick = path.grid.shape[0] - 2
    # Mechanisms a scenario does not use cost one test per point, not a read per station.
    any_fanout = fanout.targets.shape[0] > 1  # (beyond its padding entry)
    any_blocking = blocking.any[0] != 0
    seq, size, n_free = ctl.seq, ctl.heap_size, ctl.free_count
    refill, hist_full = ctl.need_refill, ctl.hist_full
    pool_n, rare_n, cut_due, cut_label = ctl.pool_n, ctl.rare_n, ctl.cut_due, ctl.cut_label
    per_station = sketches.layout[0]  # W, Wq (and blocked) per station, then classes, system
    first_class_sketch = per_station * n_stations
    system_sketch = sketches.layout[1] - 1
    class_sketches = system_sketch > first_class_sketch  # several classes: one each
    window = sketch_window(sketches)
    while True:
        status = _status(
            queue, size, horizon, refill, n_free, hist_full, reserve,
            sketches, pool_n, rare_n, cut_due,
        )  # fmt: skip
        if status >= 0:
            ctl.now = horizon if status == DONE else ctl.now
            ctl.seq, ctl.heap_size, ctl.free_count = seq, size, n_free
            ctl.need_refill, ctl.hist_full = refill, hist_full
            ctl.pool_n, ctl.rare_n, ctl.cut_due, ctl.cut_label = pool_n, rare_n, 0, cut_label
            return status
        now, payload, size = pop_earliest(queue, size)
        ctl.now = now
        kind = payload & 7
        index = payload >> KIND_BITS

        k = 0  # the class of the event (and copies) this event is about
        moving = -1  # a slot that arrives at `to` now (to < 0: it leaves the system)
        to = -1
        departing = -1  # a slot that departs its station now
        journey = -1  # the journey of the copies published now
        first_copy, n_copies = 0, 0
        turn = -1  # the first in line, handed a server by the departure
        turn_order = 0
        turn_next = False
        if kind == ARRIVAL:  # external arrival: the class's source resumes
            k = index
            counted_at, gap = replay_instant(trace, k, now, arrivals.counters[k].gap)
            arrivals.counters[k].gap = gap
            hist_full = count_arrival(arrivals, k, counted_at, hist_full)
            u, refill = next_value(streams, n_rows + k, refill)
            to = entry_station(routes, k, u)
            due, at = next_instant(trace, k, now)  # (never due for a class without a trace)
            if not trace.replayed[k]:  # a renewal source: its next gap
                gap, refill = next_value(streams, k, refill)
                arrivals.counters[k].gap = gap
                due, at = True, now + gap
            if due:
                size = push(queue, size, at, seq, (k << KIND_BITS) + ARRIVAL)
                seq += 1
            # The walk starts now (its Initialize is URGENT, the very next event).
            n_free -= 1
            moving = free[n_free]
            enter(events, system, moving, k, now)
        elif kind == SERVICE_END:  # completion: the next hop, the copies, maybe blocked
            k = events[index].event_class
            i = events[index].station
            row = k * n_stations + i
            u, refill = next_value(streams, n_rows + n_classes + row, refill)
            hop = next_hop(routes, row, u)  # (counted in routes: the transitions observed)
            events[index].ended = now
            journey = events[index].journey
            if any_fanout:
                first_copy, n_copies = publish(fanout, events, system, k, row, journey)
            if any_blocking and holds(blocking, capacity, monitors, hop):
                block(blocking, events, index, hop)
            else:
                departing, to = index, hop
        elif kind == WAKE:  # a blocked sender, let in at its next station, departs
            k = events[index].event_class
            departing, to = index, events[index].next_station
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
                servers.servers,
                system,
                path.grid[index],
                path.stations[:, index],
                path.system[:, index],
            )
            if index < last_tick:
                tick = now + (path.grid[index + 1] - now)
                size = push(queue, size, tick, seq, ((index + 1) << KIND_BITS) + TICK)
                seq += 1
            cut_due, cut_label = sketches.is_cut[index], index
        else:  # WARMUP: the sketches are cut, then the monitors snapshot
            cut_due, cut_label = 1, -1
            snapshot_all(
                monitors, servers.servers, system, now, path.warm_stations, path.warm_system
            )

        if departing >= 0:  # departure: the server goes to the first in line
            i = events[departing].station
            turn = hand_over(servers.lines, events, i)
            if turn >= 0:
                # Its TURN event (NORMAL, at `now`) is the next event when nothing is
                # scheduled at `now` yet: everything this event schedules comes after it.
                turn_order = seq
                seq += 1
                turn_next = size == 0 or queue.time[0] > now
            arrived, started = events[departing].arrived, events[departing].started
            wait, sojourn = started - arrived, now - arrived
            blocked = now - events[departing].ended
            station_depart(monitors, servers.servers[i], i, now, wait, sojourn, blocked)
            keep_wait(waits, i, wait, sojourn)
            sketch = i * per_station  # the station's percentile sketches: W, Wq, blocked
            pool_n, rare_n = sketch_time(sketches, sketch, sojourn, window, pool_n, rare_n)
            pool_n, rare_n = sketch_time(sketches, sketch + 1, wait, window, pool_n, rare_n)
            if per_station == 3:
                pool_n, rare_n = sketch_time(sketches, sketch + 2, blocked, window, pool_n, rare_n)
            if any_blocking and blocking.blocks[i]:  # let the oldest sender blocked on `i` in
                sender = oldest_sender(blocking, events, i)
                if sender >= 0:
                    present = station_arrive(monitors, servers.servers[i], i, now)
                    events[sender].admitted = present < servers.servers[i]
                    if present >= servers.servers[i]:
                        level = servers.levels[events[sender].event_class]
                        join_line(servers.lines, events, i, level, sender)
                    size = push(queue, size, now, seq, (sender << KIND_BITS) + WAKE)
                    seq += 1
            if kind == WAKE:  # on at `to`, where it was admitted when let in
                events[departing].station = to
                events[departing].arrived = now
                if events[departing].admitted:
                    row = service_row(n_classes, n_stations, k, to)
                    seq, size, refill = start_service(
                        events, streams, queue, departing, now, row, seq, size, refill
                    )
            else:
                moving = departing

        # Arrivals: the moving event at `to`, then each copy just published at its
        # station (each copy's walk starts with an URGENT Initialize, in order).
        for a in range(0 if moving >= 0 else 1, n_copies + 1):
            arriving, at = moving, to
            if a > 0:
                n_free -= 1
                arriving = free[n_free]
                at = fanout.targets[first_copy + a - 1]
                start_copy(events, arriving, k, journey)
            if at < 0 or full(capacity, monitors, at):  # leaving the system, done or lost
                lost = 1 if at >= 0 else 0
                if lost:
                    station_refuse(monitors, at)
                ended, remaining, any_lost = end_branch(events, system, arriving, k, lost)
                if remaining == 0:  # the journey's last branch: the event leaves, done or lost
                    took = now - events[ended].entered
                    system_leave(system, k, now, any_lost, took)
                    if not any_lost:  # its end-to-end time, in the system's and its class's
                        pool_n, rare_n = sketch_time(
                            sketches, system_sketch, took, window, pool_n, rare_n
                        )
                        if class_sketches:
                            pool_n, rare_n = sketch_time(
                                sketches, first_class_sketch + k, took, window, pool_n, rare_n
                            )
                    free[n_free] = ended
                    n_free += 1
                if arriving != ended:  # a copy's own slot
                    free[n_free] = arriving
                    n_free += 1
            else:  # admitted: a free server, or a place in line
                present = station_arrive(monitors, servers.servers[at], at, now)
                events[arriving].station = at
                events[arriving].arrived = now
                if present < servers.servers[at]:  # start of service at once
                    row = service_row(n_classes, n_stations, k, at)
                    seq, size, refill = start_service(
                        events, streams, queue, arriving, now, row, seq, size, refill
                    )
                else:
                    join_line(servers.lines, events, at, servers.levels[k], arriving)

        if turn >= 0:  # the first in line starts now, or when its TURN comes
            if turn_next:
                row = service_row(
                    n_classes, n_stations, events[turn].event_class, events[turn].station
                )
                seq, size, refill = start_service(
                    events, streams, queue, turn, now, row, seq, size, refill
                )
            else:
                size = push(queue, size, now, turn_order, (turn << KIND_BITS) + TURN)
