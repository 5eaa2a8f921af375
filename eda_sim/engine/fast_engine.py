"""The fast engine: one replication in a compiled event loop (layer 4; needs numba).

``engine="fast"`` (``--engine fast``) runs the same model as the SimPy engine
(:mod:`eda_sim.engine.simpy_engine`) for the Markov-network subset: event classes,
``c`` FIFO servers per station, capacity with loss, every service and gap
distribution, Poisson and renewal arrivals, warm-up (fixed or MSER-5). It draws
from the *same* random streams (:mod:`eda_sim.rng`, same keys, same batches of
:data:`~eda_sim.rng.DEFAULT_BATCH_SIZE`), consumed in the same order, and
processes events in SimPy's order (time, then priority, then scheduling order),
so it returns the same :class:`~eda_sim.engine.records.ReplicationResult` as the
SimPy engine, sample path, observations and waits included, only sooner.

A scenario that uses what the compiled loop lacks (fan-out, blocking, priorities,
trace replay) is refused with a :class:`~eda_sim.errors.ScenarioError` naming the
feature and where it is set; the fast engine never falls back to SimPy silently,
so ``--engine fast`` always means the compiled loop ran. Without numba (the
``[fast]`` extra) it is refused the same way.

The loop itself is in :mod:`eda_sim.engine.fast.kernel` and is compiled on first
use and cached on disk (numba ``cache=True``), so a second process does not
recompile.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from eda_sim.engine.records import (
    ClassObservations,
    ReplicationResult,
    SamplePath,
    mser_cut,
    station_record,
    system_record,
)
from eda_sim.engine.settings import COUNT_WINDOW_ARRIVALS, MAX_GAP_SAMPLE, PATH_INTERVALS
from eda_sim.errors import Fault, ScenarioError
from eda_sim.rng import DEFAULT_BATCH_SIZE, stream_generator
from eda_sim.scenario import Scenario
from eda_sim.stats import StationSnapshot, SystemSnapshot

__all__ = [
    "ENGINE_NAME",
    "MISSING_NUMBA",
    "check_supported",
    "load_kernel",
    "simulate_replication_fast",
]

#: The name this engine reports in results.
ENGINE_NAME = "fast"
#: The message when numba is not installed.
MISSING_NUMBA = "the fast engine needs numba: pip install 'eda-sim[fast]'"
_INITIAL_SLOTS = 256
_INITIAL_BINS = 64
#: Batches of DEFAULT_BATCH_SIZE values drawn per refill of a stream, at most.
_MAX_BATCHES = 32
#: Upper bound on the stream buffers' size.
_BUFFER_BYTES = 64 << 20


def load_kernel() -> ModuleType:
    """Import the compiled loop's module, or refuse with a one-line message naming the extra.

    Raises
    ------
    ScenarioError
        With the fault path ``engine`` when numba cannot be imported.
    """
    try:
        return importlib.import_module("eda_sim.engine.fast.kernel")
    except ImportError:
        raise ScenarioError(Fault("engine", MISSING_NUMBA)) from None


def check_supported(scenario: Scenario) -> None:
    """Refuse a scenario that uses what the fast engine lacks, naming the feature.

    Raises
    ------
    ScenarioError
        One fault (path ``engine``, one line) naming each unsupported feature
        (fan-out, blocking, priorities, trace replay) and where it is set.
    """
    prefix = {
        c.name: "" if scenario.single_class else f"classes.{c.name}." for c in scenario.classes
    }
    found: dict[str, list[str]] = {}
    for c in scenario.classes:
        for index, targets in enumerate(c.routing.fanout):
            if targets:
                where = f"{prefix[c.name]}routing.{scenario.station_names[index]}.fanout"
                found.setdefault("fan-out", []).append(where)
    for station in scenario.stations:
        if station.on_full == "block":
            found.setdefault("blocking", []).append(f"stations.{station.name}.on_full")
    if scenario.has_priorities:
        found["priorities"] = [f"classes.{c.name}.priority" for c in scenario.classes]
    for c in scenario.classes:
        if c.arrivals.kind == "trace":
            found.setdefault("trace replay", []).append(f"{prefix[c.name]}arrivals.process")
    if found:
        features = ", ".join(f"{feature} ({', '.join(where)})" for feature, where in found.items())
        raise ScenarioError(
            Fault("engine", f"the fast engine does not support {features}; use --engine simpy")
        )


@dataclass
class _Streams:
    """Buffers of random values, one row per stream, and how to refill each row.

    Rows ``[0, R)`` hold the values the SimPy engine draws from a distribution
    (gaps, services); rows ``[R, 2R)`` the uniforms its routing draws invert
    (:attr:`eda_sim.routing.Routing.draw_tables`), which the loop inverts itself.
    A refill appends whole batches of :data:`~eda_sim.rng.DEFAULT_BATCH_SIZE`
    values, each drawn by its own call, exactly as :func:`eda_sim.rng.batched`
    draws them; the number of batches per refill doubles (up to
    :data:`_MAX_BATCHES`) so that long runs return to Python rarely and short
    ones draw little ahead. ``end[row]`` is the number of valid values.
    """

    values: np.ndarray
    pos: np.ndarray
    end: np.ndarray
    draws: list[Callable[[int], np.ndarray] | None]
    batches: list[int]

    def refill(self) -> None:
        """Draw the next batches of every exhausted stream."""
        batch = DEFAULT_BATCH_SIZE
        for row in np.flatnonzero(self.pos == self.end).tolist():
            draw = self.draws[row]
            if draw is None:  # a stream the scenario never uses
                continue
            count = min(self.batches[row], self.values.shape[1] // batch)
            for part in range(count):
                self.values[row, part * batch : (part + 1) * batch] = draw(batch)
            self.pos[row] = 0
            self.end[row] = count * batch
            self.batches[row] = 2 * count


def _streams(scenario: Scenario, seed: int, replication: int) -> _Streams:
    """The same streams as the SimPy engine's ``source``/``streams_for``, first batches drawn.

    Rows (``R = K + K·N``): gaps of class ``k`` at row ``k`` and the uniforms of
    its entries at ``R + k``; service of class ``k`` at station ``i`` at row
    ``K + k·N + i`` and the uniforms of its next hops at ``R + K + k·N + i``. A
    station the class never reaches has no stream (as there).
    """
    names = scenario.station_names
    n_classes, n_stations = len(scenario.classes), len(names)
    rows = n_classes + n_classes * n_stations
    draws: list[Callable[[int], np.ndarray] | None] = [None] * (2 * rows)
    for k, event_class in enumerate(scenario.classes):
        routing = event_class.routing
        draws[rows + k] = stream_generator(seed, replication, "entry", event_class.name).random
        interarrival = event_class.arrivals.interarrival
        assert interarrival is not None  # traces are refused
        gaps_rng = stream_generator(seed, replication, "arrivals", event_class.name)
        draws[k] = _bind_draw(interarrival, gaps_rng)
        reachable = routing.visit_ratios > 0
        for i, name in enumerate(names):
            if not reachable[i]:
                continue
            row = n_classes + k * n_stations + i
            service_rng = stream_generator(seed, replication, "service", name, event_class.name)
            routing_rng = stream_generator(seed, replication, "routing", name, event_class.name)
            draws[row] = _bind_draw(event_class.service[i], service_rng)
            draws[rows + row] = routing_rng.random
    # At most about _BUFFER_BYTES in all (np.zeros does not touch what is never filled).
    most = _BUFFER_BYTES // (16 * rows * DEFAULT_BATCH_SIZE)
    width = DEFAULT_BATCH_SIZE * max(1, min(_MAX_BATCHES, most))
    streams = _Streams(
        values=np.zeros((2 * rows, width)),
        pos=np.zeros(2 * rows, dtype=np.int64),
        end=np.zeros(2 * rows, dtype=np.int64),
        draws=draws,
        batches=[1] * (2 * rows),
    )
    streams.refill()
    return streams


def _bind_draw(distribution: Any, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    return lambda size: np.asarray(distribution.draw(rng, size), dtype=np.float64)


def _draw_tables(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every class's :attr:`~eda_sim.routing.Routing.draw_tables`, stacked for the loop."""
    tables = [c.routing.draw_tables for c in scenario.classes]
    order = np.array([t[0] for t in tables], dtype=np.int64)
    cumulative = np.array([t[1] for t in tables], dtype=np.float64)
    last_entry = np.array([t[2] for t in tables], dtype=np.int64)
    return order, cumulative, last_entry


