"""A chunk cut from the sketches' counters in compiled code, folded as it is read (not the loop).

At a cut the fast engine turns the chunk's 16-bit counters
(:mod:`eda_sim.engine.fast.latency`) into the chunk's sorted keys and counts,
each sketch's positive buckets below its floor folded into the floor's bucket
(:mod:`eda_sim.stats.collapse`). In NumPy (every counter drained into arrays as
long as the counters in use, copied, then the floors found and the fold done
in passes over every entry) that took about 0.1–0.4 s at the end of a
1,000-station replication of 2,000,000 visits; here two compiled passes read
the counter blocks, and the only large arrays made are the chunk's own:

1. :func:`census` — per sketch, its zeros, positive values, non-empty
   positive buckets and blocks (over the counters and the keys set aside for
   Python: carries and keys outside the counted octaves), reading the blocks in
   memory order (one sequential pass, which the processor fetches ahead);
2. :func:`~eda_sim.stats.collapse.floor_ranks` (NumPy, one entry per sketch) —
   the decision :func:`~eda_sim.stats.collapse.chunk_floors` takes, by the same
   function: which sketches fold, and the rank among its positive values at
   which a sketch's floor is read;
3. :func:`emit_chunk` — per sketch, its entries in key order (:func:`gather`;
   the next sketch's blocks fetched meanwhile, LLVM's ``llvm.prefetch``),
   its floor (the bucket at that rank lowered by
   :data:`~eda_sim.stats.collapse.COLLAPSE_OCTAVES`, kept only with a bucket
   below it), the entries up to the floor summed into the floor's, written to
   the chunk's arrays; its counters cleared and blocks freed.

:func:`cut_chunk` runs them: the arrays are made as long as the entries before
folding (the census's count) and shrunk in place to what was written (the
pages past it never touched). The chunk is equal, key for key and count for
count, to :func:`~eda_sim.stats.collapse.collapsed_chunk` of the same counts
(tested against it in ``tests/test_fast_cut.py``); the SimPy engine's bank
folds with that function, so both engines still make the same chunks.

Not part of the event loop (the driver calls it at a cut), so not one of
``kernel.COMPILED_MODULES``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eda_sim.engine.fast.counting import prefetch
from eda_sim.engine.fast.jit import compiled
from eda_sim.engine.fast.latency import BUCKET_BITS
from eda_sim.stats.collapse import COLLAPSE_OCTAVES, floor_ranks

__all__ = ["census", "cut_chunk", "emit_chunk", "gather"]

_MASK = (1 << BUCKET_BITS) - 1
#: Non-empty counters per block below which a sketch's blocks are read a word at a time.
_SPARSE = 16
#: Buckets between a floor and the bucket of the rank it is read at.
_LOWERED = COLLAPSE_OCTAVES << 7


@compiled
def census(
    slots: np.ndarray,
    counts: np.ndarray,
    base: int,
    rare_keys: np.ndarray,
    rare_counts: np.ndarray,
    tallies: np.ndarray,
) -> None:
    """Per sketch ``s``: ``tallies[s] = (zeros, values > 0, non-empty buckets > 0, blocks > 0)``.

    Over the counters in use and the chunk's keys set aside for Python
    (``rare_keys`` sorted and unique, with their ``rare_counts``); the last
    column counts the sketch's blocks of positive values. ``tallies`` is
    ``(sketches, 4)``, zero on entry.
    """
    columns = slots.shape[1]
    owner = np.full(counts.shape[0], -1, np.int64)  # each block's sketch (-1: zeros, or unused)
    for sketch in range(slots.shape[0]):
        if slots[sketch, 0] >= 0:
            tallies[sketch, 0] = counts[slots[sketch, 0], 0]
        for column in range(1, columns):
            if slots[sketch, column] >= 0:
                owner[slots[sketch, column]] = sketch
    # the blocks in memory order, not key order: one sequential pass the processor fetches ahead
    for block in range(counts.shape[0]):
        sketch = owner[block]
        if sketch < 0:
            continue
        values = buckets = 0
        for sub in range(counts.shape[1]):
            count = counts[block, sub]
            values += count
            buckets += count != 0
        tallies[sketch, 1] += values
        tallies[sketch, 2] += buckets
        tallies[sketch, 3] += 1
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


@compiled
def _read_block(
    counts: np.ndarray,
    block: int,
    subs: int,
    first: int,
    sparse: bool,
    keys: np.ndarray,
    found: np.ndarray,
    n: int,
) -> int:
    """Append the non-empty of ``counts[block, :subs]`` (keys ``first + sub``) at ``n``; new ``n``.

    Each counter is written and kept only if not empty (no branch to mispredict);
    with ``sparse``, a group of four empty counters (a zero 64-bit word) is skipped.
    """
    if sparse and subs % 4 == 0:
        words = counts[block].view(np.uint64)
        for word in range(subs // 4):
            if words[word] != 0:
                for sub in range(4 * word, 4 * word + 4):
                    count = counts[block, sub]
                    keys[n] = first + sub
                    found[n] = count
                    n += count != 0
        return n
    for sub in range(subs):
        count = counts[block, sub]
        keys[n] = first + sub
        found[n] = count
        n += count != 0
    return n


@compiled
def gather(
    sketch: int,
    slots: np.ndarray,
    counts: np.ndarray,
    base: int,
    rare_keys: np.ndarray,
    rare_counts: np.ndarray,
    rare_from: int,
    rare_to: int,
    clear: bool,
    sparse: bool,
    keys: np.ndarray,
    found: np.ndarray,
) -> int:
    """One sketch's non-empty buckets, sorted: ``(keys[:n], found[:n])``; return ``n``.

    Its counters merged with its keys set aside for Python,
    ``rare_keys[rare_from:rare_to]`` (a carry adds to its counter's count).
    With ``clear``, its counters are cleared and its blocks freed (-1). With
    ``sparse`` (few of its counters in use) four empty counters are skipped at
    once (one zero 64-bit word). ``keys`` and ``found`` hold
    ``128·columns + rare_to - rare_from + 1`` entries.
    """
    n = 0
    r = rare_from
    head = sketch << BUCKET_BITS
    for column in range(slots.shape[1]):
        block = slots[sketch, column]
        if block < 0:
            continue
        # zeros (column 0) are bucket 0, in its counter 0; column c >= 1 is exponent field base + c
        subs = 1 if column == 0 else counts.shape[1]
        first = head if column == 0 else head | (((base + column) << 7) + 1)
        if r == rare_to:  # no key set aside left to merge: the counters alone
            n = _read_block(counts, block, subs, first, sparse, keys, found, n)
            subs = 0
        for sub in range(subs):
            key = first + sub
            count = np.int64(counts[block, sub])
            while r < rare_to and rare_keys[r] <= key:
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
        if clear:
            counts[block, :] = 0
            slots[sketch, column] = -1
    while r < rare_to:
        keys[n] = rare_keys[r]
        found[n] = rare_counts[r]
        n += 1
        r += 1
    return n


@compiled
def _floor_in(keys: np.ndarray, found: np.ndarray, n: int, half: int) -> int:
    """One sketch's floor from its sorted entries ``(keys[:n], found[:n])``; 0 for none.

    The bucket of its positive value of rank ``half``, lowered by
    ``COLLAPSE_OCTAVES``, if a bucket of the sketch lies below it.
    """
    first = 1 if n > 0 and (keys[0] & _MASK) == 0 else 0
    running = 0
    at = first
    while at < n - 1:
        running += found[at]
        if running >= half:
            break
        at += 1
    floor = (keys[at] & _MASK) - _LOWERED
    return floor if floor > (keys[first] & _MASK) else 0


@compiled
def emit_chunk(
    slots: np.ndarray,
    counts: np.ndarray,
    base: int,
    rare_keys: np.ndarray,
    rare_counts: np.ndarray,
    rare_bounds: np.ndarray,
    half: np.ndarray,
    sparse: np.ndarray,
    floors: np.ndarray,
    keys: np.ndarray,
    found: np.ndarray,
) -> int:
    """Write every sketch's entries, folded below its floor, to ``(keys, found)``; return ``n``.

    ``half[s]`` is the rank among sketch ``s``'s positive values its floor is read
    at (0: no floor); ``rare_bounds[s]:rare_bounds[s + 1]`` are its keys set aside
    for Python. Its floor goes to ``floors[s]`` (0: none), and its positive
    buckets up to the floor become one entry, the floor's, with their counts'
    sum. The counters are cleared and blocks freed. Returns -1 (having written
    nothing past the arrays' end) if they are too short.
    """
    room = slots.shape[1] * counts.shape[1] + rare_keys.size + 1
    part_keys, part_found = np.empty(room, np.int64), np.empty(room, np.int64)
    n = 0
    for sketch in range(slots.shape[0]):
        if sketch + 1 < slots.shape[0]:  # the next sketch's blocks fetched while this one is read
            for column in range(slots.shape[1]):
                if slots[sketch + 1, column] >= 0:
                    for line in range(0, counts.shape[1], 32):
                        prefetch(counts, slots[sketch + 1, column], line)
        size = gather(
            sketch, slots, counts, base, rare_keys, rare_counts,
            rare_bounds[sketch], rare_bounds[sketch + 1], True, sparse[sketch],
            part_keys, part_found,
        )  # fmt: skip
        # entries [0, zero) kept, [zero, at) folded into the floor's entry, [at, size) kept
        zero = 1 if size > 0 and (part_keys[0] & _MASK) == 0 else 0
        at = 0
        floor = _floor_in(part_keys, part_found, size, half[sketch]) if half[sketch] > 0 else 0
        floors[sketch] = floor
        folded = head = 0
        if floor > 0:
            at = head = zero
            while (part_keys[at] & _MASK) <= floor:
                folded += part_found[at]
                at += 1
            head += 1
        if n + head + size - at > keys.size:  # more than counted: never, but never written
            return -1  # past the end
        if floor > 0:
            if zero:
                keys[n], found[n] = part_keys[0], part_found[0]
                n += 1
            keys[n], found[n] = (sketch << BUCKET_BITS) | floor, folded
            n += 1
        keys[n : n + size - at] = part_keys[at:size]
        found[n : n + size - at] = part_found[at:size]
        n += size - at
    return n


def cut_chunk(
    slots: np.ndarray,
    counts: np.ndarray,
    base: int,
    rare_keys: np.ndarray,
    rare_counts: np.ndarray,
    levels: Sequence[float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chunk in the counters and the keys set aside for Python: ``(keys, counts, floors)``.

    ``slots`` and ``counts`` are the sketches' state
    (:class:`~eda_sim.engine.fast.state.SketchState`); ``rare_keys`` sorted and
    unique (without the carry flag) with their counts ``rare_counts``. Equal to
    :func:`~eda_sim.stats.collapse.collapsed_chunk` of the counts; afterwards
    every counter is cleared and every block freed.
    """
    size = slots.shape[0]
    tallies = np.zeros((size, 4), np.int64)
    census(slots, counts, base, rare_keys, rare_counts, tallies)
    zeros, positives, buckets = tallies[:, 0], tallies[:, 1], tallies[:, 2]
    sparse = buckets < _SPARSE * tallies[:, 3]
    half = np.zeros(size, np.int64)
    if levels:
        chosen, ranks, near = floor_ranks(zeros, positives, buckets, levels)
        half[chosen] = np.where(near, 0, ranks)
    room = int(buckets.sum() + np.count_nonzero(zeros))  # the entries before folding
    keys, found = np.empty(room, np.int64), np.empty(room, np.int64)
    floors = np.zeros(size, np.int64)
    bounds = np.searchsorted(rare_keys >> BUCKET_BITS, np.arange(size + 1))
    filled = emit_chunk(
        slots, counts, base, rare_keys, rare_counts, bounds, half, sparse, floors, keys, found
    )  # fmt: skip
    if filled < 0:
        raise RuntimeError(f"a chunk's cut found more than the {room} entries counted")
    # shrunk in place (realloc): the pages past ``filled`` were never written
    keys.resize(filled, refcheck=False)
    found.resize(filled, refcheck=False)
    return keys, found, floors
