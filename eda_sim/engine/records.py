"""What one replication measured: plain, immutable records shared by every engine (layer 4).

Each engine returns a :class:`ReplicationResult`; the experiment layer combines
replications into intervals. The records' metric fields are named as in the one
table of metrics (:mod:`eda_sim.metrics`), which says which are reported where;
a member of a metric family (``W_p99``) is an entry of a record's ``extra``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np

from eda_sim.engine.hops import HopCounts
from eda_sim.engine.latency import ReplicationLatency
from eda_sim.stats import StationSnapshot, SystemSnapshot, mser

_Record = TypeVar("_Record", "StationRecord", "SystemRecord")

__all__ = [
    "ClassObservations",
    "ReplicationResult",
    "SamplePath",
    "StationRecord",
    "SystemRecord",
    "TraceRecord",
    "mser_cut",
    "station_record",
    "system_record",
    "with_percentiles",
]


def _metric(record: StationRecord | SystemRecord, name: str) -> float:
    """A record's field called ``name``, else its ``extra`` entry (KeyError if neither)."""
    if name != "extra" and name in record.__dataclass_fields__:
        return float(getattr(record, name))
    return float(record.extra[name])


@dataclass(frozen=True)
class StationRecord:
    """One station's measurements over ``[warmup, horizon]`` of one replication.

    Counts make the conservation law checkable:
    ``present_at_start + arrivals = completions + lost + present_at_end``.
    ``blocked`` is the mean time per visit spent after service holding a server
    because the next station was full (``on_full: block``); it is part of ``W``.
    """

    L: float
    Lq: float
    W: float
    Wq: float
    utilization: float
    throughput: float
    loss: float
    arrivals: int
    lost: int
    completions: int
    present_at_start: int
    present_at_end: int
    blocked: float = 0.0
    extra: Mapping[str, float] = field(default_factory=dict, hash=False)
    """Values of metric-family members (``W_p99``, ...), by metric name."""

    def metric(self, name: str) -> float:
        """The value of the station metric ``name`` (:mod:`eda_sim.metrics`)."""
        return _metric(self, name)


@dataclass(frozen=True)
class SystemRecord:
    """Whole-system (or one event class's) measurements over ``[warmup, horizon]``.

    ``W`` is end to end, from entering the first station to leaving the last;
    events refused by a full station count in ``lost``, not in ``W``. With fan-out,
    an event ends when its last copy does (lost if any copy was lost), and the
    copies are conserved: ``copies_present_at_start + copies = copies_finished +
    copies_lost + copies_present_at_end``.
    """

    L: float
    W: float
    throughput: float
    loss: float
    entered: int
    completions: int
    lost: int
    present_at_start: int
    present_at_end: int
    copies: int = 0
    copies_finished: int = 0
    copies_lost: int = 0
    copies_present_at_start: int = 0
    copies_present_at_end: int = 0
    extra: Mapping[str, float] = field(default_factory=dict, hash=False)
    """Values of metric-family members (``W_p99``, ...), by metric name."""

    def metric(self, name: str) -> float:
        """The value of the system (or class) metric ``name`` (:mod:`eda_sim.metrics`)."""
        return _metric(self, name)


@dataclass(frozen=True)
class TraceRecord:
    """One entry of an event trace (recorded only when asked for).

    ``kind`` is ``"enter"`` (into the system), ``"arrive"`` (at a station),
    ``"lost"`` (refused by a full station), ``"start"`` (service begins),
    ``"copy"`` (a fan-out copy is published to ``station``), ``"blocked"`` (service
    ended but the next station is full), ``"depart"`` (the event leaves the
    station) or ``"exit"`` (leaves the system).
    """

    time: float
    kind: str
    event: int
    event_class: str
    station: str | None


@dataclass(frozen=True)
class ClassObservations:
    """Raw material for the assumption checks of one event class (bounded in size).

    ``counts`` maps a number of external arrivals to the number of windows of
    length ``window`` (after the warm-up) that saw it; ``gaps`` holds the first
    inter-arrival gaps after the warm-up; ``transitions`` counts the hops from
    station ``i`` to station ``j`` (``j = N``: exits), sparse: only the pairs
    that occurred (:class:`~eda_sim.engine.hops.HopCounts`).
    """

    window: float
    counts: dict[int, int]
    gaps: tuple[float, ...]
    transitions: HopCounts


