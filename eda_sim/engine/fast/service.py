"""Start of service: an event takes a server and its service end is scheduled (step).

Hook point: :func:`start_service`, when an event gets a server (at its arrival
at a station with a free server, or when a departure hands one over). The
service time comes from the stream of the event's class at its station, row
``K + k·N + i`` of the buffers (:mod:`eda_sim.engine.fast.streams`).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.draws import next_value
from eda_sim.engine.fast.event_queue import push
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.kinds import KIND_BITS, SERVICE_END
from eda_sim.engine.fast.state import EventQueue, StreamState

__all__ = ["service_row", "start_service"]


@step
def service_row(n_classes: int, n_stations: int, event_class: int, station: int) -> int:
    """The buffer row of the service times of ``event_class`` at ``station``."""
    return n_classes + event_class * n_stations + station


@step
def start_service(
    events: np.ndarray,
    streams: StreamState,
    queue: EventQueue,
    slot: int,
    now: float,
    row: int,
    seq: int,
    size: int,
    refill: int,
) -> tuple[int, int, int]:
    """The event in ``slot`` starts service at ``now``; return ``seq``, ``size``, ``refill``.

    Never reads an empty buffer: the loop returned before this event if one was
    empty, and the two services one event can start (an arrival at a free
    server, then the line's head at the station just left) never share a
    stream: a free server at the station just left means no one was waiting there.
    """
    events[slot].started = now
    service, refill = next_value(streams, row, refill)
    size = push(queue, size, now + service, seq, (slot << KIND_BITS) + SERVICE_END)
    return seq + 1, size, refill
