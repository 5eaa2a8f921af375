"""The fast engine's percentile sketches on the Python side: state, cuts, chunks (no numba).

The loop counts sketched times in octave blocks (:mod:`eda_sim.engine.fast.latency`);
:class:`SketchChunks` builds that state, grows it when the loop returns for
more room, and at each cut (``CUT``: a grid point in the replication's cuts,
or the warm-up's end) turns the counts into the chunk that ends there, in the
representation of :class:`~eda_sim.stats.chunks.ChunkedSketches`: sorted
keys ``sketch << BUCKET_BITS | bucket`` with their counts, the same arrays
the SimPy engine's :class:`~eda_sim.stats.chunks.SketchBank` makes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from eda_sim.engine.fast import kinds
from eda_sim.engine.fast.state import SKETCH_OCTAVES, SKETCH_SUBBUCKETS, SketchState
from eda_sim.engine.latency import LatencyLayout
from eda_sim.stats.chunks import ChunkedSketches
from eda_sim.stats.sketch import BUCKET_BITS, combine_counts

__all__ = ["SketchChunks"]

_INITIAL_BLOCKS = 64
_INITIAL_RARE = 64


class SketchChunks:
    """The loop's sketch state and the chunks cut from it so far."""

    def __init__(
        self, layout: LatencyLayout, horizon: float, cuts: Sequence[int], points: int
    ) -> None:
        sketches = layout.size
        _, exponent = math.frexp(horizon)  # no time in the run exceeds the horizon
        is_cut = np.zeros(points, dtype=np.int64)
        is_cut[list(cuts)] = 1
        self.state = SketchState(
            layout=np.array([layout.per_station, sketches], dtype=np.int64),
            # the horizon's exponent field is e + 1022: the last column
            base=np.array([exponent + 1022 - (SKETCH_OCTAVES - 1)], dtype=np.int64),
            slots=np.full((sketches, SKETCH_OCTAVES), -1, dtype=np.int64),
            counts=np.zeros((_INITIAL_BLOCKS, SKETCH_SUBBUCKETS), dtype=np.int64),
            rare_keys=np.zeros(_INITIAL_RARE, dtype=np.int64),
            is_cut=is_cut,
        )
        self.size = sketches
        self.labels: list[int] = []
        self.keys: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        self._rare: list[np.ndarray] = []  # keys set aside this chunk

    def serve(self, status: int, control: np.ndarray) -> None:
        """Do what the loop returned for: cut, or make room in the pool or the rare buffer."""
        state = self.state
        if status == kinds.CUT:
            self._cut(control, int(control["cut_label"][0]))
        elif status == kinds.GROW_POOL:
            used = int(control["pool_n"][0])
            blocks = 2 * state.counts.shape[0]
            counts = np.zeros((blocks, SKETCH_SUBBUCKETS), dtype=np.int64)
            counts[:used] = state.counts[:used]  # the old scratch block is dropped
            self.state = state._replace(counts=counts)
        elif status == kinds.GROW_RARE:
            self._set_rare_aside(control)

    def _set_rare_aside(self, control: np.ndarray) -> None:
        count = int(control["rare_n"][0])
        self._rare.append(self.state.rare_keys[:count].copy())
        control["rare_n"] = 0

    def _cut(self, control: np.ndarray, label: int) -> None:
        """The counts since the last cut become the chunk labelled ``label``; counting restarts."""
        self._set_rare_aside(control)
        state = self.state
        used = int(control["pool_n"][0])
        sketch, column = np.nonzero(state.slots >= 0)  # each block's owner
        owner = np.zeros((used, 2), dtype=np.int64)
        owner[state.slots[sketch, column]] = np.column_stack([sketch, column])
        counts = state.counts[:used]
        block, sub = np.nonzero(counts)
        sketch, column = owner[block, 0], owner[block, 1]
        # zeros (column 0) are bucket 0; column c >= 1 is exponent field base + c
        buckets = np.where(column == 0, 0, ((state.base[0] + column) << 7) + sub + 1)
        parts_keys = [(sketch << BUCKET_BITS) | buckets]
        parts_counts = [counts[block, sub]]
        for keys in self._rare:
            unique, found = np.unique(keys, return_counts=True)
            parts_keys.append(unique.astype(np.int64))
            parts_counts.append(found.astype(np.int64))
        keys, total = combine_counts(parts_keys, parts_counts)
        self.labels.append(label)
        self.keys.append(keys)
        self.counts.append(total)
        state.counts[:] = 0
        self._rare = []

    def finish(self, control: np.ndarray, label: int) -> ChunkedSketches:
        """Cut the last chunk at ``label`` (the run's last grid point) and return every chunk."""
        self._cut(control, label)
        return ChunkedSketches(self.size, tuple(self.labels), tuple(self.keys), tuple(self.counts))
