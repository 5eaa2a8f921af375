"""The fast engine's replication driver: build the state, run the loop, make the result.

:func:`simulate_replication_fast` builds the state arrays
(:mod:`eda_sim.engine.fast.state`), schedules the first events as SimPy does,
calls the compiled loop (:func:`eda_sim.engine.fast.kernel.run_kernel`) until it
reaches the horizon (refilling stream buffers, growing the event pool and the
arrival histograms, growing or resizing the event queue when it returns for them) and turns the
monitors' totals into the same :class:`~eda_sim.engine.records.ReplicationResult`
as the SimPy engine's, sample path, observations and waits included.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast import kinds
from eda_sim.engine.fast.buffers import POOL
from eda_sim.engine.fast.queue_room import first_events, new_queue, serve
from eda_sim.engine.fast.sketches import SketchChunks
from eda_sim.engine.fast.state import (
    ARRIVAL_COUNTER,
    CONTROL,
    EVENT,
    SNAPSHOT_FIELDS,
    STATION_MONITOR,
    SYSTEM_MONITOR,
    ArrivalState,
    RecentWaits,
    SamplePathState,
    grown,
)
from eda_sim.engine.fast.streams import open_streams, reads_per_event
from eda_sim.engine.fast.support import Kernel, check_supported, load_kernel
from eda_sim.engine.fast.tables import (
    blocking_state,
    fanout_tables,
    route_tables,
    server_state,
    trace_state,
)
from eda_sim.engine.hops import HopCounts
from eda_sim.engine.latency import LatencyLayout, ReplicationLatency
from eda_sim.engine.records import (
    ClassObservations,
    ReplicationResult,
    SamplePath,
    station_record,
    system_record,
    with_percentiles,
)
from eda_sim.engine.settings import (
    COUNT_WINDOW_ARRIVALS,
    MAX_GAP_SAMPLE,
    PATH_INTERVALS,
    ReplicationSettings,
    with_automatic_warmup,
)
from eda_sim.scenario import Scenario
from eda_sim.stats import StationSnapshot, SystemSnapshot

__all__ = ["simulate_replication_fast"]

_INITIAL_SLOTS = 256
_INITIAL_BINS = 64
#: The stations' sample path's purpose in the pool of kept memory.
_PATH = "sample path"


class _Replication:
    """The state of one replication in the fast engine, and what the driver does with it."""

    def __init__(self, scenario: Scenario, settings: ReplicationSettings, keep_waits: int):
        self.scenario, self.settings = scenario, settings
        stations, classes = scenario.stations, scenario.classes
        n_stations, n_classes = len(stations), len(classes)
        self.streams = open_streams(scenario, settings.seed, settings.replication)
        self.routes = route_tables(scenario)
        self.servers = server_state(scenario)
        self.capacity = np.array(
            [-1 if s.capacity is None else s.capacity for s in stations], dtype=np.int64
        )
        self.blocking = blocking_state(scenario)
        self.fanout = fanout_tables(scenario)
        self.trace = trace_state(scenario, settings.horizon)
        self.monitors = np.zeros(n_stations, dtype=STATION_MONITOR)
        self.system = np.zeros(n_classes + 1, dtype=SYSTEM_MONITOR)
        grid = np.linspace(0.0, settings.horizon, PATH_INTERVALS + 1)
        self.path = SamplePathState(
            grid=grid,
            # every value written (a snapshot at 0, a tick at each grid point, the
            # horizon's): the memory of a dropped result's path, if any (buffers.py)
            stations=POOL.take_shared(_PATH, (n_stations, len(grid), SNAPSHOT_FIELDS), np.float64),
            system=np.zeros((n_classes + 1, len(grid), SNAPSHOT_FIELDS)),
            warm_stations=np.zeros((n_stations, SNAPSHOT_FIELDS)),
            warm_system=np.zeros((n_classes + 1, SNAPSHOT_FIELDS)),
        )
        counters = np.zeros(n_classes, dtype=ARRIVAL_COUNTER)
        counters["window"] = [COUNT_WINDOW_ARRIVALS / c.arrivals.rate for c in classes]
        counters["start"] = settings.warmup
        self.arrivals = ArrivalState(
            counters=counters,
            histogram=np.zeros((n_classes, _INITIAL_BINS), dtype=np.int64),
            seen=np.zeros((n_classes, _INITIAL_BINS), dtype=np.int64),
            gaps=np.zeros((n_classes, MAX_GAP_SAMPLE)),
        )
        keep = max(int(keep_waits), 0)
        self.waits = RecentWaits(
            pairs=np.zeros((n_stations, keep, 2)), written=np.zeros(n_stations, dtype=np.int64)
        )
        self.events = _new_events(_INITIAL_SLOTS)
        self.free = np.arange(_INITIAL_SLOTS - 1, -1, -1, dtype=np.int64)
        reserve = reads_per_event(scenario)  # 2 + the most copies one service publishes
        self.queue = new_queue(64 + 4 * n_classes + 2 * reserve)
        self.control = np.zeros(1, dtype=CONTROL)
        self.control["horizon"] = settings.horizon
        self.control["free_count"] = _INITIAL_SLOTS
        self.control["reserve"] = reserve
        self.layout = LatencyLayout.of(scenario)
        self.sketches = SketchChunks(self.layout, settings.horizon, settings.cuts, len(grid))

    def snapshot(
        self, kernel: Kernel, now: float, stations: np.ndarray, system: np.ndarray
    ) -> None:
        """Snapshots of every monitor at ``now`` into the rows given."""
        kernel.snapshot_all(self.monitors, self.servers.servers, self.system, now, stations, system)

    def schedule_first_events(self) -> None:
        """SimPy's start: the warm-up's end, then each source's first arrival, then the first tick.

        The warm-up timeout is scheduled before the run; then each source draws its
        first gap (or waits for its trace's first instant, if before the horizon)
        and the ticker schedules its first tick, in that order.
        """
        first: list[tuple[float, int]] = []  # (time, payload), in scheduling order
        if self.settings.warmup > 0:
            first.append((0.0 + self.settings.warmup, kinds.WARMUP))
        values, cursor = self.streams.state
        trace = self.trace
        for k in range(len(self.scenario.classes)):
            payload = (k << kinds.KIND_BITS) + kinds.ARRIVAL
            if trace.replayed[k]:
                position = int(trace.next[k])
                if position < trace.stop[k]:
                    first.append((0.0 + (float(trace.times[position]) - 0.0), payload))
                continue
            gap = values[k, 0]
            cursor[k]["pos"] = 1
            self.arrivals.counters[k]["gap"] = gap
            first.append((0.0 + gap, payload))
        grid = self.path.grid
        first.append((0.0 + (grid[1] - 0.0), (1 << kinds.KIND_BITS) + kinds.TICK))
        size = first_events(self.queue, [t for t, _ in first], [p for _, p in first])
        self.control["seq"] = self.control["heap_size"] = size

    def run(self, kernel: Kernel) -> None:
        """Run the loop to the horizon, serving what it returns for."""
        control = self.control
        while True:
            status = kernel.run(
                control, self.queue, self.events, self.free, self.servers, self.capacity,
                self.blocking, self.fanout, self.monitors, self.system, self.path,
                self.arrivals, self.trace, self.streams.state,
                self.routes, self.waits, self.sketches.state,
            )  # fmt: skip
            if status == kinds.DONE:
                return
            if status in _SKETCH_STATUSES:
                self.sketches.serve(status, control)
                continue
            if status == kinds.REFILL:
                self.streams.refill()
                control["need_refill"] = 0
            elif status == kinds.GROW_SLOTS:
                self._grow_slots()
            elif status == kinds.GROW_HEAP:
                self.queue = serve(
                    self.queue, int(control["heap_size"][0]), int(control["reserve"][0])
                )
            elif status == kinds.GROW_HIST:
                histogram, seen = self.arrivals.histogram, self.arrivals.seen
                self.arrivals = self.arrivals._replace(
                    histogram=np.ascontiguousarray(grown(histogram.T, 2 * histogram.shape[1]).T),
                    seen=np.ascontiguousarray(grown(seen.T, 2 * seen.shape[1]).T),
                )
                control["hist_full"] = 0

    def close(self) -> None:
        """Give the work arrays that the result does not hold back to the pool of kept memory.

        Made again for the next replication in this process, they would be new
        memory to map and clear (:mod:`~eda_sim.engine.fast.buffers`).
        """
        self.streams.close()
        self.sketches.close()

    def _grow_slots(self) -> None:
        slots = len(self.events)
        count = int(self.control["free_count"][0])
        events = _new_events(2 * slots)
        events[:slots] = self.events
        self.events = events
        self.free = grown(self.free, 2 * slots)
        self.free[count : count + slots] = np.arange(2 * slots - 1, slots - 1, -1)
        self.control["free_count"] = count + slots

    def observations(self) -> dict[str, ClassObservations]:
        """Per class: the arrival counts per window, the gap sample and the hop counts."""
        settings = self.settings
        arrivals = self.arrivals
        observations = {}
        for k, c in enumerate(self.scenario.classes):
            counter = arrivals.counters[k]
            window = float(counter["window"])
            complete = int((settings.horizon - settings.warmup) // window)
            current, count, distinct = (
                int(counter["current"]),
                int(counter["count"]),
                int(counter["distinct"]),
            )
            observations[c.name] = ClassObservations(
                window=window,
                counts=_histogram(
                    arrivals.histogram[k], arrivals.seen[k, :distinct], current, count, complete
                ),
                gaps=tuple(arrivals.gaps[k, : int(counter["kept"])].tolist()),
                transitions=self.transitions(k),
            )
        return observations

    def transitions(self, k: int) -> HopCounts:
        """Class ``k``'s hops from station ``i`` to ``j`` (``j = N``: exits), from the counts."""
        n = len(self.scenario.stations)
        rows = self.routes.rows[k * n : (k + 1) * n]
        first, last = int(rows["start"][0]), int(rows["stop"][-1])
        hops = self.routes.hops[first:last]
        stations = np.arange(n)
        return HopCounts.from_arrays(
            n,
            np.concatenate([np.repeat(stations, rows["stop"] - rows["start"]), stations]),
            np.concatenate([hops["target"], np.full(n, n)]),
            np.concatenate([hops["taken"], rows["exits"]]),
        )

    def recent_waits(self) -> dict[str, tuple[tuple[float, float], ...]] | None:
        """Per station, the last (wait, time per visit) pairs, oldest first; None if none kept."""
        pairs, counts = self.waits
        keep = pairs.shape[1]
        if not keep:
            return None
        recent = {}
        for i, name in enumerate(self.scenario.station_names):
            total = int(counts[i])
            order = [j % keep for j in range(max(total - keep, 0), total)]
            recent[name] = tuple((float(a), float(b)) for a, b in pairs[i, order].tolist())
        return recent

    def result(self) -> ReplicationResult:
        """The replication's records at the horizon (after :meth:`run` and the last snapshot)."""
        scenario, settings, path = self.scenario, self.settings, self.path
        stations, classes = scenario.stations, scenario.classes
        warm_st = path.stations[:, 0] if settings.warmup <= 0 else path.warm_stations
        warm_sys = path.system[:, 0] if settings.warmup <= 0 else path.warm_system
        starts, ends = warm_st.tolist(), path.stations[:, -1].tolist()  # one call each, not N
        result = ReplicationResult(
            replication=settings.replication,
            seed=settings.seed,
            horizon=settings.horizon,
            warmup=settings.warmup,
            stations={
                station.name: station_record(
                    _station_snapshot(start), _station_snapshot(end), station.servers
                )
                for station, start, end in zip(stations, starts, ends, strict=True)
            },
            system=system_record(
                _system_snapshot(warm_sys[0]), _system_snapshot(path.system[0, -1])
            ),
            classes={
                c.name: system_record(
                    _system_snapshot(warm_sys[1 + k]), _system_snapshot(path.system[1 + k, -1])
                )
                for k, c in enumerate(classes)
            },
            completed_visits=int(self.monitors["completions"].sum()),
            observations=self.observations(),
            path=SamplePath(
                times=path.grid,
                stations={s.name: path.stations[i] for i, s in enumerate(stations)},
                servers={s.name: s.servers for s in stations},
                system=path.system[0],
                classes={c.name: path.system[1 + k] for k, c in enumerate(classes)},
            ),
            waits=self.recent_waits(),
            latency=ReplicationLatency.measure(
                self.layout, self.sketches.finish(self.control, PATH_INTERVALS)
            ),
        )
        return with_percentiles(result)


#: The loop's returns that the sketches serve.
_SKETCH_STATUSES = frozenset({kinds.CUT, kinds.GROW_POOL, kinds.GROW_RARE})


def _new_events(slots: int) -> np.ndarray:
    """An event pool of ``slots`` free slots."""
    events = np.zeros(slots, dtype=EVENT)
    for name in ("event_class", "station", "next_station", "next_in_line", "journey"):
        events[name] = -1
    return events


def _station_snapshot(v: list[float]) -> StationSnapshot:
    return StationSnapshot(
        v[0], v[1], v[2], int(v[3]), int(v[4]), int(v[5]), v[6], v[7], int(v[8]), v[9]
    )


def _system_snapshot(row: np.ndarray) -> SystemSnapshot:
    v = row.tolist()
    return SystemSnapshot(
        v[0],
        v[1],
        int(v[2]),
        int(v[3]),
        int(v[4]),
        v[5],
        int(v[6]),
        int(v[7]),
        int(v[8]),
        int(v[9]),
    )


def _histogram(
    counts: np.ndarray, seen: np.ndarray, current: int, count: int, complete: int
) -> dict[int, int]:
    """``ArrivalCounter.histogram`` from the loop's closed-window counts (same key order)."""
    histogram = {int(n): int(counts[n]) for n in seen.tolist()}
    if complete > current:
        histogram[count] = histogram.get(count, 0) + 1
        if complete - current > 1:
            histogram[0] = histogram.get(0, 0) + complete - current - 1
    return histogram


def simulate_replication_fast(
    scenario: Scenario,
    *,
    replication: int = 0,
    horizon: float | None = None,
    warmup: float | None = None,
    seed: int | None = None,
    keep_waits: int = 0,
    batch_means: bool = False,
    later_starts: bool = True,
) -> ReplicationResult:
    """Simulate one replication of ``scenario`` in the compiled loop.

    Same parameters (``later_starts`` included) and result as
    :func:`eda_sim.engine.simpy.simulate_replication` (without ``trace``),
    and, for a supported scenario, the same numbers.

    Raises
    ------
    ScenarioError
        When numba is missing or the scenario uses an unsupported feature
        (:func:`~eda_sim.engine.fast.support.check_supported`).
    """
    check_supported(scenario)
    kernel = load_kernel()
    settings = ReplicationSettings.resolve(
        scenario, replication, horizon, warmup, seed, batch_means, later_starts
    )
    state = _Replication(scenario, settings, keep_waits)
    path = state.path
    state.snapshot(kernel, 0.0, path.stations[:, 0], path.system[:, 0])
    state.snapshot(kernel, 0.0, path.warm_stations, path.warm_system)
    state.schedule_first_events()
    state.run(kernel)
    state.snapshot(kernel, settings.horizon, path.stations[:, -1], path.system[:, -1])
    result = state.result()
    state.close()
    return with_automatic_warmup(result, settings)
