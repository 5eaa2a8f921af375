"""Small integer lattices for first-passage chains: enumerating states and finding them (layer 3).

A state of a tagged event's chain (:mod:`.tagged`) is a row of small
non-negative integers: how the busy servers spread over the service phases
(:func:`configs`), and counts of events ahead of and behind the tagged one
(:func:`grid`, optionally with a bound on their sum). :class:`Index` finds
rows among the enumerated ones by mixed-radix keys, vectorised.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

__all__ = ["Index", "configs", "grid", "grid_size"]

IntArray = npt.NDArray[np.int64]


def configs(slots: int, servers: int) -> IntArray:
    """Every way ``servers`` busy servers spread over the service slots (count vectors)."""
    rows = np.zeros((math.comb(servers + slots - 1, slots - 1), slots), np.int64)
    for i, chosen in enumerate(itertools.combinations_with_replacement(range(slots), servers)):
        np.add.at(rows[i], list(chosen), 1)
    return rows


def grid(maxima: list[int], total: int | None) -> IntArray:
    """Every vector ``x`` with ``0 <= x_d <= maxima[d]`` (and ``Σ x <= total`` if given)."""
    rows = np.zeros((1, 0), np.int64)
    for top in maxima:
        used = rows.sum(axis=1)
        room = np.full(len(rows), top) if total is None else np.minimum(top, total - used)
        counts = room + 1
        repeated = np.repeat(rows, counts, axis=0)
        values = np.concatenate([np.arange(n) for n in counts]) if len(counts) else np.zeros(0)
        rows = np.column_stack([repeated, values.astype(np.int64)])
    return rows


def grid_size(maxima: list[int], total: int | None) -> int:
    """The number of rows :func:`grid` would make (without making them)."""
    if total is None:
        return math.prod(m + 1 for m in maxima)
    counts = [1] + [0] * total  # vectors by their sum
    for top in maxima:
        new = [0] * (total + 1)
        for used, ways in enumerate(counts):
            if ways:
                for value in range(min(top, total - used) + 1):
                    new[used + value] += ways
        counts = new
    return sum(counts)


class Index:
    """Rows of small non-negative integers to their positions (mixed-radix keys, sorted)."""

    def __init__(self, rows: IntArray, radix: IntArray) -> None:
        self.radix = radix
        self.keys = self.key(rows)
        self.order = np.argsort(self.keys)
        self.sorted = self.keys[self.order]

    def key(self, rows: IntArray) -> IntArray:
        """The mixed-radix key of each row."""
        out = np.zeros(len(rows), np.int64)
        for d, base in enumerate(self.radix.tolist()):
            out = out * base + rows[:, d]
        return out

    def find(self, rows: IntArray) -> IntArray:
        """Positions of ``rows`` (-1 for a row that is not indexed)."""
        keys = self.key(rows)
        at = np.clip(np.searchsorted(self.sorted, keys), 0, max(len(self.sorted) - 1, 0))
        hit = self.sorted[at] == keys if len(self.sorted) else np.zeros(len(keys), bool)
        return np.where(hit, self.order[at], -1).astype(np.int64)
