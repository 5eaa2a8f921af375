"""Percentiles across replications: pooled histograms, compact replications, SLO verdicts (layer 5).

A run keeps, per replication, the quantiles of every window it may still be
measured over, not its sketches: as each replication arrives, its chunks are
added to the run's pooled chunks (:class:`LatencyPool`, one count per
chunk, sketch and bucket, however many replications) and the replication is
compacted (:meth:`~eda_sim.engine.latency.ReplicationLatency.compacted`). Once
the warm-up is known, the pooled chunks after it are the histograms that the
report draws (all replications' visits after the warm-up, exactly the ones the
means count). A batch-means run keeps its one replication's chunks, since its
batches may be cut at any grid point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from eda_sim.engine.latency import LatencyLayout, SketchKey
from eda_sim.engine.records import ReplicationResult
from eda_sim.results import PrecisionReport, RunResult
from eda_sim.scenario import Scenario
from eda_sim.stats import Interval
from eda_sim.stats.chunks import WARMUP_LABEL, ChunkedSketches
from eda_sim.stats.sketch import Histogram
from eda_sim.stats.slo import SloVerdict, judge

__all__ = [
    "POOL_BATCH",
    "POOL_PENDING_BYTES",
    "LatencyPool",
    "batch_histograms",
    "collapsed_notes",
    "measured_start",
    "measured_window",
    "slo_verdicts",
    "until_decided",
    "withhold_collapsed",
]


#: Replications whose sketches a :class:`LatencyPool` holds before it merges them, at most.
POOL_BATCH = 32
#: Bytes of sketches a :class:`LatencyPool` holds unmerged, at most (or the pooled ones' bytes).
POOL_PENDING_BYTES = 1 << 24


class LatencyPool:
    """The chunks of every replication seen so far, added up chunk by chunk.

    ``later_starts``: the run may measure its replications from a grid cut chosen
    after them (MSER-5), so every chunk is pooled; otherwise (a fixed warm-up) only
    each replication's measured window is. Replications are merged
    :data:`POOL_BATCH` at a time (one merge of many sorted arrays costs about what
    one of two does; fewer when they are large: :data:`POOL_PENDING_BYTES`) and
    whenever the pooled histograms are asked for.
    """

    def __init__(self, later_starts: bool = True) -> None:
        self.later_starts = later_starts
        self.layout: LatencyLayout | None = None
        self._pooled: ChunkedSketches | None = None
        self._pending: list[ChunkedSketches] = []
        self._pending_bytes = 0

    @property
    def chunks(self) -> ChunkedSketches | None:
        """The pooled chunks (with a fixed warm-up: the measured window as one chunk)."""
        self._merge()
        return self._pooled

    def add(self, result: ReplicationResult, compact: bool) -> ReplicationResult:
        """Pool ``result``'s chunks; return it compacted when ``compact`` (else unchanged)."""
        latency = result.latency
        if latency is None or latency.chunks is None:
            return result
        self.layout = latency.layout
        part = latency.chunks if self.later_starts else measured_window(latency.chunks)
        self._pending.append(part)
        self._pending_bytes += part.nbytes
        pooled_bytes = 0 if self._pooled is None else self._pooled.nbytes
        if len(self._pending) >= POOL_BATCH or self._pending_bytes >= max(
            POOL_PENDING_BYTES, pooled_bytes
        ):
            self._merge()
        if not compact:
            return result
        return replace(result, latency=latency.compacted(self.later_starts))

    def _merge(self) -> None:
        if self._pending:
            parts = self._pending if self._pooled is None else [self._pooled, *self._pending]
            self._pooled = ChunkedSketches.pooled(parts)
            self._pending, self._pending_bytes = [], 0

    def histograms(self, start: int | None) -> dict[SketchKey, Histogram]:
        """Every sketch's pooled histogram from grid point ``start`` to the end.

        ``start`` None: from the end of the fixed warm-up (or the start, without one).

        Raises
        ------
        ValueError
            For a ``start`` when the pool keeps only the measured windows.
        """
        chunks = self.chunks
        if chunks is None or self.layout is None:
            return {}
        if start is None:
            first = chunks.position(WARMUP_LABEL) if WARMUP_LABEL in chunks.labels else 0
        else:
            first = chunks.position(start)
        window = chunks.window(first, len(chunks.labels))
        return dict(zip(self.layout.keys(), window, strict=True))


def measured_window(chunks: ChunkedSketches) -> ChunkedSketches:
    """The chunks after the fixed warm-up's cut (or all) as one chunk, labelled by the last."""
    start = chunks.position(WARMUP_LABEL) if WARMUP_LABEL in chunks.labels else 0
    end = len(chunks.labels)
    keys, counts = chunks.window_counts(start, end)
    floors = (chunks.floor_of(start, end),) if chunks.floors else ()
    return ChunkedSketches(chunks.size, (chunks.labels[-1],), (keys,), (counts,), floors)


