"""Quantiles of many sketches over several windows at once, from sorted sparse counts (layer 3).

The tables :class:`~eda_sim.stats.chunks.ChunkedSketches` gives for the windows
of a run: the same values as :meth:`eda_sim.stats.sketch.Histogram.quantile` of
each sketch's histogram, found for every sketch with one
:func:`numpy.searchsorted` per window and level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from eda_sim.stats.sketch import (
    BUCKET_BITS,
    FloatArray,
    IntArray,
    bucket_value,
    quantile_ranks,
    sketch_bounds,
)

__all__ = ["segment_quantiles", "stacked_quantiles"]


def segment_quantiles(
    keys: IntArray,
    counts: IntArray,
    size: int,
    levels: Sequence[float],
    floors: IntArray | None = None,
    collapsed: float = math.nan,
) -> FloatArray:
    """Quantiles of each sketch's segment of the sorted combined ``keys``: (size, levels).

    A key may have a zero count (it is then never the quantile's bucket).
    ``floors`` (per sketch; None: none) and ``collapsed`` as in :func:`stacked_quantiles`.
    """
    table: FloatArray = stacked_quantiles(
        keys, [np.cumsum(counts)], size, levels, None if floors is None else [floors], collapsed
    )[0]
    return table


def stacked_quantiles(
    keys: IntArray,
    cumulative: Sequence[IntArray],
    size: int,
    levels: Sequence[float],
    floors: Sequence[IntArray] | None = None,
    collapsed: float = math.nan,
) -> FloatArray:
    """:func:`segment_quantiles` of several windows over the same sorted keys.

    ``cumulative[w]`` is window ``w``'s running count over ``keys`` (``np.cumsum``
    of its counts, zeros allowed); the result has shape (windows, size, levels).
    Per window, each sketch's count before its segment and in it are read off
    the running count at the segments' bounds, and one
    :func:`numpy.searchsorted` per level on the running count finds every
    sketch's quantile bucket (no table of the windows end to end: only the
    running counts the caller made are read).
    ``floors[w]`` is window ``w``'s floor per sketch: a quantile whose bucket is
    positive and at most the floor is collapsed and reported as ``collapsed``
    (the counts at and below a floor are exact in total, whatever was folded, so
    the test is exact; the counts above it are exact bucket by bucket).
    """
    windows = len(cumulative)
    out = np.full((windows, size, len(levels)), np.nan)
    if not windows or not keys.size:
        return out
    bounds = sketch_bounds(keys, size)
    for window, running in enumerate(cumulative):
        # the running count before each bound (0 before the first key)
        at = np.where(bounds > 0, running[bounds - 1], 0)
        before, totals = at[:-1], np.diff(at)
        sketch = np.flatnonzero(totals > 0)
        start, counted = before[sketch], totals[sketch]
        # per level, the first key whose running count reaches the rank (running[i] >= target)
        where = np.stack(
            [
                np.searchsorted(running, start + quantile_ranks(level, counted), side="left")
                for level in levels
            ],
            axis=1,
        )
        bucket = keys[where] & ((1 << BUCKET_BITS) - 1)
        values = bucket_value(bucket)
        if floors is not None:
            floor = np.asarray(floors[window], dtype=np.int64)[sketch][:, None]
            values = np.where((bucket > 0) & (bucket <= floor), collapsed, values)
        out[window, sketch] = values
    return out
