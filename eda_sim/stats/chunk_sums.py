"""A run's chunks of sketch counts added up through one table of places, not a sort (layer 3).

The chunks of :class:`~eda_sim.stats.chunks.ChunkedSketches` are sorted sparse
arrays of keys ``sketch << BUCKET_BITS | bucket`` and counts. Adding many of
them up by :func:`~eda_sim.stats.merging.combine_sorted` sorts their keys
together, a batch at a time into the running sum: at 1,000 stations, the 51
chunks of a replication of 2,000,000 visits hold about 2 million entries and
took 0.3–0.5 s that way. Here each sketch gets a row of places, one for its
zeros and one per bucket from its lowest to its highest positive bucket in
any of the chunks (:class:`Places`); a chunk's keys map to their places by
arithmetic, each chunk's counts are added at its places (its keys are unique,
so no place is hit twice by one chunk), and the places that any chunk used,
in order, are the sorted union of the keys. The result is exactly
``combine_sorted``'s, key for key and count for count (int64 both; a key
given with a zero count is kept, as there). The table is used only while it
holds at most :data:`PLACES_PER_ENTRY` places per entry of the chunks (a
sketch's buckets span about a dozen octaves of 128 buckets in such a run:
some 1.5 places per entry); otherwise the chunks are merged by sorting, as
before. Memory: an int64 and a bool per place. Measured: ``docs/performance.md``
("The 50 MSER-5 cuts at 1,000 stations").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from eda_sim.stats.merging import MERGE_BATCH, combine_sorted
from eda_sim.stats.sketch import BUCKET_BITS, IntArray

__all__ = ["PLACES_PER_ENTRY", "Places", "summed", "union_index"]

#: Places of the table per entry of the chunks at most (more: the chunks are merged by sorting).
PLACES_PER_ENTRY = 4

_MASK = (1 << BUCKET_BITS) - 1


class Places:
    """One place per sketch's zeros and per bucket of its positive range over some chunks.

    ``lowest[s]`` and ``highest[s]`` are sketch ``s``'s lowest and highest
    positive bucket (``highest < lowest`` when it has none); its row of places
    starts at ``start[s]``: its zeros, then buckets ``lowest[s] ..
    highest[s]``. Places are in key order.
    """

    def __init__(self, lowest: IntArray, highest: IntArray) -> None:
        self.lowest = lowest
        width = np.maximum(highest - lowest + 1, 0)
        self.start: IntArray = np.concatenate(([0], np.cumsum(1 + width)))
        self.size = int(self.start[-1])
        # a key's place is shift[s] + max(bucket, below[s]): bucket 0 (zeros) goes to start[s]
        self._below = lowest - 1
        self._shift = self.start[:-1] - self._below

    @classmethod
    def of(cls, keys: Sequence[IntArray], size: int) -> Places:
        """The places of the keys of every chunk in ``keys`` (``size`` sketches)."""
        lowest = np.full(size, _MASK + 1, np.int64)
        highest = np.zeros(size, np.int64)
        sketches = np.arange(size + 1)
        for part in keys:
            if not part.size:
                continue
            bounds = np.searchsorted(part >> BUCKET_BITS, sketches)
            start, stop = bounds[:-1], bounds[1:]
            # a sketch's entries: its zeros' first (bucket 0), then its positive buckets
            first = start + ((part[np.minimum(start, part.size - 1)] & _MASK) == 0)
            has = first < stop
            lowest[has] = np.minimum(lowest[has], part[first[has]] & _MASK)
            highest[has] = np.maximum(highest[has], part[stop[has] - 1] & _MASK)
        return cls(lowest, highest)

    def index(self, keys: IntArray) -> IntArray:
        """The place of each key (of the chunks the places were made of)."""
        sketch = keys >> BUCKET_BITS
        at: IntArray = keys & _MASK
        np.maximum(at, self._below[sketch], out=at)
        at += self._shift[sketch]
        return at

    def marked(self, keys: Sequence[IntArray]) -> npt.NDArray[np.bool_]:
        """Which places the chunks' keys use."""
        used = np.zeros(self.size, dtype=bool)
        for part in keys:
            used[self.index(part)] = True
        return used

    def keys_at(self, used: npt.NDArray[np.bool_]) -> IntArray:
        """The keys of the places marked in ``used``, in order (the sorted union)."""
        first = self.start[:-1]  # every row has a place (its zeros'), so these are increasing
        rows = np.repeat(
            np.arange(first.size), np.add.reduceat(used.view(np.int8), first, dtype=np.int64)
        )
        offset = np.flatnonzero(used) - first[rows]
        # place start + j holds bucket lowest + j - 1 = below + j (j >= 1), zeros at j = 0
        bucket = np.where(offset == 0, 0, offset + self._below[rows])
        keys: IntArray = (rows << BUCKET_BITS) | bucket
        return keys


def _places_for(keys: Sequence[IntArray], size: int) -> Places | None:
    """The places of the chunks' keys, or None where sorting serves as well or the table is large.

    None for fewer than two chunks with entries, for no more entries than
    ``combine_sorted`` sorts at once (:data:`~eda_sim.stats.merging.MERGE_BATCH`),
    and for a table of more than :data:`PLACES_PER_ENTRY` places per entry.
    """
    parts = [k for k in keys if k.size]
    entries = sum(k.size for k in parts)
    if len(parts) < 2 or entries <= MERGE_BATCH:
        return None
    places = Places.of(parts, size)
    return places if places.size <= PLACES_PER_ENTRY * entries + size else None


def union_index(
    keys: Sequence[IntArray], size: int
) -> tuple[IntArray, Callable[[IntArray], IntArray]]:
    """The sorted union of the chunks' keys, and where in it each key of a chunk lies.

    Returns ``(union, index)``: ``index(keys[c])`` is the position in ``union``
    of each key of chunk ``c`` (``numpy.searchsorted(union, keys[c])``).
    """
    places = _places_for(keys, size)
    if places is None:
        union, _ = combine_sorted(keys, keys)  # (the union of the keys; sums unused)
        return union, lambda part: np.searchsorted(union, part)
    used = places.marked(keys)
    rank = np.cumsum(used, dtype=np.int64) - 1  # each used place's position in the union
    table = places
    return places.keys_at(used), lambda part: rank[table.index(part)]


def summed(
    keys: Sequence[IntArray], counts: Sequence[IntArray], size: int
) -> tuple[IntArray, IntArray]:
    """The chunks' counts added up: sorted unique keys and sums, as ``combine_sorted``'s.

    ``keys[c]`` (sorted, unique, of ``size`` sketches) and ``counts[c]`` are chunk
    ``c``'s. Through a table of :class:`Places` when there are more entries than
    ``combine_sorted`` sorts at once (:data:`~eda_sim.stats.merging.MERGE_BATCH`)
    and the table holds at most :data:`PLACES_PER_ENTRY` places per entry.
    """
    places = _places_for(keys, size)
    if places is None:
        return combine_sorted(keys, counts)
    total = np.zeros(places.size, np.int64)
    used = np.zeros(places.size, dtype=bool)
    for part_keys, part_counts in zip(keys, counts, strict=True):
        at = places.index(part_keys)
        total[at] += part_counts  # (a chunk's keys are unique: each place once)
        used[at] = True
    return places.keys_at(used), total[used]
