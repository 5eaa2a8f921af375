"""Where events come from: one source process per event class (SimPy engine).

A source draws the class's gaps (Poisson or any renewal distribution), and at
each arrival counts it (:class:`~eda_sim.stats.ArrivalCounter`, for the Poisson
checks), draws its entry station and starts its walk. A class that replays a
trace has its own source (:mod:`eda_sim.engine.simpy.trace_replay`).

A new arrival process (time-varying rates, bursts, a closed population of
clients) is a new source function here or in its own module, chosen in
:func:`start_sources`; it starts each event's walk the same way.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from eda_sim.engine.simpy.measurement import Measurement
from eda_sim.engine.simpy.streams import ClassStreams
from eda_sim.engine.simpy.trace_replay import replay_trace
from eda_sim.engine.simpy.walk import StartWalk
from eda_sim.scenario import Scenario

__all__ = ["renewal_arrivals", "start_sources"]


def renewal_arrivals(
    env: simpy.Environment,
    class_index: int,
    streams: ClassStreams,
    measurement: Measurement,
    walk: StartWalk,
) -> Generator[simpy.Event, Any, None]:
    """Arrivals with independent, identically distributed gaps (Poisson: exponential)."""
    entries = streams.entries()
    counter = measurement.counters[class_index]
    process, timeout = env.process, env.timeout
    gaps = streams.gaps()
    while True:
        gap = next(gaps)
        yield timeout(gap)
        counter.arrive(env.now, gap)
        process(walk(class_index, next(entries)))


def start_sources(
    env: simpy.Environment,
    scenario: Scenario,
    streams: list[ClassStreams],
    measurement: Measurement,
    walk: StartWalk,
) -> None:
    """Start one source process per event class, in class order."""
    horizon = measurement.settings.horizon
    for class_index, event_class in enumerate(scenario.classes):
        times = event_class.arrivals.times
        if times is not None:
            source = replay_trace(
                env, class_index, times, horizon, streams[class_index], measurement, walk
            )
        else:
            source = renewal_arrivals(env, class_index, streams[class_index], measurement, walk)
        env.process(source)
