"""Step 4 of a run: summarise the finished replications into the run's result.

* **Warm-up** ``auto``: each replication ran from an empty start and kept its
  sample path on a regular grid; MSER-5 (White 1997) is applied per station to
  the number present averaged over the replications, the cut is the latest over
  the stations, and every replication is re-measured exactly from that grid point.
* **Batch means** (``ci="batch-means"``): one long replication, the part after the
  warm-up cut into 20 equal batches (at least 20: Law & Kelton §9.5.3); a lag-1
  autocorrelation check warns when the batches are not close to independent.
* Intervals (:func:`eda_sim.results.summarize`), the pooled percentiles and SLO
  verdicts (:mod:`eda_sim.experiment.latency`), theory beside them, the
  assumption checks and the notes make the :class:`~eda_sim.results.RunResult`.
* **Theory** depends on the scenario alone: :class:`RunTheory` works it out while
  the first replications run in worker processes, so that the summary after a
  Ctrl-C (what finished, marked partial) does not wait for it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from eda_sim.engine.records import ReplicationResult, mser_cut
from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment.diagnostics import run_notes
from eda_sim.experiment.engines import compiled_note
from eda_sim.experiment.execution import Finished
from eda_sim.experiment.latency import (
    batch_histograms,
    collapsed_notes,
    measured_start,
    slo_verdicts,
    withhold_collapsed,
)
from eda_sim.experiment.precision import PRECISION_STATION_METRICS, PRECISION_SYSTEM_METRICS
from eda_sim.experiment.run_plan import RunPlan
from eda_sim.results import (
    PrecisionReport,
    RunResult,
    assumption_checks,
    describe_scenario,
    summarize,
)
from eda_sim.scenario import Scenario
from eda_sim.stats import lag1_autocorrelation
from eda_sim.theory.percentiles.scenario import LatencyTheory, latency_theory
from eda_sim.theory.scenario import ScenarioTheory, solve

__all__ = [
    "AUTOCORRELATION_ALPHA",
    "BATCH_COUNT",
    "RunTheory",
    "Summary",
    "autocorrelation_notes",
    "batches",
    "finish",
    "summarise",
    "with_warmup",
]

#: Batches of a batch-means run (at least 20, Law & Kelton §9.5.3).
BATCH_COUNT = 20
#: Level of the one-sided test of positive lag-1 autocorrelation between batch means.
AUTOCORRELATION_ALPHA = 0.05


def with_warmup(
    results: list[ReplicationResult], setting: object, notes: list[str]
) -> tuple[list[ReplicationResult], str]:
    """The replications measured after the warm-up, and the warm-up method's name.

    With ``auto`` the MSER-5 cut is applied to every replication (and a note
    added where the number present still drifts); otherwise the engines already
    cut the fixed warm-up.
    """
    if setting != "auto":
        return results, "none" if setting == "none" else "fixed"
    cut, drifting = mser_cut([r.path for r in results if r.path is not None])
    if drifting:
        notes.append(
            "MSER-5 finds the number present still changing in the second half of the run at "
            + ", ".join(drifting)
            + ": the run may not reach steady state; use a longer horizon"
        )
    if cut == 0:
        return results, "MSER-5"
    return [r.truncated(cut) for r in results], "MSER-5"


def batches(result: ReplicationResult, start: int, count: int) -> list[ReplicationResult]:
    """Cut one replication's post-warm-up path into ``count`` equal batches, each a record."""
    path = result.path
    if path is None:
        raise ValueError("batch means need the replication's sample path")
    last = len(path.times) - 1
    size = (last - start) // count
    if size < 1:
        raise ScenarioError(
            Fault(
                "run.horizon",
                f"leaves too few grid intervals after the warm-up for {count} batches",
            )
        )
    first = last - size * count
    return [
        replace(
            result.between(first + index * size, first + (index + 1) * size),
            replication=index,
            warmup=float(path.times[first]),
            path=None,
        )
        for index in range(count)
    ]


def autocorrelation_notes(samples: Sequence[ReplicationResult]) -> list[str]:
    """Name the metrics whose batch means show significant positive lag-1 autocorrelation."""
    count = len(samples)
    from scipy.special import ndtri  # the standard normal quantile (norm.ppf is ndtri)

    threshold = float(ndtri(1 - AUTOCORRELATION_ALPHA)) / math.sqrt(count)
    flagged = []
    for station in samples[0].stations:
        for metric in PRECISION_STATION_METRICS:
            r1 = lag1_autocorrelation(b.stations[station].metric(metric) for b in samples)
            if r1 > threshold:
                flagged.append(f"{station}.{metric} (r1 = {r1:.2f})")
    for metric in PRECISION_SYSTEM_METRICS:
        r1 = lag1_autocorrelation(b.system.metric(metric) for b in samples)
        if r1 > threshold:
            flagged.append(f"system.{metric} (r1 = {r1:.2f})")
    if not flagged:
        return []
    return [
        f"batch means are autocorrelated (lag 1, one-sided {AUTOCORRELATION_ALPHA:.0%} test, "
        f"threshold {threshold:.2f}) for "
        + ", ".join(flagged)
        + ": the interval may be too narrow; use a longer horizon"
    ]


