"""The fast engine's event set pops in ``(time, order)`` order, as ``heapq`` gives them.

``eda_sim.engine.fast.event_queue`` is a calendar queue (the loop's), and
``eda_sim.engine.fast.event_heap`` the 4-ary heap it replaced (kept as its
yardstick). Their pops must come out in key order whatever the pushes: the
engines' identity rests on it. These tests drive both with random pushes and
pops against Python's ``heapq`` on the same keys: many equal times (so that the
order keys decide), bursts at one instant, the number of events grown and
shrunk a hundredfold, the density of events changed a thousandfold, and events
far ahead of the rest. The calendar queue is driven as the loop drives it: a
compiled loop that returns to Python when ``needs_python`` says so, where
``queue_room.serve`` grows and resizes it.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest

pytest.importorskip("numba")

import numba

from eda_sim.engine.fast import event_heap
from eda_sim.engine.fast.event_queue import (
    FREE,
    FRONT,
    MASK,
    WORK,
    WORK_LIMIT,
    needs_python,
    pop_earliest,
    push,
)
from eda_sim.engine.fast.queue_room import new_queue, serve
from eda_sim.engine.fast.state import EventQueue

#: Operation codes: pop the earliest; push at ``values[k]``; push ``values[k]`` after the last pop.
POP, AT, AFTER = 0, 1, 2


@numba.njit(cache=False)
def _run_calendar(
    queue: EventQueue,
    codes: np.ndarray,
    values: np.ndarray,
    popped: np.ndarray,
    counters: np.ndarray,
    clock: np.ndarray,
) -> bool:
    """Run from ``counters[0]`` on; False when done, True when the queue needs Python first."""
    k, size, seq = counters[0], counters[1], counters[2]
    now = clock[0]
    while k < codes.shape[0]:
        if needs_python(queue, size, 0):
            break
        if codes[k] == POP and size > 0:
            now, payload, size = pop_earliest(queue, size)
            popped[k, 0], popped[k, 1] = now, payload
        else:
            time = values[k] if codes[k] == AT else now + values[k]
            size = push(queue, size, time, seq, 8 * seq + 3)
            seq += 1
        k += 1
    counters[0], counters[1], counters[2] = k, size, seq
    clock[0] = now
    return k < codes.shape[0]


@numba.njit(cache=False)
def _run_heap(
    heap: event_heap.EventHeap, codes: np.ndarray, values: np.ndarray, popped: np.ndarray
) -> int:
    """The same operations on the heap (room enough for all); return the final size."""
    size, seq, now = 0, 0, 0.0
    for k in range(codes.shape[0]):
        if codes[k] == POP and size > 0:
            now, payload, size = event_heap.pop_earliest(heap, size)
            popped[k, 0], popped[k, 1] = now, payload
        else:
            time = values[k] if codes[k] == AT else now + values[k]
            size = event_heap.push(heap, size, time, seq, 8 * seq + 3)
            seq += 1
    return size


def _expected(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    heap: list[tuple[float, int]] = []
    popped = np.full((len(codes), 2), -1.0)
    seq, now = 0, 0.0
    for k, (code, value) in enumerate(zip(codes.tolist(), values.tolist(), strict=True)):
        if code == POP and heap:
            now, order = heapq.heappop(heap)
            popped[k] = (now, 8 * order + 3)
        else:
            heapq.heappush(heap, (value if code == AT else now + value, seq))
            seq += 1
    return popped


def _calendar(codes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, EventQueue, int, int]:
    """The calendar's pops, the queue at the end, its size and the resizes the cost sum asked."""
    queue = new_queue(8)
    popped = np.full((len(codes), 2), -1.0)
    counters = np.zeros(3, dtype=np.int64)
    clock = np.zeros(1)
    by_cost = 0
    while _run_calendar(queue, codes, values, popped, counters, clock):
        by_cost += int(queue.cursor[WORK] > queue.cursor[WORK_LIMIT])
        queue = serve(queue, int(counters[1]), 0)
    return popped, queue, int(counters[1]), by_cost


