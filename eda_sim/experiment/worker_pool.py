"""The process pool a run's replications go to: workers that die with their parent (layer 5).

* **Workers die with their parent** however it ends: each worker asks Linux for
  ``SIGKILL`` when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and elsewhere a
  thread in the worker watches the parent's id. Workers ignore SIGINT, SIGTERM and
  SIGHUP: the parent decides, keeps what finished, and stops them. A worker is
  started with those signals blocked (:func:`_signals_held`), so that one sent
  before it ignores them (the pool's ``terminate`` of a broken generation, a
  Ctrl-C to the process group) finds no handler: a forked worker inherits the
  command's, which would raise in the middle of ``multiprocessing``'s start-up
  and print its traceback.
* **Stopping** (:meth:`WorkerPool.stop`): pending tasks are cancelled and, if any
  task is still running when the pool is closed (Ctrl-C, an error), the workers are
  killed at once instead of being waited for; a run then ends within a second.
* **A dead worker is named** (:meth:`WorkerPool.lost_workers`): each worker notes
  in a table shared with the parent (a ``multiprocessing.Array``) which task it is
  running, so when one dies the parent knows its process id, how it ended
  (``SIGKILL``: from outside, or the out-of-memory killer) and which task died
  with it. A pool broken by a dead worker (``concurrent.futures`` then fails every
  task in flight) is replaced by fresh workers with :meth:`WorkerPool.renew`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["LostWorker", "WorkerPool"]

_T = TypeVar("_T")

#: Seconds a stopped pool's workers and thread are waited for before they are left.
_STOP_TIMEOUT = 5.0
#: Seconds a broken pool waits for the exit status of the worker that died.
_EXIT_SEEN_WITHIN = 2.0
#: Task number of a worker that runs no task (in the shared table).
_IDLE = -1
#: In a worker process: the shared table and this worker's row in it.
_row: dict[str, Any] = {}
#: The signals a worker ignores (the command's interrupts).
_IGNORED = tuple(
    number
    for number in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
    if number is not None
)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Block :data:`_IGNORED` in this thread while the pool may start a worker.

    A child inherits the blocked set (through ``fork`` and ``exec`` alike), so a signal
    sent to a worker before :func:`_worker_start` ignores it waits, and is then
    discarded; here the held signals are delivered as the block ends. Where there
    is no ``pthread_sigmask`` (Windows) nothing is held.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _IGNORED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _parent_alive(parent: int) -> bool:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - alive, owned by another user
        return True
    return True


def _watch_parent(parent: int) -> None:
    while _parent_alive(parent):
        time.sleep(0.5)
    os._exit(1)


def _worker_start(parent: int, table: Any, rows: Any) -> None:
    """Run in each worker process before its first task: die with the parent, ignore signals.

    A worker forked by ``parent`` asks Linux for SIGKILL when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``, through ctypes); otherwise (another start method,
    another system) a thread polls whether ``parent`` still exists. It then takes
    a row of ``table`` (``rows`` counts the rows taken) and writes its process id.
    """
    for number in _IGNORED:
        signal.signal(number, signal.SIG_IGN)  # a signal held since the start is discarded
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _IGNORED)
    # The parent says what happened, in one line: a worker writes nothing to the terminal.
    # (A task's error comes back with its future; what a worker could print is the noise of
    # a pool torn down around it, e.g. multiprocessing's "Process ForkProcess-4:" header,
    # written as the executor closes a broken pool's queues just before the worker is killed.)
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - the worker's lifetime
    watched = False
    if sys.platform.startswith("linux") and os.getppid() == parent:
        with contextlib.suppress(OSError, AttributeError, TypeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            pr_set_pdeathsig = 1
            watched = libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) == 0
        if watched and os.getppid() != parent:  # it died before the request took effect
            os._exit(1)
    if not watched:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    with rows.get_lock():
        row = rows.value
        rows.value += 1
    if 2 * row + 1 < len(table):
        table[2 * row] = os.getpid()
        table[2 * row + 1] = _IDLE
        _row.update(table=table, row=row)


def _tracked(task: int, function: Callable[..., _T], arguments: tuple[Any, ...]) -> _T:
    """Run ``function(*arguments)`` in a worker, with its task number in the shared table."""
    table, row = _row.get("table"), _row.get("row", 0)
    if table is not None:
        table[2 * row + 1] = task
    try:
        return function(*arguments)
    finally:
        if table is not None:
            table[2 * row + 1] = _IDLE


@dataclass(frozen=True)
class LostWorker:
    """A worker process that died, and the task it was running."""

    pid: int
    exitcode: int
    """As :attr:`multiprocessing.Process.exitcode`: ``-N`` when killed by signal ``N``."""
    future: Future[Any] | None
    """The task it was running (``None``: between tasks, or not known)."""

    def how(self) -> str:
        """How it ended, in words: ``was killed by SIGKILL``, ``exited with code 1``."""
        if self.exitcode < 0:
            with contextlib.suppress(ValueError):
                return f"was killed by {signal.Signals(-self.exitcode).name}"
            return f"was killed by signal {-self.exitcode}"
        return f"exited with code {self.exitcode}"


class _Processes(ProcessPoolExecutor):
    """One generation of worker processes (a :class:`WorkerPool` renews it)."""


class WorkerPool(Executor):
    """A process pool whose workers die with this process and can be stopped at once.

    Its dead workers are named (:meth:`lost_workers`) and replaced (:meth:`renew`).
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.renewals = 0
        self._number = 0
        self._tasks: dict[int, Future[Any]] = {}
        self._table, self._processes = self._open()

    def _open(self) -> tuple[Any, _Processes]:
        table = multiprocessing.Array("q", [0, _IDLE] * self.workers, lock=False)
        rows = multiprocessing.Value("i", 0)
        pool = _Processes(
            max_workers=self.workers,
            initializer=_worker_start,
            initargs=(os.getpid(), table, rows),
        )
        return table, pool

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Run ``fn(*args)`` in a worker process (no keyword arguments)."""
        if kwargs:
            raise TypeError("WorkerPool.submit takes positional arguments only")
        number = self._number
        self._number += 1
        with _signals_held():  # submit starts the workers it still lacks
            future = self._processes.submit(_tracked, number, fn, args)
        self._tasks[number] = future
        future.add_done_callback(lambda done: self._forget(number, done))
        return future

    def _forget(self, number: int, future: Future[Any]) -> None:
        # A task that failed is kept until the pool is renewed: lost_workers() reads it.
        if future.cancelled() or future.exception() is None:
            self._tasks.pop(number, None)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """As :meth:`concurrent.futures.Executor.shutdown` (see also :meth:`stop`)."""
        self._processes.shutdown(wait=wait, cancel_futures=cancel_futures)

    def _workers(self) -> dict[int, Any]:
        return dict(getattr(self._processes, "_processes", None) or {})

    def lost_a_worker(self) -> bool:
        """Whether one of the worker processes has ended (they end only with the pool)."""
        return any(process.exitcode is not None for process in self._workers().values())

    def _died(self) -> bool:
        return any(process.exitcode for process in self._workers().values())

    def lost_workers(self) -> list[LostWorker]:
        """The worker processes that died, each with the task it was running.

        Call it before :meth:`stop` or :meth:`renew`, which end the others. A
        worker that ended with code 0 did not die: when one worker dies the pool
        closes its queue of tasks, and an idle worker then leaves cleanly.
        """
        # A killed worker's end is seen (its pipes close) a moment before the system
        # reports its exit status: a pool that broke waits that moment for it.
        deadline = time.monotonic() + _EXIT_SEEN_WITHIN
        while not self._died() and time.monotonic() < deadline:
            if not getattr(self._processes, "_broken", False):
                return []
            time.sleep(0.01)
        lost = []
        rows = len(self._table) // 2
        for pid, process in self._workers().items():
            if not process.exitcode:  # alive, or ended cleanly when the broken pool
                continue  # closed its queue of tasks: not a death
            task = next(
                (self._table[2 * r + 1] for r in range(rows) if self._table[2 * r] == pid), _IDLE
            )
            future = self._tasks.get(task) if task != _IDLE else None
            lost.append(LostWorker(pid, process.exitcode, future))
        return lost

    def renew(self) -> None:
        """Stop these workers (a dead one broke the pool) and start fresh ones."""
        self.stop()
        self._tasks.clear()
        self._table, self._processes = self._open()
        self.renewals += 1

    def stop(self) -> None:
        """Cancel what has not started; kill the workers if a task is still running.

        Also when the pool broke (a worker died): the others ignore SIGTERM, with
        which the executor would stop them, so they are killed here.
        """
        pool = self._processes
        processes = self._workers()
        busy = bool(getattr(pool, "_pending_work_items", None))
        lost = bool(getattr(pool, "_broken", False)) or self.lost_a_worker()
        pool.shutdown(wait=False, cancel_futures=True)
        if busy or lost:
            for process in processes.values():
                with contextlib.suppress(OSError, AttributeError):
                    process.kill()
        if lost:
            # A worker killed while it wrote its result leaves the executor's thread
            # reading the rest of the message; with every worker gone, closing this
            # process's end of the result pipe ends that read (EOF) and the thread.
            queue = getattr(pool, "_result_queue", None)
            with contextlib.suppress(OSError, AttributeError):
                queue._writer.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + _STOP_TIMEOUT
        for process in processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
        thread = getattr(pool, "_executor_manager_thread", None)
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
