"""Arrival at a station: admitted (a server or a place in line), or refused and gone (steps).

Mirrors the arrival point of the SimPy walk (:mod:`eda_sim.engine.simpy.walk`):
a full station refuses the event (:func:`~eda_sim.engine.fast.capacity.full`,
:func:`~eda_sim.engine.fast.monitors.station_refuse`) and it leaves the system,
lost (:func:`~eda_sim.engine.fast.lifecycle.leave`), as does an event with no
next station, done; otherwise the station counts it in
(:func:`~eda_sim.engine.fast.monitors.station_arrive`) and it starts service at
a free server (:func:`~eda_sim.engine.fast.service.start_service`) or joins the
line (:func:`~eda_sim.engine.fast.servers.join_line`).

Hook points: :func:`arrive_all` after every event: the event that moves (an
external arrival, or a departure not blocked) arrives, then each fan-out copy
just published (:func:`~eda_sim.engine.fast.lifecycle.start_copy`), in order:
in SimPy each copy's walk starts with an ``URGENT`` ``Initialize``;
:func:`move_on` for a blocked sender after its ``WAKE`` (admitted already at
the station that let it in).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.capacity import full
from eda_sim.engine.fast.fanout import Copies
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.latency import Window
from eda_sim.engine.fast.lifecycle import leave, start_copy
from eda_sim.engine.fast.monitors import station_arrive, station_refuse
from eda_sim.engine.fast.servers import join_line
from eda_sim.engine.fast.service import service_row, start_service
from eda_sim.engine.fast.state import (
    Counters,
    EventQueue,
    FanOutTables,
    ServerState,
    SketchState,
    StreamState,
)

__all__ = ["arrive", "arrive_all", "move_on"]


@step
def arrive(
    events: np.ndarray,
    free: np.ndarray,
    servers: ServerState,
    capacity: np.ndarray,
    monitors: np.ndarray,
    system: np.ndarray,
    streams: StreamState,
    queue: EventQueue,
    sketches: SketchState,
    sketching: tuple[Window, tuple[int, int, int]],
    slot: int,
    at: int,
    k: int,
    now: float,
    counters: Counters,
) -> Counters:
    """The event in ``slot`` (class ``k``) arrives at station ``at`` now (-1: it leaves, done).

    ``sketching`` is the sketches' window and places (:func:`~eda_sim.engine.fast.lifecycle.leave`).
    """
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    n_classes = servers.levels.shape[0]
    if at < 0 or full(capacity, monitors, at):  # leaving the system, done or lost
        lost = 1 if at >= 0 else 0
        if lost:
            station_refuse(monitors, at)
        window, places = sketching
        fill = (n_free, pool_n, rare_n)
        n_free, pool_n, rare_n = leave(
            events, free, system, sketches, window, places, slot, k, lost, now, fill
        )
    else:  # admitted: a free server, or a place in line
        present = station_arrive(monitors, servers.servers[at], at, now)
        events[slot].station = at
        events[slot].arrived = now
        if present < servers.servers[at]:  # start of service at once
            row = service_row(n_classes, monitors.shape[0], k, at)
            seq, size, refill = start_service(
                events, streams, queue, slot, now, row, seq, size, refill
            )
        else:
            join_line(servers.lines, events, at, servers.levels[k], slot)
    _ = (events, free, servers, capacity, monitors, system, streams, queue, sketches)  # (jit.py)
    return seq, size, n_free, refill, hist_full, pool_n, rare_n


@step
def arrive_all(
    events: np.ndarray,
    free: np.ndarray,
    servers: ServerState,
    capacity: np.ndarray,
    monitors: np.ndarray,
    system: np.ndarray,
    streams: StreamState,
    queue: EventQueue,
    sketches: SketchState,
    fanout: FanOutTables,
    sketching: tuple[Window, tuple[int, int, int]],
    moving: int,
    to: int,
    k: int,
    copies: Copies,
    now: float,
    counters: Counters,
) -> Counters:
    """The event in ``moving`` (-1: none) arrives at ``to``, then each copy at its station."""
    journey, first_copy, n_copies = copies
    for a in range(0 if moving >= 0 else 1, n_copies + 1):
        slot, at = moving, to
        if a > 0:  # a copy's first step: a slot of its own
            seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
            n_free -= 1
            slot = free[n_free]
            at = fanout.targets[first_copy + a - 1]
            start_copy(events, slot, k, journey)
            counters = (seq, size, n_free, refill, hist_full, pool_n, rare_n)
        counters = arrive(
            events, free, servers, capacity, monitors, system, streams, queue, sketches,
            sketching, slot, at, k, now, counters,
        )  # fmt: skip
    _ = (events, free, servers, capacity, monitors, system, streams, queue, sketches, fanout)
    return counters


@step
def move_on(
    events: np.ndarray,
    streams: StreamState,
    queue: EventQueue,
    slot: int,
    to: int,
    now: float,
    sizes: tuple[int, int],
    counters: Counters,
) -> Counters:
    """A woken sender in ``slot`` is at ``to`` now, where it was admitted when let in.

    It starts service there if it found a free server then (else it is in line
    there already). ``sizes`` is ``(classes, stations)``.
    """
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    n_classes, n_stations = sizes
    events[slot].station = to
    events[slot].arrived = now
    if events[slot].admitted:
        row = service_row(n_classes, n_stations, events[slot].event_class, to)
        seq, size, refill = start_service(events, streams, queue, slot, now, row, seq, size, refill)
    _ = (events, streams, queue)  # their last use, on every path (jit.py)
    return seq, size, n_free, refill, hist_full, pool_n, rare_n
