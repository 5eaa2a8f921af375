"""What :func:`eda_sim.theory.scenario.solve` returns: per station, per class, the system.

:class:`ScenarioTheory` is the ``theory`` section of the JSON contract
(``stations``, ``system``, ``classes``) plus the article's values and the traffic
(offered and carried rates and loads). A part no formula can give is None (a
station, the system) or has ``available = False`` (a class), with its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eda_sim.theory.article import ARTICLE_NOTE
from eda_sim.theory.results import StationTheory, SystemTheory

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CLASS_METRICS", "ArticleValues", "ClassTheory", "ScenarioTheory"]

#: The end-to-end figures of an event class.
CLASS_METRICS = ("L", "W", "throughput", "loss")


@dataclass(frozen=True)
class ArticleValues:
    """The article's L and W for one single-server station, at offered load ``rho``."""

    rho: float
    L: float
    W: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready figures."""
        return {"rho": self.rho, "L": self.L, "W": self.W}


@dataclass(frozen=True)
class ClassTheory:
    """End-to-end theory for one event class, as the simulation measures it.

    Parameters
    ----------
    L : float
        Mean number of the class's events in the system (``Σ_j λ_k,j W_k,j``).
    W : float
        Mean time from entry to exit of an event that completes (not lost).
    throughput : float
        Rate of the class's events that leave the system done.
    loss : float
        Share of its external arrivals refused somewhere.
    method, exact, available, reason
        How the figures were obtained, whether exactly, whether at all, and why
        not (or why only approximately). An unavailable class has NaN figures.
    """

    L: float
    W: float
    throughput: float
    loss: float
    method: str
    exact: bool
    available: bool = True
    reason: str = ""

    @classmethod
    def unavailable(cls, reason: str) -> ClassTheory:
        """A class no formula can give, with the reason."""
        nan = math.nan
        return cls(nan, nan, nan, nan, "", exact=False, available=False, reason=reason)

    def value(self, metric: str) -> float:
        """One figure (NaN when unavailable or not a class metric)."""
        return float(getattr(self, metric)) if metric in CLASS_METRICS else math.nan

    def __getitem__(self, metric: str) -> float:
        """``figures["W"]``: the mapping access of earlier versions (a dict of figures)."""
        if metric not in CLASS_METRICS:
            raise KeyError(metric)
        return self.value(metric)

    def __contains__(self, metric: object) -> bool:
        return metric in CLASS_METRICS and self.available

    def to_dict(self) -> dict[str, Any]:
        """The class's entry of the ``theory.classes`` JSON section."""
        out: dict[str, Any] = {metric: float(getattr(self, metric)) for metric in CLASS_METRICS}
        out.update(method=self.method, exact=self.exact, available=self.available)
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class ScenarioTheory:
    """Theory for every station, the system and each class of a scenario.

    A station or the system whose figures no formula can give maps to ``None``
    and its reason is in ``reasons`` (key ``"system"`` for the system); a class
    that cannot be given is a :class:`ClassTheory` with ``available = False``.
    ``arrival_rates`` and ``offered_load`` are what reaches each station (losses
    upstream carried downstream), ``carried_rates`` and ``carried_load`` what it
    admits.
    """

    stations: dict[str, StationTheory | None]
    system: SystemTheory | None
    classes: dict[str, ClassTheory]
    article: dict[str, ArticleValues]
    arrival_rates: dict[str, float]
    offered_load: dict[str, float]
    reasons: dict[str, str] = field(default_factory=dict)
    carried_rates: dict[str, float] = field(default_factory=dict)
    carried_load: dict[str, float] = field(default_factory=dict)

    def station_value(self, station: str, metric: str) -> float:
        """One theoretical figure, NaN when unavailable."""
        theory = self.stations.get(station)
        value = getattr(theory, metric, None) if theory is not None else None
        return float(value) if value is not None else math.nan

    def to_dict(self) -> dict[str, Any]:
        """The ``theory`` section of the JSON contract (unavailable parts give their reason)."""

        def station(name: str) -> dict[str, Any]:
            theory = self.stations[name]
            if theory is None:
                return {"available": False, "reason": self.reasons.get(name, "")}
            return {**theory.to_dict(), "available": True}

        system: dict[str, Any]
        if self.system is None:
            system = {"available": False, "reason": self.reasons.get("system", "")}
        else:
            system = {**self.system.to_dict(), "available": True}
        document: dict[str, Any] = {
            "stations": {name: station(name) for name in self.stations},
            "system": system,
        }
        if self.classes:
            document["classes"] = {name: c.to_dict() for name, c in self.classes.items()}
        return document

    def to_frame(self) -> pd.DataFrame:
        """Tidy table of the theory: one row per (scope, name, metric).

        Columns ``scope, name, metric, theory, method, exact, available, reason``,
        in the vocabulary of ``RunResult.to_frame()`` (:mod:`eda_sim.theory.frame`).
        """
        import pandas as pd

        from eda_sim.theory.frame import THEORY_COLUMNS, theory_rows

        return pd.DataFrame(theory_rows(self), columns=list(THEORY_COLUMNS))

    def article_dict(self) -> dict[str, Any]:
        """The ``article`` section of the JSON contract."""
        return {
            "note": ARTICLE_NOTE,
            "stations": {name: values.to_dict() for name, values in self.article.items()},
        }
