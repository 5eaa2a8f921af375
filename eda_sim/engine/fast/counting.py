"""Counting the sketches' buffered keys into their counters (compiled, not the loop).

:func:`count_keys` adds each buffered key to its 16-bit counter, allocating a
block of counters (one sketch's octave) on the octave's first key in the chunk
and noting the block's owner, ``sketch << COLUMN_BITS | column``, in ``owners``: the
blocks a chunk used are the pool's first ``pool_n``, so a cut reads those and
their owners (:mod:`eda_sim.engine.fast.cutting`), never every sketch's slots.
With many sketches (2,000 at 1,000 stations) the counters in use
span several MB, so nearly every key's counter is a cache miss, and each waits
for the block number read just before it (its slot, itself often a miss).
:func:`count_keys_ahead` counts the same keys into the same counters, in the
same order (so the same carries), but first asks the processor for the slot of
the key :data:`SLOTS_AHEAD` places on and for the counter of the key
:data:`AHEAD` places on (whose slot is then in the caches:
:data:`eda_sim.engine.fast.prefetching.prefetch`, a hint that changes no
value), so that many misses are in flight at once. The driver uses it once the
pool of counter blocks is large (:data:`PREFETCH_FROM_BLOCKS`); below that the
counters sit in the caches and the hints only cost.

Both read the keys to count as an array of their own (a view of the buffer)
from index 0 and put the keys they leave to Python in another array
(``kept_keys``): indices that cannot be negative and a buffer they never write
leave the compiled loop without NumPy's negative-index fix-ups and reloads
(counting in a run at 1,000 stations 0.80-0.91x with the same prefetches;
with the slots fetched too, about 0.7x). The decode of a key has no branch on zeros (column
0, counter 0 by products). Measured: ``docs/performance.md`` ("Counting the
sketches at 1,000 stations").

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
    "SLOTS_AHEAD",
    "count_keys",
    "count_keys_ahead",
    "prefetch",
]

#: How many keys ahead the counter is fetched (enough misses in flight, still in L1).
AHEAD = 32
#: How many keys ahead the slot (the block number) is fetched: before its counter is.
SLOTS_AHEAD = 2 * AHEAD
#: Bits of a column (an octave of a sketch) in a block's owner, ``sketch << COLUMN_BITS | column``.
COLUMN_BITS = 6
assert SKETCH_OCTAVES <= 1 << COLUMN_BITS  # the sketches' columns fit
#: Counter blocks in the pool (256 bytes each) from which the driver fetches ahead: 1 MiB.
PREFETCH_FROM_BLOCKS = 4096


@compiled
def count_keys(
    keys: np.ndarray,
    kept_keys: np.ndarray,
    kept: int,
    slots: np.ndarray,
    counts: np.ndarray,
    owners: np.ndarray,
    base: int,
    pool_n: int,
) -> tuple[int, int, int]:
    """Count the buffered ``keys``; return ``(reached, pool_n, kept)``.

    Called by the driver (not part of the loop) on the buffer's keys not
    counted yet. A key outside the counted octaves, and the carry of a full
    counter, is put in ``kept_keys[kept]`` (kept for Python; ``kept_keys`` is
    not ``keys``). Returns before key ``reached < keys.size`` when the pool has
    no free block for it (the driver grows the pool and calls again with the
    keys from there). A block allocated here (``pool_n`` on) gets its owner,
    ``sketch << COLUMN_BITS | column``, in ``owners[block]`` (``slots`` has at
    most ``2**COLUMN_BITS`` columns).
    """
    columns = slots.shape[1]
    mask = (1 << BUCKET_BITS) - 1
    for i in range(keys.size):
        key = keys[i]
        sketch, bucket = key >> BUCKET_BITS, key & mask
        positive = bucket != 0  # zeros: column 0, counter 0 (by products, not branches)
        column = (((bucket - 1) >> 7) - base) * positive
        if not (0 <= column < columns and (column > 0 or not positive)):
            kept_keys[kept] = key
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
        sub = ((bucket - 1) & 127) * positive
        count = counts[block, sub]
        if count == 65535:
            counts[block, sub] = 65536 - CARRY_COUNT
            kept_keys[kept] = key | CARRY
            kept += 1
        else:
            counts[block, sub] = count + 1
    return keys.size, pool_n, kept


@compiled
def count_keys_ahead(
    keys: np.ndarray,
    kept_keys: np.ndarray,
    kept: int,
    slots: np.ndarray,
    counts: np.ndarray,
    owners: np.ndarray,
    base: int,
    pool_n: int,
) -> tuple[int, int, int]:
    """:func:`count_keys` with each slot and counter fetched early.

    While key ``i`` is counted, the slot of key ``i + SLOTS_AHEAD`` and the
    counter of key ``i + AHEAD`` (if its block exists) are fetched.

    The same arguments, effects and return value: ``(reached, pool_n, kept)``.
    """
    columns = slots.shape[1]
    mask = (1 << BUCKET_BITS) - 1
    size = keys.size
    for i in range(size):
        if i + SLOTS_AHEAD < size:  # the slot of the key SLOTS_AHEAD places on
            far = keys[i + SLOTS_AHEAD]
            far_bucket = far & mask
            far_column = (((far_bucket - 1) >> 7) - base) * (far_bucket != 0)
            if 0 <= far_column < columns:
                prefetch(slots, far >> BUCKET_BITS, far_column)
        if i + AHEAD < size:  # the counter of the key AHEAD places on, if its block exists
            later = keys[i + AHEAD]
            later_bucket = later & mask
            later_positive = later_bucket != 0
            later_column = (((later_bucket - 1) >> 7) - base) * later_positive
            if 0 <= later_column < columns:
                later_block = slots[later >> BUCKET_BITS, later_column]
                if later_block >= 0:
                    later_sub = ((later_bucket - 1) & 127) * later_positive
                    prefetch(counts, later_block, later_sub)
        key = keys[i]
        sketch, bucket = key >> BUCKET_BITS, key & mask
        positive = bucket != 0  # zeros: column 0, counter 0 (by products, not branches)
        column = (((bucket - 1) >> 7) - base) * positive
        if not (0 <= column < columns and (column > 0 or not positive)):
            kept_keys[kept] = key
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
        sub = ((bucket - 1) & 127) * positive
        count = counts[block, sub]
        if count == 65535:
            counts[block, sub] = 65536 - CARRY_COUNT
            kept_keys[kept] = key | CARRY
            kept += 1
        else:
            counts[block, sub] = count + 1
    return size, pool_n, kept