@dataclass
class RunTheory:
    """The theory beside a run's figures, worked out once (:meth:`work_out`)."""

    scenario: Scenario
    solved: ScenarioTheory | None = field(default=None, repr=False)
    latency: LatencyTheory | None = field(default=None, repr=False)

    def work_out(self) -> None:
        """Solve the scenario and its percentile laws now.

        Also the percentiles the result will report: their root finding (and the
        import of SciPy's root finders) is not cheap.
        """
        if self.solved is None:
            self.solved = solve(self.scenario)
        if self.latency is None:
            latency = latency_theory(self.scenario)
            latency.to_dict(tuple(self.scenario.run.quantiles))  # cached in the laws
            self.latency = latency


@dataclass(frozen=True)
class Summary:
    """The finished replications summarised (what a precision round and the result read)."""

    measured: list[ReplicationResult]
    """The replications after the warm-up cut, in replication order."""
    samples: list[ReplicationResult]
    """What the intervals are over: the measured replications, or the batches."""
    warmup_method: str
    result: RunResult
    """The intervals (not yet with theory, checks, notes: see :func:`finish`)."""
    notes: list[str]


def summarise(plan: RunPlan, finished: Finished, requested: int) -> Summary:
    """The finished replications summarised: warm-up cut, batches, intervals.

    ``requested`` is the number of replications the run asked for so far.
    """
    scenario, settings = plan.scenario, plan.settings
    notes: list[str] = [] if plan.compiled_in is None else [compiled_note(plan.compiled_in)]
    measured, warmup_method = with_warmup(finished.ordered(), settings.warmup, notes)
    if plan.ci == "batch-means":
        longest = measured[0]
        assert longest.path is not None  # the engine always keeps it
        start = longest.path.index_at_or_after(longest.warmup)
        samples = batches(longest, start, BATCH_COUNT)
        notes.extend(autocorrelation_notes(samples))
    else:
        samples = measured
    result = summarize(
        scenario.name,
        plan.engine,
        samples,
        confidence=settings.confidence,
        requested=len(samples) if plan.ci == "batch-means" else requested,
        class_names=() if scenario.single_class else scenario.class_names,
        features=scenario.features,
        levels=settings.quantiles,
    )
    result = withhold_collapsed(result, samples)
    return Summary(measured, samples, warmup_method, result, notes)


def finish(
    plan: RunPlan,
    finished: Finished,
    requested: int,
    report: PrecisionReport | None,
    partial: bool,
    started: float,
    theory: RunTheory | None = None,
) -> RunResult:
    """The run's result: the summary with percentiles, SLOs, theory, checks and notes.

    Only replication 0 keeps its sample path (for plots); ``partial`` marks a run
    cut short by Ctrl-C or a lost worker; ``started`` is its start on
    :func:`time.perf_counter`; ``theory`` what of the theory is already worked out.
    """
    scenario, settings = plan.scenario, plan.settings
    theory = RunTheory(scenario) if theory is None else theory
    theory.work_out()
    summary = summarise(plan, finished, requested)
    notes, measured, result = summary.notes, summary.measured, summary.result
    verdicts = slo_verdicts(scenario, result.stations, result.system, result.classes)
    if plan.target == "slo" and report is not None and not report.met:
        notes.append(
            f"not every SLO was decided with {len(finished)} replications (cap {plan.cap}); "
            "see the slo section for the replications each would need"
        )
    elif report is not None and not report.met:
        worst_name, worst = max(report.achieved.items(), key=lambda item: item[1])
        notes.append(
            f"precision {report.target:g} not met with {len(finished)} replications "
            f"(cap {plan.cap}); worst relative half-width {worst:.3g} ({worst_name})"
        )
    notes.extend(run_notes(scenario, replace(result, ci_method=plan.ci), plan.target))
    notes.extend(collapsed_notes(summary.samples))
    notes.extend(finished.notes)
    kept = [r if r.replication == 0 else r.without_path() for r in measured]
    if plan.batch_means:
        histograms = batch_histograms(summary.samples, measured[0])
    else:
        start = measured_start(measured[0], summary.warmup_method)
        histograms = finished.latency.histograms(start)
    return replace(
        result,
        latency=histograms,
        latency_theory=theory.latency,
        quantile_levels=tuple(settings.quantiles),
        slo=verdicts,
        replication_results=tuple(kept) if not plan.batch_means else result.replication_results,
        partial=partial,
        elapsed_seconds=time.perf_counter() - started,
        theory=theory.solved,
        checks=tuple(assumption_checks(scenario, finished.ordered())),
        warmup_method=summary.warmup_method,
        ci_method=plan.ci,
        precision=report,
        notes=tuple(dict.fromkeys(notes)),
        sample=measured[0],
        time_unit=scenario.time_unit,
        model=describe_scenario(scenario),
    )
