"""Step 2 of a run: execute replications, in this process or on an executor.

Replication ``r`` of a run with seed ``s`` always draws from the same random
streams (:mod:`eda_sim.rng`), whichever process runs it and in whatever order;
:class:`Finished` keeps each result under its replication index, so the numbers
are identical for every number of workers and on Dask. A Ctrl-C keeps what
finished (the replications done meanwhile on the executor too) and cancels the
rest. A worker process that dies takes its replication with it: the pool is
renewed and the replication runs again, once, with the same result.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from itertools import islice

from eda_sim.engine.records import ReplicationResult
from eda_sim.engine.simpy import simulate_replication
from eda_sim.experiment.latency import LatencyPool
from eda_sim.experiment.lost_work import WorkerLostError, first_finished, result_of, submitted
from eda_sim.experiment.run_plan import RunPlan
from eda_sim.experiment.worker_pool import WorkerPool
from eda_sim.scenario import Scenario
from eda_sim.text import shorten

__all__ = [
    "IN_FLIGHT",
    "IN_FLIGHT_PER_WORKER",
    "WAIT_SAMPLE",
    "Finished",
    "ProgressCallback",
    "execute",
    "in_flight",
    "replicate",
]

#: Called as ``progress(finished, total)`` after each replication (total may grow).
ProgressCallback = Callable[[int, int], None]

#: Waits kept per station from replication 0, for waiting-time plots.
WAIT_SAMPLE = 1000
#: Replications submitted to an executor ahead of the one being waited for.
IN_FLIGHT = 64
#: ... per worker process of this machine's pool: one running and one waiting, so
#: that few results finished but not yet kept pile up (a Ctrl-C keeps each).
IN_FLIGHT_PER_WORKER = 2


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
    later_starts: bool = True,
) -> ReplicationResult:
    """Run one replication (top-level so that worker processes can unpickle it).

    Replication 0 also keeps a bounded sample of waits for the plots, and its
    sample path; the others keep their path only when ``keep_path`` (MSER-5 and
    batch means need it), so that memory does not grow with it. With ``trace``
    replication 0 also keeps its every arrival, start and departure; the trace is
    the SimPy engine's (the two engines give identical results, so the replication
    is the same). ``batch_means`` cuts the percentile sketches at every grid point;
    ``later_starts`` (the warm-up is chosen after the run, MSER-5) at every point
    MSER-5 may cut, otherwise only at the fixed warm-up's end.
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
            later_starts=later_starts,
        )
    if engine == "fast":
        from eda_sim.engine.fast import simulate_replication_fast as simulate
    else:
        simulate = simulate_replication
    result = simulate(
        scenario,
        replication=replication,
        horizon=horizon,
        warmup=warmup,
        seed=seed,
        keep_waits=WAIT_SAMPLE if replication == 0 else 0,
        batch_means=batch_means,
        later_starts=later_starts,
    )
    return result if keep_path or replication == 0 else result.without_path()


class Finished:
    """The finished replications by index, their percentile sketches pooled as they come.

    ``compact``: keep of each replication only what later windows need (its
    sketches' chunks are pooled in :attr:`latency`; independent replications).
    ``later_starts``: the warm-up is chosen after the run (MSER-5), so every
    replication may still be measured from any grid cut (:class:`LatencyPool`).
    :attr:`deaths` counts, per replication, the workers that died running it, and
    :attr:`notes` says what a run must report of them. :attr:`reserved` holds
    replications that finished in an earlier run of the same plan (a sweep point
    resumed from its checkpoint): :func:`execute` takes each instead of running it,
    when its round comes.
    """

    def __init__(self, compact: bool, later_starts: bool = True) -> None:
        self.results: dict[int, ReplicationResult] = {}
        self.latency = LatencyPool(later_starts)
        self.deaths: dict[int, int] = {}
        self.notes: list[str] = []
        self.reserved: dict[int, ReplicationResult] = {}
        self._compact = compact

    def keep(self, result: ReplicationResult) -> None:
        """Add a finished replication (exact integer counts: the order does not matter)."""
        self.results[result.replication] = self.latency.add(result, compact=self._compact)

    def take_reserved(self, wanted: int) -> None:
        """Keep the reserved replications numbered below ``wanted`` (the round's)."""
        for index in sorted(i for i in self.reserved if i < wanted):
            self.keep(self.reserved.pop(index))

    def __len__(self) -> int:
        return len(self.results)

    def __contains__(self, index: object) -> bool:
        return index in self.results

    def ordered(self) -> list[ReplicationResult]:
        """The finished replications in replication order."""
        return [self.results[i] for i in sorted(self.results)]


def in_flight(pool: Executor) -> int:
    """How many replications are submitted ahead on ``pool``.

    :data:`IN_FLIGHT_PER_WORKER` per process of a :class:`WorkerPool` (what finished
    but is not yet kept is what a Ctrl-C must still keep), :data:`IN_FLIGHT` on
    another executor (a Dask cluster of unknown size).
    """
    if isinstance(pool, WorkerPool):
        return max(2, IN_FLIGHT_PER_WORKER * pool.workers)
    return IN_FLIGHT