def station_record(start: StationSnapshot, end: StationSnapshot, servers: int) -> StationRecord:
    """One station's figures over ``[start.time, end.time]`` from two snapshots."""
    span = end.time - start.time
    area_busy = end.area_busy - start.area_busy
    area_waiting = end.area_waiting - start.area_waiting
    completions = end.completions - start.completions
    arrivals = end.arrivals - start.arrivals
    lost = end.lost - start.lost
    return StationRecord(
        L=(area_busy + area_waiting) / span,
        Lq=area_waiting / span,
        W=(end.sojourn_sum - start.sojourn_sum) / completions if completions else math.nan,
        Wq=(end.wait_sum - start.wait_sum) / completions if completions else math.nan,
        # Δarea_busy <= servers × span exactly; a difference of running totals can exceed
        # it by a rounding error, which must not show as a utilisation above 1.
        utilization=min(area_busy / (servers * span), 1.0),
        throughput=completions / span,
        loss=lost / arrivals if arrivals else 0.0,
        arrivals=arrivals,
        lost=lost,
        completions=completions,
        present_at_start=start.present,
        present_at_end=end.present,
        blocked=(end.blocked_sum - start.blocked_sum) / completions if completions else 0.0,
    )


def system_record(start: SystemSnapshot, end: SystemSnapshot) -> SystemRecord:
    """Whole-system (or one class's) figures over ``[start.time, end.time]``."""
    span = end.time - start.time
    completions = end.completions - start.completions
    lost = end.lost - start.lost
    finished = completions + lost
    return SystemRecord(
        L=(end.area - start.area) / span,
        W=(end.sojourn_sum - start.sojourn_sum) / completions if completions else math.nan,
        throughput=completions / span,
        loss=lost / finished if finished else 0.0,
        entered=end.entered - start.entered,
        completions=completions,
        lost=lost,
        present_at_start=start.present,
        present_at_end=end.present,
        copies=end.copies - start.copies,
        copies_finished=end.copies_finished - start.copies_finished,
        copies_lost=end.copies_lost - start.copies_lost,
        copies_present_at_start=start.copies - start.copies_finished - start.copies_lost,
        copies_present_at_end=end.copies - end.copies_finished - end.copies_lost,
    )


@dataclass(frozen=True, eq=False)
class SamplePath:
    """Snapshots of every monitor on a regular time grid: the run's bounded sample path.

    ``times[b]`` is the ``b``-th grid point (``0`` to the horizon); the arrays hold
    the running totals there, one row per grid point, columns as the fields of
    :class:`~eda_sim.stats.StationSnapshot` / :class:`~eda_sim.stats.SystemSnapshot`.
    Any window between two grid points can be measured exactly from it, and so can
    batch series (number present per batch, waits per batch).
    """

    times: np.ndarray
    stations: dict[str, np.ndarray]
    servers: dict[str, int]
    system: np.ndarray
    classes: dict[str, np.ndarray]

    def station_snapshot(self, station: str, index: int) -> StationSnapshot:
        """The snapshot of ``station`` at grid point ``index``."""
        row = self.stations[station][index]
        return StationSnapshot(
            float(row[0]),
            float(row[1]),
            float(row[2]),
            int(row[3]),
            int(row[4]),
            int(row[5]),
            float(row[6]),
            float(row[7]),
            int(row[8]),
            float(row[9]),
        )

    def system_snapshot(self, index: int, event_class: str | None = None) -> SystemSnapshot:
        """The whole-system (or one class's) snapshot at grid point ``index``."""
        row = self.system[index] if event_class is None else self.classes[event_class][index]
        return SystemSnapshot(
            float(row[0]),
            float(row[1]),
            int(row[2]),
            int(row[3]),
            int(row[4]),
            float(row[5]),
            int(row[6]),
            int(row[7]),
            int(row[8]),
            int(row[9]),
        )

    def batch_means(self, station: str) -> np.ndarray:
        """Time-average number present in each grid interval (the series MSER-5 reads)."""
        path = self.stations[station]
        return np.asarray(np.diff(path[:, 1] + path[:, 2]) / np.diff(path[:, 0]))

    def index_at_or_after(self, time: float) -> int:
        """The first grid point at or after ``time``."""
        return int(np.searchsorted(self.times, time - 1e-12 * max(1.0, abs(time)), side="left"))


