"""The event queue on the Python side: a new one, the first events, room and resizes (no numba).

The loop returns ``GROW_HEAP`` when its calendar queue
(:mod:`~eda_sim.engine.fast.event_queue`) needs Python
(:func:`~eda_sim.engine.fast.event_queue.needs_python`): too little room for
one more event's pushes, a size past twice or half the number of buckets, or
too much work per operation for its width. :func:`serve` then grows the
arrays if needed and resizes the calendar (a compiled function, loaded on
first use like the loop itself).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.state import MIN_BUCKETS, QUEUE_CURSOR, QUEUE_SCALE, EventQueue

__all__ = ["bucket_count", "first_events", "new_queue", "serve"]

_MASK, _FREE, _GROW_AT, _SHRINK_AT, _WORK, _WORK_LIMIT = (
    QUEUE_CURSOR.index(name)
    for name in ("mask", "free", "grow_at", "shrink_at", "work", "work_limit")
)
#: The cost sum's limit after a resize: per bucket, and at least.
_LIMIT_PER_BUCKET, _LEAST_LIMIT = 16, 1024
#: The largest cost limit, however often the width was set again without a change of size.
_MOST_LIMIT = 1 << 40


def _power_of_two(n: int) -> int:
    """The smallest power of 2 at least ``n`` (and at least 1)."""
    return 1 << max(n - 1, 0).bit_length()


def bucket_count(size: int) -> int:
    """The buckets for ``size`` events: the power of 2 at least ``size``, at least 8."""
    return max(MIN_BUCKETS, _power_of_two(size))


def new_queue(rows: int) -> EventQueue:
    """An empty queue with ``rows`` rows (row 0 and ``rows - 1`` nodes, all free)."""
    rows = max(rows, 4)
    entries = np.zeros((rows, 3))
    entries[:, 0] = np.inf
    links = np.full(rows + _power_of_two(rows) + 1, -1, dtype=np.int64)
    links[1 : rows - 1] = np.arange(2, rows)  # the free list: 1, 2, ..., rows - 1
    cursor = np.zeros(len(QUEUE_CURSOR), dtype=np.int64)
    cursor[_MASK] = MIN_BUCKETS - 1
    cursor[_FREE] = 1
    cursor[_GROW_AT], cursor[_SHRINK_AT] = 2 * MIN_BUCKETS, -1
    cursor[_WORK_LIMIT] = _LEAST_LIMIT
    scale = np.ones(len(QUEUE_SCALE))  # a width of 1 until the first resize
    return EventQueue(entries=entries, links=links, cursor=cursor, scale=scale)


def first_events(queue: EventQueue, times: list[float], payloads: list[int]) -> int:
    """Push the first events, order keys 0, 1, ... in turn (an empty queue); return the size."""
    from eda_sim.engine.fast.event_queue import push_all  # compiled: numba on first use

    return int(push_all(queue, np.array(times, dtype=np.float64), np.array(payloads, np.int64)))


def _grown(queue: EventQueue, rows: int) -> EventQueue:
    """The queue with ``rows`` rows: the same events, the new nodes added to the free list."""
    old_rows = queue.entries.shape[0]
    entries = np.zeros((rows, 3))
    entries[:, 0] = np.inf
    entries[:old_rows] = queue.entries
    links = np.full(rows + _power_of_two(rows) + 1, -1, dtype=np.int64)
    links[:old_rows] = queue.links[:old_rows]
    heads = queue.links[old_rows:-1]  # the buckets' first nodes (not the spare last slot)
    links[rows : rows + len(heads)] = heads
    links[old_rows : rows - 1] = np.arange(old_rows + 1, rows)
    links[rows - 1] = queue.cursor[_FREE]
    queue.cursor[_FREE] = old_rows
    return EventQueue(entries=entries, links=links, cursor=queue.cursor, scale=queue.scale)


def serve(queue: EventQueue, size: int, reserve: int) -> EventQueue:
    """What the loop's ``GROW_HEAP`` asks: room for one more event's pushes, a resize.

    The number of buckets follows the size (:func:`bucket_count`) when it passed
    a threshold; when only the cost sum did, the width is set again with the same
    buckets and the next limit doubled, so that events that no width spreads
    (many at one time) cost a resize ever more rarely.
    """
    from eda_sim.engine.fast.event_queue import resize  # compiled: numba on first use

    rows = queue.entries.shape[0]
    if size + reserve + 2 > rows:
        while size + reserve + 2 > rows:
            rows *= 2
        queue = _grown(queue, rows)
    cursor = queue.cursor
    buckets = int(cursor[_MASK]) + 1
    limit = max(_LEAST_LIMIT, _LIMIT_PER_BUCKET * buckets)
    if size > cursor[_GROW_AT] or size < cursor[_SHRINK_AT]:
        buckets = bucket_count(size)
        limit = max(_LEAST_LIMIT, _LIMIT_PER_BUCKET * buckets)
    elif int(cursor[_WORK]) > cursor[_WORK_LIMIT]:
        limit = min(_MOST_LIMIT, 2 * int(cursor[_WORK_LIMIT]))
    resize(queue, size, buckets, limit)
    return queue
