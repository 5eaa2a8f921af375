"""Percentile sketches in the compiled loop: the same buckets as the SimPy engine's (steps).

Every time the SimPy engine puts into a sketch (:mod:`eda_sim.engine.latency`)
is put into the same sketch here, at the same hook points (a station's
departure: ``W`` and ``Wq``; an event leaving the system: its class's and the
system's end-to-end ``W``), and the counts come out as the same chunks, cut at
the same points.

**The bucket.** The SimPy engine reads a value's bucket off its IEEE-754 bits
(:func:`eda_sim.stats.sketch.bucket_of`: ``1 + (bits >> 45)``, through NumPy's
``view``); here the same bits come from :func:`~eda_sim.engine.fast.bits.float_bits`
(LLVM's ``bitcast``), so the bucket is the same integer: no logarithm, no libm.

**The counts.** Per sketch and octave used, 128 counters in a block of a pool:
``slots[sketch, column]`` is the block (or -1), allocated on first use. Column
``c >= 1`` counts the octave whose exponent field is ``base + c`` (the 63
octaves up to the horizon's; no time in a run exceeds the horizon), counter
``(bits >> 45) & 127``; column 0 counts zeros (in counter 0). A time outside
those octaves (a subnormal one too) is left to Python as its key
``sketch << 19 | bucket`` (``rare_keys``), the bucket computed from its bits
just as ``bucket_of`` does. Memory: a few blocks per sketch, flat in the
horizon. At each cut the loop returns (``CUT``) and the driver
(:mod:`eda_sim.engine.fast.sketches`) empties the counts into the chunk that
ends there.

The steps follow the rules of :mod:`eda_sim.engine.fast.jit`: every array is
read and written on every path (an unused count goes to the pool's last,
scratch block; an unused key is overwritten by the next), so no reference
count is left in the loop.
"""

from __future__ import annotations

from eda_sim.engine.fast.bits import float_bits
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.state import SketchState

#: Bits of a bucket in a sketch's key (:data:`eda_sim.stats.sketch.BUCKET_BITS`).
BUCKET_BITS = 19

__all__ = ["Window", "sketch_time", "sketch_window"]

#: ``(base, columns, scratch block)`` of the sketches' state.
Window = tuple[int, int, int]


@step
def sketch_time(
    sketches: SketchState, sketch: int, value: float, window: Window, pool_n: int, rare_n: int
) -> tuple[int, int]:
    """Count ``value`` (>= 0) in sketch ``sketch``; return the pools' new fill levels.

    ``window`` is ``(base, columns, scratch block)``, read by the loop once per call
    of the loop (:func:`sketch_window`).
    """
    base, columns, scratch = window
    bits = float_bits(value)
    octave = (bits >> 52) - base  # column 0 is zero's; a subnormal (exponent field 0) is below
    inside = 0 < octave < columns
    column = octave if inside else 0
    counted = inside or value == 0.0
    block = sketches.slots[sketch, column]
    fresh = counted and block < 0
    chosen = pool_n if fresh else block
    sketches.slots[sketch, column] = chosen
    sketches.counts[chosen if counted else scratch, (bits >> 45) & 127] += 1
    sketches.rare_keys[rare_n] = (sketch << BUCKET_BITS) | ((bits >> 45) + 1)
    return pool_n + (1 if fresh else 0), rare_n + (0 if counted else 1)


@step
def sketch_window(sketches: SketchState) -> Window:
    """``(base, columns, scratch block)``: what :func:`sketch_time` needs besides the arrays."""
    return sketches.base[0], sketches.slots.shape[1], sketches.counts.shape[0] - 1
