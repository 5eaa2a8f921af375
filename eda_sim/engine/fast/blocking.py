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
* :func:`oldest_sender` at the **departure** from a blocking station: the sender
  to let in, if any (the loop admits it and schedules its ``WAKE``).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.servers import hand_over, join_line
from eda_sim.engine.fast.state import BlockingState

__all__ = ["block", "holds", "oldest_sender"]


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
