"""Confidence intervals between replications: the Student-t interval (layer 3).

Replication/deletion (Law & Kelton, *Simulation Modeling and Analysis*, 5th ed., §9.4):
:func:`t_interval` gives the interval of the replication means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval.

    ``low`` and ``high`` are NaN when there are fewer than two observations.
    """

    mean: float
    low: float
    high: float
    n: int
    confidence: float

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.high - self.low) / 2

    @property
    def relative_half_width(self) -> float:
        """Half-width divided by ``|mean|`` (inf when the mean is 0)."""
        return self.half_width / abs(self.mean) if self.mean else math.inf

    def contains(self, value: float) -> bool:
        """True when ``low <= value <= high``."""
        return bool(self.low <= value <= self.high)


def t_interval(values: Iterable[float], confidence: float = 0.95) -> Interval:
    """Student-t confidence interval for the mean of independent observations.

    Parameters
    ----------
    values : iterable of float
        One value per replication; NaNs (a metric with no observation in a
        replication) are left out.
    confidence : float
        Two-sided confidence level in (0, 1).

    Returns
    -------
    Interval
        ``mean ± t_{n−1, (1+confidence)/2} · s / sqrt(n)``.

    Examples
    --------
    >>> iv = t_interval([1.0, 2.0, 3.0], confidence=0.95)
    >>> round(iv.half_width, 4)   # t_{2,0.975} = 4.3027, s = 1
    2.4841
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    # The t quantile is scipy.special's stdtrit, what scipy.stats.t.ppf calls; imported
    # here, and not through scipy.stats (~0.4 s, ~50 MB more), which nothing else needs.
    from scipy.special import stdtrit

    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    n = int(data.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    mean = float(data.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, confidence)
    half = float(stdtrit(n - 1, (1 + confidence) / 2) * data.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, confidence)
