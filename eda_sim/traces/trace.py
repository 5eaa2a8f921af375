"""The :class:`Trace` object: recorded arrival times and event types (layer 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim.errors import Fault, ScenarioError

__all__ = ["Trace"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False, slots=True)
class Trace:
    """Recorded arrivals: sorted times (seconds) and optionally the type of each event.

    Times are relative to the first timestamp of the file they were read from (the
    first event at 0.0); :meth:`select` keeps that origin, so the events of one type
    may start after 0. Equal times (simultaneous events) are allowed.

    Parameters
    ----------
    times : numpy.ndarray
        The arrival times in seconds: at least one, finite, >= 0 and non-decreasing.
        Stored as a read-only float64 copy.
    types : tuple of str or None
        The type of each event (one non-empty string per time), or None when the
        trace has no type column.
    origin : float or str
        The first timestamp of the file as written: the number, or the ISO-8601
        string. Times are seconds after it.
    source : str
        The file read, named in error messages (``""`` if none).

    Examples
    --------
    >>> trace = Trace(np.array([0.0, 1.0, 1.0, 4.0]), types=("a", "b", "a", "a"))
    >>> trace.count, trace.span, trace.rate
    (4, 4.0, 0.75)
    >>> trace.select("a").times.tolist()
    [0.0, 1.0, 4.0]
    """

    times: FloatArray
    types: tuple[str, ...] | None = None
    origin: float | str = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        faults: list[Fault] = []
        try:
            times = np.array(self.times, dtype=np.float64)
        except (TypeError, ValueError):
            raise ScenarioError(Fault("times", "must be an array of numbers")) from None
        if times.ndim != 1 or times.size == 0:
            faults.append(Fault("times", f"must be a non-empty 1-D array, got shape {times.shape}"))
        elif not np.all(np.isfinite(times)):
            faults.append(Fault("times", "must all be finite numbers"))
        elif times[0] < 0:
            faults.append(Fault("times", f"must be >= 0, got {float(times[0])!r}"))
        elif np.any(np.diff(times) < 0):
            index = int(np.argmax(np.diff(times) < 0)) + 1
            faults.append(
                Fault(
                    "times",
                    f"must be sorted: entry {index} ({float(times[index])!r}) is earlier "
                    f"than entry {index - 1} ({float(times[index - 1])!r})",
                )
            )
        types = self.types
        if types is not None:
            types = tuple(types)
            if len(types) != times.size:
                faults.append(
                    Fault("types", f"must hold one type per time: {len(types)} for {times.size}")
                )
            elif not all(isinstance(kind, str) and kind for kind in types):
                faults.append(Fault("types", "must all be non-empty strings"))
        if faults:
            raise ScenarioError(faults)
        times.setflags(write=False)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "types", types)

    @property
    def count(self) -> int:
        """The number of events."""
        return int(self.times.size)

    @property
    def span(self) -> float:
        """The time from the first event to the last (seconds), >= 0."""
        return float(self.times[-1] - self.times[0])

    @property
    def rate(self) -> float:
        """Events per second, ``(count - 1) / span`` (one over the mean gap); NaN if span is 0."""
        span = self.span
        return (self.count - 1) / span if span > 0 else math.nan

    @property
    def gaps(self) -> FloatArray:
        """The ``count - 1`` times between consecutive events, ``numpy.diff(times)``."""
        return np.diff(self.times)

    @property
    def scv(self) -> float:
        """The squared coefficient of variation of the gaps, ``var / mean²``.

        The variance has divisor ``n`` (not ``n - 1``), as in
        :class:`~eda_sim.distributions.Empirical`. It is 1 for a Poisson process in
        the long run, above 1 for bursty traffic. NaN with no gap or a mean gap of 0.
        """
        gaps = self.gaps
        if gaps.size == 0:
            return math.nan
        mean = float(np.mean(gaps))
        if mean <= 0:
            return math.nan
        scaled = gaps / mean - 1.0
        return float(np.mean(scaled * scaled))

    @property
    def types_present(self) -> tuple[str, ...]:
        """The distinct event types, sorted; ``()`` when the trace has no types."""
        return tuple(sorted(set(self.types))) if self.types is not None else ()

    def select(self, event_type: str) -> Trace:
        """Return the events of one type, their times still relative to the same origin.

        Parameters
        ----------
        event_type : str
            One of :attr:`types_present`.

        Returns
        -------
        Trace
            The rows of that type, in order; not shifted to start at 0.

        Raises
        ------
        ScenarioError
            With a fault at ``"event_type"`` when the trace has no types or no event
            of that type.
        """
        where = f"{self.source}: " if self.source else ""
        if self.types is None:
            raise ScenarioError(
                Fault(
                    "event_type",
                    f"{where}the trace has no event-type column, so it has no "
                    f"events of type {event_type!r}",
                )
            )
        mask = np.fromiter((kind == event_type for kind in self.types), bool, self.count)
        if not mask.any():
            # The types are the file's content: counted, never listed.
            count = len(self.types_present)
            raise ScenarioError(
                Fault(
                    "event_type",
                    f"{where}no events of type {event_type!r} (the trace has "
                    f"{count} other event type{'s' if count != 1 else ''})",
                )
            )
        selected = self.times[mask]
        return Trace(
            selected, (event_type,) * selected.size, origin=self.origin, source=self.source
        )

    def __len__(self) -> int:
        return self.count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return (
            np.array_equal(self.times, other.times)
            and self.types == other.types
            and self.origin == other.origin
            and self.source == other.source
        )

    def __hash__(self) -> int:
        return hash((self.times.tobytes(), self.types, self.origin, self.source))

    def __repr__(self) -> str:
        kinds = f", types={list(self.types_present)!r}" if self.types is not None else ""
        source = f", source={self.source!r}" if self.source else ""
        return (
            f"Trace(count={self.count}, span={self.span:g}{kinds}, origin={self.origin!r}{source})"
        )