def _station_snapshot(row: np.ndarray) -> StationSnapshot:
    values = row.tolist()
    return StationSnapshot(
        values[0],
        values[1],
        values[2],
        int(values[3]),
        int(values[4]),
        int(values[5]),
        values[6],
        values[7],
        int(values[8]),
        values[9],
    )


def _system_snapshot(row: np.ndarray) -> SystemSnapshot:
    values = row.tolist()
    return SystemSnapshot(
        values[0],
        values[1],
        int(values[2]),
        int(values[3]),
        int(values[4]),
        values[5],
        int(values[6]),
        int(values[7]),
        int(values[8]),
        int(values[9]),
    )


def _grown(array: np.ndarray, size: int, fill: float = 0) -> np.ndarray:
    """``array`` with its first axis grown to ``size`` (new rows set to ``fill``)."""
    bigger = np.full((size, *array.shape[1:]), fill, dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


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
) -> ReplicationResult:
    """Simulate one replication of ``scenario`` in the compiled loop.

    Same parameters and result as
    :func:`eda_sim.engine.simpy_engine.simulate_replication` (without ``trace``),
    and, for a supported scenario, the same numbers.

    Raises
    ------
    ScenarioError
        When numba is missing or the scenario uses an unsupported feature
        (:func:`check_supported`).
    """
    check_supported(scenario)
    kernel = load_kernel()
    horizon = scenario.run.horizon if horizon is None else float(horizon)
    automatic = warmup is None and scenario.run.warmup == "auto"
    warmup = scenario.run.warmup_time if warmup is None else float(warmup)
    seed = scenario.run.seed if seed is None else int(seed)
    if not 0 <= warmup < horizon:
        raise ValueError(f"need 0 <= warmup < horizon, got warmup={warmup}, horizon={horizon}")

    stations, classes, names = scenario.stations, scenario.classes, scenario.station_names
    n_stations, n_classes = len(stations), len(classes)
    streams = _streams(scenario, seed, replication)
    draw_order, cumulative, last_entry = _draw_tables(scenario)
    servers = np.array([s.servers for s in stations], dtype=np.int64)
    capacity = np.array([-1 if s.capacity is None else s.capacity for s in stations], np.int64)
    grid = np.linspace(0.0, horizon, PATH_INTERVALS + 1)
    points = len(grid)
    st_f = np.zeros((n_stations, 6))
    st_i = np.zeros((n_stations, 4), dtype=np.int64)
    sys_f = np.zeros((n_classes + 1, 3))
    sys_i = np.zeros((n_classes + 1, 4), dtype=np.int64)
    st_path = np.zeros((n_stations, points, 10))
    sys_path = np.zeros((n_classes + 1, points, 10))
    st_warm = np.zeros((n_stations, 10))
    sys_warm = np.zeros((n_classes + 1, 10))
    kernel.snapshot_all(st_f, st_i, servers, sys_f, sys_i, 0.0, st_path[:, 0], sys_path[:, 0])
    kernel.snapshot_all(st_f, st_i, servers, sys_f, sys_i, 0.0, st_warm, sys_warm)
    windows = [COUNT_WINDOW_ARRIVALS / c.arrivals.rate for c in classes]
    cnt_f = np.array([[window, warmup, 0.0] for window in windows])
    cnt_i = np.zeros((n_classes, 4), dtype=np.int64)
    hist = np.zeros((n_classes, _INITIAL_BINS), dtype=np.int64)
    seen = np.zeros((n_classes, _INITIAL_BINS), dtype=np.int64)
    gaps = np.zeros((n_classes, MAX_GAP_SAMPLE))
    trans = np.zeros((n_classes, n_stations, n_stations + 1), dtype=np.int64)
    keep = max(int(keep_waits), 0)
    waits = np.zeros((n_stations, keep, 2))
    wcount = np.zeros(n_stations, dtype=np.int64)
    slots = _INITIAL_SLOTS
    ev = np.zeros((slots, 3))
    ev_i = np.full((slots, 3), -1, dtype=np.int64)
    free = np.arange(slots - 1, -1, -1, dtype=np.int64)
    line = np.full((n_stations, 2), -1, dtype=np.int64)
    heap_cap = 64 + 4 * n_classes
    ht = np.zeros(heap_cap)
    ho = np.zeros(heap_cap, dtype=np.int64)
    hp = np.zeros(heap_cap, dtype=np.int64)
    sf = np.array([0.0, horizon])
    si = np.zeros(5, dtype=np.int64)
    si[kernel.FREE_COUNT] = slots

    # SimPy's start: the warm-up timeout is scheduled before the run; then each
    # source draws its first gap and the ticker schedules its first tick, in order.
    first: list[tuple[float, int]] = []  # (time, payload), in scheduling order
    if warmup > 0:
        first.append((0.0 + warmup, kernel.WARMUP))
    for k in range(n_classes):
        gap = streams.values[k, 0]
        streams.pos[k] = 1
        cnt_f[k, 2] = gap
        first.append((0.0 + gap, k * 8 + kernel.ARRIVAL))
    first.append((0.0 + (grid[1] - 0.0), 1 * 8 + kernel.TICK))
    # Keyed (time, order) and sorted, the first events already form a binary heap.
    heap = sorted((t, order, pay) for order, (t, pay) in enumerate(first))
    size = len(heap)
    ht[:size] = [t for t, _, _ in heap]
    ho[:size] = [order for _, order, _ in heap]
    hp[:size] = [pay for _, _, pay in heap]
    si[kernel.SEQ] = si[kernel.HEAP_SIZE] = size

    while True:
        status = kernel.run_kernel(
            sf, si, ht, ho, hp, ev, ev_i, free, line, servers, capacity,
            st_f, st_i, sys_f, sys_i, grid, st_path, sys_path, st_warm, sys_warm,
            cnt_f, cnt_i, hist, seen, gaps, trans,
            streams.values, streams.pos, streams.end, draw_order, cumulative, last_entry,
            waits, wcount,
        )  # fmt: skip
        if status == kernel.DONE:
            break
        if status == kernel.REFILL:
            streams.refill()
            si[kernel.NEED_REFILL] = 0
        elif status == kernel.GROW_SLOTS:
            count = int(si[kernel.FREE_COUNT])
            ev, ev_i = _grown(ev, 2 * slots), _grown(ev_i, 2 * slots, -1)
            free = _grown(free, 2 * slots)
            free[count : count + slots] = np.arange(2 * slots - 1, slots - 1, -1)
            si[kernel.FREE_COUNT] = count + slots
            slots *= 2
        elif status == kernel.GROW_HEAP:
            size = 2 * len(ht)
            ht, ho, hp = _grown(ht, size), _grown(ho, size), _grown(hp, size)
        elif status == kernel.GROW_HIST:
            hist = np.ascontiguousarray(_grown(hist.T, 2 * hist.shape[1]).T)
            seen = np.ascontiguousarray(_grown(seen.T, 2 * seen.shape[1]).T)
            si[kernel.HIST_FULL] = 0
    kernel.snapshot_all(st_f, st_i, servers, sys_f, sys_i, horizon, st_path[:, -1], sys_path[:, -1])

    path = SamplePath(
        times=grid,
        stations={name: st_path[i] for i, name in enumerate(names)},
        servers={station.name: station.servers for station in stations},
        system=sys_path[0],
        classes={c.name: sys_path[1 + k] for k, c in enumerate(classes)},
    )
    warm_st = st_path[:, 0] if warmup <= 0 else st_warm
    warm_sys = sys_path[:, 0] if warmup <= 0 else sys_warm
    observations = {}
    for k, c in enumerate(classes):
        complete = int((horizon - warmup) // windows[k])
        current, count, kept, distinct = (int(v) for v in cnt_i[k])
        observations[c.name] = ClassObservations(
            window=windows[k],
            counts=_histogram(hist[k], seen[k, :distinct], current, count, complete),
            gaps=tuple(gaps[k, :kept].tolist()),
            transitions=tuple(tuple(row) for row in trans[k].tolist()),
        )
    recent = None
    if keep:
        recent = {}
        for i, name in enumerate(names):
            total = int(wcount[i])
            order = [j % keep for j in range(max(total - keep, 0), total)]
            recent[name] = tuple((float(a), float(b)) for a, b in waits[i, order].tolist())
    result = ReplicationResult(
        replication=replication,
        seed=seed,
        horizon=horizon,
        warmup=warmup,
        stations={
            station.name: station_record(
                _station_snapshot(warm_st[i]), _station_snapshot(st_path[i, -1]), station.servers
            )
            for i, station in enumerate(stations)
        },
        system=system_record(_system_snapshot(warm_sys[0]), _system_snapshot(sys_path[0, -1])),
        classes={
            c.name: system_record(
                _system_snapshot(warm_sys[1 + k]), _system_snapshot(sys_path[1 + k, -1])
            )
            for k, c in enumerate(classes)
        },
        completed_visits=int(st_i[:, 3].sum()),
        observations=observations,
        path=path,
        waits=recent,
    )
    if automatic:
        cut, _ = mser_cut([path])
        if cut:
            result = result.truncated(cut)
    return result
