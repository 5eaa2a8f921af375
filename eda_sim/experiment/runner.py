"""Running experiments: replications, automatic warm-up, target precision, batch means (layer 5).

Replication ``r`` of a run with seed ``s`` always draws from the same random
streams (:mod:`eda_sim.rng`), whichever process runs it and in whatever order, and
results are put back in replication order, so the numbers are identical for
every number of workers and on Dask.

* **Warm-up** ``auto``: each replication runs from an empty start and keeps its
  sample path on a regular grid; MSER-5 (White 1997) is applied per station to
  the number present averaged over the replications, the cut is the latest over
  the stations, and every replication is re-measured exactly from that grid point.
* **Precision**: replications are added in rounds until the relative half-width
  of every station's L, W and Wq and of the system's W is at most the target, or
  ``max_replications`` is reached. Which replications run depends only on the
  results of the earlier ones, so the outcome does not depend on the workers.
* **Batch means** (``ci="batch-means"``): one long replication, the part after the
  warm-up cut into 20 equal batches; a lag-1 autocorrelation check warns when the
  batches are not close to independent.

A Ctrl-C (``KeyboardInterrupt``) does not lose finished work: the replications
that finished are summarised and the result is marked ``partial``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import replace
from itertools import islice
from typing import Literal

from eda_sim.engine.fast import simulate_replication_fast
from eda_sim.engine.records import ReplicationResult, mser_cut
from eda_sim.engine.simpy import simulate_replication
from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment.diagnostics import precision_start, run_notes
from eda_sim.experiment.engines import (
    ENGINES,
    EngineName,
    choose_engine,
    compiled_note,
    prepare_engine,
)
from eda_sim.experiment.executors import first_finished, open_executor, result_of, submitted
from eda_sim.experiment.latency import (
    LatencyPool,
    batch_histograms,
    measured_start,
    slo_verdicts,
    until_decided,
)
from eda_sim.experiment.planning import check_workers, run_workers
from eda_sim.metrics import precision_metrics
from eda_sim.results import (
    PrecisionReport,
    RunResult,
    assumption_checks,
    describe_scenario,
    summarize,
)
from eda_sim.scenario import Scenario
from eda_sim.scenario.budgets import DEFAULT_MAX_VISITS, budget_faults
from eda_sim.scenario.model import raise_if
from eda_sim.stats import lag1_autocorrelation
from eda_sim.theory.percentiles.scenario import latency_theory
from eda_sim.theory.scenario import solve

__all__ = [
    "AUTOCORRELATION_ALPHA",
    "BATCH_COUNT",
    "DEFAULT_MAX_REPLICATIONS",
    "CiMethod",
    "PrecisionReport",
    "ProgressCallback",
    "run",
]

#: Called as ``progress(finished, total)`` after each replication (total may grow).
ProgressCallback = Callable[[int, int], None]
CiMethod = Literal["replications", "batch-means"]

#: Waits kept per station from replication 0, for waiting-time plots.
WAIT_SAMPLE = 1000
#: Replications submitted to an executor ahead of the one being waited for.
IN_FLIGHT = 64
#: Cap on replications when a precision is asked for and no cap is given.
DEFAULT_MAX_REPLICATIONS = 200
#: Batches of a batch-means run (at least 20, Law & Kelton §9.5.3).
BATCH_COUNT = 20
#: Level of the one-sided test of positive lag-1 autocorrelation between batch means.
AUTOCORRELATION_ALPHA = 0.05
#: The metrics a precision target applies to: per station, and for the system.
PRECISION_STATION_METRICS = precision_metrics("station")
PRECISION_SYSTEM_METRICS = precision_metrics("system")


def _replicate(
    scenario: Scenario,
    replication: int,
    horizon: float,
    warmup: float,
    seed: int,
    engine: str = "simpy",
    trace: bool = False,
    batch_means: bool = False,
    keep_path: bool = True,
) -> ReplicationResult:
    """Run one replication (top-level so that worker processes can unpickle it).

    Replication 0 also keeps a bounded sample of waits for the plots, and its
    sample path; the others keep their path only when ``keep_path`` (MSER-5 and
    batch means need it), so that memory does not grow with it. With ``trace``
    replication 0 also keeps its every arrival, start and departure; the trace is
    the SimPy engine's (the two engines give identical results, so the replication
    is the same). ``batch_means`` cuts the percentile sketches at every grid point.
    """
    if trace and replication == 0:
        return simulate_replication(
            scenario,
            replication=0,
            horizon=horizon,
            warmup=warmup,
            seed=seed,
            keep_waits=WAIT_SAMPLE,
            trace=True,
            batch_means=batch_means,
        )
    simulate = simulate_replication_fast if engine == "fast" else simulate_replication
    result = simulate(
        scenario,
        replication=replication,
        horizon=horizon,
        warmup=warmup,
        seed=seed,
        keep_waits=WAIT_SAMPLE if replication == 0 else 0,
        batch_means=batch_means,
    )
    return result if keep_path or replication == 0 else result.without_path()


def _relative_half_width(mean: float, half_width: float) -> float:
    if math.isnan(half_width) or math.isnan(mean):
        return math.inf
    if half_width == 0:
        return 0.0
    return half_width / abs(mean) if mean else math.inf


def _precision_achieved(result: RunResult) -> dict[str, float]:
    achieved = {
        f"{station}.{metric}": _relative_half_width(iv[metric].mean, iv[metric].half_width)
        for station, iv in result.stations.items()
        for metric in PRECISION_STATION_METRICS
        if not math.isnan(iv[metric].mean)  # a station no event reached has nothing to measure
    }
    for metric in PRECISION_SYSTEM_METRICS:
        interval = result.system[metric]
        achieved[f"system.{metric}"] = _relative_half_width(interval.mean, interval.half_width)
    return achieved


def _with_warmup(
    results: list[ReplicationResult], setting: object, notes: list[str]
) -> tuple[list[ReplicationResult], str]:
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


def _batches(result: ReplicationResult, start: int, count: int) -> list[ReplicationResult]:
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


def _autocorrelation_notes(batches: Sequence[ReplicationResult]) -> list[str]:
    """Name the metrics whose batch means show significant positive lag-1 autocorrelation."""
    count = len(batches)
    from scipy.special import ndtri  # the standard normal quantile (norm.ppf is ndtri)

    threshold = float(ndtri(1 - AUTOCORRELATION_ALPHA)) / math.sqrt(count)
    flagged = []
    for station in batches[0].stations:
        for metric in PRECISION_STATION_METRICS:
            r1 = lag1_autocorrelation(b.stations[station].metric(metric) for b in batches)
            if r1 > threshold:
                flagged.append(f"{station}.{metric} (r1 = {r1:.2f})")
    for metric in PRECISION_SYSTEM_METRICS:
        r1 = lag1_autocorrelation(b.system.metric(metric) for b in batches)
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


def run(
    scenario: Scenario,
    *,
    replications: int | None = None,
    horizon: float | None = None,
    warmup: float | str | None = None,
    seed: int | None = None,
    confidence: float | None = None,
    precision: float | str | None = None,
    max_replications: int | None = None,
    ci: CiMethod = "replications",
    workers: int | None = None,
    executor: Executor | None = None,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
    engine: EngineName = "auto",
    trace: bool = False,
    max_visits: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> RunResult:
    """Simulate ``scenario`` and summarise it with confidence intervals beside theory.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario; its ``run`` settings are the defaults.
    replications, horizon, warmup, seed, confidence, precision : optional
        Override the scenario's run settings (checked like the file's: a bad value
        raises :class:`~eda_sim.errors.ScenarioError`). ``warmup`` is a time,
        ``"none"`` or ``"auto"`` (MSER-5); ``precision`` a target relative half-width,
        or ``"slo"``: add replications until every SLO of the scenario is decided.
    max_replications : int, optional
        Cap on replications when a precision is asked for (default 200).
    ci : {"replications", "batch-means"}
        Independent replications (default) or batch means of one long run.
    workers : int or None
        Worker processes (1: this process). ``None`` chooses from the expected work
        (:func:`~eda_sim.experiment.executors.choose_workers`): this process for a
        run expected to take under two seconds, else one process per CPU.
    executor : concurrent.futures.Executor, optional
        Run replications on this executor (left open).
    scheduler : str, optional
        Address of a Dask scheduler to run replications on.
    progress : callable, optional
        ``progress(finished, total)`` after each replication.
    engine : {"auto", "simpy", "fast"}
        The SimPy engine or the compiled one (:mod:`eda_sim.engine.fast`: needs
        numba; the same streams and the same results, bit for bit); ``"auto"``
        (default) runs the compiled one when numba is installed and the run is
        long enough for it to pay (:func:`~eda_sim.experiment.engines.choose_engine`).
        ``RunResult.engine`` says which ran.
    trace : bool
        Keep every arrival, start and departure of replication 0, for
        :meth:`~eda_sim.results.RunResult.records_frame` (memory grows with the
        horizon: for short diagnostic runs).
    max_visits : float, optional
        Refuse a run whose replications are each expected to make more station
        visits than this (default
        :data:`~eda_sim.scenario.budgets.DEFAULT_MAX_VISITS`); see
        :func:`~eda_sim.scenario.budgets.budget_faults` for every budget checked.
    notify : callable, optional
        ``notify(message)`` once, while the fast engine's loop compiles (its first
        use on a machine: seconds); the run's notes say how long it took.

    Returns
    -------
    RunResult
        Marked ``partial`` if interrupted after at least one replication finished.

    Examples
    --------
    >>> from eda_sim.scenario import load_scenario
    >>> result = run(load_scenario("scenarios/mm1.yaml"), replications=3, horizon=2000)
    >>> result.replications, sorted(result.stations)
    (3, ['handler'])
    """
    if ci not in ("replications", "batch-means"):
        raise ScenarioError(Fault("ci", f"must be replications or batch-means, got {ci!r}"))
    if engine not in ENGINES:
        raise ScenarioError(Fault("engine", f"must be auto, simpy or fast, got {engine!r}"))
    scenario = scenario.with_run(
        replications=replications,
        horizon=horizon,
        warmup=warmup,
        seed=seed,
        confidence=confidence,
        precision=precision,
    )
    settings = scenario.run
    target = settings.precision
    cap = (
        max_replications
        if max_replications is not None
        else max(DEFAULT_MAX_REPLICATIONS, settings.replications)
    )
    if cap < settings.replications:
        raise ScenarioError(
            Fault(
                "max_replications", f"must be >= replications ({settings.replications}), got {cap}"
            )
        )
    if ci == "batch-means" and target is not None:
        raise ScenarioError(Fault("precision", "applies to replications, not to batch means"))
    keep_paths = settings.warmup == "auto" or ci == "batch-means"
    most = 1 if ci == "batch-means" else cap if target is not None else settings.replications
    limit = DEFAULT_MAX_VISITS if max_visits is None else max_visits
    raise_if(budget_faults(scenario, replications=most, keep_paths=keep_paths, max_visits=limit))
    check_workers(workers)
    # Chosen, and the compiled loop loaded (or compiled), before any worker starts: a
    # forked worker inherits the loop warmed here. Workers are planned for the engine
    # that runs, never for "auto".
    choice = choose_engine(engine, scenario, 1 if ci == "batch-means" else None)
    compiled_in = prepare_engine(choice, notify)
    resolved = choice.name
    isolate = False
    if executor is None and scheduler is None:
        workers, isolate = run_workers(scenario, workers, resolved, most, target is not None)
    engine_warmup = settings.warmup_time  # 0 with auto: MSER-5 cuts after the run
    total = 1 if ci == "batch-means" else min(cap, precision_start(settings.replications, target))
    finished: dict[int, ReplicationResult] = {}
    started = time.perf_counter()
    interrupted = False

    latency = LatencyPool()

    def keep(result: ReplicationResult) -> None:
        # Pool the sketches' chunks (exact integer counts: the order does not matter),
        # then keep only what later windows need.
        finished[result.replication] = latency.add(result, compact=ci == "replications")

    def collect(pool: Executor | None, wanted: int) -> None:
        indices = [i for i in range(wanted) if i not in finished]
        arguments = (
            settings.horizon,
            engine_warmup,
            settings.seed,
            resolved,
            trace,
            ci == "batch-means",
            keep_paths,
        )
        if pool is None:
            for index in indices:
                keep(_replicate(scenario, index, *arguments))
                if progress is not None:
                    progress(len(finished), wanted)
            return
        # A bounded window of submitted replications, taken as they finish (a run of
        # 100,000 short replications does not queue 100,000 pickled tasks). On Ctrl-C the
        # ones that finished meanwhile are kept too; the rest are cancelled.
        pending = iter(indices)
        running: set[Future[ReplicationResult]] = {
            submitted(pool, _replicate, scenario, index, *arguments)
            for index in islice(pending, IN_FLIGHT)
        }
        try:
            while running:
                done, running = first_finished(running, pool)
                for future in done:
                    keep(result_of(future))
                    if progress is not None:
                        progress(len(finished), wanted)
                    following = next(pending, None)
                    if following is not None:
                        running.add(submitted(pool, _replicate, scenario, following, *arguments))
        except KeyboardInterrupt:
            for future in running:
                if future.done() and not future.cancelled() and future.exception() is None:
                    keep(future.result())
            raise
        finally:
            for future in running:
                future.cancel()

    def summarise() -> tuple[
        list[ReplicationResult], str, list[ReplicationResult], RunResult, list[str]
    ]:
        """The finished replications summarised: warm-up cut, batches, intervals."""
        notes: list[str] = [] if compiled_in is None else [compiled_note(compiled_in)]
        ordered = [finished[i] for i in sorted(finished)]
        measured, warmup_method = _with_warmup(ordered, settings.warmup, notes)
        if ci == "batch-means":
            longest = measured[0]
            assert longest.path is not None  # the engine always keeps it
            start = longest.path.index_at_or_after(longest.warmup)
            samples = _batches(longest, start, BATCH_COUNT)
            notes.extend(_autocorrelation_notes(samples))
        else:
            samples = measured
        summary = summarize(
            scenario.name,
            resolved,
            samples,
            confidence=settings.confidence,
            requested=len(samples) if ci == "batch-means" else total,
            class_names=() if scenario.single_class else scenario.class_names,
            features=scenario.features,
            levels=settings.quantiles,
        )
        return measured, warmup_method, samples, summary, notes

    def finish(partial: bool) -> RunResult:
        measured, warmup_method, samples, summary, notes = summarise()
        verdicts = slo_verdicts(scenario, summary.stations, summary.system, summary.classes)
        if target == "slo" and report is not None and not report.met:
            notes.append(
                f"not every SLO was decided with {len(finished)} replications (cap {cap}); "
                "see the slo section for the replications each would need"
            )
        elif target is not None and report is not None and not report.met:
            worst_name, worst = max(report.achieved.items(), key=lambda item: item[1])
            notes.append(
                f"precision {target:g} not met with {len(finished)} replications "
                f"(cap {cap}); worst relative half-width {worst:.3g} ({worst_name})"
            )
        notes.extend(run_notes(scenario, replace(summary, ci_method=ci), target))
        kept = [r if r.replication == 0 else r.without_path() for r in measured]
        ordered = [finished[i] for i in sorted(finished)]
        if ci == "batch-means":
            histograms = batch_histograms(samples, measured[0])
        else:
            histograms = latency.histograms(measured_start(measured[0], warmup_method))
        return replace(
            summary,
            latency=histograms,
            latency_theory=latency_theory(scenario),
            quantile_levels=tuple(settings.quantiles),
            slo=verdicts,
            replication_results=tuple(kept)
            if ci == "replications"
            else summary.replication_results,
            partial=partial,
            elapsed_seconds=time.perf_counter() - started,
            theory=solve(scenario),
            checks=tuple(assumption_checks(scenario, ordered)),
            warmup_method=warmup_method,
            ci_method=ci,
            precision=report,
            notes=tuple(dict.fromkeys(notes)),
            sample=measured[0],
            time_unit=scenario.time_unit,
            model=describe_scenario(scenario),
        )

    report: PrecisionReport | None = None
    try:
        with open_executor(workers, scheduler, executor, isolate=isolate) as pool:
            while True:
                collect(pool, total)
                if target is None:
                    break
                summary = summarise()[3]
                if target == "slo":
                    verdicts = slo_verdicts(
                        scenario, summary.stations, summary.system, summary.classes
                    )
                    report, wanted = until_decided(verdicts, total, cap)
                    if wanted is None:
                        break
                    total = wanted
                    continue
                achieved = _precision_achieved(summary)
                worst = max(achieved.values(), default=0.0)
                met = worst <= target
                report = PrecisionReport(target, met, cap, achieved)
                if met or total >= cap:
                    break
                ratio = worst / target  # may be huge: no power, no ceil of infinity
                needed = min(2.0 * total, total * ratio * ratio) if math.isfinite(ratio) else 0.0
                total = min(cap, max(total + 1, math.ceil(needed or 2.0 * total)))
    except KeyboardInterrupt:  # Ctrl-C: what finished is kept, marked partial
        if not finished:
            raise
        interrupted = True
    try:
        return finish(interrupted)
    except KeyboardInterrupt:  # during the summary: once more, marked partial
        if not finished:
            raise
        return finish(True)
