"""Reading random values from the stream buffers, and routing draws (steps).

The Python driver fills one buffer row per stream (:mod:`eda_sim.engine.fast.streams`)
with exactly the values the SimPy engine draws from that stream; the loop reads
them in order here. Reading the value at a row's refill point raises
``need_refill``: the loop then returns before its next event, and the reserve
beyond that point covers the other reads of the same event.

Routing draws turn a uniform into a station as :meth:`eda_sim.routing.Routing.draw_next`
and :meth:`~eda_sim.routing.Routing.draw_entry` do, through the sparse rows of
:attr:`~eda_sim.routing.Routing.draw_rows`: a bisection over the few stations of
one row, never a scan over all N.
"""

from __future__ import annotations

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.state import RouteTables, StreamState

__all__ = ["entry_station", "next_hop", "next_value"]


@step
def next_value(streams: StreamState, row: int, refill: int) -> tuple[float, int]:
    """The next value of stream ``row``, and ``refill`` (1 once the row needs refilling)."""
    value = streams.values[row, streams.pos[row]]
    streams.pos[row] += 1
    used_up = streams.pos[row] == streams.end[row]
    return value, 1 if used_up else refill


@step
def next_hop(routes: RouteTables, row: int, u: float) -> int:
    """The station after hop row ``row`` (``k·N + i``) that the uniform ``u`` picks, or -1."""
    low = routes.hop_start[row]
    stop = routes.hop_start[row + 1]
    high = stop
    while low < high:  # low: the number of cumulative values <= u (searchsorted, right)
        middle = (low + high) >> 1
        if routes.hop_cumulative[middle] <= u:
            low = middle + 1
        else:
            high = middle
    hop = routes.hop_targets[min(low, stop - 1)]  # the padding entry when the row is empty
    return hop if low < stop else -1


@step
def entry_station(routes: RouteTables, event_class: int, u: float) -> int:
    """The entry station of an external arrival that the uniform ``u`` picks."""
    low = routes.entry_start[event_class]
    last = routes.entry_start[event_class + 1] - 1
    high = last + 1
    while low < high:
        middle = (low + high) >> 1
        if routes.entry_cumulative[middle] <= u:
            low = middle + 1
        else:
            high = middle
    return int(routes.entry_targets[min(low, last)])
