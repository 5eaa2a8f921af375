"""Streaming accumulators: a time-weighted level and Welford's running variance (layer 3).

:class:`TimeWeighted` integrates a piecewise-constant level over time (never sampled);
:class:`Welford` keeps a stream's mean and variance in one pass (Welford 1962,
Technometrics 4(3); Knuth, TAOCP vol. 2, §4.2.2).
"""

from __future__ import annotations

import math


class TimeWeighted:
    """Time integral of a piecewise-constant level, e.g. the number of events present.

    Examples
    --------
    >>> level = TimeWeighted(start=0.0)
    >>> level.change(1.0, +1)   # one event from t=1
    >>> level.change(3.0, +1)   # two from t=3
    >>> level.change(4.0, -2)   # none from t=4
    >>> level.mean(5.0)         # (2*1 + 1*2) / 5
    0.8
    """

    __slots__ = ("area", "last", "level", "start")

    def __init__(self, start: float = 0.0, level: float = 0.0) -> None:
        self.start = start
        self.last = start
        self.level = level
        self.area = 0.0

    def change(self, now: float, delta: float) -> None:
        """Change the level by ``delta`` at time ``now`` (not before the last change)."""
        self.area += self.level * (now - self.last)
        self.last = now
        self.level += delta

    def reset(self, now: float) -> None:
        """Start integrating afresh at ``now``, keeping the current level."""
        self.area = 0.0
        self.start = now
        self.last = now

    def mean(self, now: float) -> float:
        """Time average of the level over ``[start, now]`` (NaN for an empty window)."""
        span = now - self.start
        if span <= 0:
            return math.nan
        return (self.area + self.level * (now - self.last)) / span


class Welford:
    """Running count, mean and variance of a stream of numbers (Welford 1962).

    Examples
    --------
    >>> acc = Welford()
    >>> for x in (1.0, 2.0, 4.0):
    ...     acc.add(x)
    >>> acc.count, round(acc.mean, 12), round(acc.variance, 12)
    (3, 2.333333333333, 2.333333333333)
    """

    __slots__ = ("count", "m2", "mean")

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, value: float) -> None:
        """Add one observation."""
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (value - self.mean)

    @property
    def variance(self) -> float:
        """Sample variance (``n − 1`` denominator); NaN below two observations."""
        return self.m2 / (self.count - 1) if self.count > 1 else math.nan

    def result(self) -> float:
        """The mean, or NaN when nothing was observed."""
        return self.mean if self.count else math.nan
