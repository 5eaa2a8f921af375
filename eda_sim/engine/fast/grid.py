"""Grid ticks and the warm-up's end: the sample path's snapshots, the sketches' cuts.

Mirrors :mod:`eda_sim.engine.simpy.measurement`'s ticks: at each grid point
(the loop's ``TICK``) and at the warm-up's end (``WARMUP``) every monitor is
snapshot (:func:`~eda_sim.engine.fast.monitors.snapshot_all`) into the sample
path (:class:`~eda_sim.engine.fast.state.SamplePathState`), and the next tick
is scheduled as ``now + (grid[i + 1] − now)``, as SimPy's timeout computes it.
Where the percentile sketches are cut (``sketches.is_cut``, and always at the
warm-up's end), the loop returns ``CUT`` before its next event.

Hook points: :func:`tick` and :func:`warm_up`, the loop's ``TICK`` and
``WARMUP`` branches; each returns ``(cut_due, cut_label)``. They are compiled
functions that the loop calls, not steps it inlines, like the snapshots they
take: they run once per grid point, not per event, and a call passes the
arrays without touching their reference counts.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.event_queue import push
from eda_sim.engine.fast.jit import compiled
from eda_sim.engine.fast.kinds import KIND_BITS, TICK
from eda_sim.engine.fast.monitors import snapshot_all
from eda_sim.engine.fast.state import (
    Counters,
    EventQueue,
    SamplePathState,
    ServerState,
    SketchState,
)

__all__ = ["tick", "warm_up"]


@compiled
def tick(
    path: SamplePathState,
    monitors: np.ndarray,
    servers: ServerState,
    system: np.ndarray,
    sketches: SketchState,
    queue: EventQueue,
    point: int,
    now: float,
    counters: Counters,
) -> tuple[int, int, Counters]:
    """``TICK`` at grid point ``point``: snapshot, the next tick; return the cut and counters."""
    seq, size, n_free, refill, hist_full, pool_n, rare_n = counters
    snapshot_all(
        monitors,
        servers.servers,
        system,
        path.grid[point],
        path.stations[:, point],
        path.system[:, point],
    )
    if point < path.grid.shape[0] - 2:  # (the last grid point is the horizon's)
        at = now + (path.grid[point + 1] - now)
        size = push(queue, size, at, seq, ((point + 1) << KIND_BITS) + TICK)
        seq += 1
    cut_due = sketches.is_cut[point]
    return cut_due, point, (seq, size, n_free, refill, hist_full, pool_n, rare_n)


@compiled
def warm_up(
    path: SamplePathState,
    monitors: np.ndarray,
    servers: ServerState,
    system: np.ndarray,
    now: float,
) -> tuple[int, int]:
    """``WARMUP``: the sketches are cut (label -1), then the monitors snapshot."""
    snapshot_all(monitors, servers.servers, system, now, path.warm_stations, path.warm_system)
    return 1, -1
