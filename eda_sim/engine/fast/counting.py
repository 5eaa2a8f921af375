"""Counting the sketches' buffered keys into their counters (compiled, not the loop).

:func:`count_keys` adds each buffered key to its 16-bit counter, allocating a
block of counters (one sketch's octave) on the octave's first key in the chunk
and noting the block's owner, ``sketch << COLUMN_BITS | column``, in ``owners``: the
blocks a chunk used are the pool's first ``pool_n``, so a cut reads those and
their owners (:mod:`eda_sim.engine.fast.cutting`), never every sketch's slots.
With many sketches (2,000 at 1,000 stations) the counters in use
span several MB, so nearly every key's counter is a cache miss, and each waits
for the block number read just before it. :func:`count_keys_ahead` counts the
same keys into the same counters, in the same order (so the same carries), but
first asks the processor to fetch the counter of the key :data:`AHEAD` places on
(:data:`eda_sim.engine.fast.prefetching.prefetch`, a hint that changes no value), so that
many misses are in flight at once. The driver uses it once the pool of counter
blocks is large (:data:`PREFETCH_FROM_BLOCKS`); below that the counters sit in
the caches and the hint only costs. Measured: ``docs/performance.md``.

Not part of the event loop (the driver calls it between calls of the loop), so
not one of ``kernel.COMPILED_MODULES``.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import compiled
from eda_sim.engine.fast.latency import BUCKET_BITS
from eda_sim.engine.fast.prefetching import prefetch
from eda_sim.engine.fast.state import CARRY, CARRY_COUNT, SKETCH_OCTAVES

__all__ = [
    "AHEAD",
    "COLUMN_BITS",
    "PREFETCH_FROM_BLOCKS",
    "count_keys",
    "count_keys_ahead",
    "prefetch",
]

#: How many keys ahead the counter is fetched (enough misses in flight, still in L1).
AHEAD = 24
#: Bits of a column (an octave of a sketch) in a block's owner, ``sketch << COLUMN_BITS | column``.
COLUMN_BITS = 6
assert SKETCH_OCTAVES <= 1 << COLUMN_BITS  # the sketches' columns fit
#: Counter blocks in the pool (256 bytes each) from which the driver fetches ahead: 1 MiB.
PREFETCH_FROM_BLOCKS = 4096


@compiled
def count_keys(
    keys: np.ndarray,
    start: int,
    stop: int,
    kept: int,
    slots: np.ndarray,
    counts: np.ndarray,
    owners: np.ndarray,
    base: int,
    pool_n: int,
) -> tuple[int, int, int]:
    """Count the buffered ``keys[start:stop]``; return ``(reached, pool_n, kept)``.

    Called by the driver (not part of the loop). A key outside the counted
    octaves, and the carry of a full counter, is moved to ``keys[kept]`` (kept
    for Python; ``kept <= start``). Returns before key ``reached < stop`` when the
    pool has no free block for it (the driver grows the pool and calls again).
    A block allocated here (``pool_n`` on) gets its owner, ``sketch <<
    COLUMN_BITS | column``, in ``owners[block]`` (``slots`` has at most
    ``2**COLUMN_BITS`` columns).
    """
    columns = slots.shape[1]
    mask = (1 << BUCKET_BITS) - 1
    for i in range(start, stop):
        key = keys[i]
        sketch, bucket = key >> BUCKET_BITS, key & mask
        column = 0 if bucket == 0 else ((bucket - 1) >> 7) - base
        if not (bucket == 0 or 0 < column < columns):
            keys[kept] = key
            kept += 1
            continue
        block = slots[sketch, column]
        if block < 0:
            if pool_n == counts.shape[0]:
                return i, pool_n, kept
            block = pool_n
            slots[sketch, column] = block
            owners[block] = (sketch << COLUMN_BITS) | column
            pool_n += 1
        sub = 0 if bucket == 0 else (bucket - 1) & 127
        count = counts[block, sub]
        if count == 65535:
            counts[block, sub] = 65536 - CARRY_COUNT
            keys[kept] = key | CARRY
            kept += 1
        else:
            counts[block, sub] = count + 1
    return stop, pool_n, kept


@compiled
def count_keys_ahead(
    keys: np.ndarray,
    start: int,
    stop: int,
    kept: int,
    slots: np.ndarray,
    counts: np.ndarray,
    owners: np.ndarray,
    base: int,
    pool_n: int,
) -> tuple[int, int, int]:
    """:func:`count_keys` with each counter fetched early.

    The counter of key ``i + AHEAD`` is fetched while key ``i`` is counted.

    The same arguments, effects and return value: ``(reached, pool_n, kept)``.
    """
    columns = slots.shape[1]
    mask = (1 << BUCKET_BITS) - 1
    for i in range(start, stop):
        if i + AHEAD < stop:  # the counter of the key AHEAD places on, if its block exists
            later = keys[i + AHEAD]
            later_bucket = later & mask
            later_column = 0 if later_bucket == 0 else ((later_bucket - 1) >> 7) - base
            if 0 <= later_column < columns:
                later_block = slots[later >> BUCKET_BITS, later_column]
                if later_block >= 0:
                    later_sub = 0 if later_bucket == 0 else (later_bucket - 1) & 127
                    prefetch(counts, later_block, later_sub)
        key = keys[i]
        sketch, bucket = key >> BUCKET_BITS, key & mask
        column = 0 if bucket == 0 else ((bucket - 1) >> 7) - base
        if not (bucket == 0 or 0 < column < columns):
            keys[kept] = key
            kept += 1
            continue
        block = slots[sketch, column]
        if block < 0:
            if pool_n == counts.shape[0]:
                return i, pool_n, kept
            block = pool_n
            slots[sketch, column] = block
            owners[block] = (sketch << COLUMN_BITS) | column
            pool_n += 1
        sub = 0 if bucket == 0 else (bucket - 1) & 127
        count = counts[block, sub]
        if count == 65535:
            counts[block, sub] = 65536 - CARRY_COUNT
            keys[kept] = key | CARRY
            kept += 1
        else:
            counts[block, sub] = count + 1
    return stop, pool_n, kept
