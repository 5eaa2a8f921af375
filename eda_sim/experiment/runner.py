"""Running experiments: replications, automatic warm-up, target precision, batch means (layer 5).

:func:`run` is the sequence of a run's steps, each in its own module:

1. **plan** (:mod:`~eda_sim.experiment.run_plan`): settings, budgets, engine and
   workers, all decided and checked before a replication runs;
2. **execute** (:mod:`~eda_sim.experiment.execution`): replications in this
   process or on an executor (a pool, Dask, the caller's), put back in
   replication order, so the numbers are identical for every number of workers;
3. **precision rounds** (:mod:`~eda_sim.experiment.precision`): with a target
   precision, replications added in rounds until every metric meets it (or,
   with ``precision="slo"``, every SLO is decided) or the cap is reached;
4. **summarise** (:mod:`~eda_sim.experiment.run_summary`): the warm-up cut
   (MSER-5 with ``auto``), batch means, intervals, pooled percentiles and SLO
   verdicts, theory, checks, notes.

A Ctrl-C (``KeyboardInterrupt``) does not lose finished work: the replications
that finished are summarised and the result is marked ``partial``. Nor does a
worker process that dies (killed from outside, out of memory): its replication
runs again on a fresh worker, with the same result; if that worker dies too,
:class:`~eda_sim.experiment.lost_work.WorkerLostError` carries the summary of
what finished, marked partial (``error.partial``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor

from eda_sim.experiment.engines import EngineName
from eda_sim.experiment.execution import (
    IN_FLIGHT,
    WAIT_SAMPLE,
    Finished,
    ProgressCallback,
    execute,
)
from eda_sim.experiment.executors import open_executor
from eda_sim.experiment.lost_work import WorkerLostError
from eda_sim.experiment.precision import (
    PRECISION_STATION_METRICS,
    PRECISION_SYSTEM_METRICS,
    precision_round,
)
from eda_sim.experiment.run_plan import DEFAULT_MAX_REPLICATIONS, CiMethod, RunPlan, plan_run
from eda_sim.experiment.run_summary import (
    AUTOCORRELATION_ALPHA,
    BATCH_COUNT,
    RunTheory,
    finish,
    summarise,
)
from eda_sim.results import PrecisionReport, RunResult
from eda_sim.scenario import Scenario

__all__ = [
    "AUTOCORRELATION_ALPHA",
    "BATCH_COUNT",
    "DEFAULT_MAX_REPLICATIONS",
    "IN_FLIGHT",
    "PRECISION_STATION_METRICS",
    "PRECISION_SYSTEM_METRICS",
    "WAIT_SAMPLE",
    "CiMethod",
    "PrecisionReport",
    "ProgressCallback",
    "new_finished",
    "run",
    "run_planned",
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

    Raises
    ------
    WorkerLostError
        When a worker process died twice running one replication (each lost
        replication runs again once, on a fresh worker: the results are those of an
        undisturbed run, and a note says so), or a Dask cluster lost a replication;
        ``error.partial`` is then the result of the replications that finished,
        marked partial (``None`` if none had).

    Examples
    --------
    >>> from eda_sim.scenario import load_scenario
    >>> result = run(load_scenario("scenarios/mm1.yaml"), replications=3, horizon=2000)
    >>> result.replications, sorted(result.stations)
    (3, ['handler'])
    """
    plan = plan_run(
        scenario,
        {
            "replications": replications,
            "horizon": horizon,
            "warmup": warmup,
            "seed": seed,
            "confidence": confidence,
            "precision": precision,
        },
        ci=ci,
        max_replications=max_replications,
        workers=workers,
        pooled=executor is None and scheduler is None,
        engine=engine,
        max_visits=max_visits,
        notify=notify,
        trace=trace,
    )
    return run_planned(plan, new_finished(plan), scheduler, executor, progress)


def new_finished(plan: RunPlan) -> Finished:
    """An empty :class:`Finished` for ``plan`` (how its replications are kept)."""
    return Finished(compact=not plan.batch_means, later_starts=plan.settings.warmup == "auto")


def run_planned(
    plan: RunPlan,
    finished: Finished,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Steps 2 to 4 of :func:`run` for a plan, adding to the replications in ``finished``.

    Replications already in ``finished`` (a sweep point resumed from its
    checkpoint) do not run again: replication ``i`` always draws from the same
    streams, so the result is that of a run that never stopped. ``finished`` holds
    every replication that finished when this returns or raises (Ctrl-C, a lost
    worker), for the caller to keep.
    """
    total = plan.first_round
    theory = RunTheory(plan.scenario)  # worked out while the first replications run
    report: PrecisionReport | None = None
    started = time.perf_counter()
    interrupted = False
    lost: WorkerLostError | None = None
    try:
        with open_executor(plan.workers, scheduler, executor, isolate=plan.isolate) as pool:
            while True:
                execute(plan, pool, total, finished, progress, theory.work_out)
                if plan.target is None:
                    break
                summary = summarise(plan, finished, total).result
                report, following = precision_round(plan, summary, total)
                if following is None:
                    break
                total = following
    except KeyboardInterrupt:  # Ctrl-C: what finished is kept, marked partial
        if not finished:
            raise
        interrupted = True
    except WorkerLostError as error:  # what finished is kept, marked partial
        if not finished:
            raise
        lost = error
        finished.notes.append(f"stopped early: {error}")
    try:
        result = finish(plan, finished, total, report, interrupted or bool(lost), started, theory)
    except KeyboardInterrupt:  # during the summary: once more, marked partial
        if not finished:
            raise
        result = finish(plan, finished, total, report, True, started, theory)
    if lost is not None:
        lost.partial = result
        raise lost
    return result