def execute(
    plan: RunPlan,
    pool: Executor | None,
    wanted: int,
    finished: Finished,
    progress: ProgressCallback | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Run replications ``0 .. wanted - 1`` not yet in ``finished``, keeping each as it ends.

    ``pool`` None runs them here, one after the other. On an executor a bounded
    window of submitted replications is taken as they finish (a run of 100,000
    short replications does not queue 100,000 pickled tasks). ``meanwhile()`` is
    called once the first replications are under way (before the first, in this
    process): work of the parent that need not wait for them.

    A worker process of a :class:`WorkerPool` that dies (killed from outside, out
    of memory) takes its replication with it; the pool is renewed and the
    replications not finished run again, on the same random streams, so the
    results are those of an undisturbed run (a note says so). A replication whose
    worker dies a second time, or work lost on another executor, ends the run:
    what finished is kept and :class:`WorkerLostError` goes on up. On Ctrl-C the
    ones that finished meanwhile are kept too, the rest cancelled, and the
    ``KeyboardInterrupt`` goes on up. Replications reserved in ``finished``
    (:attr:`Finished.reserved`) are kept, not run.
    """
    scenario, settings = plan.scenario, plan.settings
    finished.take_reserved(wanted)
    arguments = (
        settings.horizon,
        plan.engine_warmup,
        settings.seed,
        plan.engine,
        plan.trace,
        plan.batch_means,
        plan.keep_paths,
        settings.warmup == "auto",  # later_starts: MSER-5 may cut after the run
    )
    if pool is None:
        if meanwhile is not None:
            meanwhile()
        for index in range(wanted):
            if index not in finished:
                finished.keep(replicate(scenario, index, *arguments))
                if progress is not None:
                    progress(len(finished), wanted)
        return
    while True:
        indices = [i for i in range(wanted) if i not in finished]
        try:
            _execute_on(pool, scenario, arguments, indices, finished, progress, meanwhile)
            return
        except WorkerLostError as error:
            if not _run_again(pool, error, finished):
                raise
        meanwhile = None


def _execute_on(
    pool: Executor,
    scenario: Scenario,
    arguments: tuple[object, ...],
    indices: list[int],
    finished: Finished,
    progress: ProgressCallback | None,
    meanwhile: Callable[[], None] | None,
) -> None:
    """:func:`execute` on an executor, once: every replication of ``indices``, or an error."""
    wanted = len(finished) + len(indices)
    pending = iter(indices)
    running: dict[Future[ReplicationResult], int] = {}
    try:
        for index in islice(pending, in_flight(pool)):
            running[submitted(pool, replicate, scenario, index, *arguments)] = index
        if meanwhile is not None:
            meanwhile()
        while running:
            done, _ = first_finished(set(running), pool)
            for future in done:
                result = result_of(future)  # a lost one stays in running: see below
                del running[future]
                finished.keep(result)
                if progress is not None:
                    progress(len(finished), wanted)
                following = next(pending, None)
                if following is not None:
                    future = submitted(pool, replicate, scenario, following, *arguments)
                    running[future] = following
    except (KeyboardInterrupt, WorkerLostError) as error:
        for future in running:
            if future.done() and not future.cancelled() and future.exception() is None:
                finished.keep(future.result())
        if isinstance(error, WorkerLostError) and isinstance(pool, WorkerPool):
            error.lost = [
                (worker, running.get(worker.future) if worker.future is not None else None)
                for worker in pool.lost_workers()
            ]
        raise
    finally:
        for future in running:
            future.cancel()


def _run_again(pool: Executor, error: WorkerLostError, finished: Finished) -> bool:
    """Whether the replications lost with a dead worker run again; renew the pool if so.

    Each replication runs again once: a second death of its worker, work lost on
    an executor that cannot be renewed (Dask retries by itself), or a second
    worker that died between tasks, ends the run, with ``error`` saying which.
    """
    if not isinstance(pool, WorkerPool) or not error.lost:
        return False
    said, decisive = [], []
    for worker, index in error.lost:
        key = -1 if index is None else index  # -1: between tasks, or not known
        finished.deaths[key] = finished.deaths.get(key, 0) + 1
        what = "between replications" if index is None else f"while it ran replication {index}"
        said.append(f"worker {worker.pid} {worker.how()} {what}")
        if finished.deaths[key] > 1:
            more = ", after another had" if index is None else " for the second time"
            decisive.append(said[-1] + more)
    if decisive:  # the first of them says why the run stops
        error.args = (shorten(f"{decisive[0]} (from outside, or out of memory?)"),)
        return False
    cause = "; ".join(said) + " (from outside, or out of memory?)"
    finished.notes.append(
        f"{cause}: the replications not finished ran again on fresh worker processes, on "
        "the same random streams, so the results are identical to an undisturbed run"
    )
    pool.renew()
    return True
