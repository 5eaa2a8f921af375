"""Streaming measurements and confidence intervals (layer 3).

Queue lengths are *time-weighted*: the level of a piecewise-constant quantity
(number present, busy servers) is integrated over time, never sampled. Per-visit
quantities (waits, sojourns) are running sums and counts, so nothing grows with
the horizon: memory stays flat however long a run is. :class:`Welford` (Welford
1962, Technometrics 4(3); Knuth, TAOCP vol. 2, §4.2.2) is there for streams whose
variance is wanted too.

Monitors keep running totals from time 0; a snapshot at the end of the warm-up is
subtracted from the one at the horizon, so only time after the warm-up counts and
per-visit statistics count the visits that *end* after it.

Between replications, :func:`t_interval` gives the Student-t confidence interval
of the replication means (replication/deletion, Law & Kelton, *Simulation
Modeling and Analysis*, 5th ed., §9.4).
"""

from __future__ import annotations

from eda_sim.stats.accumulators import TimeWeighted, Welford
from eda_sim.stats.intervals import Interval, t_interval
from eda_sim.stats.monitors import (
    ArrivalCounter,
    StationMonitor,
    StationSnapshot,
    SystemMonitor,
    SystemSnapshot,
)
from eda_sim.stats.output_analysis import MSER_BATCH, MserResult, lag1_autocorrelation, mser

__all__ = [
    "MSER_BATCH",
    "ArrivalCounter",
    "Interval",
    "MserResult",
    "StationMonitor",
    "StationSnapshot",
    "SystemMonitor",
    "SystemSnapshot",
    "TimeWeighted",
    "Welford",
    "lag1_autocorrelation",
    "mser",
    "t_interval",
]
