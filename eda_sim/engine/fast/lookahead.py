"""The next event's state, asked for while the current event runs (steps; hints only).

At a thousand stations the state one visit touches is spread over hundreds of
kilobytes (the event's slot record, its station's monitor, servers and line,
its routing row and entries, the read position and current cache line of its
random stream), so most of its reads miss the first-level cache, and each
waits for the one before it (the slot gives the station, the station the
row, the row the entries). The event that runs next is known before it runs:
the queue's earliest. These steps ask the processor for its state early
(:mod:`eda_sim.engine.fast.prefetching`: hints that change no value, so the
sample paths are the same), in stages, so that each stage's addresses come
from lines the stage before asked for:

* :func:`fetch_slot`, right after a pop: the slot record of the event now
  earliest (it is next unless the current event schedules an earlier one);
* :func:`fetch_station`, at the end of the current event (nothing more is
  scheduled before the next pop, so the earliest event *is* the next one): for
  a service completion, its station's monitor, servers and line (and the
  first event in that line, who gets the server, and the current line of that
  station's service times for the event's class), its routing row, its first
  entries, and its stream's read position and current line of uniforms;
* :func:`fetch_arrival`, once an event's next station is drawn: that station's
  capacity, monitor, servers and line, and its current line of service times,
  which the arrival reads after the departure from the station left.

Other kinds (an external arrival reads its class's rows, read at every
arrival; ticks and wake-ups are rare) ask for station 0's lines: nothing is
read at a stale slot's station. The loop calls them only at networks of
:data:`FROM_STATIONS` or more, where the state outgrows the caches; below, the
hints and the reads that compute them only cost (measured: ``docs/performance.md``).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.event_queue import earliest_payload
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.kinds import KIND_BITS, SERVICE_END
from eda_sim.engine.fast.prefetching import prefetch, prefetch_record
from eda_sim.engine.fast.state import EventQueue, RouteTables, ServerState, StreamState

__all__ = ["FROM_STATIONS", "fetch_arrival", "fetch_slot", "fetch_station"]

#: Stations from which the loop fetches ahead (at 300 it neither gains nor loses).
FROM_STATIONS = 512


@step
def _earliest_slot(queue: EventQueue, events: np.ndarray) -> tuple[int, bool]:
    """The earliest event's index (kept inside the event pool), and whether its service ends."""
    payload = int(earliest_payload(queue))
    return min(payload >> KIND_BITS, events.shape[0] - 1), (payload & 7) == SERVICE_END


@step
def fetch_slot(queue: EventQueue, events: np.ndarray) -> None:
    """Ask for the slot record of the earliest event (an index past the pool's end: its last)."""
    slot, _ = _earliest_slot(queue, events)
    prefetch_record(events, slot)


@step
def fetch_station(
    queue: EventQueue,
    events: np.ndarray,
    servers: ServerState,
    monitors: np.ndarray,
    routes: RouteTables,
    streams: StreamState,
    hop_rows: int,
) -> None:
    """Ask for what the earliest event's completion reads first (``hop_rows``: uniforms' row 0)."""
    slot, ends = _earliest_slot(queue, events)
    station = events[slot].station if ends else 0
    row = events[slot].event_class * monitors.shape[0] + station if ends else 0
    uniforms = hop_rows + row
    prefetch_record(monitors, station)
    prefetch_record(servers.servers, station)
    prefetch(servers.lines, station, 0)
    prefetch_record(routes.rows, row)
    prefetch_record(streams.cursor, uniforms)
    prefetch(streams.values, uniforms, streams.cursor[uniforms].pos)
    prefetch_record(events, servers.lines[station, 0].head)
    prefetch_record(routes.hops, routes.rows[row].start)
    services = servers.levels.shape[0] + row  # the line head's, if of the same class
    prefetch(streams.values, services, streams.cursor[services].pos)


@step
def fetch_arrival(
    servers: ServerState,
    capacity: np.ndarray,
    monitors: np.ndarray,
    streams: StreamState,
    to: int,
    k: int,
) -> None:
    """Ask for what an arrival of class ``k`` at ``to`` reads (-1: none), before the departure."""
    station = max(to, 0)
    row = servers.levels.shape[0] + k * monitors.shape[0] + station  # its service times
    prefetch_record(capacity, station)
    prefetch_record(monitors, station)
    prefetch_record(servers.servers, station)
    prefetch(servers.lines, station, 0)
    prefetch_record(streams.cursor, row)
    prefetch(streams.values, row, streams.cursor[row].pos)
