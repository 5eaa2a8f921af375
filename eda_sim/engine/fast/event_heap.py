"""A 4-ary event heap keyed by ``(time, order)`` (steps): the calendar queue's yardstick.

The fast engine's loop ran on this heap until the calendar queue of
:mod:`~eda_sim.engine.fast.event_queue` replaced it; it stays as the reference
that queue is measured against (``benchmarks/bench_event_queue.py``, a hold model
at 5 to 15,000 events) and tested against (``tests/test_fast_event_queue.py``).

SimPy orders its queue by ``(time, priority, event id)``; the loop's order key is
one counter (``control.seq``) taken in the order SimPy would schedule, so events
at equal times fire in SimPy's order. Keys are unique, so which heap layout a
sequence of pushes leaves does not matter: pops come out in key order, whatever
the heap's arity or memory layout.

The layout is one 24-byte row per entry (time, order and payload together, as
doubles: :class:`EventHeap`) and four children
per node, at ``4i + 1 .. 4i + 4`` (a d-ary heap: Johnson 1975, "Priority queues
with update and finding minimum spanning trees", *Inf. Process. Lett.* 4; Knuth,
*TAOCP* vol. 3, §5.2.3 ex. 28): half the levels of a binary heap, and a node's
four children in two adjacent cache lines. With a thousand stations about 1,500
events are in flight; measured on a hold model (pop the earliest, push one a
random exponential time later, 3 M times), the 4-ary heap of records took
75–78 ns per pop and push at 1,500 events where the binary heap of three
separate arrays took 92–100 ns (26–27 vs 27–29 ns at 10 events).

Every entry past the heap's end has time ``inf`` (:data:`ROOM` of them at least, see
``kernel._status``), so that a node's last children need no bounds test: an
infinite time is never the smallest.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from eda_sim.engine.fast.jit import step

__all__ = ["ORDER", "PAYLOAD", "ROOM", "TIME", "EventHeap", "earliest_time", "pop_earliest", "push"]

#: Columns of an entry: its time, its order key, its payload (integers below 2**53, exact).
TIME, ORDER, PAYLOAD = 0, 1, 2

#: Entries past the heap's end that a pop may read (a node's last children).
ROOM = 3


class EventHeap(NamedTuple):
    """The heap: a row per entry (time, order key, payload, as doubles); past the end ``inf``."""

    entries: np.ndarray  # (room, 3) float64: time, order, payload


@step
def earliest_time(queue: EventHeap) -> float:
    """The time of the earliest event (``inf`` when the heap is empty and never used)."""
    return float(queue.entries[0, TIME])


@step
def _below(time: float, order: float, other_time: float, other_order: float) -> int:
    """1 if the key ``(time, order)`` is below ``(other_time, other_order)``, else 0.

    The order keys decide only between equal times, which are rare: the branch
    on equal times is predictable, the comparison of times a select. (Keys, not
    entries: a step that took the queue in a loop would count a reference.)
    """
    return int(time < other_time) if time != other_time else int(order < other_order)


@step
def pop_earliest(queue: EventHeap, size: int) -> tuple[float, int, int]:
    """Remove the earliest event; return its time, its payload and the new size.

    Bottom-up (Wegener 1993, "Bottom-up-heapsort", *Theor. Comput. Sci.* 118):
    the hole left at the root moves down to a leaf along the smallest children,
    without comparing them with the last entry, and the last entry then moves up
    from there to its place; the last entry usually belongs near the bottom, so
    this takes about half the comparisons of sifting it down from the root. The
    smallest of four children is chosen by selects, not branches (two pairs, then
    their winners); the last entry's time is set to ``inf`` first, so that it and
    the entries past the end are never chosen.
    """
    entries = queue.entries  # (bound once, as in push)
    now = entries[0, TIME]
    payload = entries[0, PAYLOAD]
    size -= 1
    t, order = entries[size, TIME], entries[size, ORDER]
    last = entries[size, PAYLOAD]
    entries[size, TIME] = np.inf
    i = 0
    child = 1
    while child < size:
        first = child + _below(
            entries[child + 1, TIME], entries[child + 1, ORDER],
            entries[child, TIME], entries[child, ORDER],
        )  # fmt: skip
        second = child + 2 + _below(
            entries[child + 3, TIME], entries[child + 3, ORDER],
            entries[child + 2, TIME], entries[child + 2, ORDER],
        )  # fmt: skip
        below = _below(
            entries[second, TIME], entries[second, ORDER],
            entries[first, TIME], entries[first, ORDER],
        )  # fmt: skip
        smallest = second if below else first
        entries[i, TIME] = entries[smallest, TIME]
        entries[i, ORDER] = entries[smallest, ORDER]
        entries[i, PAYLOAD] = entries[smallest, PAYLOAD]
        i = smallest
        child = 4 * i + 1
    # The hole is at a leaf: the last entry moves up from there (push's sift-up).
    while i > 0:
        parent = (i - 1) >> 2
        pt = entries[parent, TIME]
        if pt < t or (pt == t and entries[parent, ORDER] < order):
            break
        entries[i, TIME] = pt
        entries[i, ORDER] = entries[parent, ORDER]
        entries[i, PAYLOAD] = entries[parent, PAYLOAD]
        i = parent
    entries[i, TIME] = t
    entries[i, ORDER] = order
    entries[i, PAYLOAD] = last
    return now, int(payload), size


@step
def push(queue: EventHeap, size: int, time: float, order: int, payload: int) -> int:
    """Add an event (sift it up from the end); return the new size.

    The array is bound once, before the loop: a push runs in branches (an event
    scheduled or not), and an attribute of the queue read in its loop there
    would count a reference on each pass.
    """
    entries = queue.entries
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        pt = entries[parent, TIME]
        if pt < time or (pt == time and entries[parent, ORDER] < order):
            break
        entries[i, TIME] = pt
        entries[i, ORDER] = entries[parent, ORDER]
        entries[i, PAYLOAD] = entries[parent, PAYLOAD]
        i = parent
    entries[i, TIME] = time
    entries[i, ORDER] = order
    entries[i, PAYLOAD] = payload
    return size + 1
