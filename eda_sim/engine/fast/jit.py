"""How the fast engine's functions are compiled (numba; imported only by its compiled modules).

* :data:`compiled` — a function compiled on first call and cached on disk
  (``cache=True``): the loop itself, and the snapshots the driver also calls;
* :data:`step` — a per-event step of one mechanism. numba inlines it into the
  loop at its IR level (``inline="always"``), so the loop runs as if the step
  were written in place: a real call would pass each array with an atomic
  reference-count increment and decrement, which on every event made the loop
  about twice as slow.

Inlining binds each array (or tuple of arrays) a step takes to a new variable,
with an increment where it is bound and a decrement after its last use. numba's
reference-count pruning removes the pair only when that last use is on every
path through the step, so a step follows two rules:

1. arrays are read and written *outside* its branches and after its loops
   (branches and conditional expressions choose values and indices only; an
   index that is not used, such as -1 for an empty line, may still be read).
   A hook point's step, which calls other steps in its branches (an arrival
   admitted or refused), instead names the arrays it takes in its last line,
   ``_ = (events, queue)``: that is then their last use, on every path;
2. it binds an array to a local name only in its top level, before its branches
   and loops (``entries = queue.entries`` in :mod:`~eda_sim.engine.fast.event_queue`),
   never inside one: a binding inside a branch or a loop leaves its decrement on
   some paths only.

``tests/test_fast_kernel.py`` checks that no reference-count operation is left
inside the loop. Compiled functions use NumPy's error model (a division by zero
gives inf or nan rather than raising), so that the inlined steps have no raising
paths either; the loop never divides by zero.

numba's disk cache keys the loop on ``kernel.py`` alone, not on the modules whose
steps it inlines; :mod:`eda_sim.engine.fast.support` checks their digest
(:data:`eda_sim.engine.fast.kernel.SOURCES_DIGEST`) so that a stale loop is never run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from numba import njit

__all__ = ["compiled", "step"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Compile on first call and cache on disk (NumPy's error model: no raising paths).
compiled = cast(Callable[[_F], _F], njit(cache=True, error_model="numpy"))
#: A per-event step, inlined into the loop.
step = cast(Callable[[_F], _F], njit(inline="always"))