def _check_calendar_links(queue: EventQueue, size: int) -> None:
    """Every event is the front or in exactly one bucket, in key order; the rest are free."""
    rows = queue.entries.shape[0]
    links = queue.links.tolist()
    filed = []
    for bucket in range(int(queue.cursor[MASK]) + 1):
        node = links[rows + bucket]
        keys = []
        while node >= 0:
            filed.append(node)
            keys.append((queue.entries[node, 0], queue.entries[node, 1]))
            node = links[node]
        assert keys == sorted(keys)
    free = []
    node = int(queue.cursor[FREE])
    while node >= 0:
        free.append(node)
        node = links[node]
    front = [int(queue.cursor[FRONT])] if size > 0 else []
    assert sorted(filed + free + front) == list(range(1, rows))
    assert len(filed) == max(size - 1, 0)


def _grow_hold_drain(rng: np.random.Generator, count: int, distinct_times: int) -> tuple:
    """Grow to ~count/5 entries, hold, drain (absolute times with ties): every size and empty."""
    codes = np.concatenate(
        [rng.random(count // 4) < 0.9, rng.random(count // 2) < 0.5, rng.random(count // 4) < 0.05]
    )
    codes = np.where(codes, AT, POP).astype(np.int64)
    return codes, rng.integers(0, distinct_times, size=count) / 7.0


def _hold_with_bursts(rng: np.random.Generator, count: int) -> tuple:
    """The engine's pattern: pop one, push a few after it; zero delays and bursts at one instant,
    the number of events grown and shrunk by 100x, the density changed by 1000x."""
    phases = ((20, 1.0), (2_000, 1.0), (2_000, 1e-3), (20, 1e-3), (2_000, 10.0))
    codes_parts, value_parts = [], []
    size = 0
    per_phase = count // len(phases)
    for events, scale in phases:
        codes = np.full(per_phase, POP, dtype=np.int64)
        values = rng.exponential(scale, per_phase)
        for k in range(per_phase):
            push_now = size < events if k < per_phase // 2 else rng.random() < 0.5
            if push_now or size == 0:
                codes[k] = AFTER
                size += 1
            else:
                size -= 1
        zero = rng.random(per_phase) < 0.2  # at the very instant: only the order keys decide
        values[zero] = 0.0
        burst = rng.integers(0, per_phase - 60)
        values[burst : burst + 50] = 0.5 * scale  # 50 pushes after one delay: one instant if no pop
        codes_parts.append(codes)
        value_parts.append(values)
    return np.concatenate(codes_parts), np.concatenate(value_parts)


def _far_ahead(rng: np.random.Generator, count: int) -> tuple:
    """A few events a billion units ahead of the rest (a year of empty buckets), equal gaps."""
    codes = np.where(rng.random(count) < 0.5, AFTER, POP).astype(np.int64)
    codes[:100] = AFTER
    values = np.where(rng.random(count) < 0.001, 1e9, 1.0)
    return codes, values


@pytest.mark.parametrize(
    "workload",
    ["many ties", "few ties", "hold with bursts", "far ahead"],
)
def test_pops_come_out_in_key_order_as_heapq_gives_them(workload: str) -> None:
    rng = np.random.default_rng(list(workload.encode()))
    count = 200_000
    if workload == "many ties":
        codes, values = _grow_hold_drain(rng, count, 5)
    elif workload == "few ties":
        codes, values = _grow_hold_drain(rng, count, 1_000_000)
    elif workload == "hold with bursts":
        codes, values = _hold_with_bursts(rng, count)
    else:
        codes, values = _far_ahead(rng, count)
    expected = _expected(codes, values)
    popped, queue, size, by_cost = _calendar(codes, values)
    assert np.array_equal(popped, expected)
    _check_calendar_links(queue, size)
    if workload == "hold with bursts":  # the density changed: the cost sum asked a new width
        assert by_cost > 0
    entries = np.zeros((count + event_heap.ROOM + 1, 3))
    entries[:, event_heap.TIME] = np.inf
    heap = event_heap.EventHeap(entries=entries)
    heap_popped = np.full((count, 2), -1.0)
    heap_size = _run_heap(heap, codes, values, heap_popped)
    assert np.array_equal(heap_popped, expected)
    assert heap_size == size
    assert np.all(np.isinf(heap.entries[max(size, 1) :, event_heap.TIME]))  # the rows past the end
