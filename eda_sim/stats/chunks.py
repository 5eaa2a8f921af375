"""Sketches kept per chunk of a run, and the bank that streams them (layer 3).

:class:`SketchBank` streams the values of many histograms at once (one per
station and metric, numbered by the engines' shared key layout) into *chunks*,
cut at chosen points of a run, so that any window between two cuts (the part
after a warm-up chosen after the run, a batch of batch means) is measured
exactly: :class:`ChunkedSketches`. Every chunk is one sparse array of keys
``sketch << BUCKET_BITS | bucket`` and their counts; the buckets, their
accuracy guarantee and the exact merging are those of :mod:`eda_sim.stats.sketch`.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eda_sim.stats.sketch import (
    BUCKET_BITS,
    FloatArray,
    Histogram,
    IntArray,
    bucket_of,
    bucket_value,
    combine_sorted,
    quantile_ranks,
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


def segment_quantiles(
    keys: IntArray, counts: IntArray, size: int, levels: Sequence[float]
) -> FloatArray:
    """Quantiles of each sketch's segment of the sorted combined ``keys``: (size, levels).

    A key may have a zero count (it is then never the quantile's bucket).
    """
    table: FloatArray = stacked_quantiles(keys, [np.cumsum(counts)], size, levels)[0]
    return table


def stacked_quantiles(
    keys: IntArray, cumulative: Sequence[IntArray], size: int, levels: Sequence[float]
) -> FloatArray:
    """:func:`segment_quantiles` of several windows over the same sorted keys, at once.

    ``cumulative[w]`` is window ``w``'s running count over ``keys`` (``np.cumsum``
    of its counts, zeros allowed); the result has shape (windows, size, levels).
    The windows' running counts are laid end to end, each shifted above the last,
    so one :func:`numpy.searchsorted` finds every window's quantile bucket.
    """
    windows = len(cumulative)
    out = np.full((windows, size, len(levels)), np.nan)
    if not windows or not keys.size:
        return out
    bounds = np.searchsorted(keys >> BUCKET_BITS, np.arange(size + 1), side="left")
    table = np.zeros((windows, keys.size + 1), np.int64)
    table[:, 1:] = cumulative
    before = table[:, bounds[:-1]]
    totals = table[:, bounds[1:]] - before
    shift = (int(table[:, -1].max()) + 1) * np.arange(windows, dtype=np.int64)[:, None]
    flat = (table[:, 1:] + shift).ravel()  # strictly above the window before
    present = totals > 0
    row, sketch = np.nonzero(present)
    start = (before + shift)[row, sketch]
    counted = totals[row, sketch]
    # per level, the first key whose running count reaches the rank (cumulative[i] >= target)
    where = (
        np.stack(
            [
                np.searchsorted(flat, start + quantile_ranks(level, counted), side="left")
                for level in levels
            ],
            axis=1,
        )
        - (row * keys.size)[:, None]
    )
    out[row, sketch] = bucket_value(keys[where] & ((1 << BUCKET_BITS) - 1))
    return out


#: The label of the chunk boundary at the end of a fixed warm-up (grid points are >= 0).
WARMUP_LABEL = -1


@dataclass(frozen=True, eq=False)
class ChunkedSketches:
    """The histograms of ``size`` sketches, kept per chunk of a run.

    Chunk ``c`` holds the values recorded between boundary ``c − 1`` (the start of
    the run for ``c = 0``) and boundary ``c``, labelled ``labels[c]``: a grid point
    of the run's sample path (>= 1), or :data:`WARMUP_LABEL` for the end of a fixed
    warm-up. Every chunk's counts are one sparse array of keys
    ``sketch << BUCKET_BITS | bucket``, sorted.
    """

    size: int
    labels: tuple[int, ...]
    keys: tuple[IntArray, ...]
    counts: tuple[IntArray, ...]

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
        keys, counts = combine_sorted(self.keys[start:end], self.counts[start:end])
        sketch = keys >> BUCKET_BITS
        bounds = np.searchsorted(sketch, np.arange(self.size + 1), side="left")
        mask = (1 << BUCKET_BITS) - 1
        return [
            Histogram(keys[a:b] & mask, counts[a:b])
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        ]

    def window_quantiles(self, start: int, end: int, levels: Sequence[float]) -> FloatArray:
        """Every sketch's quantiles over the chunks ``[start, end)``: shape (size, levels).

        The same values as :meth:`Histogram.quantile` of :meth:`window`'s
        histograms (NaN for an empty one), computed for all sketches at once.
        """
        keys, counts = combine_sorted(self.keys[start:end], self.counts[start:end])
        return segment_quantiles(keys, counts, self.size, levels)

    def suffix_quantiles(
        self, starts: Sequence[int], end: int, levels: Sequence[float]
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
        parts = self.keys[first:end]
        union, _ = combine_sorted(parts, parts)  # (the union of the keys; sums unused)
        batch, chosen = max(1, STACK_ENTRIES // max(1, union.size)), set(wanted)
        totals = np.zeros(union.size, np.int64)
        out: dict[int, FloatArray] = {}
        positions: list[int] = []
        running: list[IntArray] = []
        for position in range(end - 1, first - 1, -1):
            totals[np.searchsorted(union, self.keys[position])] += self.counts[position]
            if position not in chosen:
                continue
            positions.append(position)
            running.append(np.cumsum(totals))
            if len(running) == batch or position == first:
                tables = stacked_quantiles(union, running, self.size, levels)
                out.update(zip(positions, tables, strict=True))
                positions, running = [], []
        return out

    @property
    def nbytes(self) -> int:
        """Bytes of the chunks' keys and counts."""
        return sum(k.nbytes + c.nbytes for k, c in zip(self.keys, self.counts, strict=True))

    def window_counts(self, start: int, end: int) -> tuple[IntArray, IntArray]:
        """The sorted keys and counts of the chunks ``[start, end)`` added up."""
        return combine_sorted(self.keys[start:end], self.counts[start:end])

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
        merged = [
            combine_sorted([p.keys[c] for p in parts], [p.counts[c] for p in parts])
            for c in range(len(first.labels))
        ]
        return cls(
            first.size, first.labels, tuple(k for k, _ in merged), tuple(c for _, c in merged)
        )

    def pooled_with(self, other: ChunkedSketches) -> ChunkedSketches:
        """Chunk by chunk, the values of both (same sketches and cuts), exactly."""
        if (self.size, self.labels) != (other.size, other.labels):
            raise ValueError("only sketches cut at the same points can be pooled")
        merged = [
            combine_sorted((a, b), (ca, cb))
            for a, b, ca, cb in zip(self.keys, other.keys, self.counts, other.counts, strict=True)
        ]
        return ChunkedSketches(
            self.size,
            self.labels,
            tuple(k for k, _ in merged),
            tuple(c for _, c in merged),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChunkedSketches):
            return NotImplemented
        return (
            (self.size, self.labels) == (other.size, other.labels)
            and all(np.array_equal(a, b) for a, b in zip(self.keys, other.keys, strict=True))
            and all(np.array_equal(a, b) for a, b in zip(self.counts, other.counts, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]


class SketchBank:
    """Streams the values of ``size`` sketches into chunks (bounded memory).

    :meth:`add` buffers ``(sketch, value)``; the buffer is put into buckets when
    it holds ``limit`` values: :data:`FLUSH_AT_LEAST`, or as many as the current
    chunk has keys if that is more (so the work per value stays logarithmic
    however large the chunk), and at every :meth:`cut`. Memory: the buffer, and
    one count per non-empty (sketch, bucket) of each chunk.

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
        "chunk_keys",
        "ids",
        "limit",
        "size",
        "values",
    )

    def __init__(self, size: int) -> None:
        self.size = size
        self.values = array("d")
        self.ids = array("q")
        self._keys: IntArray = np.zeros(0, np.int64)
        self._counts: IntArray = np.zeros(0, np.int64)
        self.limit = FLUSH_AT_LEAST
        self._labels: list[int] = []
        self.chunk_keys: list[IntArray] = []
        self.chunk_counts: list[IntArray] = []

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
        self.chunk_keys.append(self._keys)
        self.chunk_counts.append(self._counts)
        self._keys = np.zeros(0, np.int64)
        self._counts = np.zeros(0, np.int64)
        self.limit = FLUSH_AT_LEAST

    def finish(self, label: int) -> ChunkedSketches:
        """Cut the last chunk at ``label`` and return every chunk."""
        self.cut(label)
        return ChunkedSketches(
            self.size, tuple(self._labels), tuple(self.chunk_keys), tuple(self.chunk_counts)
        )
