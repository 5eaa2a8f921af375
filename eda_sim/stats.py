"""Streaming measurements and confidence intervals (layer 3).

Queue lengths are *time-weighted*: the level of a piecewise-constant quantity
(number present, busy servers) is integrated over time, never sampled. Per-visit
quantities (waits, sojourns) use Welford's one-pass update (Welford 1962,
Technometrics 4(3); Knuth, TAOCP vol. 2, §4.2.2), so nothing grows with the
horizon: memory stays flat however long a run is.

Only time after the warm-up counts: :meth:`StationMonitor.reset` at the warm-up
instant brings every integral up to date and starts it again from zero; per-visit
statistics then count the visits that *end* after the warm-up.

Between replications, :func:`t_interval` gives the Student-t confidence interval
of the replication means (replication/deletion, Law & Kelton, *Simulation
Modeling and Analysis*, 5th ed., §9.4).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

__all__ = [
    "ArrivalCounter",
    "Interval",
    "StationMonitor",
    "SystemMonitor",
    "TimeWeighted",
    "Welford",
    "t_interval",
]


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
    >>> acc.count, acc.mean, acc.variance
    (3, 2.3333333333333335, 2.3333333333333335)
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


class StationMonitor:
    """All streamed measurements of one station in one replication.

    The engine calls :meth:`arrive` when an event is admitted, :meth:`refuse`
    when a full station turns it away, and :meth:`depart` when its service ends.
    Busy servers are not tracked separately: at a work-conserving FIFO station
    they are ``min(present, servers)``, so ``Lq = L − busy`` needs no extra
    bookkeeping. The integrals are kept inline (not through :class:`TimeWeighted`)
    because this is the simulation's innermost loop.
    """

    __slots__ = (
        "area_busy",
        "area_present",
        "arrivals",
        "completions",
        "completions_before",
        "last",
        "lost",
        "present",
        "present_at_start",
        "servers",
        "sojourn_m2",
        "sojourn_mean",
        "start",
        "wait_m2",
        "wait_mean",
    )

    def __init__(self, servers: int, start: float = 0.0) -> None:
        self.servers = servers
        self.present = 0
        self.completions_before = 0
        self.reset(start)

    def reset(self, now: float) -> None:
        """Forget everything measured so far and measure from ``now`` (the warm-up's end)."""
        self.completions_before += getattr(self, "completions", 0)
        self.start = now
        self.last = now
        self.area_present = 0.0
        self.area_busy = 0.0
        self.arrivals = 0
        self.lost = 0
        self.completions = 0
        self.present_at_start = self.present
        self.wait_mean = 0.0
        self.wait_m2 = 0.0
        self.sojourn_mean = 0.0
        self.sojourn_m2 = 0.0

    def arrive(self, now: float) -> None:
        """An event is admitted at ``now``."""
        present = self.present
        elapsed = now - self.last
        if elapsed:
            servers = self.servers
            self.area_present += present * elapsed
            self.area_busy += (present if present < servers else servers) * elapsed
            self.last = now
        self.present = present + 1
        self.arrivals += 1

    def refuse(self) -> None:
        """An arriving event finds the station full and is lost."""
        self.arrivals += 1
        self.lost += 1

    def depart(self, now: float, wait: float, sojourn: float) -> None:
        """An event leaves at ``now`` after waiting ``wait`` and spending ``sojourn`` in all."""
        present = self.present
        elapsed = now - self.last
        if elapsed:
            servers = self.servers
            self.area_present += present * elapsed
            self.area_busy += (present if present < servers else servers) * elapsed
            self.last = now
        self.present = present - 1
        count = self.completions + 1
        self.completions = count
        delta = wait - self.wait_mean
        self.wait_mean += delta / count
        self.wait_m2 += delta * (wait - self.wait_mean)
        delta = sojourn - self.sojourn_mean
        self.sojourn_mean += delta / count
        self.sojourn_m2 += delta * (sojourn - self.sojourn_mean)

    def areas(self, now: float) -> tuple[float, float]:
        """Integrals of number present and busy servers over ``[start, now]``."""
        elapsed = now - self.last
        present = self.present
        busy = present if present < self.servers else self.servers
        return self.area_present + present * elapsed, self.area_busy + busy * elapsed


class SystemMonitor:
    """Streamed whole-system measurements (or one event class's): L, end-to-end W, throughput."""

    __slots__ = (
        "area",
        "completions",
        "entered",
        "last",
        "lost",
        "present",
        "present_at_start",
        "sojourn_m2",
        "sojourn_mean",
        "start",
    )

    def __init__(self, start: float = 0.0) -> None:
        self.present = 0
        self.reset(start)

    def reset(self, now: float) -> None:
        """Measure from ``now`` on."""
        self.start = now
        self.last = now
        self.area = 0.0
        self.entered = 0
        self.completions = 0
        self.lost = 0
        self.present_at_start = self.present
        self.sojourn_mean = 0.0
        self.sojourn_m2 = 0.0

    def _advance(self, now: float) -> None:
        self.area += self.present * (now - self.last)
        self.last = now

    def enter(self, now: float) -> None:
        """An external event enters."""
        self._advance(now)
        self.present += 1
        self.entered += 1

    def leave(self, now: float, sojourn: float) -> None:
        """An event leaves after ``sojourn`` time units end to end."""
        self._advance(now)
        self.present -= 1
        count = self.completions + 1
        self.completions = count
        delta = sojourn - self.sojourn_mean
        self.sojourn_mean += delta / count
        self.sojourn_m2 += delta * (sojourn - self.sojourn_mean)

    def lose(self, now: float) -> None:
        """An event is refused by a full station and so leaves the system unserved."""
        self._advance(now)
        self.present -= 1
        self.lost += 1

    def area_until(self, now: float) -> float:
        """Integral of the number present over ``[start, now]``."""
        return self.area + self.present * (now - self.last)


class ArrivalCounter:
    """Arrivals counted in consecutive windows of equal length, and a bounded sample of gaps.

    Feeds the Poisson checks (:mod:`eda_sim.checks`). Windows start at ``start``
    (the warm-up's end); only complete windows count. Memory is bounded: a
    histogram of counts and at most ``max_gaps`` gaps.

    Examples
    --------
    >>> counter = ArrivalCounter(window=1.0, start=0.0, max_gaps=10)
    >>> for time, gap in [(0.2, 0.2), (0.5, 0.3), (2.5, 2.0)]:
    ...     counter.arrive(time, gap)
    >>> counter.histogram(now=3.0)   # windows [0,1): 2, [1,2): 0, [2,3): 1
    {2: 1, 0: 1, 1: 1}
    """

    __slots__ = ("_counts", "count", "current", "gaps", "max_gaps", "start", "window")

    def __init__(self, window: float, start: float, max_gaps: int) -> None:
        if not window > 0:
            raise ValueError(f"window must be > 0, got {window}")
        self.window = window
        self.start = start
        self.max_gaps = max_gaps
        self.current = 0
        self.count = 0
        self.gaps: list[float] = []
        self._counts: dict[int, int] = {}

    def _close(self, windows: int) -> None:
        """Record the current window and ``windows − 1`` empty ones after it."""
        counts = self._counts
        counts[self.count] = counts.get(self.count, 0) + 1
        if windows > 1:
            counts[0] = counts.get(0, 0) + windows - 1

    def arrive(self, now: float, gap: float) -> None:
        """An arrival at ``now``, ``gap`` after the previous one."""
        if now < self.start:
            return
        index = int((now - self.start) // self.window)
        if index != self.current:
            self._close(index - self.current)
            self.current = index
            self.count = 0
        self.count += 1
        if len(self.gaps) < self.max_gaps and now - gap >= self.start:
            self.gaps.append(gap)

    def histogram(self, now: float) -> dict[int, int]:
        """``{count: windows}`` over the complete windows up to ``now``."""
        complete = int((now - self.start) // self.window)
        counts = dict(self._counts)
        if complete > self.current:
            counts[self.count] = counts.get(self.count, 0) + 1
            if complete - self.current > 1:
                counts[0] = counts.get(0, 0) + complete - self.current - 1
        return counts


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
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    n = int(data.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    mean = float(data.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, confidence)
    half = float(scipy_stats.t.ppf((1 + confidence) / 2, n - 1) * data.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, confidence)
