"""Reading random values from the stream buffers, and routing draws (steps).

The Python driver fills one buffer row per stream (:mod:`eda_sim.engine.fast.streams`)
with exactly the values the SimPy engine draws from that stream; the loop reads
them in order here. Reading the last value of a row raises ``need_refill``: the
loop then returns before its next event, so that no event reads an empty row.

Routing draws turn a uniform into a station as :meth:`eda_sim.routing.Routing.draw_next`
and :meth:`~eda_sim.routing.Routing.draw_entry` do (:attr:`~eda_sim.routing.Routing.draw_tables`).
"""

from __future__ import annotations

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.state import RouteTables, StreamState

__all__ = ["entry_station", "next_hop", "next_value"]


@step
def next_value(streams: StreamState, row: int, refill: int) -> tuple[float, int]:
    """The next value of stream ``row``, and ``refill`` (1 once the row is used up)."""
    value = streams.values[row, streams.pos[row]]
    streams.pos[row] += 1
    used_up = streams.pos[row] == streams.end[row]
    return value, 1 if used_up else refill


@step
def next_hop(routes: RouteTables, event_class: int, station: int, u: float) -> int:
    """The station after ``station`` that the uniform ``u`` picks, or -1 (leave)."""
    n_stations = routes.order.shape[1]
    p = 0  # the number of cumulative entries <= u
    while p < n_stations and routes.cumulative[event_class, station, p] <= u:
        p += 1
    hop = routes.order[event_class, min(p, n_stations - 1)]
    return hop if p < n_stations else -1


@step
def entry_station(routes: RouteTables, event_class: int, u: float) -> int:
    """The entry station of an external arrival that the uniform ``u`` picks."""
    n_stations = routes.order.shape[1]
    p = 0
    while p < n_stations and routes.cumulative[event_class, n_stations, p] <= u:
        p += 1
    return int(routes.order[event_class, min(p, routes.last_entry[event_class])])
