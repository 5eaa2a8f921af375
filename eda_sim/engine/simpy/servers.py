"""Servers and queue discipline: who gets a server, who waits, who is next (SimPy engine).

Each station has ``servers`` parallel servers and one waiting line. Built
directly on SimPy events, with the semantics of :class:`simpy.Resource`: a free
server is taken at once, otherwise the event waits in line, and a departing
event hands its server straight to the head of the line. ``simpy.Resource``
schedules a request event and a release event for every visit, even when a
server is free; skipping those two trips through the event queue makes the
engine about a third faster (``benchmarks/bench_vs_ciw.py``).

The line is FIFO (:class:`FifoServers`), or, when event classes have
priorities, ordered by ``(priority, arrival order)`` (:class:`PriorityServers`:
non-preemptive priority, FIFO within a priority, lower numbers first as in SimPy).

Hook points (called by :mod:`eda_sim.engine.simpy.walk`):

* :meth:`~FifoServers.admit` at the **arrival** at a station (after capacity has
  let the event in): counts it present and returns None when a server is free,
  else its place in line, an untriggered event that a departure triggers;
* :meth:`~FifoServers.release` at the **departure**: hands the server to the
  head of the line, if anyone waits.

The busy servers are always ``min(present, servers)`` (work-conserving), which is
what :class:`~eda_sim.stats.StationMonitor` integrates.
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush
from itertools import count

import simpy

from eda_sim.scenario import Scenario
from eda_sim.stats import StationMonitor

__all__ = ["FifoServers", "PriorityServers", "Servers", "servers_for"]


class FifoServers:
    """Every station's servers with one FIFO line each."""

    __slots__ = ("_env", "_lines", "_monitors", "_servers")

    def __init__(
        self, env: simpy.Environment, scenario: Scenario, monitors: list[StationMonitor]
    ) -> None:
        self._env = env
        self._monitors = monitors
        self._servers = [station.servers for station in scenario.stations]
        self._lines: list[deque[simpy.Event]] = [deque() for _ in scenario.stations]

    def admit(self, station: int, now: float, priority: float) -> simpy.Event | None:
        """Count an event in at ``station``; None if a server is free, else its place in line.

        The place is taken at once, so that another departure at the same instant
        finds the event waiting and hands it the server instead of idling.
        """
        monitor = self._monitors[station]
        server_free = monitor.present < self._servers[station]
        monitor.arrive(now)
        if server_free:
            return None
        turn = self._env.event()
        self._lines[station].append(turn)
        return turn

    def release(self, station: int) -> None:
        """A server at ``station`` is free: hand it to the oldest waiting event."""
        line = self._lines[station]
        if line:
            line.popleft().succeed()


class PriorityServers:
    """Every station's servers with a line ordered by (priority, arrival order)."""

    __slots__ = ("_env", "_lines", "_monitors", "_order", "_servers")

    def __init__(
        self, env: simpy.Environment, scenario: Scenario, monitors: list[StationMonitor]
    ) -> None:
        self._env = env
        self._monitors = monitors
        self._servers = [station.servers for station in scenario.stations]
        self._lines: list[list[tuple[float, int, simpy.Event]]] = [[] for _ in scenario.stations]
        self._order = count()

    def admit(self, station: int, now: float, priority: float) -> simpy.Event | None:
        """As :meth:`FifoServers.admit`, the place in line ordered by ``priority`` first."""
        monitor = self._monitors[station]
        server_free = monitor.present < self._servers[station]
        monitor.arrive(now)
        if server_free:
            return None
        turn = self._env.event()
        heappush(self._lines[station], (priority, next(self._order), turn))
        return turn

    def release(self, station: int) -> None:
        """A server at ``station`` is free: hand it to the first waiting event by priority."""
        line = self._lines[station]
        if line:
            heappop(line)[2].succeed()


Servers = FifoServers | PriorityServers


def servers_for(
    env: simpy.Environment, scenario: Scenario, monitors: list[StationMonitor]
) -> Servers:
    """The servers of every station, with a priority line when classes have priorities."""
    kind = PriorityServers if scenario.has_priorities else FifoServers
    return kind(env, scenario, monitors)
