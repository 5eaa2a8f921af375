"""Sketches kept per chunk of a run, and the bank that streams them (layer 3).

:class:`SketchBank` streams the values of many histograms at once (one per
station and metric, numbered by the engines' shared key layout) into *chunks*,
cut at chosen points of a run, so that any window between two cuts (the part
after a warm-up chosen after the run, a batch of batch means) is measured
exactly: :class:`ChunkedSketches`. Every chunk is one sparse array of keys
``sketch << BUCKET_BITS | bucket`` and their counts; the buckets, their
accuracy guarantee and the exact merging are those of :mod:`eda_sim.stats.sketch`.
Given the run's quantile levels, a bank folds each chunk's lowest buckets below
a floor per sketch (:mod:`eda_sim.stats.collapse`), which keeps memory flat in
the horizon; a window's floor is the highest of its chunks', and a quantile in
its floor's bucket or below is reported as collapsed (NaN), never as accurate.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eda_sim.stats.chunk_sums import summed, union_index
from eda_sim.stats.collapse import collapsed_chunk
from eda_sim.stats.quantile_tables import segment_quantiles, stacked_quantiles
from eda_sim.stats.sketch import (
    BUCKET_BITS,
    FloatArray,
    Histogram,
    IntArray,
    bucket_of,
    combine_sorted,
    fold_below,
    sketch_bounds,
)

__all__ = [
    "FLUSH_AT_LEAST",
    "STACK_ENTRIES",
    "WARMUP_LABEL",
    "ChunkedSketches",
    "SketchBank",
    "segment_quantiles",
    "stacked_quantiles",
]

#: Values buffered by a :class:`SketchBank` before they are put into buckets, at least.
FLUSH_AT_LEAST = 8192


#: Entries of the (windows x keys) table that :func:`stacked_quantiles` builds at once, at most.
STACK_ENTRIES = 1 << 22


#: The label of the chunk boundary at the end of a fixed warm-up (grid points are >= 0).
WARMUP_LABEL = -1


@dataclass(frozen=True, eq=False)
class ChunkedSketches:
    """The histograms of ``size`` sketches, kept per chunk of a run.

    Chunk ``c`` holds the values recorded between boundary ``c − 1`` (the start of
    the run for ``c = 0``) and boundary ``c``, labelled ``labels[c]``: a grid point
    of the run's sample path (>= 1), or :data:`WARMUP_LABEL` for the end of a fixed
    warm-up. Every chunk's counts are one sparse array of keys
    ``sketch << BUCKET_BITS | bucket``, sorted; ``floors[c]`` (empty: none) is
    chunk ``c``'s floor per sketch (:mod:`eda_sim.stats.collapse`), 0 where nothing
    was folded.
    """

    size: int
    labels: tuple[int, ...]
    keys: tuple[IntArray, ...]
    counts: tuple[IntArray, ...]
    floors: tuple[IntArray, ...] = ()

    def floor_of(self, start: int, end: int) -> IntArray:
        """The floor per sketch of the chunks ``[start, end)``: the highest of theirs."""
        if not self.floors or start >= end:
            return np.zeros(self.size, np.int64)
        floor: IntArray = np.max(np.stack(self.floors[start:end]), axis=0)
        return floor

    def position(self, label: int) -> int:
        """The boundary with this label: 0 is the run's start, ``c + 1`` the end of chunk ``c``.

        Raises
        ------
        ValueError
            When no chunk ends at ``label``.
        """
        if label == 0:
            return 0
        try:
            return self.labels.index(label) + 1
        except ValueError:
            raise ValueError(
                f"the sketches were cut at {list(self.labels)}, not at {label}"
            ) from None

    def window(self, start: int, end: int) -> list[Histogram]:
        """Every sketch's histogram over the chunks between boundary positions ``start < end``."""
        keys, counts = self.window_counts(start, end)
        bounds = sketch_bounds(keys, self.size)
        mask = (1 << BUCKET_BITS) - 1
        floors = self.floor_of(start, end).tolist()
        return [
            Histogram(keys[a:b] & mask, counts[a:b], floor)
            for a, b, floor in zip(bounds[:-1].tolist(), bounds[1:].tolist(), floors, strict=True)
        ]

    def window_quantiles(
        self, start: int, end: int, levels: Sequence[float], collapsed: float = math.nan
    ) -> FloatArray:
        """Every sketch's quantiles over the chunks ``[start, end)``: shape (size, levels).

        The same values as :meth:`Histogram.quantile` of :meth:`window`'s
        histograms (NaN for an empty one), computed for all sketches at once; a
        quantile in the window's collapsed buckets is ``collapsed`` (NaN there too).
        """
        keys, counts = summed(self.keys[start:end], self.counts[start:end], self.size)
        floors = self.floor_of(start, end)
        return segment_quantiles(keys, counts, self.size, levels, floors, collapsed)

    def suffix_quantiles(
        self,
        starts: Sequence[int],
        end: int,
        levels: Sequence[float],
        collapsed: float = math.nan,
    ) -> dict[int, FloatArray]:
        """:meth:`window_quantiles` of ``[start, end)`` for each position in ``starts``.

        Computed from the end backwards: each step adds one chunk's counts to the
        sorted union of the keys from the earliest start on, and the wanted
        windows' quantiles are found together (:func:`stacked_quantiles`, a
        bounded number of windows at a time).
        """
        wanted = sorted({start for start in starts if start < end})
        if not wanted:
            return {}
        first = wanted[0]
        union, index = union_index(self.keys[first:end], self.size)
        batch, chosen = max(1, STACK_ENTRIES // max(1, union.size)), set(wanted)
        totals = np.zeros(union.size, np.int64)
        floor = np.zeros(self.size, np.int64)
        out: dict[int, FloatArray] = {}
        positions: list[int] = []
        running: list[IntArray] = []
        floors: list[IntArray] = []
        for position in range(end - 1, first - 1, -1):
            totals[index(self.keys[position])] += self.counts[position]
            floor = np.maximum(floor, self.floor_of(position, position + 1))
            if position not in chosen:
                continue
            positions.append(position)
            running.append(np.cumsum(totals))
            floors.append(floor)
            if len(running) == batch or position == first:
                tables = stacked_quantiles(union, running, self.size, levels, floors, collapsed)
                out.update(zip(positions, tables, strict=True))
                positions, running, floors = [], [], []
        return out

    @property
    def nbytes(self) -> int:
        """Bytes of the chunks' keys, counts and floors."""
        floors = sum(f.nbytes for f in self.floors)
        return floors + sum(
            k.nbytes + c.nbytes for k, c in zip(self.keys, self.counts, strict=True)
        )

    def window_counts(self, start: int, end: int) -> tuple[IntArray, IntArray]:
        """The sorted keys and counts of the chunks ``[start, end)`` added up, folded.

        Folded to the window's floor (:meth:`floor_of`), so every bucket above a
        floor and the floor's bucket itself (everything at or below it) are exact.
        """
        keys, counts = summed(self.keys[start:end], self.counts[start:end], self.size)
        return fold_below(keys, counts, self.floor_of(start, end))

    @classmethod
    def pooled(cls, parts: Sequence[ChunkedSketches]) -> ChunkedSketches:
        """Chunk by chunk, the values of all ``parts`` (same sketches and cuts), exactly.

        One merge per chunk for all parts at once (:meth:`pooled_with` two at a time).
        """
        first = parts[0]
        if any((p.size, p.labels) != (first.size, first.labels) for p in parts):
            raise ValueError("only sketches cut at the same points can be pooled")
        if len(parts) == 1:
            return first
        keys, counts, floors = [], [], []
        for c in range(len(first.labels)):
            floor = np.max(np.stack([p.floor_of(c, c + 1) for p in parts]), axis=0)
            merged = combine_sorted([p.keys[c] for p in parts], [p.counts[c] for p in parts])
            key, count = fold_below(*merged, floor)
            keys.append(key)
            counts.append(count)
            floors.append(floor)
        kept = tuple(floors) if any(p.floors for p in parts) else ()
        return cls(first.size, first.labels, tuple(keys), tuple(counts), kept)

    def pooled_with(self, other: ChunkedSketches) -> ChunkedSketches:
        """Chunk by chunk, the values of both (same sketches and cuts), exactly."""
        if (self.size, self.labels) != (other.size, other.labels):
            raise ValueError("only sketches cut at the same points can be pooled")
        return ChunkedSketches.pooled([self, other])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChunkedSketches):
            return NotImplemented
        chunks = range(len(self.labels))
        return (
            (self.size, self.labels) == (other.size, other.labels)
            and all(np.array_equal(a, b) for a, b in zip(self.keys, other.keys, strict=True))
            and all(np.array_equal(a, b) for a, b in zip(self.counts, other.counts, strict=True))
            and all(
                np.array_equal(self.floor_of(c, c + 1), other.floor_of(c, c + 1)) for c in chunks
            )
        )

    __hash__ = None  # type: ignore[assignment]


