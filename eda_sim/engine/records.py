"""What one replication measured: plain, immutable records shared by every engine (layer 4).

Each engine returns a :class:`ReplicationResult`; the experiment layer combines
replications into intervals. Metric names are those of the JSON contract:
``L, Lq, W, Wq, utilization, throughput, loss`` per station and ``L, W,
throughput`` for the system and for each event class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "STATION_METRICS",
    "SYSTEM_METRICS",
    "ClassObservations",
    "ReplicationResult",
    "StationRecord",
    "SystemRecord",
    "TraceRecord",
]

#: Per-station metrics, in report order.
STATION_METRICS = ("L", "Lq", "W", "Wq", "utilization", "throughput", "loss")
#: Whole-system (and per-class) metrics, in report order.
SYSTEM_METRICS = ("L", "W", "throughput", "loss")


@dataclass(frozen=True)
class StationRecord:
    """One station's measurements over ``[warmup, horizon]`` of one replication.

    Counts make the conservation law checkable:
    ``present_at_start + arrivals = completions + lost + present_at_end``.
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

    def metric(self, name: str) -> float:
        """The value of one metric of :data:`STATION_METRICS`."""
        return float(getattr(self, name))


@dataclass(frozen=True)
class SystemRecord:
    """Whole-system (or one event class's) measurements over ``[warmup, horizon]``.

    ``W`` is end to end, from entering the first station to leaving the last;
    events refused by a full station count in ``lost``, not in ``W``.
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

    def metric(self, name: str) -> float:
        """The value of one metric of :data:`SYSTEM_METRICS`."""
        return float(getattr(self, name))


@dataclass(frozen=True)
class TraceRecord:
    """One entry of an event trace (recorded only when asked for).

    ``kind`` is ``"enter"`` (into the system), ``"arrive"`` (at a station),
    ``"lost"`` (refused by a full station), ``"start"`` (service begins),
    ``"depart"`` (service ends) or ``"exit"`` (leaves the system).
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
    inter-arrival gaps after the warm-up; ``transitions[i][j]`` counts the hops
    from station ``i`` to station ``j``, the last column being exits.
    """

    window: float
    counts: dict[int, int]
    gaps: tuple[float, ...]
    transitions: tuple[tuple[int, ...], ...]


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
    trace: tuple[TraceRecord, ...] | None = field(default=None, repr=False)

    def station_metric(self, station: str, metric: str) -> float:
        """One station metric, NaN if the station saw no event."""
        value = self.stations[station].metric(metric)
        return value if not math.isinf(value) else math.nan
