"""Where replications run: this process, a process pool, or a Dask cluster (layer 5).

Every replication is a pure function of (scenario, replication index, settings),
so any :class:`concurrent.futures.Executor` gives the same numbers; these helpers
choose how many processes are worth starting, open the pool, and close it so that
nothing outlives the run:

* **How many workers** (:func:`choose_workers`): from the expected work (station
  visits times a measured cost per visit of the engine that runs, plus a fixed cost
  per replication), a run expected to take less than :data:`POOL_THRESHOLD` seconds
  runs in this process (a pool's start-up would cost more than it saves), as does one
  where starting the workers (:func:`worker_start_seconds`) would cost more than half
  of what they save; a longer one runs on every CPU, never on more processes than
  replications; an explicit number wins, up to :func:`max_workers`.
* **The pool** (:class:`~eda_sim.experiment.worker_pool.WorkerPool`): workers that
  die with their parent, ignore the signals, can be stopped at once, and whose dead
  workers are named and replaced; :mod:`eda_sim.experiment.lost_work` says a dead
  worker or a Dask cluster that lost a task in one line (:class:`WorkerLostError`).
  Their names are importable from here too.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment.lost_work import (
    WORKER_DIED,
    WorkerLostError,
    first_finished,
    result_of,
    submitted,
)
from eda_sim.experiment.worker_pool import LostWorker, WorkerPool

__all__ = [
    "POOL_THRESHOLD",
    "SCHEDULER_TIMEOUT",
    "WORKER_DIED",
    "LostWorker",
    "WorkerLostError",
    "WorkerPool",
    "choose_workers",
    "default_workers",
    "expected_seconds",
    "first_finished",
    "max_workers",
    "open_executor",
    "quiet_dask_logs",
    "result_of",
    "submitted",
    "worker_start_seconds",
]

#: Seconds to wait for a Dask scheduler before giving up.
SCHEDULER_TIMEOUT = 5.0
#: A run expected to take less than this many seconds in one process starts no pool.
POOL_THRESHOLD = 2.0
#: Most worker processes per CPU that ``workers`` may ask for.
WORKERS_PER_CPU = 4
#: ``workers`` may always ask for this many, even on a machine with fewer CPUs.
MIN_WORKER_LIMIT = 32
#: Seconds per station visit of each engine, rounded up from ``benchmarks/bench_vs_ciw.py``
#: (SimPy engine 3.7 µs, fast engine 0.06 µs on the development machine).
SECONDS_PER_VISIT = {"simpy": 5e-6, "fast": 2e-7}
#: Fixed seconds per replication (set-up, streams, snapshots, the result), and per
#: station of the scenario: measured with a horizon of almost no visits on the
#: generated networks of ``benchmarks/bench_network_size.py`` (2-core machine at load
#: 6): 7 ms at 10 stations for either engine; 0.25 s (SimPy) and 0.34 s (fast) at 1,000.
SECONDS_PER_REPLICATION = {"simpy": (0.005, 3e-4), "fast": (0.005, 3e-4)}
#: Seconds a worker process takes before its first replication. A forked worker (Linux's
#: default) inherits what the parent loaded, the fast engine's loop included (warmed by
#: :func:`~eda_sim.experiment.engines.prepare_engine` before the pool starts): 0.07-0.12 s
#: for a pool of two at load 6. A spawned one imports eda_sim again, and for the fast
#: engine numba and the cached loop too (1-1.7 s each, measured by ``fastport``).
WORKER_START_SECONDS = {"fork": 0.1, "simpy": 1.0, "fast": 1.7}


def default_workers() -> int:
    """The number of CPUs this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def max_workers() -> int:
    """Most worker processes ``workers`` may ask for here (memory grows with each)."""
    return max(MIN_WORKER_LIMIT, WORKERS_PER_CPU * default_workers())


def worker_start_seconds(engine: str) -> float:
    """Seconds one new worker process costs before its first replication (see above)."""
    methods = multiprocessing.get_all_start_methods()
    method = multiprocessing.get_start_method(allow_none=True) or (methods[0] if methods else "")
    if method == "fork":
        return WORKER_START_SECONDS["fork"]
    return WORKER_START_SECONDS["fast" if engine == "fast" else "simpy"]


