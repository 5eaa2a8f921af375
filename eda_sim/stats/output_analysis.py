"""Output analysis of one series: the MSER-5 warm-up cut and the lag-1 autocorrelation (layer 3)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

#: Observations per batch in MSER-5 (White, Cobb & Spratt 2000).
MSER_BATCH = 5


@dataclass(frozen=True)
class MserResult:
    """Where MSER cuts a series: ``truncation`` observations (``batches`` batches) are deleted.

    ``second_half`` is True when the statistic's minimum over the whole series
    lies in its second half: the run is probably too short to reach steady state,
    and the cut is then limited to the first half.
    """

    truncation: int
    batches: int
    statistic: float
    second_half: bool


def mser(series: np.ndarray, batch_size: int = MSER_BATCH) -> MserResult:
    """MSER-m truncation point of an output series (White 1997; Spratt 1998).

    The series is averaged in batches of ``batch_size`` (MSER-5 for 5); with batch
    means ``Y_1..Y_n``, the truncation ``d`` minimises the marginal standard error
    statistic ``MSER(d) = Σ_{i>d} (Y_i − Ȳ_d)² / (n − d)²``, where ``Ȳ_d`` is the mean
    of the batches kept. The search is over ``d <= n/2``; a smaller statistic later
    in the series (keeping at least a tenth of it) is reported as ``second_half``.

    References
    ----------
    White, K. P. (1997). An effective truncation heuristic for bias reduction in
    simulation output. *Simulation* 69(6), 323–334.
    Spratt, S. C. (1998). Heuristics for the startup problem. M.S. thesis, University
    of Virginia.

    Examples
    --------
    >>> transient = np.linspace(10.0, 1.0, 50)          # a start-up ramp, then steady
    >>> steady = 1.0 + 0.1 * np.sin(np.arange(450))
    >>> result = mser(np.concatenate([transient, steady]))
    >>> 40 <= result.truncation <= 60, result.second_half
    (True, False)
    """
    values = np.asarray(series, dtype=float)
    n = len(values) // batch_size
    if n < 4:
        raise ValueError(f"MSER needs at least {4 * batch_size} observations, got {len(values)}")
    batches = values[: n * batch_size].reshape(n, batch_size).mean(axis=1)
    # Sums over the kept tail Y_{d+1..n}, for every d, from reversed cumulative sums.
    tail_sum = np.cumsum(batches[::-1])[::-1]
    tail_sq = np.cumsum(batches[::-1] ** 2)[::-1]
    kept = np.arange(n, 0, -1, dtype=float)
    statistic = (tail_sq - tail_sum**2 / kept) / kept**2
    # Keep at least a tenth of the batches (and three): over a very short tail the
    # statistic is tiny by chance, a known artefact of MSER at the end of a series.
    candidates = statistic[: n - max(3, n // 10) + 1]
    best_all = int(np.argmin(candidates))
    half = n // 2
    best = int(np.argmin(candidates[: half + 1]))
    return MserResult(
        truncation=best * batch_size,
        batches=best,
        statistic=float(candidates[best]),
        second_half=best_all > half,
    )


def lag1_autocorrelation(values: Iterable[float]) -> float:
    """Sample lag-1 autocorrelation ``r1 = Σ (x_i − x̄)(x_{i+1} − x̄) / Σ (x_i − x̄)²``.

    NaN for fewer than three values or a constant series.
    """
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if data.size < 3:
        return math.nan
    centred = data - data.mean()
    denominator = float((centred**2).sum())
    if denominator == 0:
        return math.nan
    return float((centred[:-1] * centred[1:]).sum() / denominator)
