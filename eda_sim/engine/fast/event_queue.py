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

    The last entry is sifted down from the root (with one entry left, it is the
    root itself and nothing moves).
    """
    now = queue.time[0]
    payload = queue.payload[0]
    size -= 1
    t = queue.time[size]
    order = queue.order[size]
    last = queue.payload[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and (
            queue.time[right] < queue.time[child]
            or (queue.time[right] == queue.time[child] and queue.order[right] < queue.order[child])
        ):
            child = right
        ct = queue.time[child]
        if t < ct or (t == ct and order < queue.order[child]):
            break
        queue.time[i] = ct
        queue.order[i] = queue.order[child]
        queue.payload[i] = queue.payload[child]
        i = child
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
