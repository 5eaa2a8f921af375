"""Large work arrays kept from one replication to the next in one process (no numba).

A fast replication at 1,000 stations works in about 90 MB of arrays that it
neither returns nor keeps: the random streams' buffers (78 MB,
:mod:`eda_sim.engine.fast.streams`) and the percentile sketches' pool of
counters (8 MB, :mod:`eda_sim.engine.fast.sketches`). Made afresh for each
replication, each is new memory for the operating system to map and clear
page by page (a few ms at best); freed, it goes back to the system, and on a
virtual machine whose free pages are handed back to the host (free page
reporting) the next replication's first touch of it costs the host's faults
as well: 0.2–0.4 s of system time for 78 MB, measured (docs/performance.md,
"Kernel time and page faults at 1,000 stations"). :data:`POOL` keeps the last
one of each kind instead: a replication takes it, uses it, and gives it back
when it ends, so that the next one in the same process works in memory that
is already mapped.

What a taken array holds is unspecified (the last replication's values): the
caller writes what it reads (the streams write every value before the loop
reads it; the sketches clear their counters), so that results are the same
with or without the pool (``tests/test_fast_buffers.py``). The pool holds at
most one array per purpose, of at most twice the bytes last asked for, so
what it keeps does not grow with the horizon or the number of replications;
:func:`release` drops it all.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np

__all__ = ["POOL", "SHARED_KEPT", "BufferPool", "release"]

#: The arrays of one purpose that :meth:`BufferPool.take_shared` keeps while lent.
SHARED_KEPT = 2


class BufferPool:
    """At most one kept array per purpose, lent to one replication at a time.

    :meth:`take` hands the kept memory out (and keeps nothing while it is out:
    two replications running at once, in threads, never share one array) or
    new memory when none kept fits; :meth:`give_back` keeps it for the next.
    """

    def __init__(self) -> None:
        self._kept: dict[str, np.ndarray] = {}
        # per purpose: (owner, its reference count when only the pool holds it)
        self._shared: dict[str, list[tuple[np.ndarray, int]]] = {}
        self._lock = threading.Lock()

    def take(self, purpose: str, shape: tuple[int, ...], dtype: type | np.dtype) -> np.ndarray:
        """A C-contiguous array of ``shape`` and ``dtype`` for ``purpose``; contents unspecified.

        The kept memory of ``purpose`` is reused when it holds enough bytes and
        at most twice as many (else it is dropped and new memory allocated).
        """
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        with self._lock:
            kept = self._kept.pop(purpose, None)
        if kept is None or not nbytes <= kept.nbytes <= 2 * nbytes:
            kept = np.empty(max(nbytes, 1), dtype=np.uint8)
        return kept[:nbytes].view(dtype).reshape(shape)

    def take_rows(
        self,
        purpose: str,
        rows: int,
        row_shape: tuple[int, ...],
        dtype: type | np.dtype,
        most_rows: int,
    ) -> np.ndarray:
        """At least ``rows`` rows of ``row_shape`` for ``purpose``; contents unspecified.

        For an array that a replication grows as it needs (a pool of blocks): the
        kept one, with all the rows it holds, when that is between ``rows`` and
        ``most_rows`` (the most the replication can ever use); else a new one of
        ``rows`` rows.
        """
        row_bytes = math.prod(row_shape) * np.dtype(dtype).itemsize
        with self._lock:
            kept = self._kept.pop(purpose, None)
        held = 0 if kept is None else kept.nbytes // max(row_bytes, 1)
        if not rows <= held <= max(rows, most_rows):
            held, kept = rows, np.empty(max(rows * row_bytes, 1), dtype=np.uint8)
        assert kept is not None
        return kept[: held * row_bytes].view(dtype).reshape((held, *row_shape))

    def take_shared(
        self, purpose: str, shape: tuple[int, ...], dtype: type | np.dtype
    ) -> np.ndarray:
        """An array for ``purpose`` that a result may keep; contents unspecified.

        The pool keeps the memory under it while it is lent (the last
        :data:`SHARED_KEPT` of each purpose), and lends it again once nothing
        else holds it: no array (the one handed out, or any view of it: a view
        holds the memory's owner) is left of it, as Python's reference count of
        the owner says. Else, or when none fits as in :meth:`take`, new memory,
        kept in place of the oldest (which stays with whoever holds it). Two, so
        that ``result = simulate(...)`` in a loop, where the last result lives
        until the next one is made, finds the one before it free.
        """
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        with self._lock:
            entries = self._shared.setdefault(purpose, [])
            for i in range(len(entries)):  # (no name bound to an owner while counting)
                fits = nbytes <= entries[i][0].nbytes <= 2 * nbytes
                if fits and _references(entries, i) <= entries[i][1]:
                    return entries[i][0][:nbytes].view(dtype).reshape(shape)
            entries.append((np.empty(max(nbytes, 1), dtype=np.uint8), 0))
            unheld = _references(entries, len(entries) - 1)  # counted as above, only the pool's
            entries[-1] = (entries[-1][0], unheld)
            del entries[:-SHARED_KEPT]
            return entries[-1][0][:nbytes].view(dtype).reshape(shape)

    def give_back(self, purpose: str, array: np.ndarray) -> None:
        """Keep the memory under ``array`` (taken or not) for the next :meth:`take` of ``purpose``.

        The caller must hold no other reference to it afterwards.
        """
        owner = array
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        flat = owner.reshape(-1).view(np.uint8) if owner.flags.c_contiguous else None
        if flat is None:
            return
        with self._lock:
            self._kept[purpose] = flat

    def kept_bytes(self) -> int:
        """The bytes kept now, over every purpose (lent arrays of :meth:`take_shared` included)."""
        with self._lock:
            return sum(array.nbytes for array in self._kept.values()) + sum(
                owner.nbytes for entries in self._shared.values() for owner, _ in entries
            )

    def clear(self) -> None:
        """Drop every kept array (those lent stay with whoever holds them)."""
        with self._lock:
            self._kept.clear()
            self._shared.clear()


def _references(entries: list[tuple[np.ndarray, int]], i: int) -> int:
    """The reference count of ``entries[i]``'s owner, counted the same way every time."""
    return sys.getrefcount(entries[i][0])


#: The process's pool, used by every fast replication.
POOL = BufferPool()


def release() -> None:
    """Give the memory that fast replications keep back to the system (until the next one)."""
    POOL.clear()
