"""What a SimPy replication measures, and the result it returns (SimPy engine).

:class:`Measurement` holds every streamed monitor of one replication
(:mod:`eda_sim.stats`): one :class:`~eda_sim.stats.StationMonitor` per station,
one :class:`~eda_sim.stats.SystemMonitor` for the system and one per event
class, an :class:`~eda_sim.stats.ArrivalCounter` per class, the hop counts,
the last waits per station (when asked for) and the event trace (when asked
for). The walk (:mod:`eda_sim.engine.simpy.walk`) calls the monitors at its
hook points; this module adds what runs beside the walk: the grid ticks that
keep the sample path, the warm-up snapshot, and :meth:`Measurement.result`.

A new metric is streamed by a monitor in :mod:`eda_sim.stats`, called from the
walk's hook point where its events happen, and named in
:mod:`eda_sim.metrics`; :meth:`Measurement.result` is where its value goes into
the replication's records.

The sample path keeps, at each grid point, only the states of the stations in
:attr:`Measurement.touched` (:class:`StationPathLog`): whatever changes a
station monitor (``arrive``, ``refuse``, ``depart``, or a new monitor method)
adds the station to ``touched`` at the same instant, as the walk does at the
arrival and departure points (``tests/test_sample_path.py`` checks the kept
path against snapshots of every station at every grid point).
"""

from __future__ import annotations

from array import array
from collections import Counter, deque
from collections.abc import Collection, Generator, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import simpy

from eda_sim.engine.hops import HopCounts
from eda_sim.engine.latency import LatencyLayout, ReplicationLatency
from eda_sim.engine.records import (
    ClassObservations,
    ReplicationResult,
    SamplePath,
    TraceRecord,
    station_record,
    system_record,
    with_percentiles,
)
from eda_sim.engine.settings import (
    COUNT_WINDOW_ARRIVALS,
    MAX_GAP_SAMPLE,
    PATH_INTERVALS,
    ReplicationSettings,
)
from eda_sim.scenario import Scenario, Station
from eda_sim.stats import (
    ArrivalCounter,
    StationMonitor,
    StationSnapshot,
    SystemMonitor,
    SystemSnapshot,
)
from eda_sim.stats.chunks import WARMUP_LABEL, SketchBank

__all__ = ["Measurement", "StationPathLog", "TraceLog"]

#: A station monitor's state, in the order of :class:`~eda_sim.stats.StationSnapshot`'s
#: fields (``last``, the time of its last change, where the snapshot has its time).
_MONITOR_STATE = attrgetter(
    "last",
    "area_busy",
    "area_waiting",
    "arrivals",
    "lost",
    "completions",
    "wait_sum",
    "sojourn_sum",
    "present",
    "blocked_sum",
)


class TraceLog:
    """Every arrival, start, departure, loss, copy and block of a replication, in order.

    Kept only when a trace is asked for: memory grows with the run.
    """

    __slots__ = ("class_names", "records", "station_names")

    def __init__(self, scenario: Scenario) -> None:
        self.records: list[TraceRecord] = []
        self.class_names = scenario.class_names
        self.station_names = scenario.station_names

    def add(self, time: float, kind: str, event: int, class_index: int, station: int) -> None:
        """Record ``kind`` (see :class:`~eda_sim.engine.records.TraceRecord`); station -1: none."""
        self.records.append(
            TraceRecord(
                time,
                kind,
                event,
                self.class_names[class_index],
                self.station_names[station] if station >= 0 else None,
            )
        )


