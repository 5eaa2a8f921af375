"""An event's life in the system: entering it, its branches, leaving it (steps).

Mirrors :mod:`eda_sim.engine.simpy.lifecycle`. Every external arrival gets a
slot whose record also holds its journey (``entered``, ``branches``, ``lost``),
shared by its fan-out copies; a copy's slot names the journey's slot in
``journey``. The event ends when its last branch ends, lost if any branch was
lost, and its end-to-end time runs from entering to that moment. A journey's
slot is kept until then, even when the event's own branch ends first.

Hook points: :func:`enter` when an external event **enters** the system (its
walk's first step); :func:`start_copy` when a fan-out copy is published;
:func:`end_branch` when a branch **leaves the system**, done or lost (the loop
then ends the journey with :func:`~eda_sim.engine.fast.monitors.system_leave`,
done or lost, when it was the last branch, and frees the slots no longer used).
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.monitors import system_end_copy, system_enter

__all__ = ["end_branch", "enter", "start_copy"]


@step
def enter(events: np.ndarray, system: np.ndarray, slot: int, k: int, now: float) -> None:
    """An external event of class ``k`` enters the system at ``now`` in ``slot`` (its journey)."""
    events[slot].event_class = k
    events[slot].entered = now
    events[slot].journey = slot
    events[slot].is_copy = 0
    events[slot].branches = 1
    events[slot].lost = 0
    system_enter(system, k, now)


@step
def start_copy(events: np.ndarray, slot: int, k: int, journey: int) -> None:
    """A fan-out copy of class ``k`` of ``journey``'s event starts in ``slot``."""
    events[slot].event_class = k
    events[slot].journey = journey
    events[slot].is_copy = 1


@step
def end_branch(
    events: np.ndarray, system: np.ndarray, slot: int, k: int, lost: int
) -> tuple[int, int, int]:
    """The branch in ``slot`` has ended (``lost``: refused by a full station).

    As :meth:`~eda_sim.engine.simpy.lifecycle.Lifecycle.leave` up to the end of
    the journey: a copy is counted as finished or lost; the journey loses a
    branch. Returns the journey's slot, its branches left and whether any was lost.
    """
    journey = events[slot].journey
    system_end_copy(system, k, events[slot].is_copy, lost)
    remaining = events[journey].branches - 1
    any_lost = events[journey].lost | lost
    events[journey].branches = remaining
    events[journey].lost = any_lost
    return journey, remaining, any_lost
