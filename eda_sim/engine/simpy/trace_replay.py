"""Trace replay: a class's arrivals at recorded instants (SimPy engine).

A class with ``arrivals: {process: trace, ...}`` has no random gaps: its events
arrive at the trace's instants (relative to its first event), the same in every
replication; their entry stations, service times and routing stay random.
Arrivals at or after the horizon are not replayed.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from eda_sim.engine.simpy.measurement import Measurement
from eda_sim.engine.simpy.streams import ClassStreams
from eda_sim.engine.simpy.walk import StartWalk

__all__ = ["replay_trace"]


def replay_trace(
    env: simpy.Environment,
    class_index: int,
    times: np.ndarray,
    horizon: float,
    streams: ClassStreams,
    measurement: Measurement,
    walk: StartWalk,
) -> Generator[simpy.Event, Any, None]:
    """Start the walk of one event at each instant of ``times`` before ``horizon``."""
    entries = streams.entries()
    counter = measurement.counters[class_index]
    previous = 0.0
    for instant in times.tolist():
        if instant >= horizon:
            return
        yield env.timeout(instant - env.now)
        counter.arrive(instant, instant - previous)
        previous = instant
        env.process(walk(class_index, next(entries)))
