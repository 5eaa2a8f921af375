"""The monitors an engine updates at every event: per station, the system, arrivals (layer 3).

Monitors keep running totals from time 0; a snapshot at the end of the warm-up is
subtracted from the one at the horizon, so only time after the warm-up counts and
per-visit statistics count the visits that *end* after it. :meth:`StationMonitor.arrive`
and :meth:`StationMonitor.depart` are the SimPy engine's per-event hot path: they keep
their integrals inline, in this one module.
"""

from __future__ import annotations

from typing import NamedTuple


class StationSnapshot(NamedTuple):
    """Cumulative measurements of one station at one instant (see :class:`StationMonitor`)."""

    time: float
    area_busy: float
    area_waiting: float
    arrivals: int
    lost: int
    completions: int
    wait_sum: float
    sojourn_sum: float
    present: int
    blocked_sum: float


class SystemSnapshot(NamedTuple):
    """Cumulative whole-system (or one class's) measurements at one instant."""

    time: float
    area: float
    entered: int
    completions: int
    lost: int
    sojourn_sum: float
    present: int
    copies: int
    copies_finished: int
    copies_lost: int


class StationMonitor:
    """All streamed measurements of one station in one replication, cumulative from time 0.

    The engine calls :meth:`arrive` when an event is admitted, :meth:`refuse`
    when a full station turns it away, and :meth:`depart` when its service ends.
    Everything is a running total, so the figures over any window ``[a, b]``
    follow from two :meth:`snapshot` s: the warm-up is applied by subtracting the
    snapshot at its end, and snapshots on a regular grid give the sample path
    (and the batch series that MSER-5 and batch means need) in bounded memory.

    At a work-conserving FIFO station the busy servers are ``min(present, servers)``
    and the rest wait, so two integrals, of busy servers and of waiting events, give
    utilisation, Lq and (their sum) L. Both only ever grow, so the difference of two
    snapshots is never negative, as a difference ``L − busy`` could be by rounding.
    The integrals are kept inline (not through :class:`TimeWeighted`) because this is
    the simulation's innermost loop.
    """

    __slots__ = (
        "area_busy",
        "area_waiting",
        "arrivals",
        "blocked_sum",
        "completions",
        "last",
        "lost",
        "present",
        "servers",
        "sojourn_sum",
        "wait_sum",
    )

    def __init__(self, servers: int) -> None:
        self.servers = servers
        self.present = 0
        self.last = 0.0
        self.area_busy = 0.0
        self.area_waiting = 0.0
        self.arrivals = 0
        self.lost = 0
        self.completions = 0
        self.wait_sum = 0.0
        self.sojourn_sum = 0.0
        self.blocked_sum = 0.0

    def arrive(self, now: float) -> None:
        """An event is admitted at ``now``."""
        present = self.present
        elapsed = now - self.last
        if elapsed:
            servers = self.servers
            if present > servers:
                self.area_busy += servers * elapsed
                self.area_waiting += (present - servers) * elapsed
            else:
                self.area_busy += present * elapsed
            self.last = now
        self.present = present + 1
        self.arrivals += 1

    def refuse(self) -> None:
        """An arriving event finds the station full and is lost."""
        self.arrivals += 1
        self.lost += 1

    def depart(self, now: float, wait: float, sojourn: float, blocked: float = 0.0) -> None:
        """An event leaves at ``now`` after ``wait`` in line and ``sojourn`` in all.

        ``blocked`` is the part of the sojourn spent after service, holding a server
        while the next station was full (``on_full: block``).
        """
        present = self.present
        elapsed = now - self.last
        if elapsed:
            servers = self.servers
            if present > servers:
                self.area_busy += servers * elapsed
                self.area_waiting += (present - servers) * elapsed
            else:
                self.area_busy += present * elapsed
            self.last = now
        self.present = present - 1
        self.completions += 1
        self.wait_sum += wait
        self.sojourn_sum += sojourn
        if blocked:
            self.blocked_sum += blocked

    def snapshot(self, now: float) -> StationSnapshot:
        """The running totals at ``now`` (not before the last event)."""
        elapsed = now - self.last
        present = self.present
        busy = present if present < self.servers else self.servers
        return StationSnapshot(
            now,
            self.area_busy + busy * elapsed,
            self.area_waiting + (present - busy) * elapsed,
            self.arrivals,
            self.lost,
            self.completions,
            self.wait_sum,
            self.sojourn_sum,
            present,
            self.blocked_sum,
        )


class SystemMonitor:
    """Streamed whole-system (or one event class's) totals: L, end-to-end W, throughput, loss."""

    __slots__ = (
        "area",
        "completions",
        "copies",
        "copies_finished",
        "copies_lost",
        "entered",
        "last",
        "lost",
        "present",
        "sojourn_sum",
    )

    def __init__(self) -> None:
        self.copies = 0
        self.copies_finished = 0
        self.copies_lost = 0
        self.present = 0
        self.last = 0.0
        self.area = 0.0
        self.entered = 0
        self.completions = 0
        self.lost = 0
        self.sojourn_sum = 0.0

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
        self.completions += 1
        self.sojourn_sum += sojourn

    def lose(self, now: float) -> None:
        """An event is refused by a full station and so leaves the system unserved."""
        self._advance(now)
        self.present -= 1
        self.lost += 1

    def start_copy(self, now: float) -> None:
        """A fan-out copy of an event is published (the event is still counted once)."""
        self.copies += 1

    def end_copy(self, now: float, lost: bool) -> None:
        """A fan-out copy has left the system, done or refused by a full station."""
        if lost:
            self.copies_lost += 1
        else:
            self.copies_finished += 1

    def snapshot(self, now: float) -> SystemSnapshot:
        """The running totals at ``now``."""
        return SystemSnapshot(
            now,
            self.area + self.present * (now - self.last),
            self.entered,
            self.completions,
            self.lost,
            self.sojourn_sum,
            self.present,
            self.copies,
            self.copies_finished,
            self.copies_lost,
        )


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
