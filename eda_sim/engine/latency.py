"""Percentiles of one replication: which sketches both engines keep, and their windows (layer 4).

Every replication streams, into one :class:`~eda_sim.stats.chunks.SketchBank`,
a quantile sketch (:mod:`eda_sim.stats.sketch`) of

* per station, each visit's time ``W`` (arrival to departure) and wait ``Wq``
  (arrival to start of service), and, where some station blocks its senders,
  the time ``blocked`` after service;
* per event class (with several classes; one class's are the system's) and for
  the whole system, each event's end-to-end ``W``, from entering the system to
  the end of its last branch (the event's last fan-out copy); events lost on
  the way have none.

The sketches are numbered by :class:`LatencyLayout` (both engines use the same
numbers) and cut into chunks at grid points of the sample path chosen before
the run (:func:`eda_sim.engine.settings.sketch_cuts`) and at the end of a fixed
warm-up, so that a window chosen after the run (MSER-5's warm-up, a batch of
batch means) is measured exactly: :class:`ReplicationLatency` holds the chunks
and the quantiles of the measured window.

**Exact and approximate.** Which visits and events count in a window is exact:
the same ones as the window's mean ``W`` (visits that end in it). The
quantiles themselves are within the sketch's relative accuracy (``1/257``) of
the exact order statistics of those values, except a quantile that falls into
the buckets a chunk collapsed (:mod:`eda_sim.stats.collapse`): that one is
:data:`COLLAPSED` in the tables, NaN among the metrics, and named by
:meth:`ReplicationLatency.collapsed`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from eda_sim.scenario import Scenario
from eda_sim.scenario.slo import (
    END_TO_END_LATENCY,
    STATION_LATENCY,
    latency_metrics,
    quantile_name,
)
from eda_sim.stats.chunks import WARMUP_LABEL, ChunkedSketches
from eda_sim.stats.sketch import Histogram

__all__ = ["COLLAPSED", "DEFER_FACTOR", "LatencyLayout", "ReplicationLatency", "SketchKey"]

#: A quantile in a window's collapsed buckets, in :attr:`ReplicationLatency.quantiles`.
COLLAPSED = -math.inf

#: A compacted replication keeps its chunks (windows computed when asked) while they
#: take at most this many times the bytes of the quantile table of every window.
DEFER_FACTOR = 4

FloatArray = npt.NDArray[np.float64]
Scope = Literal["station", "class", "system"]
#: ``(scope, name, base metric)`` of one sketch, e.g. ``("station", "cart", "Wq")``.
SketchKey = tuple[Scope, str, str]


@dataclass(frozen=True)
class LatencyLayout:
    """The sketches of a scenario, numbered: per station its bases, then classes, then the system.

    Station ``j``'s base ``b`` (``W``, ``Wq``, ``blocked``) is sketch
    ``j·len(station_bases) + b``; class ``k``'s ``W`` follows the stations, and
    the system's ``W`` is the last.
    """

    stations: tuple[str, ...]
    classes: tuple[str, ...]
    station_bases: tuple[str, ...]
    levels: tuple[float, ...]

    @classmethod
    def of(cls, scenario: Scenario) -> LatencyLayout:
        """The layout of ``scenario``: ``blocked`` where some station blocks; classes if several."""
        bases = (*STATION_LATENCY, *(("blocked",) if scenario.has_blocking else ()))
        classes = () if scenario.single_class else scenario.class_names
        return cls(scenario.station_names, classes, bases, tuple(scenario.run.quantiles))

    @property
    def per_station(self) -> int:
        """Sketches per station."""
        return len(self.station_bases)

    @property
    def size(self) -> int:
        """Number of sketches."""
        return self.per_station * len(self.stations) + len(self.classes) + 1

    def class_sketch(self, class_index: int) -> int:
        """The number of class ``class_index``'s end-to-end sketch."""
        return self.per_station * len(self.stations) + class_index

    @property
    def system_sketch(self) -> int:
        """The number of the system's end-to-end sketch."""
        return self.size - 1

    def keys(self) -> list[SketchKey]:
        """Every sketch's key, in sketch order."""
        keys: list[SketchKey] = [
            ("station", name, base) for name in self.stations for base in self.station_bases
        ]
        keys.extend(("class", name, "W") for name in self.classes)
        keys.append(("system", "system", "W"))
        return keys

    def index(self, scope: str, name: str, base: str) -> int | None:
        """The number of a sketch, or None when it is not kept."""
        if scope == "station" and name in self.stations and base in self.station_bases:
            return self.stations.index(name) * self.per_station + self.station_bases.index(base)
        if base not in END_TO_END_LATENCY:
            return None
        if scope == "class" and name in self.classes:
            return self.class_sketch(self.classes.index(name))
        if scope == "system":
            return self.system_sketch
        return None

    def metrics(self, scope: Scope) -> tuple[str, ...]:
        """The percentile metric names of ``scope``: ``W_p50, W_p95, ..., Wq_p50, ...``."""
        bases = self.station_bases if scope == "station" else END_TO_END_LATENCY
        return latency_metrics(bases, self.levels)


