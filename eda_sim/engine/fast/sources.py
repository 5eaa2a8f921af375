"""External arrivals: the arrival counter and the next gap of a class (steps).

An ``ARRIVAL`` event is a class's source resuming (:func:`external_arrival`,
the loop's ``ARRIVAL`` branch): the arrival is counted (:func:`count_arrival`,
as :meth:`eda_sim.stats.ArrivalCounter.arrive`), the event's entry station
drawn, the next gap drawn and the event enters the system. A new arrival
process (a time-varying rate, bursts, a trace, a closed population) is a step
here that says when the class's next ``ARRIVAL`` is due.
"""

from __future__ import annotations

import math

import numpy as np

from eda_sim.engine.fast.draws import entry_station, next_value
from eda_sim.engine.fast.event_queue import push
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.kinds import ARRIVAL, KIND_BITS
from eda_sim.engine.fast.lifecycle import enter
from eda_sim.engine.fast.state import (
    ArrivalState,
    Counters,
    EventQueue,
    RouteTables,
    StreamState,
    TraceState,
)
from eda_sim.engine.fast.trace_replay import next_instant, replay_instant

__all__ = ["FAST_FLOOR_LIMIT", "FLOOR_MARGIN", "count_arrival", "external_arrival"]

# ``math.floor(x / w)`` is the exact floor of the quotient when ``x / w < FAST_FLOOR_LIMIT``
# and its fraction is more than ``FLOOR_MARGIN`` from 0 and 1: the division's rounding
# error, at most ``FAST_FLOOR_LIMIT · 2⁻⁵³ ≈ 1.1e-7``, cannot then cross an integer.
FAST_FLOOR_LIMIT = 1e9
FLOOR_MARGIN = 1e-6


@step
def count_arrival(arrivals: ArrivalState, k: int, now: float, hist_full: int) -> int:
    """``ArrivalCounter.arrive(now, gap)`` of class ``k``; return ``hist_full`` (1: grow it)."""
    counter = arrivals.counters[k]
    gap = counter.gap
    start = counter.start
    if now >= start:
        # int((now - start) // width), as Python computes it (an exact floor), but
        # without its fmod when the quotient is clearly not near an integer.
        ratio = (now - start) / counter.window
        floor = math.floor(ratio)
        if ratio < FAST_FLOOR_LIMIT and FLOOR_MARGIN < ratio - floor < 1.0 - FLOOR_MARGIN:
            window = int(floor)
        else:
            window = int((now - start) // counter.window)
        current = counter.current
        if window != current:  # close windows; `seen` keeps the dict's key order
            closed = counter.count
            if arrivals.histogram[k, closed] == 0:
                arrivals.seen[k, counter.distinct] = closed
                counter.distinct += 1
            arrivals.histogram[k, closed] += 1
            if window - current > 1:
                if arrivals.histogram[k, 0] == 0:
                    arrivals.seen[k, counter.distinct] = 0
                    counter.distinct += 1
                arrivals.histogram[k, 0] += window - current - 1
            counter.current = window
            counter.count = 0
        counter.count += 1
        if counter.kept < arrivals.gaps.shape[1] and now - gap >= start:
            arrivals.gaps[k, counter.kept] = gap
            counter.kept += 1
    # Outside the branch: this last use of `arrivals` must be on every path (see jit.py).
    # (A count that was already this high set `hist_full` at its own arrival.)
    if counter.count >= arrivals.histogram.shape[1] - 1:
        hist_full = 1
    return hist_full


@step
def external_arrival(
    arrivals: ArrivalState,
    trace: TraceState,
    streams: StreamState,
    routes: RouteTables,
    queue: EventQueue,
    events: np.ndarray,
    system: np.ndarray,
    free: np.ndarray,
    k: int,
    now: float,
    entry_row: int,
    counters: Counters,
) -> tuple[int, int, Counters]:
    """``ARRIVAL``: class ``k``'s source resumes; return the slot entering, its station, counters.

    As the SimPy engine's source: the arrival is counted (at the trace's instant
    for a replayed class), its entry station drawn (uniform row ``entry_row``),
    the class's next arrival scheduled (a renewal gap, or the trace's next
    instant), and the event enters the system in a free slot; its walk (an
    ``URGENT`` ``Initialize``) is the very next thing the loop runs.
    """
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    counted_at, gap = replay_instant(trace, k, now, arrivals.counters[k].gap)
    arrivals.counters[k].gap = gap
    hist_full = count_arrival(arrivals, k, counted_at, hist_full)
    u, refill = next_value(streams, entry_row, refill)
    to = entry_station(routes, k, u)
    due, at = next_instant(trace, k, now)  # (never due for a class without a trace)
    if not trace.replayed[k]:  # a renewal source: its next gap
        gap, refill = next_value(streams, k, refill)
        arrivals.counters[k].gap = gap
        due, at = True, now + gap
    if due:
        size = push(queue, size, at, seq, (k << KIND_BITS) + ARRIVAL)
        seq += 1
    n_free -= 1
    slot = free[n_free]
    enter(events, system, slot, k, now)
    _ = (arrivals, trace, streams, queue)  # their last use, on every path (jit.py)
    return int(slot), to, (seq, size, n_free, refill, hist_full, pool_n, rare_n)
