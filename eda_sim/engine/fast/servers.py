"""Servers and queue discipline: a free server or a place in the FIFO line (steps).

``lines[i]`` (:data:`~eda_sim.engine.fast.state.LINE`) holds station ``i``'s
number of servers and the head and tail of its line, a linked list of event
slots through ``events.next_in_line``. The busy servers are always
``min(present, servers)``, as in the SimPy engine
(:mod:`eda_sim.engine.simpy.servers`).

Written as jit.py asks of a step: the arrays are read and written outside the
branches, which choose only values.

Hook points: :func:`join_line` at the **arrival** (an admitted event that finds
every server busy); :func:`hand_over` at the **departure** (the head of the
line, if any, gets the server). A priority line (the next mechanism to port)
is a second pair of steps here, chosen by the loop.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import step

__all__ = ["hand_over", "join_line"]


@step
def join_line(lines: np.ndarray, events: np.ndarray, i: int, slot: int) -> None:
    """Put the event in ``slot`` at the end of station ``i``'s line."""
    head, tail = lines[i].head, lines[i].tail
    empty = tail < 0
    # Its predecessor links to it; in an empty line it becomes the head (and the
    # link written is its own, -1).
    before = slot if empty else tail
    link = -1 if empty else slot
    events[slot].next_in_line = -1
    events[before].next_in_line = link
    lines[i].head = slot if empty else head
    lines[i].tail = slot


@step
def hand_over(lines: np.ndarray, events: np.ndarray, i: int) -> int:
    """Take the head of station ``i``'s line (it gets the server just freed); -1 if none."""
    head, tail = lines[i].head, lines[i].tail
    following = events[head].next_in_line  # an empty line (head -1) reads a link not used
    empty = head < 0
    following = -1 if empty else following
    lines[i].head = following
    lines[i].tail = -1 if following < 0 else tail
    return int(head)
