"""A chunk cut from the sketches' counters in compiled code, at the cost of what it changed.

At a cut the fast engine turns the chunk's 16-bit counters
(:mod:`eda_sim.engine.fast.latency`) into the chunk's sorted keys and counts,
each sketch's positive buckets below its floor folded into the floor's bucket
(:mod:`eda_sim.stats.collapse`). A chunk's counters are the pool's first
``pool_n`` blocks (allocated in that order as the chunk's keys were counted,
each block's owner ``sketch << COLUMN_BITS | column`` noted by
:func:`~eda_sim.engine.fast.counting.count_keys`), so a cut visits those
blocks and nothing else: not every sketch's slots (2,000 sketches × 64 octaves
at 1,000 stations), not the pool's unused blocks, and in a block only its
non-empty counters (a grid chunk of a ``warmup: auto`` run holds about 3 of
a block's 128). The steps:

1. :func:`census` — per block, a 128-bit mask of its non-empty counters
   (branch-free loops); per sketch, its zeros, positive values and non-empty
   positive buckets (over the blocks and the keys set aside for Python:
   carries, keys outside the counted octaves), hence the exact length of the
   chunk before folding;
2. :func:`~eda_sim.stats.collapse.floor_ranks` (NumPy, one entry per sketch) —
   the decision :func:`~eda_sim.stats.collapse.chunk_floors` takes, by the
   same function: which sketches fold, and the rank among its positive values
   at which a sketch's floor is read;
3. :func:`blocks_in_key_order` — the blocks sorted by owner (two counting
   sorts, by octave then by sketch), which is key order;
4. :func:`read_chunk` — the blocks in that order merged with the keys set
   aside, written as the chunk's entries, each non-empty counter found from
   its block's mask (one set bit at a time), read, written and cleared once,
   the block's slot freed; a sketch that folds is folded as soon as its
   entries are written, while they are in the caches (:func:`_fold_sketch`:
   its floor, the bucket at that rank lowered by
   :data:`~eda_sim.stats.collapse.COLLAPSE_OCTAVES`, kept only with a bucket
   below it, and its entries up to the floor summed into the floor's).

The chunk is equal, key for key and count for count (int64 both), to
:func:`~eda_sim.stats.collapse.collapsed_chunk` of the same counts (tested
against it in ``tests/test_fast_cut.py``); the SimPy engine's bank folds with
that function, so both engines still make the same chunks. Measured:
``docs/performance.md`` ("The 50 MSER-5 cuts at 1,000 stations").

Not part of the event loop (the driver calls it at a cut), so not one of
``kernel.COMPILED_MODULES``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros

from eda_sim.engine.fast.counting import COLUMN_BITS
from eda_sim.engine.fast.jit import compiled
from eda_sim.engine.fast.latency import BUCKET_BITS
from eda_sim.stats.collapse import COLLAPSE_OCTAVES, floor_ranks

__all__ = ["blocks_in_key_order", "census", "cut_chunk", "read_chunk"]

#: ``trailing_zeros(x)``: LLVM's ``cttz`` in compiled code (numba's intrinsic, typed loosely here).
trailing_zeros: Any = _trailing_zeros
_MASK = (1 << BUCKET_BITS) - 1
_COLUMN_MASK = (1 << COLUMN_BITS) - 1
#: Buckets between a floor and the bucket of the rank it is read at.
_LOWERED = COLLAPSE_OCTAVES << 7


@compiled
def census(
    counts: np.ndarray,
    owners: np.ndarray,
    pool_n: int,
    slots: np.ndarray,
    base: int,
    rare_keys: np.ndarray,
    rare_counts: np.ndarray,
    masks: np.ndarray,
    tallies: np.ndarray,
) -> int:
    """Masks of the blocks ``b < pool_n`` and tallies of the sketches; return the entries.

    Bit ``j`` of ``masks[b, h]`` is set if counter ``64·h + j`` of block ``b``
    is not empty. ``tallies[s] = (zeros, values > 0, non-empty buckets > 0)`` of
    sketch ``s`` over its blocks and its keys set aside for Python
    (``rare_keys`` sorted and unique, with their ``rare_counts``); ``tallies`` is
    ``(sketches, 3)``, zero on entry. Returns the number of non-empty counters
    plus kept keys: the chunk's entries before folding, at most.
    """
    total = rare_keys.size
    for block in range(pool_n):
        values = buckets = 0
        for half in range(2):
            mask = np.uint64(0)
            for sub in range(64):
                count = counts[block, 64 * half + sub]
                mask |= np.uint64(count != 0) << np.uint64(sub)
                values += count
                buckets += count != 0
            masks[block, half] = mask
        total += buckets
        sketch = owners[block] >> COLUMN_BITS
        if owners[block] & _COLUMN_MASK == 0:  # zeros: column 0, counter 0
            tallies[sketch, 0] += values
        else:
            tallies[sketch, 1] += values
            tallies[sketch, 2] += buckets
    columns = slots.shape[1]
    for i in range(rare_keys.size):
        sketch, bucket = rare_keys[i] >> BUCKET_BITS, rare_keys[i] & _MASK
        if bucket == 0:
            tallies[sketch, 0] += rare_counts[i]
            continue
        tallies[sketch, 1] += rare_counts[i]
        column = ((bucket - 1) >> 7) - base
        block = slots[sketch, column] if 0 < column < columns else -1
        if block < 0 or counts[block, (bucket - 1) & 127] == 0:  # not among the counters
            tallies[sketch, 2] += 1
    return total


@compiled
def blocks_in_key_order(owners: np.ndarray, pool_n: int, sketches: int) -> np.ndarray:
    """The blocks ``0 .. pool_n - 1`` sorted by ``owners`` (``sketch << COLUMN_BITS | column``).

    Owners are distinct, and their order is the order of the blocks' keys. A
    counting sort by column, then a stable one by sketch: ``O(pool_n + sketches)``.
    """
    tally = np.zeros((1 << COLUMN_BITS) + 1, np.int64)
    for block in range(pool_n):
        tally[(owners[block] & _COLUMN_MASK) + 1] += 1
    for column in range(1 << COLUMN_BITS):
        tally[column + 1] += tally[column]
    by_column = np.empty(pool_n, np.int64)
    for block in range(pool_n):
        column = owners[block] & _COLUMN_MASK
        by_column[tally[column]] = block
        tally[column] += 1
    first = np.zeros(sketches + 1, np.int64)
    for block in range(pool_n):
        first[(owners[block] >> COLUMN_BITS) + 1] += 1
    for sketch in range(sketches):
        first[sketch + 1] += first[sketch]
    order = np.empty(pool_n, np.int64)
    for i in range(pool_n):
        block = by_column[i]
        sketch = owners[block] >> COLUMN_BITS
        order[first[sketch]] = block
        first[sketch] += 1
    return order


@compiled
def _merge_block(
    counts: np.ndarray,
    block: int,
    width: int,
    first: int,
    rare_keys: np.ndarray,
    rare_counts: np.ndarray,
    r: int,
    keys: np.ndarray,
    found: np.ndarray,
    n: int,
) -> tuple[int, int]:
    """Block ``block``'s counters merged with the kept keys from ``r`` on that fall among them.

    A kept key equal to a counter's (a carry) adds to its count. Clears the
    block; returns ``(n, r)``. Writes an empty counter at ``n`` (not kept).
    """
    for sub in range(width):
        key = first + sub
        count = np.int64(counts[block, sub])
        while r < rare_keys.size and rare_keys[r] <= key:
            if rare_keys[r] == key:
                count += rare_counts[r]
            else:
                keys[n] = rare_keys[r]
                found[n] = rare_counts[r]
                n += 1
            r += 1
        keys[n] = key
        found[n] = count
        n += count != 0
        counts[block, sub] = 0
    return n, r


@compiled
def _floor_in(keys: np.ndarray, found: np.ndarray, start: int, stop: int, half: int) -> int:
    """One sketch's floor from its sorted entries ``[start, stop)``; 0 for none.

    The bucket of its positive value of rank ``half``, lowered by
    ``COLLAPSE_OCTAVES``, if a bucket of the sketch lies below it.
    """
    first = start + 1 if stop > start and (keys[start] & _MASK) == 0 else start
    running = 0
    at = first
    while at < stop - 1:
        running += found[at]
        if running >= half:
            break
        at += 1
    floor = (keys[at] & _MASK) - _LOWERED
    return floor if floor > (keys[first] & _MASK) else 0


@compiled
def _fold_sketch(
    keys: np.ndarray, found: np.ndarray, start: int, stop: int, half: int, floors: np.ndarray
) -> int:
    """Fold one sketch's entries ``[start, stop)`` below its floor, in place; return the new stop.

    ``half`` is the rank among its positive values its floor is read at. Its
    floor goes to ``floors[sketch]`` (0: none), and its positive buckets up to
    the floor become one entry, the floor's, with their counts' sum; its other
    entries are kept, in order.
    """
    sketch = keys[start] >> BUCKET_BITS
    floor = _floor_in(keys, found, start, stop, half)
    floors[sketch] = floor
    if floor == 0:
        return stop
    i = w = start + 1 if (keys[start] & _MASK) == 0 else start  # the zeros' entry stays first
    folded = 0
    while (keys[i] & _MASK) <= floor:
        folded += found[i]
        i += 1
    keys[w], found[w] = (sketch << BUCKET_BITS) | floor, folded
    w += 1
    while i < stop:
        keys[w], found[w] = keys[i], found[i]
        w += 1
        i += 1
    return w


@compiled
def read_chunk(
    order: np.ndarray,
    owners: np.ndarray,
    masks: np.ndarray,
    slots: np.ndarray,
    counts: np.ndarray,
    base: int,
    rare_keys: np.ndarray,
    rare_counts: np.ndarray,
    half: np.ndarray,
    floors: np.ndarray,
    keys: np.ndarray,
    found: np.ndarray,
) -> int:
    """The chunk's entries, sorted and folded: ``(keys[:n], found[:n])``; return ``n``.

    The blocks ``order`` (in key order) merged with the keys set aside for
    Python (``rare_keys``, sorted and unique, with ``rare_counts``; a carry adds
    to its counter's count). A block's non-empty counters are found from its
    ``masks`` (:func:`census`), one set bit at a time, so that each is read,
    written and cleared once and no empty one is visited; its slot is freed
    (-1). A sketch ``s`` with ``half[s] > 0`` is folded once its entries are
    written (:func:`_fold_sketch`). ``keys`` and ``found`` hold the blocks'
    non-empty counters, the kept keys and one more entry.
    """
    n = r = start = 0
    sketch = -1  # the sketch whose entries end at n, from start
    for i in range(order.size + 1):
        block = order[i] if i < order.size else -1
        owner = owners[block] if block >= 0 else 0
        head = (owner >> COLUMN_BITS) << BUCKET_BITS
        column = owner & _COLUMN_MASK
        # zeros (column 0) are bucket 0, in its counter 0; column c >= 1 is exponent field base + c
        first = head if column == 0 else head | (((base + column) << 7) + 1)
        if block < 0:  # past the last block: a key past every sketch's, after the kept keys left
            first = 1 << 62
        while True:  # the kept keys before this block, then the block, each closing a sketch
            key = rare_keys[r] if r < rare_keys.size and rare_keys[r] < first else first
            if key >> BUCKET_BITS != sketch:
                if sketch >= 0 and half[sketch] > 0:
                    n = _fold_sketch(keys, found, start, n, half[sketch], floors)
                sketch, start = key >> BUCKET_BITS, n
            if key == first:
                break
            keys[n], found[n] = key, rare_counts[r]
            n += 1
            r += 1
        if block < 0:
            break
        width = 1 if column == 0 else counts.shape[1]
        if r < rare_keys.size and rare_keys[r] < first + width:
            n, r = _merge_block(
                counts, block, width, first, rare_keys, rare_counts, r, keys, found, n
            )  # fmt: skip
        else:  # (written out here: a call per block costs more than the block)
            for part in range(2):
                mask = masks[block, part]
                while mask != 0:
                    sub = 64 * part + np.int64(trailing_zeros(mask))
                    mask &= mask - np.uint64(1)
                    keys[n], found[n] = first + sub, counts[block, sub]
                    counts[block, sub] = 0
                    n += 1
        slots[owner >> COLUMN_BITS, column] = -1
    return n


def cut_chunk(
    slots: np.ndarray,
    counts: np.ndarray,
    owners: np.ndarray,
    pool_n: int,
    base: int,
    rare_keys: np.ndarray,
    rare_counts: np.ndarray,
    levels: Sequence[float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chunk in the counters and the keys set aside for Python: ``(keys, counts, floors)``.

    ``slots`` and ``counts`` are the sketches' state
    (:class:`~eda_sim.engine.fast.state.SketchState`), of which the chunk used
    the blocks ``0 .. pool_n - 1`` with their ``owners``; ``rare_keys`` sorted
    and unique (without the carry flag) with their counts ``rare_counts``.
    Equal to :func:`~eda_sim.stats.collapse.collapsed_chunk` of the counts;
    afterwards those blocks are cleared and their slots freed.
    """
    size = slots.shape[0]
    masks = np.empty((pool_n, 2), np.uint64)
    tallies = np.zeros((size, 3), np.int64)
    room = census(counts, owners, pool_n, slots, base, rare_keys, rare_counts, masks, tallies)
    half = np.zeros(size, np.int64)
    if levels:
        chosen, ranks, near = floor_ranks(tallies[:, 0], tallies[:, 1], tallies[:, 2], levels)
        half[chosen] = np.where(near, 0, ranks)
    order = blocks_in_key_order(owners, pool_n, size)
    keys, found = np.empty(room + 1, np.int64), np.empty(room + 1, np.int64)
    floors = np.zeros(size, np.int64)
    filled = read_chunk(
        order, owners, masks, slots, counts, base, rare_keys, rare_counts, half, floors,
        keys, found,
    )  # fmt: skip
    # shrunk in place (realloc): the pages past ``filled`` were never written, or only by a fold
    keys.resize(filled, refcheck=False)
    found.resize(filled, refcheck=False)
    return keys, found, floors
