"""Sparse counts added up: the exact merge of sorted (key, count) arrays (layer 3).

The histograms of :mod:`eda_sim.stats.sketch` and the chunks of
:mod:`eda_sim.stats.chunks` are sparse arrays of sorted keys and their counts;
merging them (replications pooled, chunks of a run joined) adds the counts of
equal keys, which is exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["MERGE_BATCH", "combine_counts", "combine_sorted"]

IntArray = npt.NDArray[np.int64]


def combine_counts(
    keys: Sequence[IntArray], counts: Sequence[IntArray]
) -> tuple[IntArray, IntArray]:
    """Sparse counts added up (keys in any order, repeated or not): sorted unique keys, sums."""
    return combine_sorted(keys, counts, presorted=False)


#: Entries :func:`combine_sorted` joins in one sort, at most (more are merged a batch at a time).
MERGE_BATCH = 1 << 17


def combine_sorted(
    keys: Sequence[IntArray], counts: Sequence[IntArray], presorted: bool = True
) -> tuple[IntArray, IntArray]:
    """Sparse counts added up: sorted unique keys and the sum of their counts.

    With ``presorted`` each part's keys are sorted and unique already, so a lone
    part is returned as it is. Parts holding more than :data:`MERGE_BATCH`
    entries together are merged a batch at a time into the running sum, so the
    memory this takes beyond the parts is about the result's, not the parts'.
    """
    parts = [(k, c) for k, c in zip(keys, counts, strict=True) if k.size]
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(parts) == 1 and presorted:
        return parts[0]
    if sum(k.size for k, _ in parts) <= MERGE_BATCH:
        return _merge(parts)
    total, batch, size = parts[0], [], 0
    for part in parts[1:]:
        batch.append(part)
        size += part[0].size
        if size >= MERGE_BATCH or part is parts[-1]:
            total, batch, size = _merge([total, *batch]), [], 0
    return total


def _merge(parts: Sequence[tuple[IntArray, IntArray]]) -> tuple[IntArray, IntArray]:
    """Sorted unique keys and summed counts of the (key, count) parts, in one sort."""
    key = np.concatenate([k for k, _ in parts])
    count = np.concatenate([c for _, c in parts])
    order = np.argsort(key, kind="stable")
    key, count = key[order], count[order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    return key[starts], np.add.reduceat(count, starts)
