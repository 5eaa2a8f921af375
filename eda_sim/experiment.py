"""Running experiments: independent replications, serially or in worker processes (layer 5).

Replication ``r`` of a run with seed ``s`` always draws from the same random
streams (:mod:`eda_sim.rng`), whichever process runs it and in whatever order, and
results are put back in replication order, so the numbers are identical for
every number of workers.

A Ctrl-C (``KeyboardInterrupt``) does not lose finished work: the replications
that finished are summarised and the result is marked ``partial``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from eda_sim.engine.records import ReplicationResult
from eda_sim.engine.simpy_engine import ENGINE_NAME, simulate_replication
from eda_sim.results import RunResult, assumption_checks, summarize
from eda_sim.scenario import Scenario
from eda_sim.theory.scenario import solve

__all__ = ["ProgressCallback", "run"]

#: Called as ``progress(finished, total)`` after each replication.
ProgressCallback = Callable[[int, int], None]


def _replicate(
    scenario: Scenario, replication: int, horizon: float, warmup: float, seed: int
) -> ReplicationResult:
    """Run one replication (top-level so that worker processes can unpickle it)."""
    return simulate_replication(
        scenario, replication=replication, horizon=horizon, warmup=warmup, seed=seed
    )


def run(
    scenario: Scenario,
    *,
    replications: int | None = None,
    horizon: float | None = None,
    warmup: float | str | None = None,
    seed: int | None = None,
    confidence: float | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Simulate independent replications of ``scenario`` and summarise them.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario; its ``run`` settings are the defaults.
    replications, horizon, warmup, seed, confidence : optional
        Override the scenario's run settings (checked like the file's: a bad
        value raises :class:`~eda_sim.errors.ScenarioError`). ``warmup`` is a
        time, ``"none"`` or ``"auto"``.
    workers : int
        Processes to run replications in; 1 runs them in this process.
    executor : concurrent.futures.Executor, optional
        Run replications on this executor instead (it is not shut down).
    progress : callable, optional
        ``progress(finished, total)`` after each replication.

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
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    scenario = scenario.with_run(
        replications=replications, horizon=horizon, warmup=warmup, seed=seed, confidence=confidence
    )
    settings = scenario.run
    total = settings.replications
    arguments = (settings.horizon, settings.warmup_time, settings.seed)
    finished: dict[int, ReplicationResult] = {}
    started = time.perf_counter()

    def done(result: ReplicationResult) -> None:
        finished[result.replication] = result
        if progress is not None:
            progress(len(finished), total)

    own_pool = executor is None and workers > 1
    pool: Executor | None = ProcessPoolExecutor(max_workers=workers) if own_pool else executor
    try:
        if pool is None:
            for index in range(total):
                done(_replicate(scenario, index, *arguments))
        else:
            futures: list[Future[ReplicationResult]] = [
                pool.submit(_replicate, scenario, index, *arguments) for index in range(total)
            ]
            try:
                for future in futures:
                    done(future.result())
            finally:
                for future in futures:
                    future.cancel()
    except KeyboardInterrupt:
        if not finished:
            raise
    finally:
        if own_pool and pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    ordered = [finished[index] for index in sorted(finished)]
    return summarize(
        scenario.name,
        ENGINE_NAME,
        ordered,
        confidence=settings.confidence,
        requested=total,
        class_names=() if scenario.single_class else scenario.class_names,
        elapsed_seconds=time.perf_counter() - started,
        theory=solve(scenario),
        checks=assumption_checks(scenario, ordered),
    )
