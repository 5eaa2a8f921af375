"""Step 2 of a run: execute replications, in this process or on an executor.

Replication ``r`` of a run with seed ``s`` always draws from the same random
streams (:mod:`eda_sim.rng`), whichever process runs it and in whatever order;
:class:`Finished` keeps each result under its replication index, so the numbers
are identical for every number of workers and on Dask. A Ctrl-C keeps what
finished (the replications done meanwhile on the executor too) and cancels the
rest.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from itertools import islice

from eda_sim.engine.fast import simulate_replication_fast
from eda_sim.engine.records import ReplicationResult
from eda_sim.engine.simpy import simulate_replication
from eda_sim.experiment.executors import first_finished, result_of, submitted
from eda_sim.experiment.latency import LatencyPool
from eda_sim.experiment.run_plan import RunPlan
from eda_sim.scenario import Scenario

__all__ = ["IN_FLIGHT", "WAIT_SAMPLE", "Finished", "ProgressCallback", "execute", "replicate"]

#: Called as ``progress(finished, total)`` after each replication (total may grow).
ProgressCallback = Callable[[int, int], None]

#: Waits kept per station from replication 0, for waiting-time plots.
WAIT_SAMPLE = 1000
#: Replications submitted to an executor ahead of the one being waited for.
IN_FLIGHT = 64


def replicate(
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


class Finished:
    """The finished replications by index, their percentile sketches pooled as they come.

    ``compact``: keep of each replication only what later windows need (its
    sketches' chunks are pooled in :attr:`latency`; independent replications).
    """

    def __init__(self, compact: bool) -> None:
        self.results: dict[int, ReplicationResult] = {}
        self.latency = LatencyPool()
        self._compact = compact

    def keep(self, result: ReplicationResult) -> None:
        """Add a finished replication (exact integer counts: the order does not matter)."""
        self.results[result.replication] = self.latency.add(result, compact=self._compact)

    def __len__(self) -> int:
        return len(self.results)

    def __contains__(self, index: object) -> bool:
        return index in self.results

    def ordered(self) -> list[ReplicationResult]:
        """The finished replications in replication order."""
        return [self.results[i] for i in sorted(self.results)]


def execute(
    plan: RunPlan,
    pool: Executor | None,
    wanted: int,
    finished: Finished,
    progress: ProgressCallback | None = None,
) -> None:
    """Run replications ``0 .. wanted - 1`` not yet in ``finished``, keeping each as it ends.

    ``pool`` None runs them here, one after the other. On an executor a bounded
    window of submitted replications is taken as they finish (a run of 100,000
    short replications does not queue 100,000 pickled tasks). On Ctrl-C the ones
    that finished meanwhile are kept too, the rest cancelled, and the
    ``KeyboardInterrupt`` goes on up.
    """
    scenario, settings = plan.scenario, plan.settings
    indices = [i for i in range(wanted) if i not in finished]
    arguments = (
        settings.horizon,
        plan.engine_warmup,
        settings.seed,
        plan.engine,
        plan.trace,
        plan.batch_means,
        plan.keep_paths,
    )
    if pool is None:
        for index in indices:
            finished.keep(replicate(scenario, index, *arguments))
            if progress is not None:
                progress(len(finished), wanted)
        return
    pending = iter(indices)
    running: set[Future[ReplicationResult]] = {
        submitted(pool, replicate, scenario, index, *arguments)
        for index in islice(pending, IN_FLIGHT)
    }
    try:
        while running:
            done, running = first_finished(running, pool)
            for future in done:
                finished.keep(result_of(future))
                if progress is not None:
                    progress(len(finished), wanted)
                following = next(pending, None)
                if following is not None:
                    running.add(submitted(pool, replicate, scenario, following, *arguments))
    except KeyboardInterrupt:
        for future in running:
            if future.done() and not future.cancelled() and future.exception() is None:
                finished.keep(future.result())
        raise
    finally:
        for future in running:
            future.cancel()