def mser_cut(paths: Sequence[SamplePath]) -> tuple[int, list[str]]:
    """MSER-5 warm-up over one or more replications' sample paths.

    Per station, MSER-5 (:func:`eda_sim.stats.mser`) is applied to the number
    present per grid interval averaged over the paths; the cut is the latest over
    the stations.

    Returns
    -------
    index : int
        Grid point where measurement should start.
    drifting : list of str
        Stations whose series still changes in the second half of the run.
    """
    cut = 0
    drifting: list[str] = []
    if not paths:
        return cut, drifting
    for station in paths[0].stations:
        series = np.mean([path.batch_means(station) for path in paths], axis=0)
        found = mser(series)
        cut = max(cut, found.truncation)
        if found.second_half:
            drifting.append(station)
    return cut, drifting


@dataclass(frozen=True)
class ReplicationResult:
    """Everything one replication measured."""

    replication: int
    seed: int
    horizon: float
    warmup: float
    stations: dict[str, StationRecord]
    system: SystemRecord
    classes: dict[str, SystemRecord]
    completed_visits: int
    """Service completions over the whole run, warm-up included (for speed figures)."""
    observations: dict[str, ClassObservations] = field(default_factory=dict, repr=False)
    path: SamplePath | None = field(default=None, repr=False)
    waits: dict[str, tuple[tuple[float, float], ...]] | None = field(default=None, repr=False)
    """Per station, the last (wait before service, time per visit) pairs, if kept."""
    trace: tuple[TraceRecord, ...] | None = field(default=None, repr=False)
    latency: ReplicationLatency | None = field(default=None, repr=False, compare=False)
    """Percentile sketches and the measured window's quantiles (:mod:`eda_sim.engine.latency`)."""

    def between(self, start: int, end: int) -> ReplicationResult:
        """The same replication measured over grid points ``[start, end]`` of its sample path.

        Every figure is recomputed exactly over ``[path.times[start], path.times[end]]``;
        ``warmup`` becomes the window's start. Used when the warm-up is chosen after
        the run (MSER-5) and to cut one run into batches (batch means).
        """
        path = self.path
        if path is None:
            raise ValueError("this replication kept no sample path")
        last = len(path.times) - 1
        if not 0 <= start < end <= last:
            raise ValueError(f"need 0 <= start < end <= {last}, got start={start}, end={end}")
        stations = {
            name: station_record(
                path.station_snapshot(name, start),
                path.station_snapshot(name, end),
                path.servers[name],
            )
            for name in self.stations
        }
        classes = {
            name: system_record(path.system_snapshot(start, name), path.system_snapshot(end, name))
            for name in self.classes
        }
        return with_percentiles(
            replace(
                self,
                warmup=float(path.times[start]),
                stations=stations,
                system=system_record(path.system_snapshot(start), path.system_snapshot(end)),
                classes=classes,
                latency=self.latency.between(start, end) if self.latency is not None else None,
            )
        )

    def truncated(self, index: int) -> ReplicationResult:
        """The same replication measured from grid point ``index`` to the horizon."""
        if self.path is None:
            raise ValueError("this replication kept no sample path")
        return self.between(index, len(self.path.times) - 1)

    def without_path(self) -> ReplicationResult:
        """The same result without its sample path (to save memory once it has served)."""
        return replace(self, path=None)

    def station_metric(self, station: str, metric: str) -> float:
        """One station metric, NaN if the station saw no event."""
        value = self.value("station", station, metric)
        return value if not math.isinf(value) else math.nan

    def value(self, scope: str, name: str, metric: str) -> float:
        """One metric of a station, a class (``scope="class"``) or the system, percentiles too."""
        if scope == "station":
            return self.stations[name].metric(metric)
        return (self.system if scope == "system" else self.classes[name]).metric(metric)


def with_percentiles(result: ReplicationResult) -> ReplicationResult:
    """``result`` with its records' percentiles (``W_p99`` ...) read from its sketches.

    Each record's ``extra`` gets the quantiles of its sketches over the window the
    records measure (:attr:`ReplicationResult.latency`); both engines call this on
    the result they return, and :meth:`ReplicationResult.between` on every window.
    """
    latency = result.latency
    if latency is None:
        return result
    values = latency.metric_values()

    def filled(record: _Record, scope: str, name: str) -> _Record:
        found = values.get((scope, name))
        return replace(record, extra={**record.extra, **found}) if found else record

    if not latency.layout.classes:  # one class: its events are the system's, and so are its times
        for name in result.classes:
            values[("class", name)] = values.get(("system", "system"), {})
    return replace(
        result,
        stations={n: filled(r, "station", n) for n, r in result.stations.items()},
        system=filled(result.system, "system", "system"),
        classes={n: filled(r, "class", n) for n, r in result.classes.items()},
    )