def expected_seconds(
    visits_per_replication: float, replications: int, stations: int, engine: str
) -> float:
    """Expected seconds for ``replications`` replications in one process (a rough estimate)."""
    base, per_station = SECONDS_PER_REPLICATION.get(engine, SECONDS_PER_REPLICATION["simpy"])
    per_visit = SECONDS_PER_VISIT.get(engine, SECONDS_PER_VISIT["simpy"])
    one = base + per_station * stations + per_visit * visits_per_replication
    return replications * one


def choose_workers(requested: int | None, *, tasks: int, seconds: float, start: float = 0.0) -> int:
    """How many processes to run ``tasks`` replications on.

    A pool is started when the run is expected to take at least
    :data:`POOL_THRESHOLD` seconds in one process and the pool saves at least twice
    what starting its workers costs; it then has one process per CPU, never more
    than there are replications.

    Parameters
    ----------
    requested : int or None
        What the user asked for; ``None`` chooses from the expected work.
    tasks : int
        Replications to run (no more processes than this are started).
    seconds : float
        Their expected time in one process (:func:`expected_seconds`).
    start : float
        Seconds each worker process costs before its first replication
        (:func:`worker_start_seconds`).

    Examples
    --------
    >>> choose_workers(None, tasks=10, seconds=0.3)  # short: no pool
    1
    >>> choose_workers(None, tasks=1, seconds=100.0)  # one replication: one process
    1
    >>> choose_workers(3, tasks=2, seconds=0.1)  # asked for, but only two to run
    2
    """
    if requested is not None:
        return max(1, min(requested, tasks))
    if not seconds >= POOL_THRESHOLD:
        return 1
    count = max(1, min(default_workers(), tasks))
    if count > 1 and seconds * (1 - 1 / count) < 2 * start * count:
        return 1
    return count


def quiet_dask_logs() -> None:
    """Keep Dask's log records off stderr, for a command that says what went wrong itself.

    A lost scheduler or a killed worker is said in one line (:func:`result_of`);
    Dask's client would also log its reconnection attempts with their tracebacks.
    Importing ``distributed`` sets its loggers' levels, so it is imported first.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        return
    for name in ("distributed", "distributed.client", "distributed.gc"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@contextmanager
def _dask_executor(address: str) -> Iterator[Executor]:
    try:
        from distributed import Client
    except ImportError:
        raise ScenarioError(
            Fault(
                "scheduler", "needs Dask's distributed package: pip install 'eda-sim[distributed]'"
            )
        ) from None
    try:
        client = Client(address, timeout=SCHEDULER_TIMEOUT, set_as_default=False)
    except Exception as error:  # whatever the far end sent: one line, not distributed's trace
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, MemoryError):
            reason = "it answered with something that is not a Dask scheduler"
        raise ScenarioError(
            Fault(
                "scheduler",
                f"cannot reach a Dask scheduler at {address!r} "
                f"within {SCHEDULER_TIMEOUT:g} s: {reason}",
            )
        ) from None
    try:
        yield client.get_executor()
    finally:
        client.close()


@contextmanager
def open_executor(
    workers: int | None = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    *,
    isolate: bool = False,
) -> Iterator[Executor | None]:
    """Yield the executor to use, or ``None`` to run in this process; close what was opened.

    Parameters
    ----------
    workers : int, optional
        Worker processes; ``None`` means one per CPU; 1 runs in this process.
        At most :func:`max_workers`.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); needs the
        ``distributed`` extra.
    executor : concurrent.futures.Executor, optional
        Use this one (left open).
    isolate : bool
        Run even one worker in its own process (a compiled replication cannot be
        interrupted in this one: in a worker, Ctrl-C stops it at once).

    Raises
    ------
    ScenarioError
        For ``workers`` below 1 or above :func:`max_workers`, a missing Dask, or
        an unreachable scheduler.
    """
    if executor is not None:
        yield executor
        return
    if scheduler is not None:
        with _dask_executor(scheduler) as dask:
            yield dask
        return
    count = default_workers() if workers is None else workers
    if count < 1:
        raise ScenarioError(Fault("workers", f"must be >= 1, got {count}"))
    if count > max_workers():
        raise ScenarioError(Fault("workers", worker_limit_message(count)))
    if count == 1 and not isolate:
        yield None
        return
    pool = WorkerPool(count)
    try:
        yield pool
    finally:
        pool.stop()


def worker_limit_message(count: int) -> str:
    """The rule for a ``workers`` above :func:`max_workers`."""
    return (
        f"must be <= {max_workers()} ({WORKERS_PER_CPU} per CPU, at least "
        f"{MIN_WORKER_LIMIT}: more processes only add memory), got {count}"
    )
