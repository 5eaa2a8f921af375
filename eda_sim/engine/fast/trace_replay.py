"""Trace replay: a class's arrivals at recorded instants (steps).

Mirrors :mod:`eda_sim.engine.simpy.trace_replay`. A class whose arrivals replay
a trace (``trace.replayed[k]``) has no random gaps: its ``ARRIVAL`` events come
at the trace's instants, the same in every replication, and its entry stations,
service times and routing stay random. Instants at or after the horizon are not
replayed (``trace.stop[k]``).

As in the SimPy source, each instant is scheduled from the previous arrival as
``now + (instant − now)`` (SimPy's timeout), which need not be the instant
itself in floating point, while the arrival counter is given the instant and
its gap to the previous one.

Hook points (the loop's ``ARRIVAL`` branch): :func:`replay_instant` when the
class's source resumes; :func:`next_instant` for when it resumes next.
"""

from __future__ import annotations

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.state import TraceState

__all__ = ["next_instant", "replay_instant"]


@step
def replay_instant(trace: TraceState, k: int, now: float, gap: float) -> tuple[float, float]:
    """The instant class ``k``'s arrival counts at, and its gap to the previous arrival.

    For a replayed class: the trace's instant now due and its gap to the previous
    instant (the class moves on to its next instant); for any other class
    ``now`` and the ``gap`` drawn for this arrival, unchanged.
    """
    position = trace.next[k]
    instant = trace.times[position]  # (the padding entry, for a class without a trace)
    previous = trace.previous[k]
    replayed = trace.replayed[k] != 0
    trace.previous[k] = instant if replayed else previous
    trace.next[k] = position + 1 if replayed else position
    return (instant, instant - previous) if replayed else (now, gap)


@step
def next_instant(trace: TraceState, k: int, now: float) -> tuple[bool, float]:
    """Whether class ``k`` has an instant left before the horizon, and when it is due.

    Never due for a class without a trace (its ``next`` is its ``stop``).
    """
    position = trace.next[k]
    instant = trace.times[min(position, trace.times.shape[0] - 1)]
    return bool(position < trace.stop[k]), now + (instant - now)
