"""Where a chunk's sketches collapse their lowest buckets: memory flat in the horizon (layer 3).

A histogram of :mod:`eda_sim.stats.sketch` keeps one count per non-empty
bucket. The highest values of a run grow slowly with its length (like
``log n`` for an exponential tail), but the lowest fall like ``1/n`` wherever
the times have a density at 0 (the wait or sojourn at an M/M/c station), and
every tenfold of values opens about ``128·log2(10) ≈ 425`` more buckets at the
low end of each sketch of each chunk (measured: docs/tail-latency.md, "Memory").
Those buckets lie far below any quantile a run reports.

Each chunk of a run therefore folds, per sketch, its positive values below a
*floor* into the floor's bucket (DDSketch's "collapsing lowest" store: Masson,
Rim & Lee, "DDSketch", PVLDB 12(12), 2019, section 2.2). The floor is read off
the chunk's own counts, so it is a function of the chunk's values alone and
both engines, which make equal chunks, fold them equally:

* a sketch with at most :data:`COLLAPSE_AFTER` non-empty positive buckets in the
  chunk keeps them all (floor 0);
* otherwise, with ``n`` values of which ``z`` are zeros and the margin
  ``m = ⌈ZERO_MARGIN·n⌉`` (0 without zeros: a window may hold a larger share
  of zeros than one chunk), each level ``p`` needs the positive value of rank
  ``⌈p·n⌉ − z − m`` when that is positive; a level with ``|⌈p·n⌉ − z| <= m``
  lies so near the zeros' share that a window's quantile may be among the very
  lowest positive values, and the sketch keeps them all (floor 0); a level
  further below needs no positive value;
* the floor is the bucket of the positive value of half the lowest rank needed
  (the positives' median if none is), lowered by :data:`COLLAPSE_OCTAVES`
  octaves (``128·COLLAPSE_OCTAVES`` buckets), or 0 if no bucket lies below that.

A quantile of a window is below its floor only when the window's values lie
far lower than those of the chunk that set the floor (more than
``2^COLLAPSE_OCTAVES`` times below its value at half the rank), or hold more
zeros than the margin allows. Whether that happened is known exactly from the
counts (:meth:`eda_sim.stats.sketch.Histogram.collapsed`), and such a quantile
is reported as NaN with a note, never as accurate. The
floor sits at a fixed level of the times' distribution, so the buckets a chunk
keeps stop growing once the times fill them: memory is flat in the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from eda_sim.stats.sketch import (
    BUCKET_BITS,
    SUB_BUCKET_BITS,
    IntArray,
    fold_below,
    quantile_ranks,
    sketch_bounds,
)

__all__ = [
    "COLLAPSE_AFTER",
    "COLLAPSE_OCTAVES",
    "ZERO_MARGIN",
    "chunk_floors",
    "collapsed_chunk",
    "floor_ranks",
]

#: A chunk's sketch with at most this many non-empty positive buckets is kept whole.
COLLAPSE_AFTER = 256
#: Octaves between a chunk's floor and its positive values' ``min(levels)/2`` quantile.
COLLAPSE_OCTAVES = 2
#: Share of a chunk's values by which a window's share of zeros may exceed the chunk's.
ZERO_MARGIN = 0.05

_MASK = (1 << BUCKET_BITS) - 1


def chunk_floors(keys: IntArray, counts: IntArray, size: int, levels: Sequence[float]) -> IntArray:
    """Each sketch's floor in one chunk (module docstring): bucket indices, 0 for none.

    ``keys`` are the chunk's sorted unique keys ``sketch << BUCKET_BITS | bucket``
    and ``counts`` their counts; ``levels`` the quantile levels the run reports.
    """
    floors = np.zeros(size, np.int64)
    positive = (keys & _MASK) > 0
    if not levels or not positive.any():
        return floors
    zeros = np.zeros(size, np.int64)
    zeros[keys[~positive] >> BUCKET_BITS] = counts[~positive]
    keys, counts = keys[positive], counts[positive]
    bounds = sketch_bounds(keys, size)
    running = np.concatenate(([0], np.cumsum(counts)))
    before = running[bounds[:-1]]
    chosen, half, near = floor_ranks(zeros, running[bounds[1:]] - before, np.diff(bounds), levels)
    if not chosen.size:
        return floors
    # the first key whose running count reaches half that rank (running[i + 1] >= target)
    where = np.searchsorted(running[1:], before[chosen] + half, side="left")
    floor = (keys[where] & _MASK) - (COLLAPSE_OCTAVES << SUB_BUCKET_BITS)
    lowest = keys[bounds[:-1][chosen]] & _MASK
    floors[chosen] = np.where((floor > lowest) & ~near, floor, 0)
    return floors


def floor_ranks(
    zeros: IntArray, positives: IntArray, buckets: IntArray, levels: Sequence[float]
) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Which sketches of a chunk may get a floor, and the rank their floor is read at.

    ``zeros``, ``positives`` and ``buckets`` are, per sketch, the chunk's zeros,
    positive values and non-empty positive buckets; ``levels`` is not empty.
    Returns the sketches with more than :data:`COLLAPSE_AFTER` buckets
    (``chosen``), for each the rank among its positive values whose bucket,
    lowered by :data:`COLLAPSE_OCTAVES`, is the floor (``half``: half the lowest
    rank a level needs, at least 1 and at most its positive values), and where
    a level lies too near the zeros' share for any floor (``near``). Shared by
    :func:`chunk_floors` and the fast engine's compiled cut, so both take the
    same decision on the same counts.
    """
    chosen = np.flatnonzero(buckets > COLLAPSE_AFTER)
    if not chosen.size:  # (most chunks cut at a grid point of a long run)
        return chosen, np.zeros(0, np.int64), np.zeros(0, dtype=bool)
    rank, near = _lowest_positive_rank(zeros[chosen], positives[chosen], levels)
    return chosen, (rank + 1) // 2, near


def _lowest_positive_rank(
    zeros: IntArray, positives: IntArray, levels: Sequence[float]
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """The lowest rank among the positive values a level may need, and where that is unsure.

    A level's rank ``⌈p·n⌉`` less the zeros, less :data:`ZERO_MARGIN` of ``n``
    where there are zeros (a window may hold a larger share of zeros than this
    chunk). A level within that margin of the zeros' share is *near* (the window's
    quantile may be among the very lowest positive values: no floor); one below
    it needs no positive value. If no level needs one, the positives' median.
    """
    total = zeros + positives
    margin = np.where(zeros > 0, quantile_ranks(ZERO_MARGIN, total), 0)
    rank = quantile_ranks(0.5, positives)
    needed = np.zeros(total.size, dtype=bool)
    near = np.zeros(total.size, dtype=bool)
    for level in levels:
        beyond = quantile_ranks(level, total) - zeros
        wanted = beyond > margin
        rank = np.where(wanted & ~needed, beyond - margin, rank)
        rank = np.where(wanted & needed, np.minimum(rank, beyond - margin), rank)
        needed |= wanted
        near |= ~wanted & (beyond >= -margin)
    return rank, near


def collapsed_chunk(
    keys: IntArray, counts: IntArray, size: int, levels: Sequence[float]
) -> tuple[IntArray, IntArray, IntArray]:
    """One chunk with every sketch's low buckets folded: ``(keys, counts, floors)``."""
    floors = chunk_floors(keys, counts, size, levels)
    folded_keys, folded_counts = fold_below(keys, counts, floors)
    return folded_keys, folded_counts, floors
