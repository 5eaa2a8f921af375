"""Servers and queue discipline: a free server or a place in line, FIFO or by priority (steps).

``servers.servers[i]`` is station ``i``'s number of servers and
``servers.lines[i, level]`` (:data:`~eda_sim.engine.fast.state.LINE`) the head
and tail of its line of priority ``level``, a linked list of event slots through
``events.next_in_line``. Non-preemptive priorities: a freed server goes to the
oldest event of the first level that has one, which is the order
``(priority, arrival order)`` of the SimPy engine's
:class:`~eda_sim.engine.simpy.servers.PriorityServers`; without priorities
there is one level and the line is FIFO
(:class:`~eda_sim.engine.simpy.servers.FifoServers`). The busy servers are
always ``min(present, servers)``, as in the SimPy engine.

Written as jit.py asks of a step: the arrays are read and written outside the
branches, which choose only values.

Hook points: :func:`join_line` at the **arrival** (an admitted event that finds
every server busy); :func:`hand_over` at the **departure** (the first event in
line, if any, gets the server). :mod:`~eda_sim.engine.fast.blocking` keeps its
blocked senders in lines of the same kind.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import step

__all__ = ["hand_over", "join_line"]


@step
def join_line(lines: np.ndarray, events: np.ndarray, i: int, level: int, slot: int) -> None:
    """Put the event in ``slot`` at the end of station ``i``'s line of priority ``level``."""
    head, tail = lines[i, level].head, lines[i, level].tail
    empty = tail < 0
    # Its predecessor links to it; in an empty line it becomes the head (and the
    # link written is its own, -1).
    before = slot if empty else tail
    link = -1 if empty else slot
    events[slot].next_in_line = -1
    events[before].next_in_line = link
    lines[i, level].head = slot if empty else head
    lines[i, level].tail = slot


@step
def hand_over(lines: np.ndarray, events: np.ndarray, i: int) -> int:
    """Take the first event in station ``i``'s lines (it gets the server just freed); -1 if none."""
    last_level = lines.shape[1] - 1
    level = 0
    while level < last_level and lines[i, level].head < 0:
        level += 1
    head, tail = lines[i, level].head, lines[i, level].tail
    following = events[head].next_in_line  # an empty line (head -1) reads a link not used
    empty = head < 0
    following = -1 if empty else following
    lines[i, level].head = following
    lines[i, level].tail = -1 if following < 0 else tail
    return int(head)
