"""The event walk: one event's life, station to station, as a sequence of hook points.

Each external event (and each fan-out copy) is a SimPy process running
:func:`build_walk`'s ``walk``. At every station it passes the same points, in
this order, and each mechanism acts at the points it names:

1. **arrival** at a station — capacity (:mod:`~eda_sim.engine.simpy.capacity`)
   may refuse it (then it **leaves the system**, lost); the servers
   (:mod:`~eda_sim.engine.simpy.servers`) count it in and give it a server or
   a place in line;
2. **start of service** — once it has a server (at once, or when a departing
   event hands one over);
3. **completion** — its service time has passed: the next hop is drawn
   (routing, the Markov property), fan-out (:mod:`~eda_sim.engine.simpy.fanout`)
   publishes copies, and blocking (:mod:`~eda_sim.engine.simpy.blocking`) may
   hold it (with its server) until the next station has room;
4. **departure** — it frees its server, which goes to the head of the line;
   the station's monitor records its wait and time per visit (means, and
   percentile sketches), and a sender blocked on this station is let in;
5. **leaving the system** — after its last station (or when lost): its journey
   (:mod:`~eda_sim.engine.simpy.lifecycle`) ends when its last branch ends.

A mechanism that a scenario does not use is None here and costs one test per
point; one that acts at some stations only says where (its ``at`` flags, one per
station and a last False one for "leave"), and the walk calls it only there. A
new mechanism gets its own module with a small class whose methods are called at
the points above (see ``eda_sim/engine/README.md``); the order of
SimPy events (what is scheduled, and when) must stay as it is, since the fast
engine reproduces it event for event.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from eda_sim.engine.simpy.blocking import Blocking
from eda_sim.engine.simpy.capacity import Capacity
from eda_sim.engine.simpy.fanout import FanOut
from eda_sim.engine.simpy.lifecycle import Journey, Lifecycle
from eda_sim.engine.simpy.measurement import Measurement
from eda_sim.engine.simpy.servers import Servers
from eda_sim.engine.simpy.streams import ClassStreams
from eda_sim.scenario import Scenario

__all__ = ["Mechanisms", "StartWalk", "WalkProcess", "build_walk"]

#: The arrival point: ``arrive(journey, class_index, station, arrived, is_copy, let_in,
#: turn)`` -> ``(admitted, turn)``: the server's turn to wait for (None: a free one).
Arrive = Callable[
    [Journey, int, int, float, bool, bool, simpy.Event | None], tuple[bool, simpy.Event | None]
]
#: The completion point: ``complete(journey, class_index, station, ended)`` -> the next station.
Complete = Callable[[Journey, int, int, float], int]
#: The departure point: ``depart(journey, class_index, station, arrived, started, ended)``.
Depart = Callable[[Journey, int, int, float, float, float], None]

#: The generator of one walk (a SimPy process body).
WalkProcess = Generator[simpy.Event, Any, None]
#: Makes the walk of a new external event: ``walk(class_index, entry_station)``.
StartWalk = Callable[[int, int], WalkProcess]


class Mechanisms:
    """The mechanisms of one replication, each None when the scenario does not use it."""

    __slots__ = ("blocking", "capacity", "fanout", "lifecycle", "servers")

    def __init__(
        self,
        servers: Servers,
        lifecycle: Lifecycle,
        capacity: Capacity | None = None,
        blocking: Blocking | None = None,
        fanout: FanOut | None = None,
    ) -> None:
        self.servers = servers
        self.lifecycle = lifecycle
        self.capacity = capacity
        self.blocking = blocking
        self.fanout = fanout


def _never_called(*_: Any) -> Any:
    """Stands for the method of a mechanism the scenario does not use (never called)."""
    raise AssertionError("a mechanism the scenario does not use was called")


def build_walk(
    env: simpy.Environment,
    scenario: Scenario,
    streams: list[ClassStreams],
    mechanisms: Mechanisms,
    measurement: Measurement,
) -> Callable[..., WalkProcess]:
    """The walk of one replication: ``walk(class_index, station, journey=None)``.

    ``journey`` is None for an external event (it enters the system at the
    first point) and the shared journey for a fan-out copy. Each point is one
    call: :func:`_arrival`, :func:`_completion`, :func:`_departure` build them.
    """
    log, lifecycle, blocking = measurement.log, mechanisms.lifecycle, mechanisms.blocking
    priorities = [c.priority for c in scenario.classes]
    nowhere = (False,) * (len(measurement.stations) + 1)
    blocking_at, holds, wait_for_room = (
        (blocking.at, blocking.holds, blocking.wait)
        if blocking
        else (nowhere, _never_called, _never_called)
    )
    arrive = _arrival(env, mechanisms, measurement, priorities)
    depart = _departure(env, mechanisms, measurement)
    timeout = env.timeout

    def spawn(class_index: int, station: int, journey: Journey) -> None:
        env.process(walk(class_index, station, journey))

    complete = _completion(scenario, streams, mechanisms, measurement, spawn)

    def walk(class_index: int, station: int, journey: Journey | None = None) -> WalkProcess:
        is_copy = journey is not None
        if journey is None:  # entering the system
            journey = lifecycle.enter(class_index, env.now)
            if log is not None:
                log.add(env.now, "enter", journey.id, class_index, -1)
        services, priority = streams[class_index].services, priorities[class_index]
        let_in = False  # True when a departure admitted this (blocked) event for it
        turn: simpy.Event | None = None
        while True:
            arrived = env.now  # 1. arrival at `station` (refused: it leaves the system, lost)
            admitted, turn = arrive(journey, class_index, station, arrived, is_copy, let_in, turn)
            if not admitted:
                return
            if turn is None:  # 2. start of service: a free server at once, or its turn in line
                started = arrived
            else:
                yield turn
                started = env.now
            if log is not None:
                log.add(started, "start", journey.id, class_index, station)
            yield timeout(next(services[station]))
            ended = env.now  # 3. completion: the next hop, copies; blocked until there is room
            next_station = complete(journey, class_index, station, ended)
            let_in = False
            if blocking_at[next_station] and holds(next_station):
                if log is not None:
                    log.add(ended, "blocked", journey.id, class_index, station)
                turn = yield wait_for_room(next_station, priority)
                let_in = True
            depart(journey, class_index, station, arrived, started, ended)  # 4. departure
            station = next_station  # 5. leaving the system, or on to the next station
            if station < 0:
                if log is not None:
                    log.add(env.now, "exit", journey.id, class_index, -1)
                lifecycle.leave(journey, class_index, env.now, False, is_copy)
                return

    return walk


def _arrival(
    env: simpy.Environment,
    mechanisms: Mechanisms,
    measurement: Measurement,
    priorities: list[float],
) -> Arrive:
    """The arrival point: capacity may refuse the event (it leaves, lost), the servers admit it.

    A blocked sender let in (``let_in``) was admitted already, with its ``turn``.
    """
    monitors, log = measurement.stations, measurement.log
    touch = measurement.touched.add  # the sample path keeps the states of changed stations
    admit, lifecycle, capacity = mechanisms.servers.admit, mechanisms.lifecycle, mechanisms.capacity
    nowhere = (False,) * (len(monitors) + 1)
    capacity_at, full = (capacity.at, capacity.full) if capacity else (nowhere, _never_called)

    def arrive(
        journey: Journey,
        class_index: int,
        station: int,
        arrived: float,
        is_copy: bool,
        let_in: bool,
        turn: simpy.Event | None,
    ) -> tuple[bool, simpy.Event | None]:
        touch(station)
        if not let_in:
            if capacity_at[station] and full(station):
                monitors[station].refuse()
                if log is not None:
                    log.add(arrived, "lost", journey.id, class_index, station)
                lifecycle.leave(journey, class_index, arrived, True, is_copy)
                return False, None
            turn = admit(station, arrived, priorities[class_index])
        if log is not None:
            log.add(arrived, "arrive", journey.id, class_index, station)
        return True, turn

    return arrive


def _completion(
    scenario: Scenario,
    streams: list[ClassStreams],
    mechanisms: Mechanisms,
    measurement: Measurement,
    spawn: Callable[[int, int, Journey], None],
) -> Complete:
    """The completion point: the next hop is drawn and counted; fan-out publishes its copies."""
    hops = [class_streams.hops for class_streams in streams]
    transitions, fanout = measurement.transitions, mechanisms.fanout
    subscribers = [fanout.subscribers(k) if fanout else None for k in range(len(hops))]
    publish = fanout.publish if fanout else _never_called

    def complete(journey: Journey, class_index: int, station: int, ended: float) -> int:
        next_station = next(hops[class_index][station])
        transitions[class_index][station][next_station] += 1  # exits (-1): the last column
        copies_after = subscribers[class_index]
        if copies_after is not None and copies_after[station]:
            publish(journey, class_index, copies_after[station], ended, spawn)
        return next_station

    return complete


def _departure(env: simpy.Environment, mechanisms: Mechanisms, measurement: Measurement) -> Depart:
    """The departure point: the server freed, the visit recorded, a blocked sender let in.

    The server goes to the head of the line; the monitor and the percentile
    sketches record the wait and the time per visit (and blocked).
    """
    monitors, log, recent_waits = measurement.stations, measurement.log, measurement.recent_waits
    touch = measurement.touched.add
    # The percentile sketches' buffer, appended to in line (SketchBank's contract).
    sketches = measurement.sketches
    sketch_values = sketches.values
    put_value, put_sketch, flush = sketch_values.append, sketches.ids.append, sketches.flush
    per_station = measurement.layout.per_station  # W, Wq (and blocked) per station
    sketch_blocked = per_station == 3
    release, blocking = mechanisms.servers.release, mechanisms.blocking
    nowhere = (False,) * (len(monitors) + 1)
    blocking_at, let_blocked_in = (
        (blocking.at, blocking.let_in) if blocking else (nowhere, _never_called)
    )

    def depart(
        journey: Journey, class_index: int, station: int, arrived: float, started: float,
        ended: float,
    ) -> None:  # fmt: skip
        left = env.now
        release(station)
        touch(station)
        monitors[station].depart(left, started - arrived, left - arrived, left - ended)
        first = station * per_station  # the station's percentile sketches
        put_value(left - arrived)
        put_sketch(first)
        put_value(started - arrived)
        put_sketch(first + 1)
        if sketch_blocked:
            put_value(left - ended)
            put_sketch(first + 2)
        if len(sketch_values) >= sketches.limit:
            flush()
        if recent_waits is not None:
            recent_waits[station].append((started - arrived, left - arrived))
        if blocking_at[station]:
            let_blocked_in(station, left)
        if log is not None:
            log.add(left, "depart", journey.id, class_index, station)

    return depart
