"""The event heap of the fast engine: a binary heap keyed by ``(time, order)`` (steps).

SimPy orders its queue by ``(time, priority, event id)``; the loop's order key is
one counter (``control.seq``) taken in the order SimPy would schedule, so events
at equal times fire in SimPy's order. Keys are unique, so which heap layout a
sequence of pushes leaves does not matter: pops come out in key order.
"""

from __future__ import annotations

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.state import EventQueue

__all__ = ["pop_earliest", "push"]


@step
def pop_earliest(queue: EventQueue, size: int) -> tuple[float, int, int]:
    """Remove the earliest event; return its time, its payload and the new size.

    Bottom-up (Wegener 1993, "Bottom-up-heapsort", *Theor. Comput. Sci.* 118):
    the hole left at the root moves down to a leaf along the smaller children,
    without comparing them with the last entry, and the last entry then moves up
    from there to its place; the last entry usually belongs near the bottom, so
    this takes about half the comparisons of sifting it down from the root. The
    smaller child is chosen without a branch (the entry past the end, if read,
    is never taken: the heap always has room beyond ``size``).
    """
    now = queue.time[0]
    payload = queue.payload[0]
    size -= 1
    i = 0
    child = 1
    while child < size:
        right = child + 1
        rt, ct = queue.time[right], queue.time[child]
        smaller = rt < ct or (rt == ct and queue.order[right] < queue.order[child])
        child += 1 if (right < size and smaller) else 0
        queue.time[i] = queue.time[child]
        queue.order[i] = queue.order[child]
        queue.payload[i] = queue.payload[child]
        i = child
        child = 2 * i + 1
    # The hole is at a leaf: the last entry moves up from there (push's sift-up).
    t, order, last = queue.time[size], queue.order[size], queue.payload[size]
    while i > 0:
        parent = (i - 1) >> 1
        pt = queue.time[parent]
        if pt < t or (pt == t and queue.order[parent] < order):
            break
        queue.time[i] = pt
        queue.order[i] = queue.order[parent]
        queue.payload[i] = queue.payload[parent]
        i = parent
    queue.time[i] = t
    queue.order[i] = order
    queue.payload[i] = last
    return now, payload, size


@step
def push(queue: EventQueue, size: int, time: float, order: int, payload: int) -> int:
    """Add an event (sift it up from the end); return the new size."""
    ht, ho, hp = queue.time, queue.order, queue.payload
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        pt = ht[parent]
        if pt < time or (pt == time and ho[parent] < order):
            break
        ht[i] = pt
        ho[i] = ho[parent]
        hp[i] = hp[parent]
        i = parent
    ht[i] = time
    ho[i] = order
    hp[i] = payload
    return size + 1
