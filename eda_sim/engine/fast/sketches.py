"""The fast engine's percentile sketches on the Python side: state, counting, chunks (no numba).

The loop puts each sketched time's key in a buffer (:mod:`eda_sim.engine.fast.latency`);
:class:`SketchChunks` builds that state, counts the buffer into the chunk's
octave blocks when the loop returns with it nearly full (``GROW_RARE``), and at
each cut (``CUT``: a grid point in the replication's cuts, or the warm-up's
end) turns the counts into the chunk that ends there (reading, clearing and
freeing only the blocks the chunk used: the pool's first ``_pool_n``, whose
owners the counting notes), in the representation of
:class:`~eda_sim.stats.chunks.ChunkedSketches`: sorted keys
``sketch << BUCKET_BITS | bucket`` with their counts, the same arrays the SimPy
engine's :class:`~eda_sim.stats.chunks.SketchBank` makes, folded below each
sketch's floor by the same rule (:func:`~eda_sim.stats.collapse.collapsed_chunk`,
done in compiled code by :func:`~eda_sim.engine.fast.cutting.cut_chunk`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from eda_sim.engine.fast import kinds
from eda_sim.engine.fast.buffers import POOL
from eda_sim.engine.fast.state import (
    CARRY,
    CARRY_COUNT,
    SKETCH_OCTAVES,
    SKETCH_SUBBUCKETS,
    SketchState,
)
from eda_sim.engine.latency import LatencyLayout
from eda_sim.stats.chunks import ChunkedSketches
from eda_sim.stats.sketch import combine_counts

__all__ = ["SketchChunks"]

_INITIAL_BLOCKS = 64
#: Keys the loop buffers before the driver counts them (65,536: 512 KiB).
BUFFER_KEYS = 1 << 16
#: The arrays' purposes in the pool of kept memory (:mod:`~eda_sim.engine.fast.buffers`).
_SLOTS, _COUNTS, _RARE_KEYS, _OWNERS, _KEPT = (
    "sketch slots",
    "sketch counters",
    "sketch buffer",
    "sketch owners",
    "sketch kept keys",
)


class SketchChunks:
    """The loop's sketch state and the chunks cut from it so far."""

    def __init__(
        self, layout: LatencyLayout, horizon: float, cuts: Sequence[int], points: int
    ) -> None:
        sketches = layout.size
        _, exponent = math.frexp(horizon)  # no time in the run exceeds the horizon
        is_cut = np.zeros(points, dtype=np.int64)
        is_cut[list(cuts)] = 1
        # From the pool of kept memory (the last replication's arrays), set as new ones:
        # the pool of counters as large as the last replication grew it (by doubling,
        # from at most one block per (sketch, octave) in use at once).
        slots = POOL.take(_SLOTS, (sketches, SKETCH_OCTAVES), np.int32)
        slots.fill(-1)
        counts = POOL.take_rows(
            _COUNTS, _INITIAL_BLOCKS, (SKETCH_SUBBUCKETS,), np.uint16, 2 * slots.size
        )
        counts.fill(0)
        rare_keys = POOL.take(_RARE_KEYS, (BUFFER_KEYS,), np.int64)
        rare_keys.fill(0)
        self.state = SketchState(
            layout=np.array([layout.per_station, sketches], dtype=np.int64),
            # the horizon's exponent field is e + 1022: the last column
            base=np.array([exponent + 1022 - (SKETCH_OCTAVES - 1)], dtype=np.int64),
            slots=slots,
            counts=counts,
            rare_keys=rare_keys,
            is_cut=is_cut,
        )
        self.size = sketches
        self.levels = layout.levels
        self.floors: list[np.ndarray] = []
        self.labels: list[int] = []
        self.keys: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        self._rare: list[np.ndarray] = []  # keys set aside this chunk (outside, carries)
        self._pool_n = 0  # blocks of the pool in use this chunk: the first _pool_n
        # each block's owner, sketch << COLUMN_BITS | column (written when the block is allocated)
        self._owners = POOL.take(_OWNERS, (len(counts),), np.int64)
        self._owners.fill(0)
        # the keys a counting pass leaves to Python (at most the buffer's; written before read)
        self._kept = POOL.take(_KEPT, (BUFFER_KEYS,), np.int64)

    def serve(self, status: int, control: np.ndarray) -> None:
        """Do what the loop returned for: cut, or count the buffered keys."""
        if status == kinds.CUT:
            self._cut(control, int(control["cut_label"][0]))
        elif status in (kinds.GROW_RARE, kinds.GROW_POOL):  # (the loop's pool_n stays 0)
            self._count(control)

    def _count(self, control: np.ndarray) -> None:
        """Count the loop's buffered keys into the pool (grown as needed); empty the buffer."""
        from eda_sim.engine.fast import counting  # compiled: numba on first use

        stop = int(control["rare_n"][0])
        reached = kept = 0
        while reached < stop:
            state = self.state
            # the same counts either way; fetching ahead pays once the counters outgrow the caches
            large = state.counts.shape[0] >= counting.PREFETCH_FROM_BLOCKS
            count = counting.count_keys_ahead if large else counting.count_keys
            done, self._pool_n, kept = count(
                state.rare_keys[reached:stop], self._kept, kept, state.slots, state.counts,
                self._owners, int(state.base[0]), self._pool_n,
            )  # fmt: skip
            reached += done
            if reached < stop:  # no free block: twice the pool
                counts = np.zeros((2 * state.counts.shape[0], SKETCH_SUBBUCKETS), np.uint16)
                counts[: self._pool_n] = state.counts[: self._pool_n]
                owners = np.zeros(counts.shape[0], np.int64)
                owners[: self._pool_n] = self._owners[: self._pool_n]
                self.state, self._owners = state._replace(counts=counts), owners
        if kept:
            self._rare.append(self._kept[:kept].copy())
        control["rare_n"] = 0

    def _cut(self, control: np.ndarray, label: int) -> None:
        """The counts since the last cut become the chunk labelled ``label``; counting restarts.

        The chunk's blocks (the pool's first ``_pool_n``) are read, folded below
        each sketch's floor, cleared and freed by compiled code
        (:func:`~eda_sim.engine.fast.cutting.cut_chunk`).
        """
        from eda_sim.engine.fast.cutting import cut_chunk  # compiled: numba on first use

        self._count(control)
        state = self.state
        rare_keys, rare_counts = self._rare_counts()
        keys, total, floors = cut_chunk(
            state.slots, state.counts, self._owners, self._pool_n, int(state.base[0]),
            rare_keys, rare_counts, self.levels,
        )  # fmt: skip
        self._pool_n = 0
        self.labels.append(label)
        self.keys.append(keys)
        self.counts.append(total)
        self.floors.append(floors)
        self._rare = []

    def _rare_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """The keys set aside this chunk as sorted unique keys and counts (a carry: CARRY_COUNT)."""
        if not self._rare:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rare = np.concatenate(self._rare)
        carried = (rare & CARRY) != 0
        unique, seen = np.unique(rare & ~CARRY, return_counts=True)
        parts_keys, parts_counts = [unique.astype(np.int64)], [seen.astype(np.int64)]
        if carried.any():
            unique, seen = np.unique(rare[carried] & ~CARRY, return_counts=True)
            parts_keys.append(unique.astype(np.int64))
            parts_counts.append(seen.astype(np.int64) * (CARRY_COUNT - 1))
        return combine_counts(parts_keys, parts_counts)

    def finish(self, control: np.ndarray, label: int) -> ChunkedSketches:
        """Cut the last chunk at ``label`` (the run's last grid point) and return every chunk."""
        self._cut(control, label)
        return ChunkedSketches(
            self.size, tuple(self.labels), tuple(self.keys), tuple(self.counts), tuple(self.floors)
        )

    def close(self) -> None:
        """Give the loop's arrays back for the next replication (after :meth:`finish`).

        The sketches must not be counted or cut afterwards.
        """
        state = self.state
        POOL.give_back(_SLOTS, state.slots)
        POOL.give_back(_COUNTS, state.counts)
        POOL.give_back(_RARE_KEYS, state.rare_keys)
        POOL.give_back(_OWNERS, self._owners)
        POOL.give_back(_KEPT, self._kept)
