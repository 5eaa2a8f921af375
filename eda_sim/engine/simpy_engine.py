"""The SimPy engine: one replication of a scenario (layer 4; the only SimPy importer).

Each external event is a SimPy process that walks its route: at each station it
takes one of the station's ``servers`` (waiting first, FIFO, when all are busy),
holds it for a service time, hands it on, and draws its next hop independently
(the Markov property). A station at its ``capacity`` refuses the arrival, which is
then lost to the system. One source process per event class generates the arrivals.

Stations are FIFO multi-server resources built directly on SimPy events
(:class:`_Servers`), with the semantics of :class:`simpy.Resource`: a free server
is taken at once, otherwise the event waits in line and the server is handed
straight to the head of the line when its holder departs. ``simpy.Resource``
schedules a request event and a release event for every visit, even when a
server is free; skipping those two trips through the event queue makes the
engine about a third faster (``benchmarks/bench_vs_ciw.py``), which is the
difference between matching a hand-written SimPy model and trailing it.

Random numbers come from independent streams (:mod:`eda_sim.rng`), one per
purpose, class and station, drawn in batches. Measurements are streamed
(:mod:`eda_sim.stats`) and reset at the end of the warm-up, so memory does not
grow with the horizon unless a trace is asked for.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Iterator
from heapq import heappop, heappush
from typing import Any, cast

import numpy as np
import simpy

from eda_sim.distributions import Distribution
from eda_sim.engine.records import (
    ClassObservations,
    ReplicationResult,
    SamplePath,
    TraceRecord,
    mser_cut,
    station_record,
    system_record,
)
from eda_sim.rng import batched, stream_generator
from eda_sim.routing import Routing
from eda_sim.scenario import Scenario
from eda_sim.stats import (
    ArrivalCounter,
    StationMonitor,
    StationSnapshot,
    SystemMonitor,
    SystemSnapshot,
)

__all__ = [
    "COUNT_WINDOW_ARRIVALS",
    "ENGINE_NAME",
    "MAX_GAP_SAMPLE",
    "PATH_INTERVALS",
    "simulate_replication",
]

#: The name this engine reports in results.
ENGINE_NAME = "simpy"
#: Expected external arrivals per counting window of the Poisson check.
COUNT_WINDOW_ARRIVALS = 5.0
#: Inter-arrival gaps kept per class and replication for the exponential check.
MAX_GAP_SAMPLE = 2000
#: Intervals of the regular grid on which the sample path is kept (bounded memory;
#: MSER-5 reads batches of five of them, batch means merges them into 20 or more).
PATH_INTERVALS = 500


def _sampler(distribution: Distribution, rng: np.random.Generator) -> Iterator[float]:
    return batched(lambda size: distribution.draw(rng, size))


def _hop_stream(routing: Routing, station: int, rng: np.random.Generator) -> Iterator[int]:
    """Next hops after ``station`` (``-1``: leave), drawn in batches."""
    return cast(Iterator[int], batched(lambda size: routing.draw_next(station, rng, size)))


def _entry_stream(routing: Routing, rng: np.random.Generator) -> Iterator[int]:
    """Entry stations of external arrivals, drawn in batches."""
    return cast(Iterator[int], batched(lambda size: routing.draw_entry(rng, size)))


class _Servers:
    """The waiting line of one station; its free servers are ``servers − min(present, servers)``.

    ``line`` holds one untriggered :class:`simpy.Event` per waiting event: a deque,
    oldest first (FIFO), or, when event classes have priorities, a heap of
    ``(priority, arrival order, event)`` (non-preemptive priority, FIFO within a
    priority). A departing event that finds the line non-empty triggers its head,
    handing its server over, so the number of busy servers is always
    ``min(present, servers)`` (the station is work-conserving).
    """

    __slots__ = ("line", "servers")

    def __init__(self, servers: int, prioritized: bool = False) -> None:
        self.servers = servers
        self.line: Any = [] if prioritized else deque()


def simulate_replication(
    scenario: Scenario,
    *,
    replication: int = 0,
    horizon: float | None = None,
    warmup: float | None = None,
    seed: int | None = None,
    trace: bool = False,
    keep_waits: int = 0,
) -> ReplicationResult:
    """Simulate one replication of ``scenario`` and return its measurements.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    replication : int
        Replication index; with ``seed`` it selects the random streams.
    horizon, warmup : float, optional
        Simulated time to run and to discard; default: the scenario's run settings
        (with ``warmup: auto``, MSER-5 on this replication's own sample path).
    seed : int, optional
        Root seed; default: the scenario's ``run.seed``.
    trace : bool
        Also return every arrival, start, departure and loss (memory grows with
        the run: for tests and short diagnostic runs).
    keep_waits : int
        Keep each station's last ``keep_waits`` (wait, time per visit) pairs, for
        plots of the waiting-time distribution (bounded memory); 0 keeps none.

    Returns
    -------
    ReplicationResult
    """
    horizon = scenario.run.horizon if horizon is None else float(horizon)
    automatic = warmup is None and scenario.run.warmup == "auto"
    warmup = scenario.run.warmup_time if warmup is None else float(warmup)
    seed = scenario.run.seed if seed is None else int(seed)
    if not 0 <= warmup < horizon:
        raise ValueError(f"need 0 <= warmup < horizon, got warmup={warmup}, horizon={horizon}")

    env = simpy.Environment()
    stations = scenario.stations
    names = scenario.station_names
    lines = [_Servers(station.servers, scenario.has_priorities) for station in stations]
    capacities = [
        station.capacity if station.capacity is not None else math.inf for station in stations
    ]
    monitors = [StationMonitor(station.servers) for station in stations]
    system = SystemMonitor()
    class_monitors = [SystemMonitor() for _ in scenario.classes]
    log: list[TraceRecord] | None = [] if trace else None
    counters = [
        ArrivalCounter(COUNT_WINDOW_ARRIVALS / c.arrivals.rate, warmup, MAX_GAP_SAMPLE)
        for c in scenario.classes
    ]
    transitions = [[[0] * (len(names) + 1) for _ in names] for _ in scenario.classes]
    event_ids = iter(range(1 << 62))

    def streams_for(
        class_index: int,
    ) -> tuple[list[Iterator[float] | None], list[Iterator[int] | None]]:
        event_class = scenario.classes[class_index]
        reachable = event_class.routing.visit_ratios > 0
        services: list[Iterator[float] | None] = []
        hops: list[Iterator[int] | None] = []
        for index, name in enumerate(names):
            if not reachable[index]:
                services.append(None)
                hops.append(None)
                continue
            service_rng = stream_generator(seed, replication, "service", name, event_class.name)
            routing_rng = stream_generator(seed, replication, "routing", name, event_class.name)
            services.append(_sampler(event_class.service[index], service_rng))
            hops.append(_hop_stream(event_class.routing, index, routing_rng))
        return services, hops

    recent_waits: list[deque[tuple[float, float]]] = [
        deque(maxlen=max(keep_waits, 1)) for _ in stations
    ]
    fanouts = [c.routing.fanout for c in scenario.classes]
    blocks = [station.on_full == "block" for station in stations]
    # Senders blocked on a full station, oldest first: (their wake-up event, priority).
    blocked_senders: list[deque[tuple[simpy.Event, float]]] = [deque() for _ in stations]
    prioritized = scenario.has_priorities
    priorities = [c.priority for c in scenario.classes]
    arrival_order = iter(range(1 << 62))

    def admit(station: int, now: float, priority: float) -> simpy.Event | None:
        """Count an event in at ``station``; return its place in the line, or None.

        None means a server is free for it; otherwise the place is an event that a
        departure triggers to hand it a server. The place is taken at once, so that
        another departure at the same instant finds the event waiting and hands it the
        server instead of idling.
        """
        monitor = monitors[station]
        server_free = monitor.present < lines[station].servers
        monitor.arrive(now)
        if server_free:
            return None
        turn = env.event()
        if prioritized:
            heappush(lines[station].line, (priority, next(arrival_order), turn))
        else:
            lines[station].line.append(turn)
        return turn

    def finish(family: list[Any], class_index: int, now: float, lost: bool, is_copy: bool) -> None:
        """One branch of an event (the event itself or a fan-out copy) has ended."""
        if is_copy:
            system.end_copy(now, lost)
            class_monitors[class_index].end_copy(now, lost)
        family[1] = family[1] or lost
        family[0] -= 1
        if family[0]:
            return
        class_monitor = class_monitors[class_index]
        if family[1]:
            system.lose(now)
            class_monitor.lose(now)
        else:
            system.leave(now, now - family[2])
            class_monitor.leave(now, now - family[2])

    def walk(
        class_index: int,
        station: int,
        services: list[Any],
        hops: list[Any],
        family: list[Any] | None = None,
    ) -> Generator[simpy.Event, Any, None]:
        """One event's life (or one fan-out copy's): station to station until it ends.

        ``family`` is shared by an event and its copies: [branches alive, any lost,
        entry time, event id]; the event ends when its last branch does.
        """
        is_copy = family is not None
        if family is None:
            entered = env.now
            family = [1, False, entered, next(event_ids)]
            system.enter(entered)
            class_monitors[class_index].enter(entered)
        event_id = family[3]
        class_name = scenario.classes[class_index].name
        hop_counts = transitions[class_index]
        fanout = fanouts[class_index]
        priority = priorities[class_index]
        if log is not None and not is_copy:
            log.append(TraceRecord(env.now, "enter", event_id, class_name, None))
        let_in = False  # True when a departure admitted this (blocked) event for it
        turn: simpy.Event | None = None
        while True:
            monitor = monitors[station]
            arrived = env.now
            if not let_in:
                if monitor.present >= capacities[station]:
                    monitor.refuse()
                    if log is not None:
                        log.append(
                            TraceRecord(arrived, "lost", event_id, class_name, names[station])
                        )
                    finish(family, class_index, arrived, True, is_copy)
                    return
                turn = admit(station, arrived, priority)
            servers = lines[station]
            if log is not None:
                log.append(TraceRecord(arrived, "arrive", event_id, class_name, names[station]))
            if turn is None:  # a server was free: take it at once
                started = arrived
            else:  # wait in line until a departing event hands its server over
                yield turn
                started = env.now
            if log is not None:
                log.append(TraceRecord(started, "start", event_id, class_name, names[station]))
            yield env.timeout(next(services[station]))
            ended = env.now
            next_station = next(hops[station])
            hop_counts[station][next_station] += 1  # exits (-1) land in the last column
            for target in fanout[station]:  # publish a copy to every subscriber
                if log is not None:
                    log.append(TraceRecord(ended, "copy", event_id, class_name, names[target]))
                family[0] += 1
                system.start_copy(ended)
                class_monitors[class_index].start_copy(ended)
                env.process(walk(class_index, target, services, hops, family))
            let_in = False
            if (
                next_station >= 0
                and blocks[next_station]
                and monitors[next_station].present >= capacities[next_station]
            ):  # blocking after service: keep the server until the next station has room
                if log is not None:
                    log.append(TraceRecord(ended, "blocked", event_id, class_name, names[station]))
                wake = env.event()
                blocked_senders[next_station].append((wake, priority))
                turn = yield wake
                let_in = True
            left = env.now
            if servers.line:
                head = heappop(servers.line)[2] if prioritized else servers.line.popleft()
                head.succeed()
            monitor.depart(left, started - arrived, left - arrived, left - ended)
            if keep_waits:
                recent_waits[station].append((started - arrived, left - arrived))
            if blocked_senders[station]:  # room here: let the oldest blocked sender in
                wake, sender_priority = blocked_senders[station].popleft()
                wake.succeed(admit(station, left, sender_priority))
            if log is not None:
                log.append(TraceRecord(left, "depart", event_id, class_name, names[station]))
            station = next_station
            if station < 0:
                if log is not None:
                    log.append(TraceRecord(left, "exit", event_id, class_name, None))
                finish(family, class_index, left, False, is_copy)
                return

    def source(class_index: int) -> Generator[simpy.Event, Any, None]:
        event_class = scenario.classes[class_index]
        entries = _entry_stream(
            event_class.routing,
            stream_generator(seed, replication, "entry", event_class.name),
        )
        services, hops = streams_for(class_index)
        counter = counters[class_index]
        process = env.process
        timeout = env.timeout
        arrivals = event_class.arrivals
        if arrivals.times is not None:  # replay a trace: the same instants in every replication
            previous = 0.0
            for instant in arrivals.times.tolist():
                if instant >= horizon:
                    return
                yield timeout(instant - env.now)
                counter.arrive(instant, instant - previous)
                previous = instant
                process(walk(class_index, next(entries), services, hops))
            return
        assert arrivals.interarrival is not None
        gaps = _sampler(
            arrivals.interarrival, stream_generator(seed, replication, "arrivals", event_class.name)
        )
        while True:
            gap = next(gaps)
            yield timeout(gap)
            counter.arrive(env.now, gap)
            process(walk(class_index, next(entries), services, hops))

    grid = np.linspace(0.0, horizon, PATH_INTERVALS + 1)
    station_path: list[list[StationSnapshot]] = [[m.snapshot(0.0)] for m in monitors]
    system_path: list[SystemSnapshot] = [system.snapshot(0.0)]
    class_paths: list[list[SystemSnapshot]] = [[m.snapshot(0.0)] for m in class_monitors]

    def record_path(now: float) -> None:
        for monitor, rows in zip(monitors, station_path, strict=True):
            rows.append(monitor.snapshot(now))
        system_path.append(system.snapshot(now))
        for whole, snapshots in zip(class_monitors, class_paths, strict=True):
            snapshots.append(whole.snapshot(now))

    def ticker() -> Generator[simpy.Event, Any, None]:
        for time in grid[1:-1].tolist():
            yield env.timeout(time - env.now)
            record_path(time)

    warm = [m.snapshot(0.0) for m in monitors]
    warm_system = [system.snapshot(0.0), *(m.snapshot(0.0) for m in class_monitors)]

    def end_warmup(_: simpy.Event) -> None:
        now = env.now
        warm[:] = [m.snapshot(now) for m in monitors]
        warm_system[:] = [system.snapshot(now), *(m.snapshot(now) for m in class_monitors)]

    for class_index in range(len(scenario.classes)):
        env.process(source(class_index))
    env.process(ticker())
    if warmup > 0:
        env.timeout(warmup).callbacks.append(end_warmup)
    env.run(until=horizon)
    record_path(horizon)

    end = [rows[-1] for rows in station_path]
    path = SamplePath(
        times=grid,
        stations={
            name: np.array(rows, dtype=float)
            for name, rows in zip(names, station_path, strict=True)
        },
        servers={station.name: station.servers for station in stations},
        system=np.array(system_path, dtype=float),
        classes={
            c.name: np.array(rows, dtype=float)
            for c, rows in zip(scenario.classes, class_paths, strict=True)
        },
    )
    result = ReplicationResult(
        replication=replication,
        seed=seed,
        horizon=horizon,
        warmup=warmup,
        stations={
            station.name: station_record(start, finish, station.servers)
            for station, start, finish in zip(stations, warm, end, strict=True)
        },
        system=system_record(warm_system[0], system_path[-1]),
        classes={
            event_class.name: system_record(start, rows[-1])
            for event_class, start, rows in zip(
                scenario.classes, warm_system[1:], class_paths, strict=True
            )
        },
        completed_visits=sum(m.completions for m in monitors),
        observations={
            event_class.name: ClassObservations(
                window=counter.window,
                counts=counter.histogram(horizon),
                gaps=tuple(counter.gaps),
                transitions=tuple(tuple(row) for row in rows),
            )
            for event_class, counter, rows in zip(
                scenario.classes, counters, transitions, strict=True
            )
        },
        path=path,
        waits={name: tuple(recent) for name, recent in zip(names, recent_waits, strict=True)}
        if keep_waits
        else None,
        trace=tuple(log) if log is not None else None,
    )
    if automatic:
        cut, _ = mser_cut([path])
        if cut:
            result = result.truncated(cut)
    return result