class StationPathLog:
    """The stations' sample path, kept as the monitors' states where they changed.

    A station's snapshot at a grid point is a function of its monitor's state
    there (running totals, number present, time of the last change) and the
    grid time: :meth:`StationMonitor.snapshot`. A station that no event reached
    since the last grid point is in the same state as there, so only the states
    of the stations an event reached (the walk's ``touched`` set) are kept, each
    with the grid point from which it holds: the cost of a grid point is the
    number of stations that changed, not the number of stations (a network of
    1,000 stations has few busy ones between two grid points). :meth:`rows`
    then evaluates every snapshot at once with the same arithmetic, operation
    for operation, as :meth:`StationMonitor.snapshot`, so the path is the one
    that snapshots taken at every grid point give, bit for bit (and the fast
    engine's, :func:`eda_sim.engine.fast.monitors.station_snapshot`).
    """

    __slots__ = ("_counts", "_monitors", "_points", "_states", "_stations")

    def __init__(self, monitors: list[StationMonitor]) -> None:
        self._monitors = monitors
        # Flat machine arrays, not lists of tuples: a kept state is no Python object
        # that the garbage collector must visit again and again as the path grows.
        self._states = array("d")  # the kept states, one after the other
        self._stations = array("q")  # the station of each kept state
        self._points = array("q")  # per call of keep: the grid point ...
        self._counts = array("q")  # ... and how many states it kept
        self.keep(range(len(monitors)), 0)

    def keep(self, stations: Collection[int], index: int) -> None:
        """Keep the state of ``stations``' monitors, as it holds from grid point ``index``."""
        self._stations.extend(stations)
        monitors = map(self._monitors.__getitem__, stations)
        self._states.extend(chain.from_iterable(map(_MONITOR_STATE, monitors)))
        self._points.append(index)
        self._counts.append(len(stations))

    def rows(self, grid: np.ndarray, stations: Sequence[Station]) -> np.ndarray:
        """Every station's snapshot at every grid point: shape (stations, grid points, 10)."""
        width = len(StationSnapshot._fields)
        states = np.frombuffer(self._states, dtype=float).reshape(-1, width)
        points = np.repeat(np.frombuffer(self._points, dtype=np.int64), self._counts)
        owners = np.frombuffer(self._stations, dtype=np.int64)
        order = np.lexsort((points, owners))  # by station, then grid point
        states, points = states[order], points[order]
        # A state holds until the station's next one, its last one until the horizon.
        ends = np.full_like(points, len(grid))
        same_station = np.diff(owners[order]) == 0
        ends[:-1][same_station] = points[1:][same_station]
        rows = np.repeat(states, ends - points, axis=0).reshape(len(stations), len(grid), width)
        servers = np.array([station.servers for station in stations], dtype=float)[:, None]
        present = rows[:, :, 8]
        busy = np.minimum(present, servers)
        elapsed = grid[None, :] - rows[:, :, 0]
        rows[:, :, 1] += busy * elapsed
        rows[:, :, 2] += (present - busy) * elapsed
        rows[:, :, 0] = grid
        return rows


