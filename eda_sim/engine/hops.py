"""The hops one replication observed, per event class: sparse, only the pairs that occurred.

Both engines count every hop an event of a class takes from station ``i`` to
station ``j`` (``j = N`` for leaving the system) and report the counts as
:class:`HopCounts`: the pairs seen, in ``(i, j)`` order. A replication of an
N-station network keeps O(pairs seen) numbers here, not the dense
``N × (N + 1)`` table (at N = 3,000, 9 million counts per class); the routing
checks and the plots read rows or a pooled table from it
(:func:`pooled_hops`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["HopCounts", "pooled_hops"]


@dataclass(frozen=True)
class HopCounts:
    """One class's observed hops: ``counts[n]`` hops from ``sources[n]`` to ``targets[n]``.

    ``stations`` is N; a target N means leaving the system. The pairs are
    distinct, in increasing ``(source, target)`` order, and every count is
    positive, so that two engines that saw the same hops give equal objects.
    """

    stations: int
    sources: tuple[int, ...]
    targets: tuple[int, ...]
    counts: tuple[int, ...]

    @classmethod
    def from_arrays(
        cls, stations: int, sources: np.ndarray, targets: np.ndarray, counts: np.ndarray
    ) -> HopCounts:
        """From parallel arrays in any order (pairs with a zero count are dropped)."""
        kept = np.asarray(counts) > 0
        sources, targets = np.asarray(sources)[kept], np.asarray(targets)[kept]
        counts = np.asarray(counts)[kept]
        order = np.lexsort((targets, sources))
        return cls(
            stations,
            tuple(sources[order].tolist()),
            tuple(targets[order].tolist()),
            tuple(counts[order].tolist()),
        )

    @classmethod
    def from_rows(cls, stations: int, rows: Iterable[Mapping[int, int]]) -> HopCounts:
        """From one mapping per source station, ``{target: count}`` (target -1: exits)."""
        found = [
            (i, stations if j < 0 else j, count)
            for i, row in enumerate(rows)
            for j, count in row.items()
        ]
        if not found:
            return cls(stations, (), (), ())
        table = np.array(found, dtype=np.int64)
        return cls.from_arrays(stations, table[:, 0], table[:, 1], table[:, 2])

    def rows(self) -> dict[int, dict[int, int]]:
        """The counts by source station: ``{i: {j: count}}`` (j = N: exits), rows seen only."""
        out: dict[int, dict[int, int]] = {}
        for i, j, count in zip(self.sources, self.targets, self.counts, strict=True):
            out.setdefault(i, {})[j] = count
        return out

    def dense(self) -> np.ndarray:
        """The ``N × (N + 1)`` table (last column: exits); O(N²) memory, for small N."""
        table = np.zeros((self.stations, self.stations + 1), dtype=np.int64)
        table[list(self.sources), list(self.targets)] = self.counts
        return table


def pooled_hops(counts: Iterable[HopCounts]) -> dict[int, dict[int, int]]:
    """The hops of several replications added up, by source station (rows seen only)."""
    out: dict[int, dict[int, int]] = {}
    for one in counts:
        for i, j, count in zip(one.sources, one.targets, one.counts, strict=True):
            row = out.setdefault(i, {})
            row[j] = row.get(j, 0) + count
    return out
