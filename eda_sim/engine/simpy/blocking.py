"""Blocking after service: a sender keeps its server while the next station is full.

A station with ``on_full: block`` (it needs a ``capacity``) does not lose an
event sent to it from another station when it is full: the sender, its service
done, keeps its own server until the full station has room. Blocked senders
wait in FIFO order, one queue per blocking station; the time spent blocked is
part of the sender's time per visit and is measured as ``blocked``. External
arrivals at a full station are lost as usual.

Hook points (called by :mod:`eda_sim.engine.simpy.walk`):

* :meth:`Blocking.holds` at the **completion** of a service whose next station
  blocks (:attr:`Blocking.at`): True when it is full; the walk then yields
  :meth:`Blocking.wait`,
  whose value is the sender's place at the next station (as
  :meth:`~eda_sim.engine.simpy.servers.FifoServers.admit` returns it): the
  sender is admitted there by the departure that makes room;
* :meth:`Blocking.let_in` at the **departure** from a blocking station: the
  oldest blocked sender, if any, is admitted into the room just made.

:func:`blocking_for` gives None for a scenario in which no station blocks.
"""

from __future__ import annotations

from collections import deque

import simpy

from eda_sim.engine.simpy.capacity import Capacity
from eda_sim.engine.simpy.servers import Servers
from eda_sim.scenario import Scenario
from eda_sim.stats import StationMonitor

__all__ = ["Blocking", "blocking_for"]


class Blocking:
    """The senders blocked on each full blocking station, oldest first."""

    __slots__ = ("_env", "_limits", "_monitors", "_senders", "_servers", "at")

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        monitors: list[StationMonitor],
        capacity: Capacity,
        servers: Servers,
    ) -> None:
        self._env = env
        self._monitors = monitors
        self._limits = capacity.limits
        self._servers = servers
        #: ``at[i]``: station ``i`` blocks its senders when full (one entry more,
        #: False, for "leave", so that ``at[-1]`` is False).
        self.at = (*(station.on_full == "block" for station in scenario.stations), False)
        # (the sender's wake-up event, its priority) per blocking station
        self._senders: list[deque[tuple[simpy.Event, float]]] = [deque() for _ in scenario.stations]

    def holds(self, next_station: int) -> bool:
        """True when the blocking ``next_station`` is full: the sender must wait for room."""
        return self._monitors[next_station].present >= self._limits[next_station]

    def wait(self, next_station: int, priority: float) -> simpy.Event:
        """The event that wakes a sender blocked on ``next_station`` once it has room."""
        wake = self._env.event()
        self._senders[next_station].append((wake, priority))
        return wake

    def let_in(self, station: int, now: float) -> None:
        """An event left ``station``: admit the oldest sender blocked on it, if any."""
        senders = self._senders[station]
        if senders:
            wake, priority = senders.popleft()
            wake.succeed(self._servers.admit(station, now, priority))


def blocking_for(
    env: simpy.Environment,
    scenario: Scenario,
    monitors: list[StationMonitor],
    capacity: Capacity | None,
    servers: Servers,
) -> Blocking | None:
    """Blocking after service, or None when no station blocks its senders."""
    if not scenario.has_blocking:
        return None
    assert capacity is not None, "a blocking station has a capacity (checked by the scenario)"
    return Blocking(env, scenario, monitors, capacity, servers)