@dataclass(frozen=True, eq=False)
class ReplicationLatency:
    """One replication's sketches and the quantiles of its measured window.

    ``quantiles[s, i]`` is sketch ``s``'s quantile at ``layout.levels[i]`` over
    the window the replication's records measure (NaN with no value there,
    :data:`COLLAPSED` where it fell into collapsed buckets).
    ``chunks`` is kept while a later window may still be asked for; once the
    warm-up is known it may be replaced by ``suffix``: the quantiles of every
    window from a cut to the end, keyed by the cut's grid point
    (:meth:`compacted`), which is all a replication/deletion run needs. A short
    replication, whose chunks take no more room than that table would
    (:data:`DEFER_FACTOR`), keeps them as ``deferred`` instead and computes the
    one window asked for when it is asked.
    """

    layout: LatencyLayout
    quantiles: FloatArray
    chunks: ChunkedSketches | None = field(default=None, repr=False)
    suffix: Mapping[int, FloatArray] | None = field(default=None, repr=False)
    last: int = 0
    """The grid point at the end of the run (the last chunk's label)."""
    deferred: ChunkedSketches | None = field(default=None, repr=False)
    """A compacted short replication's chunks: only windows to the end are served."""

    @classmethod
    def measure(cls, layout: LatencyLayout, chunks: ChunkedSketches) -> ReplicationLatency:
        """The quantiles over the part after the warm-up (its chunk boundary, if it has one)."""
        start = chunks.position(WARMUP_LABEL) if WARMUP_LABEL in chunks.labels else 0
        end = len(chunks.labels)
        return cls(
            layout,
            chunks.window_quantiles(start, end, layout.levels, COLLAPSED),
            chunks,
            None,
            chunks.labels[-1],
        )

    def metric_values(self) -> dict[tuple[str, str], dict[str, float]]:
        """``{(scope, name): {"W_p99": value, ...}}``: the window's percentiles by metric name.

        The names are the table of metrics' (:mod:`eda_sim.metrics`); a sketch with
        no value in the window gives NaN, and so does a collapsed quantile.
        """
        out: dict[tuple[str, str], dict[str, float]] = {}
        suffixes = [quantile_name(level) for level in self.layout.levels]
        for sketch, (scope, name, base) in enumerate(self.layout.keys()):
            entry = out.setdefault((scope, name), {})
            for column, suffix in enumerate(suffixes):
                value = float(self.quantiles[sketch, column])
                # math.nan itself: records compare equal (==) when both have no value
                entry[f"{base}_{suffix}"] = value if value >= 0.0 else math.nan
        return out

    def collapsed(self) -> list[tuple[str, str, str]]:
        """``(scope, name, metric)`` of each quantile that fell into collapsed buckets."""
        suffixes = [quantile_name(level) for level in self.layout.levels]
        keys = self.layout.keys()
        return [
            (keys[sketch][0], keys[sketch][1], f"{keys[sketch][2]}_{suffixes[column]}")
            for sketch, column in zip(*np.nonzero(self.quantiles == COLLAPSED), strict=True)
        ]

    def between(self, start: int, end: int) -> ReplicationLatency:
        """The same sketches over grid points ``[start, end]`` (both must be cuts).

        Raises
        ------
        ValueError
            When the window's ends are not where the chunks were cut (and, once
            compacted, unless it runs to the end from a cut).
        """
        if self.chunks is not None:
            first, stop = self.chunks.position(start), self.chunks.position(end)
            window = self.chunks.window_quantiles(first, stop, self.layout.levels, COLLAPSED)
            return replace(self, quantiles=window)
        if self.suffix is not None and end == self.last and start in self.suffix:
            return replace(self, quantiles=self.suffix[start])
        deferred = self.deferred
        if deferred is not None and end == self.last and start in grid_cuts(deferred):
            first, stop = deferred.position(start), len(deferred.labels)
            window = deferred.window_quantiles(first, stop, self.layout.levels, COLLAPSED)
            return replace(self, quantiles=window)
        raise ValueError(f"no sketches kept for the window [{start}, {end}]")

    def compacted(self, later_starts: bool = True) -> ReplicationLatency:
        """The chunks dropped, keeping the quantiles of the windows a run may still ask for.

        ``later_starts`` (a warm-up chosen after the run, MSER-5): the quantiles of
        every window from a grid cut to the end. Otherwise (a fixed warm-up) only
        the measured window's, which :attr:`quantiles` already holds. A replication
        whose chunks are small (:data:`DEFER_FACTOR`) keeps them as ``deferred``
        rather than computing every window's quantiles now.
        """
        if self.chunks is None:
            return self
        labels = self.chunks.labels
        starts = {label: self.chunks.position(label) for label in grid_cuts(self.chunks)}
        if not later_starts:
            starts = {}
        table_bytes = len(starts) * self.quantiles.nbytes
        if starts and self.chunks.nbytes <= DEFER_FACTOR * table_bytes:
            return replace(self, chunks=None, deferred=self.chunks)
        tables = self.chunks.suffix_quantiles(
            list(starts.values()), len(labels), self.layout.levels, COLLAPSED
        )
        suffix = {label: tables[position] for label, position in starts.items()}
        return replace(self, chunks=None, suffix=suffix)

    def histograms(self, start: int | None = None) -> dict[SketchKey, Histogram]:
        """Every sketch's histogram from grid point ``start`` (default: after the warm-up) on.

        Raises
        ------
        ValueError
            When the chunks are no longer kept.
        """
        if self.chunks is None:
            raise ValueError("the sketches' chunks are no longer kept")
        if start is None:
            labels = self.chunks.labels
            first = self.chunks.position(WARMUP_LABEL) if WARMUP_LABEL in labels else 0
        else:
            first = self.chunks.position(start)
        window = self.chunks.window(first, len(self.chunks.labels))
        return dict(zip(self.layout.keys(), window, strict=True))


def grid_cuts(chunks: ChunkedSketches) -> tuple[int, ...]:
    """The grid points a window to the end may start at: 0 and every grid cut but the last."""
    return (0, *(label for label in chunks.labels[:-1] if label != WARMUP_LABEL))


def pool_chunks(parts: Sequence[ChunkedSketches]) -> ChunkedSketches | None:
    """The chunks of several replications added up, chunk by chunk (None for none)."""
    pooled: ChunkedSketches | None = None
    for part in parts:
        pooled = part if pooled is None else pooled.pooled_with(part)
    return pooled
