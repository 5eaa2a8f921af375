"""Futures of replications, and work lost with a dead worker said in one line (layer 5).

A pool's worker process can die under a run (killed from outside, the kernel's
out-of-memory killer), and a Dask cluster can lose a task (its workers died
running it, the scheduler went away). :func:`submitted`, :func:`first_finished`
and :func:`result_of` turn each of these into a :class:`WorkerLostError`: one
line, which the caller handles (a run retries the lost replication once on a
fresh worker, else it keeps what finished: :mod:`eda_sim.experiment.execution`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    wait,
)
from typing import Any, TypeVar

from eda_sim.errors import EdaSimError
from eda_sim.experiment.worker_pool import LostWorker, WorkerPool
from eda_sim.text import shorten

__all__ = [
    "DASK_LOST_WORK",
    "WATCH_INTERVAL",
    "WORKER_DIED",
    "WorkerLostError",
    "first_finished",
    "result_of",
    "submitted",
]

_T = TypeVar("_T")


class WorkerLostError(EdaSimError):
    """A worker process died before its task finished (killed from outside, out of memory).

    Attributes
    ----------
    partial : object or None
        What finished before the loss, summarised and marked partial (a
        :class:`~eda_sim.results.RunResult` or a sweep's result), when the layer
        that raised knew it; ``None`` when nothing had finished.
    lost : list of (LostWorker, int or None)
        The dead workers of a :class:`~eda_sim.experiment.worker_pool.WorkerPool`,
        each with the replication it was running (``None``: not known).
    """

    def __init__(self, message: str, *, partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial
        self.lost: list[tuple[LostWorker, int | None]] = []


#: Dask's errors that mean the cluster lost work (not an error of the replication itself).
DASK_LOST_WORK = ("KilledWorker", "CommClosedError", "FutureCancelledError", "CancelledError")


def _dask_lost_work(error: BaseException) -> str | None:
    """One line for a Dask error that says the cluster lost a replication, else ``None``.

    Recognised by the class's module and name, so that Dask need not be imported.
    """
    kind = type(error)
    if not kind.__module__.startswith("distributed") or kind.__name__ not in DASK_LOST_WORK:
        return None
    said = " ".join(str(error).split())
    first = said.split(". ")[0] if said else ""
    return shorten(
        f"the Dask cluster lost a replication ({kind.__name__}"
        + (f": {first}" if first else "")
        + "); see the workers' logs"
    )


#: What a run says when one of its worker processes died.
WORKER_DIED = (
    "a worker process died before its replication finished (killed from outside, or out of memory?)"
)


def submitted(pool: Executor, task: Callable[..., _T], *arguments: Any) -> Future[_T]:
    """``pool.submit(task, *arguments)``, with a pool broken by a dead worker said in one line.

    Raises
    ------
    WorkerLostError
        When a worker process died since the last task was taken.
    """
    try:
        return pool.submit(task, *arguments)
    except BrokenExecutor:
        raise WorkerLostError(WORKER_DIED) from None


#: Seconds between checks that every worker of a pool is still alive while waiting.
WATCH_INTERVAL = 0.5


def first_finished(
    running: set[Future[_T]], pool: Executor
) -> tuple[set[Future[_T]], set[Future[_T]]]:
    """Wait until one of ``running`` is done; return (done, still running).

    With a :class:`~eda_sim.experiment.worker_pool.WorkerPool`, the workers are
    checked every :data:`WATCH_INTERVAL` seconds: a worker killed while it wrote
    its result leaves the executor reading half a message for ever (it never
    notices the death), so a dead worker is said here, in one line.

    Raises
    ------
    WorkerLostError
        When a worker process of the pool has died.
    """
    while True:
        done, waiting = wait(running, timeout=WATCH_INTERVAL, return_when=FIRST_COMPLETED)
        if done:
            return done, waiting
        if isinstance(pool, WorkerPool) and pool.lost_a_worker():
            raise WorkerLostError(WORKER_DIED)


def result_of(future: Future[_T]) -> _T:
    """``future.result()``, with a dead worker process said in one line.

    Raises
    ------
    WorkerLostError
        When the pool broke because a worker process died, or a Dask cluster lost
        the task (its workers died running it, the scheduler went away).
    """
    try:
        return future.result()
    except BrokenExecutor:
        raise WorkerLostError(WORKER_DIED) from None
    except CancelledError:  # not by this run: it takes only the futures it did not cancel
        raise WorkerLostError(
            "a replication was cancelled before it finished (the Dask scheduler went away?)"
        ) from None
    except Exception as error:
        lost = _dask_lost_work(error)
        if lost is None:
            raise
        raise WorkerLostError(lost) from None
