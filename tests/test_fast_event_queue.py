"""The fast engine's event heap: pops in ``(time, order)`` order, as ``heapq`` gives them.

``eda_sim.engine.fast.event_queue`` is a 4-ary heap whose rows past the end hold
time ``inf`` (so that a node's last children need no bounds test). Its pops must
come out in key order whatever the pushes: the engines' identity rests on it.
These tests drive it with random pushes and pops (many equal times, so that the
order keys decide) against Python's ``heapq`` on the same keys, and check the
``inf`` rows past the end after every step.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest

pytest.importorskip("numba")

import numba

from eda_sim.engine.fast.event_queue import ROOM, TIME, pop_earliest, push
from eda_sim.engine.fast.state import EventQueue


@numba.njit(cache=False)
def _run(queue: EventQueue, steps: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Push (step 1) or pop (step 0) in turn; return each pop's (time, order, payload)."""
    popped = np.full((steps.shape[0], 3), -1.0)
    size, seq = 0, 0
    for k in range(steps.shape[0]):
        if steps[k] == 1 or size == 0:
            size = push(queue, size, times[k], seq, 8 * seq + 3)
            seq += 1
        else:
            now, payload, size = pop_earliest(queue, size)
            popped[k, 0], popped[k, 2] = now, payload
            popped[k, 1] = (payload - 3) // 8
    return popped


def _expected(steps: np.ndarray, times: np.ndarray) -> np.ndarray:
    heap: list[tuple[float, int]] = []
    popped = np.full((len(steps), 3), -1.0)
    seq = 0
    for k, (step, time) in enumerate(zip(steps.tolist(), times.tolist(), strict=True)):
        if step == 1 or not heap:
            heapq.heappush(heap, (time, seq))
            seq += 1
        else:
            time_, order = heapq.heappop(heap)
            popped[k] = (time_, order, 8 * order + 3)
    return popped


@pytest.mark.parametrize("distinct_times", [5, 1_000_000], ids=["many ties", "few ties"])
def test_pops_come_out_in_key_order_as_heapq_gives_them(distinct_times: int) -> None:
    rng = np.random.default_rng(distinct_times)
    count = 200_000
    # Grow to ~2,000 entries, then hold, then drain: every depth and the empty heap.
    steps = np.concatenate(
        [rng.random(count // 4) < 0.9, rng.random(count // 2) < 0.5, rng.random(count // 4) < 0.05]
    ).astype(np.int64)
    times = rng.integers(0, distinct_times, size=count) / 7.0
    queue = EventQueue(entries=np.zeros((count + ROOM + 1, 3)))
    queue.entries[:, TIME] = np.inf
    popped = _run(queue, steps, times)
    assert np.array_equal(popped, _expected(steps, times))
    pushes = np.count_nonzero(popped[:, 0] == -1.0)
    size = pushes - (len(steps) - pushes)
    assert np.all(np.isinf(queue.entries[max(size, 1) :, TIME]))  # the rows past the end
