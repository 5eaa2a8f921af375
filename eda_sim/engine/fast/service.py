"""Start and end of service: an event takes a server; its service ends (steps).

Hook points: :func:`start_service`, when an event gets a server (at its
arrival at a station with a free server, or when a departure hands one over:
:func:`take_turn`, the loop's ``TURN``). The service time comes from the stream
of the event's class at its station, row ``K + k·N + i`` of the buffers
(:mod:`eda_sim.engine.fast.streams`). :func:`end_service` at the
**completion** (the loop's ``SERVICE_END``): the next hop is drawn
(:func:`~eda_sim.engine.fast.draws.next_hop`), fan-out publishes its copies
(:func:`~eda_sim.engine.fast.fanout.publish`) and blocking may hold the event
(:func:`~eda_sim.engine.fast.blocking.holds`, :func:`~eda_sim.engine.fast.blocking.block`).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.blocking import block, holds
from eda_sim.engine.fast.draws import next_hop, next_value
from eda_sim.engine.fast.event_queue import push
from eda_sim.engine.fast.fanout import Copies, publish
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.kinds import KIND_BITS, SERVICE_END, TURN
from eda_sim.engine.fast.state import (
    BlockingState,
    Counters,
    EventQueue,
    FanOutTables,
    RouteTables,
    StreamState,
)

__all__ = [
    "NO_TURN",
    "Turn",
    "end_service",
    "give_turn",
    "service_row",
    "start_service",
    "take_turn",
]

#: The server a departure handed over: ``(slot, order key, next)``: the event that
#: got it (-1: none), the order key of its ``TURN`` and whether that ``TURN`` is
#: the very next event (then :func:`give_turn` starts its service at once).
Turn = tuple[int, int, bool]
#: No server handed over.
NO_TURN: Turn = (-1, 0, False)


@step
def service_row(n_classes: int, n_stations: int, event_class: int, station: int) -> int:
    """The buffer row of the service times of ``event_class`` at ``station``."""
    return n_classes + event_class * n_stations + station


@step
def start_service(
    events: np.ndarray,
    streams: StreamState,
    queue: EventQueue,
    slot: int,
    now: float,
    row: int,
    seq: int,
    size: int,
    refill: int,
) -> tuple[int, int, int]:
    """The event in ``slot`` starts service at ``now``; return ``seq``, ``size``, ``refill``.

    Never reads an empty buffer: the loop returned before this event if one was
    empty, and the two services one event can start (an arrival at a free
    server, then the line's head at the station just left) never share a
    stream: a free server at the station just left means no one was waiting there.
    """
    events[slot].started = now
    service, refill = next_value(streams, row, refill)
    size = push(queue, size, now + service, seq, (slot << KIND_BITS) + SERVICE_END)
    return seq + 1, size, refill


@step
def take_turn(
    events: np.ndarray,
    streams: StreamState,
    queue: EventQueue,
    slot: int,
    now: float,
    sizes: tuple[int, int],
    counters: Counters,
) -> Counters:
    """``TURN``: the event in ``slot``, handed a server by a departure, starts service now.

    ``sizes`` is ``(classes, stations)``.
    """
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    n_classes, n_stations = sizes
    row = service_row(n_classes, n_stations, events[slot].event_class, events[slot].station)
    seq, size, refill = start_service(events, streams, queue, slot, now, row, seq, size, refill)
    return seq, size, n_free, refill, hist_full, pool_n, rare_n


@step
def give_turn(
    events: np.ndarray,
    streams: StreamState,
    queue: EventQueue,
    turn: Turn,
    now: float,
    sizes: tuple[int, int],
    counters: Counters,
) -> Counters:
    """The event a departure handed its server starts service now, or when its ``TURN`` comes.

    ``turn`` is ``(slot, order key, next)`` (slot -1: none handed over): its
    ``TURN`` (NORMAL, at ``now``) is run at once when it is the very next event
    (``next``), else pushed with the order key it got at the departure.
    """
    slot, order, next_one = turn
    if slot >= 0 and next_one:
        counters = take_turn(events, streams, queue, slot, now, sizes, counters)
    elif slot >= 0:
        seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
        size = push(queue, size, now, order, (slot << KIND_BITS) + TURN)
        counters = (seq, size, n_free, refill, hist_full, pool_n, rare_n)
    _ = (events, streams, queue)  # their last use, on every path (jit.py)
    return counters


@step
def end_service(
    events: np.ndarray,
    system: np.ndarray,
    streams: StreamState,
    routes: RouteTables,
    fanout: FanOutTables,
    blocking: BlockingState,
    capacity: np.ndarray,
    monitors: np.ndarray,
    slot: int,
    now: float,
    hop_rows: int,
    flags: tuple[bool, bool],
    counters: Counters,
) -> tuple[int, int, int, Copies, Counters]:
    """``SERVICE_END``: the next hop, the copies published, and whether the event departs.

    Returns the event's class, the slot departing now (-1: blocked, it waits
    holding its server), where it goes (-1: it leaves the system), the copies
    published (:data:`~eda_sim.engine.fast.fanout.Copies`) and the counters. The hop
    is drawn from uniform row ``hop_rows + k·N + i``. ``flags`` is ``(any
    fan-out, any blocking)``: a mechanism the scenario does not use costs one test.
    """
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    any_fanout, any_blocking = flags
    k = events[slot].event_class
    row = k * monitors.shape[0] + events[slot].station
    u, refill = next_value(streams, hop_rows + row, refill)
    hop = next_hop(routes, row, u)  # (counted in routes: the transitions observed)
    events[slot].ended = now
    journey = events[slot].journey
    first_copy, n_copies = 0, 0
    if any_fanout:
        first_copy, n_copies = publish(fanout, events, system, k, row, journey)
    departing = slot
    if any_blocking and holds(blocking, capacity, monitors, hop):
        block(blocking, events, slot, hop)
        departing = -1
    _ = (events, system, fanout, blocking, capacity, monitors)  # (jit.py)
    copies = (journey, first_copy, n_copies)
    return k, departing, hop, copies, (seq, size, n_free, refill, hist_full, pool_n, rare_n)
