"""An event's life in the system: entering it, its branches, leaving it (steps).

Mirrors :mod:`eda_sim.engine.simpy.lifecycle`. Every external arrival gets a
slot whose record also holds its journey (``entered``, ``branches``, ``lost``),
shared by its fan-out copies; a copy's slot names the journey's slot in
``journey``. The event ends when its last branch ends, lost if any branch was
lost, and its end-to-end time runs from entering to that moment. A journey's
slot is kept until then, even when the event's own branch ends first.

Hook points: :func:`enter` when an external event **enters** the system (its
walk's first step); :func:`start_copy` when a fan-out copy is published;
:func:`leave` when a branch **leaves the system**, done or lost: the branch
ends (:func:`end_branch`); when it was the journey's last, the event leaves
(:func:`~eda_sim.engine.fast.monitors.system_leave`, done or lost) and its
end-to-end time goes into the sketches; the slots no longer used are freed.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.latency import Window, sketch_time
from eda_sim.engine.fast.monitors import system_end_copy, system_enter, system_leave
from eda_sim.engine.fast.state import SketchState

__all__ = ["end_branch", "enter", "leave", "start_copy"]


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


@step
def leave(
    events: np.ndarray,
    free: np.ndarray,
    system: np.ndarray,
    sketches: SketchState,
    window: Window,
    places: tuple[int, int, int],
    slot: int,
    k: int,
    lost: int,
    now: float,
    fill: tuple[int, int, int],
) -> tuple[int, int, int]:
    """The branch in ``slot`` (class ``k``) leaves the system at ``now``, done or ``lost``.

    ``fill`` is ``(n_free, pool_n, rare_n)``: the free slots and the sketch
    pools' fill levels, returned updated. ``places`` says where the sketches
    are (:data:`~eda_sim.engine.fast.departure.SketchPlaces`): the system's,
    and one per class after the first class's when there are several classes.
    """
    n_free, pool_n, rare_n = fill
    _, first_class_sketch, system_sketch = places
    ended, remaining, any_lost = end_branch(events, system, slot, k, lost)
    if remaining == 0:  # the journey's last branch: the event leaves, done or lost
        took = now - events[ended].entered
        system_leave(system, k, now, any_lost, took)
        if not any_lost:  # its end-to-end time, in the system's and its class's
            pool_n, rare_n = sketch_time(sketches, system_sketch, took, window, pool_n, rare_n)
            if system_sketch > first_class_sketch:  # several classes: one each
                pool_n, rare_n = sketch_time(
                    sketches, first_class_sketch + k, took, window, pool_n, rare_n
                )
        free[n_free] = ended
        n_free += 1
    if slot != ended:  # a copy's own slot
        free[n_free] = slot
        n_free += 1
    _ = (events, free, system, sketches)  # their last use, on every path (jit.py)
    return n_free, pool_n, rare_n
