"""Quantiles of many sketches over several windows at once, from sorted sparse counts (layer 3).

The tables :class:`~eda_sim.stats.chunks.ChunkedSketches` gives for the windows
of a run: the same values as :meth:`eda_sim.stats.sketch.Histogram.quantile` of
each sketch's histogram, found for every sketch (and window) with one
:func:`numpy.searchsorted`.
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
    """:func:`segment_quantiles` of several windows over the same sorted keys, at once.

    ``cumulative[w]`` is window ``w``'s running count over ``keys`` (``np.cumsum``
    of its counts, zeros allowed); the result has shape (windows, size, levels).
    The windows' running counts are laid end to end, each shifted above the last,
    so one :func:`numpy.searchsorted` finds every window's quantile bucket.
    ``floors[w]`` is window ``w``'s floor per sketch: a quantile whose bucket is
    positive and at most the floor is collapsed and reported as ``collapsed``
    (the counts at and below a floor are exact in total, whatever was folded, so
    the test is exact; the counts above it are exact bucket by bucket).
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
    bucket = keys[where] & ((1 << BUCKET_BITS) - 1)
    out[row, sketch] = bucket_value(bucket)
    if floors is not None:
        floor = np.asarray(floors, dtype=np.int64)[row, sketch][:, None]
        out[row, sketch] = np.where((bucket > 0) & (bucket <= floor), collapsed, out[row, sketch])
    return out
