"""Where replications run: this process, a process pool, or a Dask cluster (layer 5).

Every replication is a pure function of (scenario, replication index, settings),
so any :class:`concurrent.futures.Executor` gives the same numbers; these helpers
only open and close the one the user asked for.
"""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from eda_sim.errors import Fault, ScenarioError

__all__ = ["SCHEDULER_TIMEOUT", "default_workers", "open_executor"]

#: Seconds to wait for a Dask scheduler before giving up.
SCHEDULER_TIMEOUT = 5.0


def default_workers() -> int:
    """The number of CPUs this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


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
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
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
    workers: int | None = 1, scheduler: str | None = None, executor: Executor | None = None
) -> Iterator[Executor | None]:
    """Yield the executor to use, or ``None`` to run in this process; close what was opened.

    Parameters
    ----------
    workers : int, optional
        Worker processes; ``None`` means one per CPU; 1 runs in this process.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); needs the
        ``distributed`` extra.
    executor : concurrent.futures.Executor, optional
        Use this one (left open).

    Raises
    ------
    ScenarioError
        For ``workers < 1``, a missing Dask, or an unreachable scheduler.
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
    if count == 1:
        yield None
        return
    # Workers ignore Ctrl-C: only the main process stops, keeps what finished and reports.
    ignore_interrupt = functools.partial(signal.signal, signal.SIGINT, signal.SIG_IGN)
    pool = ProcessPoolExecutor(max_workers=count, initializer=ignore_interrupt)
    try:
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
