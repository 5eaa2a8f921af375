"""Replication records combined into intervals: the :class:`RunResult` of a run (layer 5)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from eda_sim.checks import CheckResult
from eda_sim.engine.records import ReplicationResult, StationRecord, SystemRecord
from eda_sim.metrics import Scope, names
from eda_sim.results.run_result import RunResult
from eda_sim.stats import Interval, t_interval
from eda_sim.theory.scenario import ScenarioTheory


def summarize(
    scenario_name: str,
    engine: str,
    replications: Sequence[ReplicationResult],
    *,
    confidence: float,
    requested: int,
    class_names: Sequence[str] = (),
    elapsed_seconds: float = math.nan,
    theory: ScenarioTheory | None = None,
    checks: Sequence[CheckResult] = (),
    features: Iterable[str] = (),
    levels: Sequence[float] = (),
) -> RunResult:
    """Combine replication records into intervals (replication/deletion, Student-t).

    The metrics are those the table of metrics reports for each scope
    (:func:`eda_sim.metrics.reported`) given the scenario's ``features`` and the
    ``levels`` of metric families. A percentile (``W_p99``) gets the interval
    of the replications' quantiles: each replication's ``p``-quantile of its own
    visits, then Student-t over the replications (or the batches of batch means).

    Parameters
    ----------
    class_names : sequence of str
        Event classes to report separately; empty for a one-class scenario.
    features : iterable of str
        The mechanisms the scenario uses (:attr:`Scenario.features`).
    levels : sequence of float
        Levels of the metric families reported (percentiles).
    """
    features = tuple(features)
    if not replications:
        raise ValueError("summarize needs at least one replication")
    first = replications[0]

    def intervals(
        records: Sequence[StationRecord | SystemRecord], scope: Scope
    ) -> dict[str, Interval]:
        return {
            metric: t_interval((record.metric(metric) for record in records), confidence)
            for metric in names(scope, features, levels)
        }

    stations = {
        station: intervals([rep.stations[station] for rep in replications], "station")
        for station in first.stations
    }
    system = intervals([rep.system for rep in replications], "system")
    classes = {
        name: intervals([rep.classes[name] for rep in replications], "class")
        for name in class_names
    }
    return RunResult(
        scenario=scenario_name,
        engine=engine,
        seed=first.seed,
        horizon=first.horizon,
        warmup=first.warmup,
        confidence=confidence,
        requested_replications=requested,
        stations=stations,
        system=system,
        classes=classes,
        replication_results=tuple(replications),
        partial=len(replications) < requested,
        elapsed_seconds=elapsed_seconds,
        theory=theory,
        checks=tuple(checks),
    )
