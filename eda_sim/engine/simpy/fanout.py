"""Publish-subscribe fan-out: a copy of the event for every subscriber (SimPy engine).

A routing row with ``fanout: [a, b, ...]`` publishes, at the end of each service
there, one copy of the event to each listed station; each copy then follows the
class's routing from there, as a branch of the same
:class:`~eda_sim.engine.simpy.lifecycle.Journey`. Copies are counted when
published and when they end (done or lost), so they are conserved.

Hook point (called by :mod:`eda_sim.engine.simpy.walk`):

* :meth:`FanOut.publish` at the **completion** of a service at a station whose
  row fans out (:meth:`FanOut.subscribers` says which), before the event
  moves on: starts one walk per copy, in the listed order.

:func:`fanout_for` gives None for a scenario without fan-out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eda_sim.engine.simpy.lifecycle import Journey
from eda_sim.engine.simpy.measurement import Measurement
from eda_sim.scenario import Scenario

__all__ = ["FanOut", "fanout_for"]

#: Starts the walk of a copy: ``spawn(class_index, station, journey)``.
Spawn = Callable[[int, int, Journey], Any]


class FanOut:
    """The subscribers of every class's routing rows, and the copies published to them."""

    __slots__ = ("_classes", "_log", "_system", "_targets")

    def __init__(self, scenario: Scenario, measurement: Measurement) -> None:
        self._targets = [c.routing.fanout for c in scenario.classes]
        self._system = measurement.system
        self._classes = measurement.classes
        self._log = measurement.log

    def subscribers(self, class_index: int) -> tuple[tuple[int, ...], ...]:
        """``subscribers(k)[i]``: the stations class ``k`` publishes to after station ``i``."""
        return tuple(tuple(targets) for targets in self._targets[class_index])

    def publish(
        self,
        journey: Journey,
        class_index: int,
        targets: tuple[int, ...],
        now: float,
        spawn: Spawn,
    ) -> None:
        """Publish a copy of ``journey``'s event to each of ``targets`` at ``now``."""
        whole = self._classes[class_index]
        for target in targets:
            if self._log is not None:
                self._log.add(now, "copy", journey.id, class_index, target)
            journey.branches += 1
            self._system.start_copy(now)
            whole.start_copy(now)
            spawn(class_index, target, journey)


def fanout_for(scenario: Scenario, measurement: Measurement) -> FanOut | None:
    """Fan-out, or None when no routing row publishes copies."""
    return FanOut(scenario, measurement) if scenario.has_fanout else None
