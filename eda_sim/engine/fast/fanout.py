"""Publish–subscribe fan-out: a copy of the event for every subscriber (steps).

Mirrors :mod:`eda_sim.engine.simpy.fanout`. A routing row with ``fanout: [a, b,
...]`` publishes, at the end of each service there, one copy of the event to
each listed station (``fanout.targets`` of row ``k·N + i``, in the listed
order). Each copy is a branch of the event's journey
(:mod:`~eda_sim.engine.fast.lifecycle`) with its own slot, and follows the
class's routing from its station. In SimPy each copy's walk starts with an
``URGENT`` ``Initialize`` event, so the copies arrive right after the step that
published them, before any other event at that instant, in the listed order:
the loop runs their arrivals there, after the publisher's own.

Hook point: :func:`publish` at the **completion** of a service (a row without
subscribers publishes none); the loop then gives each copy a slot
(:func:`~eda_sim.engine.fast.lifecycle.start_copy`) and its arrival.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.monitors import system_start_copies
from eda_sim.engine.fast.state import FanOutTables

__all__ = ["NO_COPIES", "Copies", "publish"]

#: The copies one completion published: ``(journey, first target's position, count)``.
Copies = tuple[int, int, int]
#: No copies published (every event kind but a completion with subscribers).
NO_COPIES: Copies = (-1, 0, 0)


@step
def publish(
    fanout: FanOutTables, events: np.ndarray, system: np.ndarray, k: int, row: int, journey: int
) -> tuple[int, int]:
    """Publish the copies of row ``row``; return their first target's position and their count.

    As :meth:`~eda_sim.engine.simpy.fanout.FanOut.publish`: each copy is a new
    branch of ``journey`` and is counted as published by the system and its class.
    """
    first = fanout.start[row]
    count = fanout.start[row + 1] - first
    events[journey].branches += count
    system_start_copies(system, k, count)
    return first, count
