"""The fast engine's event set on a hold model: the calendar queue against the 4-ary heap.

The hold model (Jones 1986, "An empirical comparison of priority-queue and
event-set implementations", *Commun. ACM* 29(4)) holds the number of events
fixed: pop the earliest, push one an exponential time (mean 1) later. Both
structures run the same increments in one process, in rounds that alternate
which goes first, after a warm-up of ``10 n`` holds from ``n`` events at
exponential times; each pop's time is summed, and the sums must agree (the two
give the same pops, or the script says so and exits 1). The time is the
process's CPU time per pop + push (median of the rounds); the ratio is the
calendar's over the heap's, per round and as the median of those.

    python benchmarks/bench_event_queue.py                      # 5 ... 15,000 events
    python benchmarks/bench_event_queue.py --sizes 10,1500 --holds 1000000 --rounds 3

The calendar queue (``eda_sim/engine/fast/event_queue.py``) returns to Python to
resize, as in the engine's loop; those returns are timed with it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numba
import numpy as np

from eda_sim.engine.fast import event_heap
from eda_sim.engine.fast.event_queue import needs_python, pop_earliest, push
from eda_sim.engine.fast.queue_room import new_queue, serve
from eda_sim.engine.fast.state import EventQueue


@numba.njit(cache=False)
def _hold_heap(
    heap: event_heap.EventHeap, size: int, gaps: np.ndarray, seq: int
) -> tuple[int, float]:
    """Hold ``len(gaps)`` times on the heap; return the next order key and the pops' sum."""
    total = 0.0
    for k in range(gaps.shape[0]):
        if size + 2 + event_heap.ROOM > heap.entries.shape[0]:  # the loop's room check
            break
        now, _, size = event_heap.pop_earliest(heap, size)
        total += now
        size = event_heap.push(heap, size, now + gaps[k], seq, seq)
        seq += 1
    return seq, total


@numba.njit(cache=False)
def _hold_calendar(
    queue: EventQueue, size: int, gaps: np.ndarray, done: np.ndarray, sums: np.ndarray
) -> None:
    """Hold from ``done[0]`` on; stop early when the queue needs Python (``done`` says where)."""
    k, seq = done[0], done[1]
    total = sums[0]
    while k < gaps.shape[0] and not needs_python(queue, size, 0):
        now, _, size = pop_earliest(queue, size)
        total += now
        size = push(queue, size, now + gaps[k], seq, seq)
        seq += 1
        k += 1
    done[0], done[1] = k, seq
    sums[0] = total


class _Calendar:
    """A calendar queue driven from Python as the engine's driver drives it."""

    def __init__(self, times: np.ndarray) -> None:
        self.queue = new_queue(len(times) + 4)
        self.size = self.seq = 0
        for t in times.tolist():  # with the returns to resize, as the loop checks them
            if needs_python(self.queue, self.size, 0):
                self.queue = serve(self.queue, self.size, 0)
            self.size = _push_one(self.queue, self.size, t, self.seq)
            self.seq += 1

    def hold(self, gaps: np.ndarray) -> float:
        done = np.array([0, self.seq], dtype=np.int64)
        sums = np.zeros(1)
        while True:
            _hold_calendar(self.queue, self.size, gaps, done, sums)
            if done[0] == len(gaps):
                break
            self.queue = serve(self.queue, self.size, 0)
        self.seq = int(done[1])
        return float(sums[0])


@numba.njit(cache=False)
def _push_one(queue: EventQueue, size: int, t: float, seq: int) -> int:
    return push(queue, size, t, seq, seq)


def _heap(times: np.ndarray) -> tuple[event_heap.EventHeap, int]:
    entries = np.zeros((len(times) + event_heap.ROOM + 4, 3))
    entries[:, event_heap.TIME] = np.inf
    heap = event_heap.EventHeap(entries=entries)
    for seq, t in enumerate(times.tolist()):
        _push_heap(heap, seq, t)
    return heap, len(times)


@numba.njit(cache=False)
def _push_heap(heap: event_heap.EventHeap, seq: int, t: float) -> int:
    return event_heap.push(heap, seq, t, seq, seq)


def _measure(size: int, holds: int, rounds: int, seed: int) -> dict[str, list[float]]:
    """ns per hold of each structure, one value per round; exits 1 if their pops differ."""
    rng = np.random.default_rng([seed, size])
    times = rng.exponential(1.0, size)
    warm = rng.exponential(1.0, 10 * size)
    heap, heap_size = _heap(times)
    calendar = _Calendar(times)
    heap_seq, _ = _hold_heap(heap, heap_size, warm, size)
    calendar.hold(warm)
    timings: dict[str, list[float]] = {"heap": [], "calendar": []}
    for r in range(rounds):
        gaps = rng.exponential(1.0, holds)
        sums = {}
        for name in ("heap", "calendar") if r % 2 == 0 else ("calendar", "heap"):
            start = time.process_time()
            if name == "heap":
                heap_seq, sums[name] = _hold_heap(heap, heap_size, gaps, heap_seq)
            else:
                sums[name] = calendar.hold(gaps)
            timings[name].append((time.process_time() - start) / holds * 1e9)
        if sums["heap"] != sums["calendar"]:
            print(f"{size} events: the pops differ (sums {sums})", file=sys.stderr)
            raise SystemExit(1)
    return timings


def main(argv: list[str] | None = None) -> int:
    """Run the hold model at each size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,50,500,1500,15000")
    parser.add_argument("--holds", type=int, default=2_000_000, help="timed holds per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    _measure(5, 1000, 1, args.seed)  # compile both before timing
    print(f"hold model, {args.holds:,} holds x {args.rounds} rounds, CPU ns per pop + push")
    print(f"{'events':>8} {'heap':>8} {'calendar':>9} {'ratio':>6}  per-round ratios")
    for size in sizes:
        t = _measure(size, args.holds, args.rounds, args.seed)
        ratios = [c / h for c, h in zip(t["calendar"], t["heap"], strict=True)]
        per_round = " ".join(f"{x:.2f}" for x in ratios)
        heap, calendar = statistics.median(t["heap"]), statistics.median(t["calendar"])
        ratio = statistics.median(ratios)
        print(f"{size:>8,} {heap:>8.1f} {calendar:>9.1f} {ratio:>6.2f}  {per_round}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
