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
from eda_sim.results import PrecisionReport
from eda_sim.scenario import Scenario
from eda_sim.stats import Interval
from eda_sim.stats.chunks import WARMUP_LABEL, ChunkedSketches
from eda_sim.stats.sketch import Histogram
from eda_sim.stats.slo import SloVerdict, judge

__all__ = [
    "LatencyPool",
    "batch_histograms",
    "measured_start",
    "slo_verdicts",
    "until_decided",
]


class LatencyPool:
    """The chunks of every replication seen so far, added up chunk by chunk."""

    def __init__(self) -> None:
        self.chunks: ChunkedSketches | None = None
        self.layout: LatencyLayout | None = None

    def add(self, result: ReplicationResult, compact: bool) -> ReplicationResult:
        """Pool ``result``'s chunks; return it compacted when ``compact`` (else unchanged)."""
        latency = result.latency
        if latency is None or latency.chunks is None:
            return result
        self.layout = latency.layout
        self.chunks = (
            latency.chunks if self.chunks is None else self.chunks.pooled_with(latency.chunks)
        )
        return replace(result, latency=latency.compacted()) if compact else result

    def histograms(self, start: int | None) -> dict[SketchKey, Histogram]:
        """Every sketch's pooled histogram from grid point ``start`` to the end.

        ``start`` None: from the end of the fixed warm-up (or the start, without one).
        """
        if self.chunks is None or self.layout is None:
            return {}
        chunks = self.chunks
        if start is None:
            first = chunks.position(WARMUP_LABEL) if WARMUP_LABEL in chunks.labels else 0
        else:
            first = chunks.position(start)
        window = chunks.window(first, len(chunks.labels))
        return dict(zip(self.layout.keys(), window, strict=True))


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
