"""An event's life in the system: entering it, its branches, leaving it (SimPy engine).

Every external arrival becomes a :class:`Journey`, shared by the event and its
fan-out copies (:mod:`eda_sim.engine.simpy.fanout`): the event ends when its
last branch ends, lost if any branch was lost (refused by a full station), and
its end-to-end time runs from entering the first station to that moment.

Hook points (called by :mod:`eda_sim.engine.simpy.walk`):

* :meth:`Lifecycle.enter` when an external event **enters** the system;
* :meth:`Lifecycle.leave` when a branch **leaves the system**, done (after its
  last station) or lost (refused by a full station); an event done records its
  end-to-end time in the system's and its class's percentile sketches.
"""

from __future__ import annotations

from itertools import count

from eda_sim.engine.simpy.measurement import Measurement

__all__ = ["Journey", "Lifecycle"]


class Journey:
    """One external event in the system, with its fan-out copies.

    Attributes
    ----------
    branches : int
        Branches still in the system (the event itself and its live copies).
    lost : bool
        True once any branch was refused by a full station.
    entered : float
        When the event entered the system.
    id : int
        The event's number, in order of entry (0, 1, ...).
    """

    __slots__ = ("branches", "entered", "id", "lost")

    def __init__(self, entered: float, event_id: int) -> None:
        self.branches = 1
        self.lost = False
        self.entered = entered
        self.id = event_id


class Lifecycle:
    """Counts events in and out of the system and of their class (end-to-end W, loss)."""

    __slots__ = ("_class_sketch", "_classes", "_ids", "_sketch", "_system", "_system_sketch")

    def __init__(self, measurement: Measurement) -> None:
        self._system = measurement.system
        self._classes = measurement.classes
        self._ids = count()
        self._sketch = measurement.sketches.add
        layout = measurement.layout
        self._class_sketch = [layout.class_sketch(k) for k in range(len(layout.classes))]
        self._system_sketch = layout.system_sketch

    def enter(self, class_index: int, now: float) -> Journey:
        """An external event of class ``class_index`` enters the system at ``now``."""
        self._system.enter(now)
        self._classes[class_index].enter(now)
        return Journey(now, next(self._ids))

    def leave(
        self, journey: Journey, class_index: int, now: float, lost: bool, is_copy: bool
    ) -> None:
        """One branch of ``journey`` (the event, or a copy when ``is_copy``) has ended."""
        system, whole = self._system, self._classes[class_index]
        if is_copy:
            system.end_copy(now, lost)
            whole.end_copy(now, lost)
        journey.lost = journey.lost or lost
        journey.branches -= 1
        if journey.branches:
            return
        if journey.lost:
            system.lose(now)
            whole.lose(now)
        else:
            sojourn = now - journey.entered
            system.leave(now, sojourn)
            whole.leave(now, sojourn)
            self._sketch(self._system_sketch, sojourn)
            if self._class_sketch:  # several classes (one class's figures are the system's)
                self._sketch(self._class_sketch[class_index], sojourn)
