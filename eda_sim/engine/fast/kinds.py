"""Event kinds and return codes of the fast engine's loop (plain constants, no numba).

A queue payload is ``index * 8 + kind``: the low 3 bits say what happens, the rest
which class, slot or grid point it happens to. A new mechanism that schedules
its own events (a timeout, a server failing) takes the next free kind and a
branch in the loop's dispatcher (:func:`eda_sim.engine.fast.kernel.run_kernel`).
"""

from __future__ import annotations

__all__ = [
    "ARRIVAL",
    "CUT",
    "DONE",
    "GROW_HEAP",
    "GROW_HIST",
    "GROW_POOL",
    "GROW_RARE",
    "GROW_SLOTS",
    "KIND_BITS",
    "REFILL",
    "SERVICE_END",
    "TICK",
    "TURN",
    "WAKE",
    "WARMUP",
]

# Event kinds.
ARRIVAL = 0  # index: the class whose source resumes
SERVICE_END = 2  # index: the slot whose service ends
TURN = 3  # index: the slot handed a server by a departure (SimPy: its line event fires)
TICK = 4  # index: the grid point of a sample-path snapshot
WARMUP = 5  # the warm-up's end
WAKE = 6  # index: a blocked sender let into the station it waits for (SimPy: its wake-up fires)
#: Bits of a payload that hold the kind.
KIND_BITS = 3

# Return codes of the loop.
DONE = 0  # the horizon is reached
REFILL = 1  # a stream buffer is empty
GROW_SLOTS = 2  # the event pool is nearly full
GROW_HEAP = 3  # the event queue needs room or a resize (event_queue.needs_python)
GROW_HIST = 4  # an arrival histogram is nearly full
CUT = 5  # the percentile sketches are cut here (a grid point or the warm-up's end)
GROW_POOL = 6  # the sketches' pool of octave blocks is nearly full
GROW_RARE = 7  # the sketches' buffer of values left to Python is nearly full
