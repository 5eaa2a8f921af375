"""The rows of a run's tidy table, each figure beside its theory (layer 5)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from eda_sim.metrics import Metric, lookup, names
from eda_sim.stats import Interval
from eda_sim.theory.scenario.figures import CLASS_METRICS

if TYPE_CHECKING:
    from eda_sim.results.run_result import RunResult


def _family_member(metric: str) -> Metric | None:
    """The metric-table entry of a family member (``W_p99``), None for any other name."""
    try:
        found = lookup(metric)
    except KeyError:
        return None
    return found if found.family is not None else None


def theory_value(result: RunResult, scope: str, name: str, metric: str) -> tuple[float, str, bool]:
    """Theoretical figure, its method and exactness (NaN, "", False when unavailable)."""
    member = _family_member(metric)
    if member is not None:  # a percentile: from the exact laws, if any
        if result.latency_theory is None or member.family is None or member.level is None:
            return math.nan, "", False
        base = member.family.removesuffix("_p")
        return result.latency_theory.quantile(scope, name, base, member.level)
    theory = result.theory
    if theory is None:
        return math.nan, "", False
    if scope == "station":
        station = theory.stations.get(name)
        if station is None:
            return math.nan, f"unavailable: {theory.reasons.get(name, '')}", False
        value = getattr(station, metric, None)
        if value is None or metric in ("method", "exact", "reason"):
            return math.nan, "", False
        return float(value), station.method, station.exact
    if scope == "system" and theory.system is not None and metric in names("system"):
        system = theory.system
        value = getattr(system, metric, None)
        if value is None:
            return math.nan, "", False
        return float(value), system.method, system.exact
    if scope == "class" and name in theory.classes:
        figures = theory.classes[name]
        if not figures.available:
            return math.nan, f"unavailable: {figures.reason}", False
        if metric in CLASS_METRICS:
            return figures.value(metric), figures.method, figures.exact
    return math.nan, "", False


def table_rows(result: RunResult) -> list[dict[str, Any]]:
    """The rows of :meth:`to_frame` as plain dictionaries (no pandas needed)."""
    rows: list[dict[str, Any]] = []

    def add(scope: str, name: str, metrics: dict[str, Interval]) -> None:
        for metric, interval in metrics.items():
            theory, method, exact = theory_value(result, scope, name, metric)
            rows.append(
                {
                    "scope": scope,
                    "name": name,
                    "metric": metric,
                    "mean": interval.mean,
                    "ci_low": interval.low,
                    "ci_high": interval.high,
                    "half_width": interval.half_width,
                    "n": interval.n,
                    "theory": theory,
                    "method": method,
                    "exact": exact,
                }
            )

    for station, metrics in result.stations.items():
        add("station", station, metrics)
    add("system", "system", result.system)
    for name, metrics in result.classes.items():
        add("class", name, metrics)
    for verdict in result.slo:  # scope "slo": theory holds the limit, method the verdict
        interval = verdict.interval
        rows.append(
            {
                "scope": "slo",
                "name": verdict.slo.target,
                "metric": verdict.slo.kind,
                "mean": interval.mean,
                "ci_low": interval.low,
                "ci_high": interval.high,
                "half_width": interval.half_width,
                "n": interval.n,
                "theory": verdict.slo.limit,
                "method": verdict.verdict,
                "exact": False,
            }
        )
    return rows
