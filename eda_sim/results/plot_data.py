"""What the plots of a run need, bounded in size, for its JSON (layer 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from eda_sim.engine.hops import HopCounts, pooled_hops
from eda_sim.results.encoding import rounded

if TYPE_CHECKING:
    from eda_sim.results.run_result import RunResult


def plot_data(result: RunResult) -> dict[str, Any]:
    """What the plots of ``result`` need, bounded in size (:meth:`RunResult.plot_data`)."""
    data: dict[str, Any] = {}
    sample = result.sample
    if sample is not None and sample.path is not None:
        path = sample.path
        spans = np.diff(path.times)
        data["path"] = {
            "times": rounded(path.times),
            "warmup": result.warmup,
            "stations": {name: rounded(path.batch_means(name)) for name in path.stations},
            "system": rounded(np.diff(path.system[:, 1]) / spans),
        }
    if sample is not None and sample.waits is not None:
        data["waits"] = {
            name: {"Wq": rounded([w for w, _ in pairs]), "W": rounded([t for _, t in pairs])}
            for name, pairs in sample.waits.items()
        }
    arrivals: dict[str, Any] = {}
    transitions: dict[str, list[HopCounts]] = {}
    for rep in (
        result.replication_results[:1]
        if result.ci_method == "batch-means"
        else (result.replication_results)
    ):
        for name, seen in rep.observations.items():
            entry = arrivals.setdefault(name, {"window": seen.window, "counts": {}})
            for count, windows in seen.counts.items():
                entry["counts"][str(count)] = entry["counts"].get(str(count), 0) + windows
            transitions.setdefault(name, []).append(seen.transitions)
    data["arrivals"] = arrivals
    if result.latency:
        data["latency"] = result.latency_dict()
        if result.latency_theory is not None:
            curves = {
                f"{scope}:{name}:{metric}": result.latency_theory.ccdf_curve(
                    (scope, name, metric), float(histogram.ccdf()[0][-1])
                )
                for (scope, name, metric), histogram in result.latency.items()
                if histogram.total
            }
            data["latency_theory"] = {k: v for k, v in curves.items() if v is not None}
    data["transitions"] = {
        name: _pooled_table(counts).tolist() for name, counts in transitions.items()
    }
    return data


def _pooled_table(counts: list[HopCounts]) -> np.ndarray:
    """The hops of the replications added up, as the dense ``N × (N + 1)`` table."""
    n = counts[0].stations
    table = np.zeros((n, n + 1), dtype=np.int64)
    for i, row in pooled_hops(counts).items():
        for j, count in row.items():
            table[i, j] = count
    return table