def _collapsed_counts(samples: Sequence[ReplicationResult]) -> dict[tuple[str, str, str], int]:
    """``{(scope, name, metric): samples}`` of the percentiles that fell into collapsed buckets."""
    seen: dict[tuple[str, str, str], int] = {}
    for sample in samples:
        if sample.latency is not None:
            for place in sample.latency.collapsed():
                seen[place] = seen.get(place, 0) + 1
    return seen


def collapsed_notes(samples: Sequence[ReplicationResult]) -> list[str]:
    """A note per percentile that fell into a sketch's collapsed buckets in some sample.

    Such a value is not known in that sample: it lies below the floor under which
    the sketches fold their lowest buckets (:mod:`eda_sim.stats.collapse`), so the
    run reports no interval for it (:func:`withhold_collapsed`).
    """
    return [
        f"{scope}.{name}.{metric}: below the percentile sketch's collapsed low buckets "
        f"in {count} of {len(samples)} samples, so no interval is reported (see the "
        "tail-latency docs, 'Memory'); a lower level in run.quantiles lowers the sketches' floor"
        for (scope, name, metric), count in _collapsed_counts(samples).items()
    ]


def withhold_collapsed(result: RunResult, samples: Sequence[ReplicationResult]) -> RunResult:
    """``result`` with no interval for a percentile that collapsed in any of its ``samples``.

    An interval over only the samples that kept the value would leave out the
    lowest ones (a collapsed value lies below the sketch's floor) and so be biased
    upwards; the metric is reported as not available instead (NaN, as for a
    station that saw no event), and :func:`collapsed_notes` says why.
    """
    places = _collapsed_counts(samples)
    if not places:
        return result

    def withheld(scope: str, name: str, metrics: dict[str, Interval]) -> dict[str, Interval]:
        return {
            metric: (
                Interval(math.nan, math.nan, math.nan, interval.n, interval.confidence)
                if (scope, name, metric) in places
                else interval
            )
            for metric, interval in metrics.items()
        }

    return replace(
        result,
        stations={n: withheld("station", n, m) for n, m in result.stations.items()},
        system=withheld("system", "system", result.system),
        classes={n: withheld("class", n, m) for n, m in result.classes.items()},
    )


def measured_start(result: ReplicationResult, warmup_method: str) -> int | None:
    """The grid point a replication is measured from after MSER-5, None for a fixed warm-up."""
    if warmup_method != "MSER-5" or result.path is None:
        return None
    return result.path.index_at_or_after(result.warmup)


def slo_verdicts(
    scenario: Scenario,
    stations: Mapping[str, Mapping[str, Interval]],
    system: Mapping[str, Interval],
    classes: Mapping[str, Mapping[str, Interval]],
) -> tuple[SloVerdict, ...]:
    """Judge each of the scenario's SLOs on the run's intervals."""
    verdicts = []
    for slo in scenario.slos:
        if slo.scope == "station":
            found = stations.get(slo.name, {}).get(slo.metric)
        elif slo.scope == "class":
            found = classes.get(slo.name, {}).get(slo.metric)
        else:
            found = system.get(slo.metric)
        interval = found if found is not None else Interval(math.nan, math.nan, math.nan, 0, 0.0)
        verdicts.append(judge(slo, interval))
    return tuple(verdicts)


def until_decided(
    verdicts: Sequence[SloVerdict], total: int, cap: int
) -> tuple[PrecisionReport, int | None]:
    """The report of a ``precision="slo"`` round, and the replications of the next (None: stop).

    Replications are added until no SLO is undecided, the cap is reached, or no
    number of replications would decide the undecided ones.
    """
    growth = {v.slo.target: v.growth for v in verdicts if v.verdict == "undecided"}
    report = PrecisionReport("slo", not growth, cap, growth)
    needed = [v.replications_to_decide() for v in verdicts if v.verdict == "undecided"]
    finite = [n for n in needed if n is not None]
    if not growth or total >= cap or not finite:
        return report, None
    return report, min(cap, max(total + 1, min(max(finite), 2 * total)))


def batch_histograms(
    batches: Sequence[ReplicationResult], longest: ReplicationResult
) -> dict[SketchKey, Histogram]:
    """The histograms of a batch-means run over its batches (its one replication's chunks)."""
    if longest.latency is None or longest.path is None or not batches:
        return {}
    return longest.latency.histograms(longest.path.index_at_or_after(batches[0].warmup))
