"""Blocking after service: a sender keeps its server while the next station is full (steps).

Mirrors :mod:`eda_sim.engine.simpy.blocking`. A station with ``on_full: block``
(``blocking.blocks[i]``) does not lose an event sent to it from another station
when it is full: the sender, its service done, keeps its server and waits, in
FIFO order, in the station's line of blocked senders (``blocking.senders[i]``,
a line of :mod:`~eda_sim.engine.fast.servers`' kind). A departure from the full
station admits the oldest of them into the room just made and schedules its
``WAKE`` (SimPy: its wake-up event succeeds); when that fires, the sender
departs its own station and, admitted already, takes its server or its place in line.

Hook points (called by the loop, :mod:`eda_sim.engine.fast.kernel`):

* :func:`holds` at the **completion**: the next station blocks and is full;
  :func:`block` then puts the sender in its line;
* :func:`let_in` at the **departure** from a blocking station: the oldest
  sender (:func:`oldest_sender`), if any, is admitted into the room just made
  and its ``WAKE`` scheduled;
* :func:`woken` at its ``WAKE`` (the loop's ``WAKE`` branch): it departs its own
  station, then moves on (:func:`~eda_sim.engine.fast.arrival.move_on`).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.event_queue import push
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.kinds import KIND_BITS, WAKE
from eda_sim.engine.fast.monitors import station_arrive
from eda_sim.engine.fast.servers import hand_over, join_line
from eda_sim.engine.fast.state import BlockingState, EventQueue, ServerState

__all__ = ["block", "holds", "let_in", "oldest_sender", "woken"]


@step
def holds(blocking: BlockingState, capacity: np.ndarray, monitors: np.ndarray, hop: int) -> bool:
    """True when ``hop`` (-1: leave) blocks its senders and is full: the sender must wait."""
    full = monitors[hop].present >= capacity[hop]  # hop -1 reads a value not used
    return bool(blocking.blocks[hop] != 0 and full)


@step
def block(blocking: BlockingState, events: np.ndarray, slot: int, hop: int) -> None:
    """The event in ``slot`` waits, holding its server, until station ``hop`` has room."""
    events[slot].next_station = hop
    join_line(blocking.senders, events, hop, 0, slot)


@step
def oldest_sender(blocking: BlockingState, events: np.ndarray, i: int) -> int:
    """Take the oldest sender blocked on station ``i`` off its line; -1 if none."""
    return hand_over(blocking.senders, events, i)


@step
def let_in(
    blocking: BlockingState,
    servers: ServerState,
    monitors: np.ndarray,
    events: np.ndarray,
    queue: EventQueue,
    i: int,
    now: float,
    seq: int,
    size: int,
) -> tuple[int, int]:
    """Let the oldest sender blocked on station ``i`` in, if any; return ``seq``, ``size``.

    As :meth:`~eda_sim.engine.simpy.blocking.Blocking.let_in`: the sender is
    counted in at ``i`` now, takes a free server or its place in line there, and
    its ``WAKE`` is scheduled (NORMAL, at ``now``).
    """
    sender = oldest_sender(blocking, events, i)
    if sender >= 0:
        present = station_arrive(monitors, servers.servers[i], i, now)
        events[sender].admitted = present < servers.servers[i]
        if present >= servers.servers[i]:
            level = servers.levels[events[sender].event_class]
            join_line(servers.lines, events, i, level, sender)
        size = push(queue, size, now, seq, (sender << KIND_BITS) + WAKE)
        seq += 1
    _ = (servers, monitors, events, queue)  # their last use, on every path (jit.py)
    return seq, size


@step
def woken(events: np.ndarray, slot: int) -> tuple[int, int, int]:
    """``WAKE``: the sender in ``slot`` departs; return its class, its slot, its next station."""
    return int(events[slot].event_class), slot, int(events[slot].next_station)
