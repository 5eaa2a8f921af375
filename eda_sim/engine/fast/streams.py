"""The fast engine's random streams: buffers filled in Python, read by the loop (no numba).

The same streams as the SimPy engine's (:mod:`eda_sim.engine.simpy.streams`:
same keys, same batches of :data:`~eda_sim.rng.DEFAULT_BATCH_SIZE`, consumed in
the same order), so both engines draw the same numbers.

Rows (``R = K + K·N`` for ``K`` classes and ``N`` stations): gaps of class
``k`` at row ``k`` and the uniforms of its entries at ``R + k``; service of
class ``k`` at station ``i`` at row ``K + k·N + i`` and the uniforms of its next
hops at ``R + K + k·N + i``. A station the class never reaches has no stream
(as there), nor has a class whose arrivals replay a trace any gaps. Rows
``[0, R)`` hold what the SimPy engine draws from a distribution; rows
``[R, 2R)`` the uniforms its routing draws invert, which the loop inverts
itself (:mod:`eda_sim.engine.fast.draws`).

One event reads at most :func:`reads_per_event` values of one row (a service
at the station it arrives at, one per fan-out copy sent there, one for the
event a departure hands the server to). Each row asks for a refill that many
values before its last one (``state.cursor["end"]``), so that an event never reads past
what was drawn; a refill keeps the values not yet read and appends new batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eda_sim.engine.fast.buffers import POOL
from eda_sim.engine.fast.state import CURSOR, StreamState
from eda_sim.rng import DEFAULT_BATCH_SIZE, stream_generators
from eda_sim.scenario import Scenario

__all__ = ["Streams", "open_streams", "reads_per_event"]

#: Batches of DEFAULT_BATCH_SIZE values drawn per refill of a stream, at most.
_MAX_BATCHES = 32
#: Upper bound on the stream buffers' size.
_BUFFER_BYTES = 64 << 20
#: The refill point of a row that is never read.
_NEVER = np.iinfo(np.int64).max
#: The buffers' purpose in the pool of kept memory.
_VALUES = "stream values"


def reads_per_event(scenario: Scenario) -> int:
    """The most values one event reads from one stream: 2 + the most copies one service sends."""
    most_copies = max(
        (len(targets) for c in scenario.classes for targets in c.routing.fanout), default=0
    )
    return 2 + most_copies


@dataclass
class Streams:
    """Buffers of random values, one row per stream, and how to refill each row.

    A refill appends whole batches of :data:`~eda_sim.rng.DEFAULT_BATCH_SIZE`
    values, each drawn by its own call, exactly as :func:`eda_sim.rng.batched`
    draws them, after the values not yet read; the number of batches per refill
    (``batches[row]``, at most ``room``, the most that fit in a row) doubles each
    time the row reaches its refill point, so that long runs return to Python
    rarely and short ones draw little ahead. ``valid[row]`` is the number of
    values drawn and not yet overwritten, ``state.cursor[row]["end"]`` the refill point,
    ``reserve`` values before it; ``mark[row]`` the read position from which
    the next refill takes the row along (its refill point, or a quarter of its
    next refill before the end of what was drawn; never for a row the scenario
    does not read).
    """

    state: StreamState
    draws: list[Callable[[int], np.ndarray] | None]
    batches: np.ndarray
    valid: np.ndarray
    reserve: int
    room: int
    mark: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        """Mark every row the scenario reads for its first fill; the others never."""
        unused = np.array([draw is None for draw in self.draws], dtype=bool)
        self.mark = np.where(unused, _NEVER, 0)
        self.state.cursor["end"][unused] = _NEVER

    def refill(self) -> None:
        """Draw the next batches of every stream that reached its refill point, or nearly.

        A row's refill draws ``batches[row]`` batches (as many as fit), and a
        row that reached its refill point doubles that count for the next time
        (it is read often). Every other row left with less than a quarter of its
        next refill unread is refilled too: the same values, drawn a little
        earlier, so that rows read at the same pace share the loop's returns and
        a row read seldom rarely causes one (at 1,000 stations, 2,002 rows: a
        return costs more than the refill of one row), while a short run draws
        little that it never reads.
        """
        batch = DEFAULT_BATCH_SIZE
        values, cursor = self.state
        pos, end = cursor["pos"], cursor["end"]  # views: writing them writes the cursor
        # One pass over all rows (they are out of the caches after the loop ran):
        # the rest works on the few rows refilled.
        rows = np.flatnonzero(pos >= self.mark)
        starts = pos[rows]
        left = self.valid[rows] - starts
        # Enough for the refill point to lie past the values kept (a reserve of
        # more than one batch: a row that publishes thousands of copies).
        counts = np.maximum(
            np.minimum(self.batches[rows], self.room), -(-(self.reserve + 1 - left) // batch)
        )
        for row, kept, start, count in zip(
            rows.tolist(), left.tolist(), starts.tolist(), counts.tolist(), strict=True
        ):
            draw = self.draws[row]
            assert draw is not None  # (a row never read is never marked)
            if kept:
                values[row, :kept] = values[row, start : start + kept]
            for part in range(count):
                values[row, kept + part * batch : kept + (part + 1) * batch] = draw(batch)
        # A row that reached its refill point (not on its first fill) is read often.
        doubled = (starts >= end[rows]) & (self.valid[rows] > 0)
        self.batches[rows[doubled]] = 2 * counts[doubled]
        valid = left + counts * batch
        pos[rows] = 0
        self.valid[rows] = valid
        end[rows] = valid - self.reserve
        quarter = np.minimum(self.batches[rows], self.room) * (batch // 4)
        self.mark[rows] = np.minimum(valid - self.reserve, valid - quarter + 1)

    def close(self) -> None:
        """Give the buffers back for the next replication (:mod:`~eda_sim.engine.fast.buffers`).

        The streams must not be used afterwards.
        """
        POOL.give_back(_VALUES, self.state.values)


def _bind_draw(distribution: Any, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    return lambda size: np.asarray(distribution.draw(rng, size), dtype=np.float64)


def _stream_draws(
    scenario: Scenario, seed: int, replication: int
) -> list[Callable[[int], np.ndarray] | None]:
    """How to draw each row's next batch (None: the row is never read).

    The generators are made together (:func:`~eda_sim.rng.stream_generators`):
    the same ones the SimPy engine makes one at a time, a few µs each instead of
    tens at thousands of rows.
    """
    names = scenario.station_names
    n_classes, n_stations = len(scenario.classes), len(names)
    rows = n_classes + n_classes * n_stations
    # (row, key, distribution drawn; None: the routing uniforms)
    wanted: list[tuple[int, tuple[str, ...], Any]] = []
    for k, event_class in enumerate(scenario.classes):
        wanted.append((rows + k, ("entry", event_class.name), None))
        interarrival = event_class.arrivals.interarrival
        if interarrival is not None:  # (a replayed trace has no random gaps)
            wanted.append((k, ("arrivals", event_class.name), interarrival))
        for i in np.flatnonzero(event_class.routing.reachable).tolist():
            row = n_classes + k * n_stations + i
            service = event_class.service[i]
            wanted.append((row, ("service", names[i], event_class.name), service))
            wanted.append((rows + row, ("routing", names[i], event_class.name), None))
    generators = stream_generators(seed, replication, [key for _, key, _ in wanted])
    draws: list[Callable[[int], np.ndarray] | None] = [None] * (2 * rows)
    for (row, _, distribution), rng in zip(wanted, generators, strict=True):
        draws[row] = rng.random if distribution is None else _bind_draw(distribution, rng)
    return draws


def open_streams(scenario: Scenario, seed: int, replication: int) -> Streams:
    """The streams of one replication, their first batches drawn."""
    draws = _stream_draws(scenario, seed, replication)
    rows = len(draws) // 2
    reserve = reads_per_event(scenario)
    batch = DEFAULT_BATCH_SIZE
    # At most about _BUFFER_BYTES in all, and room for the values a refill keeps: the
    # reserve of a row that reached its refill point, less than a quarter of a refill
    # of a row refilled with it. The buffers come from the pool of kept memory (the
    # last replication's values: the loop reads only what the refills wrote).
    most = _BUFFER_BYTES // (16 * rows * batch)
    room = max(1, min(_MAX_BATCHES, most), -(-(reserve + 1) // batch))
    kept = -(-max(reserve, room * batch // 4) // 8) * 8  # whole cache lines
    width = batch * room + kept
    streams = Streams(
        state=StreamState(
            values=POOL.take(_VALUES, (2 * rows, width), np.float64),
            cursor=np.zeros(2 * rows, dtype=CURSOR),
        ),
        draws=draws,
        batches=np.ones(2 * rows, dtype=np.int64),
        valid=np.zeros(2 * rows, dtype=np.int64),
        reserve=reserve,
        room=room,
    )
    streams.refill()
    return streams