class SketchBank:
    """Streams the values of ``size`` sketches into chunks (bounded memory).

    :meth:`add` buffers ``(sketch, value)``; the buffer is put into buckets when
    it holds ``limit`` values: :data:`FLUSH_AT_LEAST`, or as many as the current
    chunk has keys if that is more (so the work per value stays logarithmic
    however large the chunk), and at every :meth:`cut`. Memory: the buffer, and
    one count per non-empty (sketch, bucket) of each chunk. Given the run's
    quantile ``levels``, each chunk is folded at its cut
    (:func:`~eda_sim.stats.collapse.collapsed_chunk`), so the chunks kept stay
    flat in the horizon; without levels nothing is folded.

    An engine's innermost loop may append to the buffers ``values`` and ``ids``
    itself (they are emptied in place, never replaced) and call :meth:`flush`
    once ``len(values) >= limit``, which is what :meth:`add` does.

    Examples
    --------
    >>> bank = SketchBank(2)
    >>> for value in (0.0, 1.0, 3.0):
    ...     bank.add(0, value)
    >>> bank.add(1, 2.0)
    >>> bank.cut(5)
    >>> bank.add(0, 4.0)
    >>> chunks = bank.finish(500)
    >>> [h.total for h in chunks.window(0, 2)], [h.total for h in chunks.window(1, 2)]
    ([4, 1], [1, 0])
    """

    __slots__ = (
        "_counts",
        "_keys",
        "_labels",
        "chunk_counts",
        "chunk_floors",
        "chunk_keys",
        "ids",
        "levels",
        "limit",
        "size",
        "values",
    )

    def __init__(self, size: int, levels: Sequence[float] = ()) -> None:
        self.size = size
        self.levels = tuple(levels)
        self.values = array("d")
        self.ids = array("q")
        self._keys: IntArray = np.zeros(0, np.int64)
        self._counts: IntArray = np.zeros(0, np.int64)
        self.limit = FLUSH_AT_LEAST
        self._labels: list[int] = []
        self.chunk_keys: list[IntArray] = []
        self.chunk_counts: list[IntArray] = []
        self.chunk_floors: list[IntArray] = []

    def add(self, sketch: int, value: float) -> None:
        """Record ``value`` (finite, >= 0) in sketch number ``sketch``."""
        self.values.append(value)
        self.ids.append(sketch)
        if len(self.values) >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Put the buffered values into the current chunk's buckets."""
        if not self.values:
            return
        # Copies, not views: a view would export the buffers, which then could not be
        # emptied while anything (a profiler holding a frame) still referred to it.
        values = np.array(self.values, dtype=np.float64)
        ids = np.array(self.ids, dtype=np.int64)
        del self.values[:], self.ids[:]  # emptied in place: engines hold their append methods
        keys = (ids << BUCKET_BITS) | bucket_of(values)
        unique, counts = np.unique(keys, return_counts=True)
        self._keys, self._counts = combine_sorted(
            (self._keys, unique.astype(np.int64)), (self._counts, counts.astype(np.int64))
        )
        self.limit = max(FLUSH_AT_LEAST, int(self._keys.size))

    def cut(self, label: int) -> None:
        """End the current chunk here; ``label`` names the point (a grid index, or -1)."""
        self.flush()
        self._labels.append(label)
        if self.levels:
            keys, counts, floors = collapsed_chunk(self._keys, self._counts, self.size, self.levels)
            self.chunk_keys.append(keys)
            self.chunk_counts.append(counts)
            self.chunk_floors.append(floors)
        else:
            self.chunk_keys.append(self._keys)
            self.chunk_counts.append(self._counts)
        self._keys = np.zeros(0, np.int64)
        self._counts = np.zeros(0, np.int64)
        self.limit = FLUSH_AT_LEAST

    def finish(self, label: int) -> ChunkedSketches:
        """Cut the last chunk at ``label`` and return every chunk."""
        self.cut(label)
        return ChunkedSketches(
            self.size,
            tuple(self._labels),
            tuple(self.chunk_keys),
            tuple(self.chunk_counts),
            tuple(self.chunk_floors),
        )
