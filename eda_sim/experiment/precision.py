"""Step 3 of a run: precision rounds, replications added until a target is met.

With a target relative half-width (``run.precision``), replications are added in
rounds until the relative half-width of every station's L, W and Wq and of the
system's W (the metrics of :mod:`eda_sim.metrics` with a precision scope) is at
most the target, or the cap is reached. The next round's size follows from the
worst half-width (a half-width shrinks as 1/sqrt(n): A. M. Law, *Simulation
Modeling and Analysis*, 5th ed., chapter 9, "obtaining a specified precision"),
at most doubling the replications per round. With ``precision: slo`` the rounds
go on until every SLO of the scenario is decided
(:func:`eda_sim.experiment.latency.until_decided`). Which replications run
depends only on the results of the earlier ones, so the outcome does not depend
on the workers.
"""

from __future__ import annotations

import math

from eda_sim.experiment.latency import slo_verdicts, until_decided
from eda_sim.experiment.run_plan import RunPlan
from eda_sim.metrics import precision_metrics
from eda_sim.results import PrecisionReport, RunResult

__all__ = [
    "PRECISION_STATION_METRICS",
    "PRECISION_SYSTEM_METRICS",
    "next_round",
    "precision_achieved",
    "precision_report",
    "precision_round",
    "relative_half_width",
]

#: The metrics a precision target applies to: per station, and for the system.
PRECISION_STATION_METRICS = precision_metrics("station")
PRECISION_SYSTEM_METRICS = precision_metrics("system")


def relative_half_width(mean: float, half_width: float) -> float:
    """``half_width / |mean|``; infinite where it is not known, 0 for an exact 0 half-width."""
    if math.isnan(half_width) or math.isnan(mean):
        return math.inf
    if half_width == 0:
        return 0.0
    return half_width / abs(mean) if mean else math.inf


def precision_achieved(result: RunResult) -> dict[str, float]:
    """The relative half-width of every metric a target applies to, by ``place.metric``."""
    achieved = {
        f"{station}.{metric}": relative_half_width(iv[metric].mean, iv[metric].half_width)
        for station, iv in result.stations.items()
        for metric in PRECISION_STATION_METRICS
        if not math.isnan(iv[metric].mean)  # a station no event reached has nothing to measure
    }
    for metric in PRECISION_SYSTEM_METRICS:
        interval = result.system[metric]
        achieved[f"system.{metric}"] = relative_half_width(interval.mean, interval.half_width)
    return achieved


def precision_report(summary: RunResult, target: float, cap: int) -> PrecisionReport:
    """Whether ``summary`` meets ``target``, and what every metric achieved."""
    achieved = precision_achieved(summary)
    worst = max(achieved.values(), default=0.0)
    return PrecisionReport(target, worst <= target, cap, achieved)


def next_round(total: int, report: PrecisionReport, target: float) -> int | None:
    """The replications the next round reaches, or None when the rounds are over.

    ``target`` is the report's relative half-width. Over when the target is met
    or ``total`` is at the cap; else the replications that the worst half-width
    asks for (at least one more, at most twice as many, at most the cap).
    """
    if report.met or total >= report.max_replications:
        return None
    worst = max(report.achieved.values(), default=0.0)
    ratio = worst / target  # may be huge: no power, no ceil of infinity
    needed = min(2.0 * total, total * ratio * ratio) if math.isfinite(ratio) else 0.0
    return min(report.max_replications, max(total + 1, math.ceil(needed or 2.0 * total)))


def precision_round(
    plan: RunPlan, summary: RunResult, total: int
) -> tuple[PrecisionReport, int | None]:
    """After a round of ``total`` replications: the report, and the next round's size.

    The size is None when the rounds are over (the target met, every SLO
    decided, or the cap reached). ``plan.target`` is not None.
    """
    target = plan.target
    assert target is not None, "precision rounds run only with a target"
    if isinstance(target, str):  # "slo": until every SLO is decided
        scenario = plan.scenario
        verdicts = slo_verdicts(scenario, summary.stations, summary.system, summary.classes)
        return until_decided(verdicts, total, plan.cap)
    report = precision_report(summary, target, plan.cap)
    return report, next_round(total, report, target)
