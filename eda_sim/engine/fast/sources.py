"""External arrivals: the arrival counter and the next gap of a class (steps).

An ``ARRIVAL`` event is a class's source resuming: the arrival is counted
(:func:`count_arrival`, as :meth:`eda_sim.stats.ArrivalCounter.arrive`), the
event's entry station drawn and the next gap drawn (in the loop). A new arrival
process (a time-varying rate, bursts, a trace, a closed population) is a step
here that says when the class's next ``ARRIVAL`` is due.
"""

from __future__ import annotations

import math

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.state import ArrivalState

__all__ = ["FAST_FLOOR_LIMIT", "FLOOR_MARGIN", "count_arrival"]

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