class Measurement:
    """The monitors of one replication and the result built from them.

    Attributes
    ----------
    stations : list of StationMonitor
        One per station, in station order.
    system : SystemMonitor
        The whole system.
    classes : list of SystemMonitor
        One per event class.
    counters : list of ArrivalCounter
        External arrivals per class (the Poisson checks).
    transitions : list of list of Counter
        ``transitions[k][i][j]``: hops of class ``k`` from station ``i`` to ``j``
        (``j = -1``: exits), only the pairs that occurred.
    recent_waits : list of deque or None
        The last ``(wait, time per visit)`` pairs per station, or None.
    log : TraceLog or None
        The event trace, or None.
    layout : LatencyLayout
        Which percentile sketch is which (:mod:`eda_sim.engine.latency`).
    sketches : SketchBank
        The percentile sketches, cut into chunks at ``settings.cuts`` and the warm-up.
    touched : set of int
        The stations whose monitor changed since the last grid point: whatever
        changes a station monitor adds its station here (the sample path keeps
        only these stations' new states).
    """

    def __init__(
        self, scenario: Scenario, settings: ReplicationSettings, trace: bool, keep_waits: int
    ) -> None:
        self.scenario = scenario
        self.settings = settings
        self.stations = [StationMonitor(station.servers) for station in scenario.stations]
        self.system = SystemMonitor()
        self.classes = [SystemMonitor() for _ in scenario.classes]
        self.counters = [
            ArrivalCounter(COUNT_WINDOW_ARRIVALS / c.arrivals.rate, settings.warmup, MAX_GAP_SAMPLE)
            for c in scenario.classes
        ]
        self.transitions: list[list[Counter[int]]] = [
            [Counter() for _ in scenario.stations] for _ in scenario.classes
        ]
        self.recent_waits: list[deque[tuple[float, float]]] | None = (
            [deque(maxlen=keep_waits) for _ in scenario.stations] if keep_waits > 0 else None
        )
        self.log = TraceLog(scenario) if trace else None
        self.layout = LatencyLayout.of(scenario)
        self.sketches = SketchBank(self.layout.size, self.layout.levels)
        self._cuts = frozenset(settings.cuts)
        self.grid = np.linspace(0.0, settings.horizon, PATH_INTERVALS + 1)
        self.touched: set[int] = set()
        self._station_path = StationPathLog(self.stations)
        self._system_path: list[SystemSnapshot] = [self.system.snapshot(0.0)]
        self._class_paths: list[list[SystemSnapshot]] = [[m.snapshot(0.0)] for m in self.classes]
        self._warm = [m.snapshot(0.0) for m in self.stations]
        self._warm_system = [self.system.snapshot(0.0), *(m.snapshot(0.0) for m in self.classes)]

    def start(self, env: simpy.Environment) -> None:
        """Start the grid ticks and, with a warm-up, the snapshot at its end."""
        env.process(self._ticks(env))
        if self.settings.warmup > 0:
            env.timeout(self.settings.warmup).callbacks.append(lambda _: self._end_warmup(env.now))

    def _record_path(self, index: int, now: float) -> None:
        """Keep the state of every monitor at grid point ``index`` (time ``now``).

        Only the stations in :attr:`touched` have a new state to keep; the others'
        state is the one already kept (:class:`StationPathLog`).
        """
        self._station_path.keep(self.touched, index)
        self.touched.clear()
        self._system_path.append(self.system.snapshot(now))
        for whole, snapshots in zip(self.classes, self._class_paths, strict=True):
            snapshots.append(whole.snapshot(now))

    def _ticks(self, env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        cuts, cut = self._cuts, self.sketches.cut
        for index, time in enumerate(self.grid[1:-1].tolist(), start=1):
            yield env.timeout(time - env.now)
            self._record_path(index, time)
            if index in cuts:
                cut(index)

    def _end_warmup(self, now: float) -> None:
        self.sketches.cut(WARMUP_LABEL)
        self._warm = [m.snapshot(now) for m in self.stations]
        self._warm_system = [self.system.snapshot(now), *(m.snapshot(now) for m in self.classes)]

    def result(self) -> ReplicationResult:
        """The replication's records, observations, sample path, waits and trace at the horizon.

        Called once the run has reached the horizon.
        """
        scenario, settings = self.scenario, self.settings
        horizon = settings.horizon
        self._record_path(len(self.grid) - 1, horizon)
        chunks = self.sketches.finish(PATH_INTERVALS)
        end = [monitor.snapshot(horizon) for monitor in self.stations]
        names = scenario.station_names
        path = SamplePath(
            times=self.grid,
            stations=dict(
                zip(names, self._station_path.rows(self.grid, scenario.stations), strict=True)
            ),
            servers={station.name: station.servers for station in scenario.stations},
            system=np.array(self._system_path, dtype=float),
            classes={
                c.name: np.array(rows, dtype=float)
                for c, rows in zip(scenario.classes, self._class_paths, strict=True)
            },
        )
        waits = None
        if self.recent_waits is not None:
            waits = {
                name: tuple(recent) for name, recent in zip(names, self.recent_waits, strict=True)
            }
        result = ReplicationResult(
            replication=settings.replication,
            seed=settings.seed,
            horizon=horizon,
            warmup=settings.warmup,
            stations={
                station.name: station_record(start, finish, station.servers)
                for station, start, finish in zip(scenario.stations, self._warm, end, strict=True)
            },
            system=system_record(self._warm_system[0], self._system_path[-1]),
            classes={
                event_class.name: system_record(start, rows[-1])
                for event_class, start, rows in zip(
                    scenario.classes, self._warm_system[1:], self._class_paths, strict=True
                )
            },
            completed_visits=sum(m.completions for m in self.stations),
            observations={
                event_class.name: ClassObservations(
                    window=counter.window,
                    counts=counter.histogram(horizon),
                    gaps=tuple(counter.gaps),
                    transitions=HopCounts.from_rows(len(rows), rows),
                )
                for event_class, counter, rows in zip(
                    scenario.classes, self.counters, self.transitions, strict=True
                )
            },
            path=path,
            waits=waits,
            trace=tuple(self.log.records) if self.log is not None else None,
            latency=ReplicationLatency.measure(self.layout, chunks),
        )
        return with_percentiles(result)
