"""The fast engine's event set: a calendar queue keyed by ``(time, order)`` (steps).

SimPy orders its queue by ``(time, priority, event id)``; the loop's order key is
one counter (``control.seq``) taken in the order SimPy would schedule, so events
at equal times fire in SimPy's order. Keys are unique, and every pop returns the
smallest key present: the order of pops is the one a heap gives
(``tests/test_fast_event_queue.py`` checks it against ``heapq`` and against the
4-ary heap of :mod:`~eda_sim.engine.fast.event_heap`, which the loop used before).

A calendar queue (Brown 1988, "Calendar queues: a fast O(1) priority queue
implementation for the simulation event set problem", *Commun. ACM* 31(10),
1220–1227) files each event under its *day* ``floor(time / width)`` in bucket
``day mod buckets``, each bucket a list sorted by key; a pop looks at the
bucket of the current day and takes its first event if that event is of the
current day, else goes on to the next day. With the width near three times the
mean gap between the earliest events and about one bucket per event (Brown's
rules, kept here), a push walks past one or two entries and a pop looks at one
or two buckets whatever the number of events: at 1,000 stations the 4-ary heap
it replaces went five levels deep.

Exactness: a day is a monotone function of the time (one product and a floor,
the same for every event), so an event of an earlier day has a smaller time; no
event is filed under a day before the cursor's (a push before it moves the
cursor back), so the first event of the current day's bucket, when of the
current day, has the smallest key of all. Days are capped at 2**52, where they
are still exact integers (the cap only crowds huge times into one day).

The layout (:class:`~eda_sim.engine.fast.state.EventQueue`): one row of
``entries`` per node (time, order key, payload); the earliest event is kept out
of the buckets, as the *front* (``cursor[FRONT]``), so that the loop reads the
next time (:func:`earliest_time`) without a search, as it read a heap's root,
and row 0, of time ``inf``, is the front of an empty queue. ``links`` holds
each node's successor (in its bucket, or in the free list), then the buckets'
first nodes, then one spare slot. Brown resizes when the number of events passes twice or half the
number of buckets; besides, as in later calendar queues that watch their own
cost (Tan & Thng 2000, "SNOOPy calendar queue", *Proc. Winter Simulation
Conference*, 487–495), the steps add up the buckets a pop looked at and the
entries a push walked past beyond :data:`ALLOWANCE` per operation (a one-sided
cumulative sum, never below 0), and a sum past ``WORK_LIMIT`` asks for a new
width too. The loop returns to Python for either (``needs_python``, the
``GROW_HEAP`` return), where :func:`~eda_sim.engine.fast.queue_room.serve`
grows the arrays and resizes the calendar; no step allocates.

Measured on a hold model (``benchmarks/bench_event_queue.py``: pop the earliest,
push one an exponential time later; shared machine, CPU ns per pop and push,
heap / calendar): 24 / 28 at 5 events, 36 / 31 at 10, 51 / 35 at 50, 86 / 37
at 1,500 (about the number in flight at 1,000 stations).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import compiled, step
from eda_sim.engine.fast.state import MIN_BUCKETS, QUEUE_CURSOR, QUEUE_SCALE, EventQueue

__all__ = [
    "ALLOWANCE",
    "CURRENT",
    "FREE",
    "FRONT",
    "GAPS_PER_DAY",
    "GROW_AT",
    "INV_WIDTH",
    "MASK",
    "MAX_DAY",
    "ORDER",
    "PAYLOAD",
    "SAMPLE",
    "SHRINK_AT",
    "TIME",
    "WIDTH",
    "WORK",
    "WORK_LIMIT",
    "day_of",
    "earliest_payload",
    "earliest_time",
    "link_node",
    "needs_python",
    "pop_earliest",
    "push",
    "push_all",
    "resize",
]

#: Columns of an entry: its time, its order key, its payload (integers below 2**53, exact).
TIME, ORDER, PAYLOAD = 0, 1, 2
#: Fields of ``queue.cursor`` (:data:`~eda_sim.engine.fast.state.QUEUE_CURSOR`).
CURRENT, MASK, FREE, GROW_AT, SHRINK_AT, WORK, WORK_LIMIT, FRONT = range(len(QUEUE_CURSOR))
#: Fields of ``queue.scale``: 1 / width (a day is ``floor(time * INV_WIDTH)``), the width.
INV_WIDTH, WIDTH = range(len(QUEUE_SCALE))
#: The last day: days stay exact integers in a double.
MAX_DAY = 2.0**52
#: Buckets looked at or entries walked past per operation that cost nothing in the sum.
ALLOWANCE = 3
#: Brown's width: :data:`GAPS_PER_DAY` times the mean gap between the :data:`SAMPLE` earliest
#: events (gaps over twice the mean left out); never fewer than ``MIN_BUCKETS`` buckets.
SAMPLE, GAPS_PER_DAY = 25, 3.0


@step
def earliest_time(queue: EventQueue) -> float:
    """The time of the earliest event (``inf`` when the queue is empty)."""
    return float(queue.entries[queue.cursor[FRONT], TIME])


@step
def earliest_payload(queue: EventQueue) -> float:
    """The payload of the earliest event (row 0's, stale, when the queue is empty)."""
    return float(queue.entries[queue.cursor[FRONT], PAYLOAD])


@step
def day_of(time: float, inv_width: float) -> int:
    """The day of ``time``: ``floor(time / width)``, at most :data:`MAX_DAY` (monotone in time)."""
    return int(min(time * inv_width, MAX_DAY))


@step
def _below(time: float, order: float, other_time: float, other_order: float) -> int:
    """1 if the key ``(time, order)`` is below ``(other_time, other_order)``, else 0."""
    return int(time < other_time) if time != other_time else int(order < other_order)


@step
def link_node(
    entries: np.ndarray, links: np.ndarray, mask: int, inv_width: float, node: int
) -> tuple[int, int]:
    """File ``node`` (its row written) in its day's bucket, in key order.

    Returns its day and the entries walked past.
    """
    time, order = entries[node, TIME], entries[node, ORDER]
    day = day_of(time, inv_width)
    before = entries.shape[0] + (day & mask)  # the bucket's first-node slot in links
    after = links[before]
    walked = 0
    while after >= 0 and _below(entries[after, TIME], entries[after, ORDER], time, order):
        before = after
        after = links[after]
        walked += 1
    links[node] = after
    links[before] = node
    return day, walked


@step
def push(queue: EventQueue, size: int, time: float, order: int, payload: int) -> int:
    """Add an event; return the new size.

    The event takes a free node; if it is the earliest, it becomes the front and
    the front it displaces is filed in the calendar instead (in its day's bucket,
    in key order). When the queue was empty, the displaced "front" is row 0 (time
    ``inf``), filed in the spare last slot of ``links`` instead of a bucket: the
    same steps on every path, no branch around them (a step called in a branch
    would count references, see ``jit.py``).
    """
    entries, links, cursor = queue.entries, queue.links, queue.cursor
    inv_width = queue.scale[INV_WIDTH]
    node = cursor[FREE]
    cursor[FREE] = links[node]
    front = cursor[FRONT]
    front_time, front_order = entries[front, TIME], entries[front, ORDER]
    first = _below(time, order, front_time, front_order)
    cursor[FRONT] = node if first else front
    filed = front if first else node
    filed_time = front_time if first else time
    filed_order = front_order if first else order
    day = day_of(filed_time, inv_width)
    spare = links.shape[0] - 1
    links[spare] = -1
    before = entries.shape[0] + (day & cursor[MASK]) if size > 0 else spare
    after = links[before]
    walked = 0
    while after >= 0 and _below(
        entries[after, TIME], entries[after, ORDER], filed_time, filed_order
    ):  # fmt: skip
        before = after
        after = links[after]
        walked += 1
    links[filed] = after
    links[before] = filed
    cursor[CURRENT] = day if size <= 1 else min(cursor[CURRENT], day)
    cursor[WORK] = max(0, cursor[WORK] + walked - ALLOWANCE)
    entries[node, TIME] = time  # (written last: every array's last use after the loop)
    entries[node, ORDER] = order
    entries[node, PAYLOAD] = payload
    return size + 1


@step
def pop_earliest(queue: EventQueue, size: int) -> tuple[float, int, int]:
    """Remove the earliest event; return its time, its payload and the new size.

    Its node is freed, and the calendar's earliest node becomes the front: the
    first of the current day's bucket if of the current day, else the next
    day's, and so on; a whole year of buckets without one (the events lie far
    ahead) is left by jumping to the earliest day at once (Brown's direct
    search). With nothing left, row 0 (time ``inf``) is the front.
    """
    entries, links, cursor = queue.entries, queue.links, queue.cursor
    inv_width = queue.scale[INV_WIDTH]
    front = cursor[FRONT]
    links[front] = cursor[FREE]
    cursor[FREE] = front
    size -= 1
    heads, mask = entries.shape[0], cursor[MASK]
    day = cursor[CURRENT]
    node = links[heads + (day & mask)]
    looked = 0
    while size > 0 and (node < 0 or day_of(entries[node, TIME], inv_width) > day):
        day += 1
        looked += 1
        if (looked & mask) == 0:  # a year without one: the direct search
            earliest = MAX_DAY
            for bucket in range(mask + 1):
                first = links[heads + bucket]
                if first >= 0:
                    earliest = min(earliest, entries[first, TIME] * inv_width)
            day = int(min(earliest, MAX_DAY))
            looked += mask
        node = links[heads + (day & mask)]
    node = node if size > 0 else 0
    bucket = heads + (day & mask) if size > 0 else links.shape[0] - 1  # (nothing: the spare)
    links[bucket] = links[node]
    cursor[FRONT] = node
    cursor[CURRENT] = day
    cursor[WORK] = max(0, cursor[WORK] + looked - ALLOWANCE)
    now = entries[front, TIME]  # (read last: every array's last use after the loop)
    payload = entries[front, PAYLOAD]
    return now, int(payload), size


@step
def needs_python(queue: EventQueue, size: int, reserve: int) -> bool:
    """Whether the queue needs Python before the next event: room, or a resize.

    One event pushes at most ``reserve + 1`` events (see ``kernel._status``).
    """
    cursor = queue.cursor
    grow_at, shrink_at = cursor[GROW_AT], cursor[SHRINK_AT]
    work, work_limit = cursor[WORK], cursor[WORK_LIMIT]
    full = size + reserve + 2 > queue.entries.shape[0]
    # (| rather than or: no branch, so that the cursor's last use is on every path)
    return bool(full | (size > grow_at) | (size < shrink_at) | (work > work_limit))


@compiled
def push_all(queue: EventQueue, times: np.ndarray, payloads: np.ndarray) -> int:
    """Push events into an empty queue, order keys 0, 1, ... in turn; return the size."""
    size = 0
    for k in range(times.shape[0]):
        size = push(queue, size, times[k], k, payloads[k])
    return size


@compiled
def _width(entries: np.ndarray, front_time: float, nodes: np.ndarray, width: float) -> float:
    """Brown's width from the earliest events (the front and ``nodes``), or ``width``."""
    times = np.empty(nodes.shape[0] + 1)
    times[0] = front_time
    for k in range(nodes.shape[0]):
        times[k + 1] = entries[nodes[k], TIME]
    sampled = min(SAMPLE, times.shape[0])
    if sampled < 2:
        return width
    gaps = np.diff(np.sort(np.partition(times, sampled - 1)[:sampled]))
    mean = gaps.mean()
    kept = gaps[gaps <= 2.0 * mean]
    separation = kept.mean() if kept.shape[0] > 0 else mean
    day = GAPS_PER_DAY * separation
    return day if 0.0 < day < np.inf and 1.0 / day < np.inf else width


@compiled
def resize(queue: EventQueue, size: int, buckets: int, work_limit: int) -> None:
    """Refile the calendar's events in ``buckets`` buckets (a power of 2) of a new width.

    The width follows Brown's rule (:data:`SAMPLE`, :data:`GAPS_PER_DAY`); the
    loop returns again when the size passes ``2 * buckets`` or ``buckets / 2``, or
    the cost sum passes ``work_limit``. ``links`` must hold ``buckets`` first-node slots.
    """
    entries, links, cursor, scale = queue.entries, queue.links, queue.cursor, queue.scale
    heads = entries.shape[0]
    nodes = np.empty(max(size - 1, 0), np.int64)
    filed = 0
    for bucket in range(cursor[MASK] + 1):
        node = links[heads + bucket]
        while node >= 0:
            nodes[filed] = node
            filed += 1
            node = links[node]
    width = _width(entries, entries[cursor[FRONT], TIME], nodes[:filed], scale[WIDTH])
    scale[WIDTH], scale[INV_WIDTH] = width, 1.0 / width
    links[heads : heads + buckets] = -1
    current = int(MAX_DAY)
    for k in range(filed):
        day, _ = link_node(entries, links, buckets - 1, scale[INV_WIDTH], nodes[k])
        current = min(current, day)
    cursor[CURRENT] = current if filed > 0 else 0
    cursor[MASK] = buckets - 1
    cursor[GROW_AT] = 2 * buckets
    cursor[SHRINK_AT] = buckets // 2 if buckets > MIN_BUCKETS else -1
    cursor[WORK], cursor[WORK_LIMIT] = 0, work_limit
