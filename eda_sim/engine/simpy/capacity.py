"""Capacity and loss: a station holds at most ``capacity`` events (SimPy engine).

``capacity`` counts the events present, waiting and in service together. An
event arriving at a full station is refused: lost to the system (counted in the
station's ``loss``), or, for a station with ``on_full: block``, its sender is
held instead (:mod:`eda_sim.engine.simpy.blocking`; external arrivals are
always lost).

Hook point (called by :mod:`eda_sim.engine.simpy.walk`):

* :meth:`Capacity.full` at the **arrival** at a station with a capacity
  (:attr:`Capacity.at`), before the servers admit the event: True when the
  station is full and the event is lost.

:func:`capacity_for` gives None for a scenario without any capacity, so that
the walk spends nothing on it.
"""

from __future__ import annotations

import math

from eda_sim.scenario import Scenario
from eda_sim.stats import StationMonitor

__all__ = ["Capacity", "capacity_for"]


class Capacity:
    """The capacity of every station (``inf`` where unlimited)."""

    __slots__ = ("_monitors", "at", "limits")

    def __init__(self, scenario: Scenario, monitors: list[StationMonitor]) -> None:
        self._monitors = monitors
        self.limits = [
            station.capacity if station.capacity is not None else math.inf
            for station in scenario.stations
        ]
        #: ``at[i]``: station ``i`` has a capacity (one entry more, False, for "leave").
        self.at = (*(station.capacity is not None for station in scenario.stations), False)

    def full(self, station: int) -> bool:
        """True when ``station`` holds as many events as it may."""
        return self._monitors[station].present >= self.limits[station]


def capacity_for(scenario: Scenario, monitors: list[StationMonitor]) -> Capacity | None:
    """The stations' capacities, or None when every station is unlimited."""
    if all(station.capacity is None for station in scenario.stations):
        return None
    return Capacity(scenario, monitors)
