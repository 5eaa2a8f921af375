"""Result objects of the theory package: one station, the whole system, a network.

The definitions match the simulator's measurements (see ``DESIGN.md``,
"Semantics and definitions"):

* ``L`` -- time-average number present at the station (waiting + in service);
* ``Lq`` -- time-average number waiting (not in service);
* ``W`` -- mean time per visit, from arrival to departure;
* ``Wq`` -- mean wait before service starts;
* ``utilization`` -- mean number of busy servers divided by the number of servers;
* ``throughput`` -- accepted arrival rate, equal to the completion rate;
* ``loss`` -- probability that an arrival is refused (0.0 for infinite buffers).

Little's law holds in every result: ``L = throughput * W`` and
``Lq = throughput * Wq``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["NetworkTheory", "StationTheory", "SystemTheory"]

FloatArray = npt.NDArray[np.float64]

_STATION_METRICS = ("L", "Lq", "W", "Wq", "utilization", "throughput", "loss")
_SYSTEM_METRICS = ("L", "W", "throughput", "loss")


@dataclass(frozen=True)
class StationTheory:
    """Steady-state prediction for one station.

    Parameters
    ----------
    L : float
        Mean number present (waiting + in service).
    Lq : float
        Mean number waiting.
    W : float
        Mean time per visit, arrival to departure.
    Wq : float
        Mean wait before service.
    utilization : float
        Mean number of busy servers divided by the number of servers.
    throughput : float
        Accepted arrival rate (= completion rate).
    loss : float
        Probability that an arrival is refused; 0.0 for an infinite buffer.
    method : str
        The formula used, e.g. ``"M/M/c (Erlang C)"``.
    exact : bool
        True when the formula is exact for the model, False for an approximation.
    reason : str, optional
        Why the value is approximate (and why no exact method was used), or a
        note on an exact one (e.g. a truncated state space's tail-mass bound).
    blocked : float or None, optional
        Mean time per visit spent holding a server while blocked by a full next
        station (``on_full: block``); None where the station cannot be blocked.
    """

    L: float
    Lq: float
    W: float
    Wq: float
    utilization: float
    throughput: float
    loss: float
    method: str
    exact: bool
    reason: str = ""
    blocked: float | None = None

    def __post_init__(self) -> None:
        for name in _STATION_METRICS:
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "exact", bool(self.exact))
        if self.blocked is not None:
            object.__setattr__(self, "blocked", float(self.blocked))

    @classmethod
    def from_waits(
        cls, arrival_rate: float, wq: float, w: float, rho: float, method: str, exact: bool
    ) -> StationTheory:
        """A station without losses from its waits: ``L = λW``, ``Lq = λWq`` (Little's law)."""
        return cls(
            L=arrival_rate * w,
            Lq=arrival_rate * wq,
            W=w,
            Wq=wq,
            utilization=rho,
            throughput=arrival_rate,
            loss=0.0,
            method=method,
            exact=exact,
        )

    def to_dict(self) -> dict[str, float | str | bool]:
        """Return the metrics, ``method``, ``exact`` (and ``reason``, ``blocked`` if set)."""
        out: dict[str, float | str | bool] = {
            name: float(getattr(self, name)) for name in _STATION_METRICS
        }
        out["method"] = self.method
        out["exact"] = self.exact
        if self.blocked is not None:
            out["blocked"] = float(self.blocked)
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class SystemTheory:
    """Steady-state prediction for the whole system (first entry to exit).

    Parameters
    ----------
    L : float
        Mean number of events in the system (sum of the stations' ``L``).
    W : float
        Mean time an admitted event spends in the system, ``L / throughput``.
    throughput : float
        Rate at which events are admitted to (and leave) the system.
    method : str
        The method used for the network.
    exact : bool
        True when every station's figure is exact.
    loss : float
        Share of external events refused by some full station (0 without capacities).
    reason : str, optional
        Why the figures are approximate, or a note on exact ones.
    """

    L: float
    W: float
    throughput: float
    method: str
    exact: bool
    loss: float = 0.0
    reason: str = ""

    def __post_init__(self) -> None:
        for name in _SYSTEM_METRICS:
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "exact", bool(self.exact))

    def to_dict(self) -> dict[str, float | str | bool]:
        """Return the metrics, ``method`` and ``exact`` as a JSON-ready dict."""
        out: dict[str, float | str | bool] = {
            name: float(getattr(self, name)) for name in _SYSTEM_METRICS
        }
        out["method"] = self.method
        out["exact"] = self.exact
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, eq=False)
class NetworkTheory:
    """Steady-state prediction for a network of stations (arrays are read-only copies).

    Parameters
    ----------
    stations : tuple of StationTheory
        One result per station, in station order.
    system : SystemTheory
        Whole-system figures.
    arrival_rates : ndarray, shape (N,)
        Total arrival rate offered to each station (all classes).
    visit_ratios : ndarray, shape (K, N)
        Mean number of visits to each station per external arrival of each class,
        ``lambda_k,i / gamma_k``; a row of zeros for a class without arrivals.
    class_throughput : ndarray, shape (K,)
        Rate at which events of each class are admitted to the system.
    class_W : ndarray, shape (K,)
        Mean time in the system per admitted event of each class (FIFO stations:
        every class waits the same ``Wq`` at a station and then its own service);
        NaN for a class without arrivals.
    arrival_scv : ndarray, shape (N,) or None
        Squared coefficient of variation of each station's arrival stream (QNA only).
    """

    stations: tuple[StationTheory, ...]
    system: SystemTheory
    arrival_rates: FloatArray
    visit_ratios: FloatArray
    class_throughput: FloatArray
    class_W: FloatArray  # noqa: N815 - the conventional symbol W
    arrival_scv: FloatArray | None = field(default=None)

    def __post_init__(self) -> None:
        for name in ("arrival_rates", "visit_ratios", "class_throughput", "class_W", "arrival_scv"):
            value = getattr(self, name)
            if value is not None:
                frozen = np.array(value, dtype=np.float64)
                frozen.flags.writeable = False
                object.__setattr__(self, name, frozen)

    def to_dict(self) -> dict[str, Any]:
        """Return the network prediction as a JSON-ready dict (lists for arrays)."""
        out: dict[str, Any] = {
            "stations": [station.to_dict() for station in self.stations],
            "system": self.system.to_dict(),
            "arrival_rates": [float(x) for x in self.arrival_rates],
            "visit_ratios": [[float(x) for x in row] for row in self.visit_ratios],
            "class_throughput": [float(x) for x in self.class_throughput],
            "class_W": [float(x) for x in self.class_W],
        }
        if self.arrival_scv is not None:
            out["arrival_scv"] = [float(x) for x in self.arrival_scv]
        return out
