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

**In the loop** (:func:`sketch_time`) a time costs its key, ``sketch << 19 |
bucket``, written to the next place of a buffer (``keys``): no table is read,
so the event loop's own data stays in the caches. When the buffer is nearly
full (``GROW_RARE``) and at every cut (``CUT``) the loop returns and the driver
(:mod:`eda_sim.engine.fast.sketches`) counts the buffer
(:func:`eda_sim.engine.fast.counting.count_keys`, a tight compiled loop whose
independent updates the processor overlaps).

**The counts.** Per sketch and octave used in the current chunk, 128 16-bit
counters in a block of a pool: ``slots[sketch, column]`` is the block (or -1),
allocated on first use in the chunk (the pool's next free block, its owner
noted). Column ``c >= 1`` counts the octave whose
exponent field is ``base + c`` (the 63 octaves up to the horizon's; no time in
a run exceeds the horizon), counter ``(bits >> 45) & 127``; column 0 counts
zeros (in counter 0). A key outside those octaves (a subnormal time too) is
left to Python, as is the *carry* of a counter that reaches 65,535: 32,768 of
its count, as its key with :data:`CARRY` set. At a cut the driver's compiled
:func:`eda_sim.engine.fast.cutting.cut_chunk` moves the chunk's counts out in
key order, folded below each sketch's floor, clears them and frees the blocks:
a cut costs what the chunk changed (the blocks it allocated, their non-empty
counters), not what the whole run did nor every sketch's slots. Memory: the
buffer and the blocks one chunk uses (2 bytes a counter), flat in the horizon.

The step follows the rules of :mod:`eda_sim.engine.fast.jit`: it writes one
array on every path, so no reference count is left in the loop.
"""

from __future__ import annotations

from eda_sim.engine.fast.bits import float_bits
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.state import CARRY, CARRY_COUNT, SketchState

#: Bits of a bucket in a sketch's key (:data:`eda_sim.stats.sketch.BUCKET_BITS`).
BUCKET_BITS = 19

__all__ = [
    "CARRY",
    "CARRY_COUNT",
    "Window",
    "sketch_time",
    "sketch_window",
]

#: ``(base, columns, last block)`` of the sketches' state.
Window = tuple[int, int, int]


@step
def sketch_time(
    sketches: SketchState, sketch: int, value: float, window: Window, pool_n: int, rare_n: int
) -> tuple[int, int]:
    """Put ``value``'s key (``value >= 0``) in the buffer; return the fill levels.

    The key is :func:`eda_sim.stats.sketch.bucket_of`'s bucket of ``value`` in
    sketch ``sketch``; ``window`` and ``pool_n`` pass through (the counting is
    :func:`~eda_sim.engine.fast.counting.count_keys`'s).
    """
    bits = float_bits(value)
    bucket = 0 if value == 0.0 else (bits >> 45) + 1
    sketches.rare_keys[rare_n] = (sketch << BUCKET_BITS) | bucket
    return pool_n, rare_n + 1


@step
def sketch_window(sketches: SketchState) -> Window:
    """``(base, columns, last block)`` of the sketches' state (read once per call of the loop)."""
    return sketches.base[0], sketches.slots.shape[1], sketches.counts.shape[0] - 1
