"""The fast engine's random streams: buffers filled in Python, read by the loop (no numba).

The same streams as the SimPy engine's (:mod:`eda_sim.engine.simpy.streams`:
same keys, same batches of :data:`~eda_sim.rng.DEFAULT_BATCH_SIZE`, consumed in
the same order), so both engines draw the same numbers.

Rows (``R = K + K·N`` for ``K`` classes and ``N`` stations): gaps of class
``k`` at row ``k`` and the uniforms of its entries at ``R + k``; service of
class ``k`` at station ``i`` at row ``K + k·N + i`` and the uniforms of its next
hops at ``R + K + k·N + i``. A station the class never reaches has no stream
(as there). Rows ``[0, R)`` hold what the SimPy engine draws from a
distribution; rows ``[R, 2R)`` the uniforms its routing draws invert, which the
loop inverts itself (:mod:`eda_sim.engine.fast.draws`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from eda_sim.engine.fast.state import StreamState
from eda_sim.rng import DEFAULT_BATCH_SIZE, stream_generator
from eda_sim.scenario import Scenario

__all__ = ["Streams", "open_streams"]

#: Batches of DEFAULT_BATCH_SIZE values drawn per refill of a stream, at most.
_MAX_BATCHES = 32
#: Upper bound on the stream buffers' size.
_BUFFER_BYTES = 64 << 20


@dataclass
class Streams:
    """Buffers of random values, one row per stream, and how to refill each row.

    A refill appends whole batches of :data:`~eda_sim.rng.DEFAULT_BATCH_SIZE`
    values, each drawn by its own call, exactly as :func:`eda_sim.rng.batched`
    draws them; the number of batches per refill doubles (up to
    :data:`_MAX_BATCHES`) so that long runs return to Python rarely and short
    ones draw little ahead. ``state.end[row]`` is the number of valid values.
    """

    state: StreamState
    draws: list[Callable[[int], np.ndarray] | None]
    batches: list[int]

    def refill(self) -> None:
        """Draw the next batches of every exhausted stream."""
        batch = DEFAULT_BATCH_SIZE
        values, pos, end = self.state
        for row in np.flatnonzero(pos == end).tolist():
            draw = self.draws[row]
            if draw is None:  # a stream the scenario never uses
                continue
            count = min(self.batches[row], values.shape[1] // batch)
            for part in range(count):
                values[row, part * batch : (part + 1) * batch] = draw(batch)
            pos[row] = 0
            end[row] = count * batch
            self.batches[row] = 2 * count


def _bind_draw(distribution: Any, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    return lambda size: np.asarray(distribution.draw(rng, size), dtype=np.float64)


def open_streams(scenario: Scenario, seed: int, replication: int) -> Streams:
    """The streams of one replication, their first batches drawn."""
    names = scenario.station_names
    n_classes, n_stations = len(scenario.classes), len(names)
    rows = n_classes + n_classes * n_stations
    draws: list[Callable[[int], np.ndarray] | None] = [None] * (2 * rows)
    for k, event_class in enumerate(scenario.classes):
        routing = event_class.routing
        draws[rows + k] = stream_generator(seed, replication, "entry", event_class.name).random
        interarrival = event_class.arrivals.interarrival
        assert interarrival is not None  # traces are refused
        gaps_rng = stream_generator(seed, replication, "arrivals", event_class.name)
        draws[k] = _bind_draw(interarrival, gaps_rng)
        reachable = routing.visit_ratios > 0
        for i, name in enumerate(names):
            if not reachable[i]:
                continue
            row = n_classes + k * n_stations + i
            service_rng = stream_generator(seed, replication, "service", name, event_class.name)
            routing_rng = stream_generator(seed, replication, "routing", name, event_class.name)
            draws[row] = _bind_draw(event_class.service[i], service_rng)
            draws[rows + row] = routing_rng.random
    # At most about _BUFFER_BYTES in all (np.zeros does not touch what is never filled).
    most = _BUFFER_BYTES // (16 * rows * DEFAULT_BATCH_SIZE)
    width = DEFAULT_BATCH_SIZE * max(1, min(_MAX_BATCHES, most))
    streams = Streams(
        state=StreamState(
            values=np.zeros((2 * rows, width)),
            pos=np.zeros(2 * rows, dtype=np.int64),
            end=np.zeros(2 * rows, dtype=np.int64),
        ),
        draws=draws,
        batches=[1] * (2 * rows),
    )
    streams.refill()
    return streams
