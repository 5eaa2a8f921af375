"""The departure: an event leaves its station and frees its server (step).

Mirrors the departure point of the SimPy walk (:mod:`eda_sim.engine.simpy.walk`):
the server goes to the first event in line (:func:`~eda_sim.engine.fast.servers.hand_over`),
the station's monitor records the wait, the time per visit and the time blocked
(:func:`~eda_sim.engine.fast.monitors.station_depart`,
:func:`~eda_sim.engine.fast.monitors.keep_wait`),
the percentile sketches count them (:func:`~eda_sim.engine.fast.latency.sketch_time`),
and a sender blocked on the station is let in (:func:`~eda_sim.engine.fast.blocking.let_in`).

Hook point: :func:`depart`, called by the loop after a completion (the event
not blocked) or a ``WAKE`` (a blocked sender let in at its next station).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.blocking import let_in
from eda_sim.engine.fast.event_queue import earliest_time
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.latency import Window, sketch_time
from eda_sim.engine.fast.monitors import keep_wait, station_depart
from eda_sim.engine.fast.servers import hand_over
from eda_sim.engine.fast.service import Turn
from eda_sim.engine.fast.state import (
    BlockingState,
    Counters,
    EventQueue,
    RecentWaits,
    ServerState,
    SketchState,
)

__all__ = ["SketchPlaces", "depart"]

#: Where the sketches are: ``(sketches per station, the first class's, the system's)``.
SketchPlaces = tuple[int, int, int]


@step
def depart(
    events: np.ndarray,
    servers: ServerState,
    monitors: np.ndarray,
    waits: RecentWaits,
    blocking: BlockingState,
    queue: EventQueue,
    sketches: SketchState,
    window: Window,
    places: SketchPlaces,
    slot: int,
    now: float,
    any_blocking: bool,
    counters: Counters,
) -> tuple[Turn, Counters]:
    """The event in ``slot`` departs its station at ``now``; return the server's turn, counters.

    The ``TURN`` of the event handed the server takes the next order key; it is
    the very next event when nothing is scheduled at ``now`` yet (everything
    this event schedules comes after it).
    """
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    i = events[slot].station
    turn = hand_over(servers.lines, events, i)
    turn_order = seq
    seq += 1 if turn >= 0 else 0
    turn_next = size == 0 or earliest_time(queue) > now
    arrived, started = events[slot].arrived, events[slot].started
    wait, sojourn = started - arrived, now - arrived
    blocked = now - events[slot].ended
    station_depart(monitors, servers.servers[i], i, now, wait, sojourn, blocked)
    keep_wait(waits, i, wait, sojourn)
    per_station = places[0]
    sketch = i * per_station  # the station's percentile sketches: W, Wq, blocked
    pool_n, rare_n = sketch_time(sketches, sketch, sojourn, window, pool_n, rare_n)
    pool_n, rare_n = sketch_time(sketches, sketch + 1, wait, window, pool_n, rare_n)
    if per_station == 3:
        pool_n, rare_n = sketch_time(sketches, sketch + 2, blocked, window, pool_n, rare_n)
    if any_blocking and blocking.blocks[i]:  # let the oldest sender blocked on `i` in
        seq, size = let_in(blocking, servers, monitors, events, queue, i, now, seq, size)
    _ = (events, servers, monitors, blocking, queue, sketches)  # (jit.py)
    return (turn, turn_order, turn_next), (seq, size, n_free, refill, hist_full, pool_n, rare_n)
