"""Theory for a whole scenario: the best available formula for every station (layer 3).

:func:`solve` chooses, for the scenario as a whole:

* **Jackson** (product form) when every class arrives as a Poisson stream and
  every service time is exponential. Exact where product form holds (FIFO,
  unlimited buffers, one mean per station); stations with a capacity are M/M/c/K
  on their offered rate, and stations whose classes have different means use the
  mixed mean, both labelled approximate.
* **QNA** (Whitt 1983) otherwise, with one refinement: a station fed only by
  external Poisson streams (no internal routing into it) has Poisson arrivals,
  so it gets the exact M/G/1 Pollaczek–Khinchine result (M/D/1 for constant
  service) with the class mixture's mean and SCV, or Allen–Cunneen for several
  servers. A station with a capacity is M/M/c/K on its mean (approximate).

The system figures follow from the stations: ``L = Σ L_i``; the rate of
completed events is the external rate less the rate of refused visits; the
end-to-end ``W`` of class ``k`` is ``Σ_i v_k,i (Wq_i + E[S_k,i])`` with visit
ratios ``v`` (Little's law applied per station), averaged over classes by their
external rates.

The source article's two formulas are evaluated for every single-server station
(:mod:`eda_sim.theory.article`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from eda_sim import distributions as dists
from eda_sim.scenario import Scenario
from eda_sim.theory.article import ARTICLE_NOTE, article_L, article_W
from eda_sim.theory.general import best_station, ggc_allen_cunneen
from eda_sim.theory.network import jackson, qna
from eda_sim.theory.priority import mg1_priority, mmc_priority
from eda_sim.theory.results import StationTheory, SystemTheory

__all__ = ["ArticleValues", "ScenarioTheory", "is_exponential", "solve"]


def is_exponential(distribution: dists.Distribution) -> bool:
    """True when ``distribution`` is exactly exponential (whatever family spells it)."""
    match distribution:
        case dists.Exponential():
            return True
        case dists.Erlang(k=1):
            return True
        case dists.Gamma(shape=1.0):
            return True
        case dists.Hyperexponential(rates=rates) if len(set(rates)) == 1:
            return True
    return False


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
class ScenarioTheory:
    """Theory for every station, the system and each class of a scenario.

    A station, the system or a class whose figures no formula can give maps to
    ``None`` and its reason is in ``reasons`` (key ``"system"`` for the system).
    """

    stations: dict[str, StationTheory | None]
    system: SystemTheory | None
    classes: dict[str, dict[str, float]]
    article: dict[str, ArticleValues]
    arrival_rates: dict[str, float]
    offered_load: dict[str, float]
    reasons: dict[str, str] = field(default_factory=dict)

    def station_value(self, station: str, metric: str) -> float:
        """One theoretical figure, NaN when unavailable."""
        theory = self.stations.get(station)
        return float(getattr(theory, metric)) if theory is not None else math.nan

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
            document["classes"] = self.classes
        return document

    def article_dict(self) -> dict[str, Any]:
        """The ``article`` section of the JSON contract."""
        return {
            "note": ARTICLE_NOTE,
            "stations": {name: values.to_dict() for name, values in self.article.items()},
        }


def _mixture(rates: np.ndarray, means: np.ndarray, scvs: np.ndarray) -> tuple[float, float]:
    """Mean and SCV of the service time of a random arrival (classes mixed by rate)."""
    total = rates.sum()
    weights = rates / total
    mean = float((weights * means).sum())
    second = float((weights * means**2 * (1 + scvs)).sum())
    return mean, second / mean**2 - 1


def _priority_station(
    scenario: Scenario,
    station: int,
    rates: np.ndarray,
    means: np.ndarray,
    scvs: np.ndarray,
    poisson_input: bool,
) -> tuple[StationTheory, np.ndarray]:
    """A station whose classes differ in priority: Cobham (one server) or M/M/c priority.

    Classes of equal priority form one level (their service mixed by rate); levels
    are served lowest number first. Returns the station's figures and each class's
    wait. Exact for Poisson input with one server (Cobham), or several servers and
    one common exponential service time; otherwise labelled approximate.
    """
    classes = scenario.classes
    levels = sorted({c.priority for k, c in enumerate(classes) if rates[k] > 0})
    members = [
        [k for k, c in enumerate(classes) if c.priority == level and rates[k] > 0]
        for level in levels
    ]
    level_rates = [float(rates[m].sum()) for m in members]
    mixed = [_mixture(rates[m], means[m], scvs[m]) for m in members]
    servers = scenario.stations[station].servers
    exponential = all(
        is_exponential(c.service[station]) for k, c in enumerate(classes) if rates[k] > 0
    )
    common_mean = len({float(means[k]) for m in members for k in m}) == 1
    if servers == 1:
        result = mg1_priority(level_rates, [m for m, _ in mixed], [v for _, v in mixed])
        exact = poisson_input
    else:
        result = mmc_priority(
            level_rates,
            1.0 / float(np.average([m for m, _ in mixed], weights=level_rates)),
            servers,
        )
        exact = poisson_input and exponential and common_mean
    figures = result.station
    if not exact:
        figures = replace(figures, exact=False, method=f"{figures.method} (approx.)")
    waits = np.zeros(len(classes))
    for level, group in zip(result.classes, members, strict=True):
        waits[group] = level.Wq
    return figures, waits


def _unavailable(
    scenario: Scenario, reason: str, loads: np.ndarray, rates: np.ndarray
) -> ScenarioTheory:
    names = scenario.station_names
    return ScenarioTheory(
        stations=dict.fromkeys(names),
        system=None,
        classes={},
        article={},
        arrival_rates=dict(zip(names, map(float, rates), strict=True)),
        offered_load=dict(zip(names, map(float, loads), strict=True)),
        reasons={**dict.fromkeys(names, reason), "system": reason},
    )


def solve(scenario: Scenario) -> ScenarioTheory:
    """Steady-state theory for every station, the system and each class of ``scenario``.

    Returns figures marked with their ``method`` and ``exact``; where no formula
    applies (a station with unlimited capacity and ρ >= 1, or a formula outside its
    domain) the figures are ``None`` with the reason, never an exception.
    """
    try:
        return _solve(scenario)
    except ValueError as error:  # a formula refused its input: say so, do not crash
        return _unavailable(
            scenario,
            f"no formula applies: {error}",
            scenario.offered_load(),
            scenario.arrival_rates().sum(axis=0),
        )


def _solve(scenario: Scenario) -> ScenarioTheory:
    names = scenario.station_names
    classes = scenario.classes
    lam_kn = scenario.arrival_rates()  # (K, N) visit rates
    loads = scenario.offered_load()
    rates = lam_kn.sum(axis=0)
    servers = np.array([s.servers for s in scenario.stations])
    capacity = [s.capacity for s in scenario.stations]
    unstable = [f"{name} (ρ = {rho:.4g})" for name, rho in scenario.unstable_stations()]
    if unstable:
        return _unavailable(
            scenario,
            "no steady state: load ρ >= 1 with unlimited capacity at " + ", ".join(unstable),
            loads,
            rates,
        )

    if scenario.has_trace:
        replayed = [c for c in classes if c.arrivals.kind == "trace"]
        measured = ", ".join(
            f"{c.name}: rate {c.arrivals.rate:.4g}, gap SCV {c.arrivals.scv:.3g}" for c in replayed
        )
        return _unavailable(
            scenario,
            "trace arrivals: a replayed trace is not a stochastic model, no formula applies "
            f"(measured {measured})",
            loads,
            rates,
        )

    gamma = np.array([c.arrivals.rate * c.routing.entry for c in classes])  # (K, N)
    routing = np.array([c.routing.matrix for c in classes])
    means = np.array([[d.mean for d in c.service] for c in classes])
    scvs = np.array([[d.scv for d in c.service] for c in classes])
    poisson = all(c.arrivals.kind == "poisson" for c in classes)
    markovian = poisson and all(is_exponential(d) for c in classes for d in c.service)

    inflow = (lam_kn[:, :, None] * np.array([c.routing.copies_matrix for c in classes])).sum(
        axis=(0, 1)
    )  # internal rate into each station, fan-out copies included
    fed_by_poisson = [
        inflow[j] <= 0
        and all(c.arrivals.kind == "poisson" for k, c in enumerate(classes) if gamma[k, j] > 0)
        for j in range(len(names))
    ]
    stations: list[StationTheory]
    if scenario.has_fanout:
        # Per station on the traffic equations with the expected-copies matrix; exact
        # only where the input is external Poisson traffic.
        stations = []
        for j in range(len(names)):
            mean, scv = (
                _mixture(lam_kn[:, j], means[:, j], scvs[:, j])
                if rates[j] > 0
                else (float(means[0, j]), float(scvs[0, j]))
            )
            figures = best_station(rates[j], mean, scv, int(servers[j]), capacity[j])
            if not fed_by_poisson[j] and figures.exact:
                figures = replace(
                    figures, exact=False, method=f"{figures.method} (approx., non-Poisson input)"
                )
            stations.append(figures)
        network_method = "traffic equations with fan-out copies"
    elif markovian:
        network = jackson(gamma, routing, means, servers, capacity)
        stations = list(network.stations)
        network_method = "Jackson network"
    else:
        external_scv = np.array([[c.arrivals.scv] * len(names) for c in classes])
        network = qna(gamma, external_scv, routing, means, scvs, servers)
        stations = list(network.stations)
        network_method = "QNA (Whitt 1983)"
        arrival_scv = network.arrival_scv
        for j, name in enumerate(names):
            if rates[j] <= 0:
                continue
            mean, scv = _mixture(lam_kn[:, j], means[:, j], scvs[:, j])
            external_poisson = fed_by_poisson[j]
            if capacity[j] is not None:
                ca = 1.0 if external_poisson or arrival_scv is None else float(arrival_scv[j])
                stations[j] = best_station(rates[j], mean, scv, int(servers[j]), capacity[j], ca)
            elif external_poisson:
                exponential = all(is_exponential(c.service[j]) for c in classes)
                if servers[j] > 1 and not exponential:
                    stations[j] = ggc_allen_cunneen(rates[j], mean, int(servers[j]), 1.0, scv)
                else:
                    stations[j] = best_station(rates[j], mean, scv, int(servers[j]))
            del name

    # Waits per class: the station's, or by priority where classes differ in priority.
    class_wq = np.array([[s.Wq for s in stations] for _ in classes])
    if scenario.has_priorities:
        for j in range(len(names)):
            if rates[j] > 0 and capacity[j] is None:
                stations[j], class_wq[:, j] = _priority_station(
                    scenario, j, lam_kn[:, j], means[:, j], scvs[:, j], fed_by_poisson[j]
                )
    senders = np.zeros(len(names), dtype=bool)  # stations that can be blocked
    if scenario.has_blocking:
        blocking = np.array([st.on_full == "block" for st in scenario.stations])
        for c in classes:
            senders |= (c.routing.matrix[:, blocking] > 0).any(axis=1)
        stations = [
            replace(st, exact=False, method=f"{st.method}; blocked time not modelled (approx.)")
            if senders[j]
            else st
            for j, st in enumerate(stations)
        ]

    # System and classes from the stations (Little's law per station).
    offered = np.array(
        [s.throughput / (1 - s.loss) if s.loss < 1 else rates[j] for j, s in enumerate(stations)]
    )
    lost_rate = float((offered * np.array([s.loss for s in stations])).sum())
    external = float(gamma.sum())
    class_figures: dict[str, dict[str, float]] = {}
    class_w = []
    for k, event_class in enumerate(classes):
        visits = lam_kn[k] / event_class.arrivals.rate
        w_k = float((visits * (class_wq[k] + means[k])).sum())
        lost_k = float((lam_kn[k] * np.array([s.loss for s in stations])).sum())
        class_w.append(w_k)
        class_figures[event_class.name] = {
            "W": w_k,
            "throughput": event_class.arrivals.rate - lost_k,
            "loss": lost_k / event_class.arrivals.rate,
        }
    weights = np.array([c.arrivals.rate for c in classes]) / external
    exact = all(s.exact for s in stations)
    reasons: dict[str, str] = {}
    system: SystemTheory | None = SystemTheory(
        L=float(sum(s.L for s in stations)),
        W=float((weights * np.array(class_w)).sum()),
        throughput=external - lost_rate,
        loss=lost_rate / external,
        method=network_method + ("" if exact else " (approx.)"),
        exact=exact,
    )
    if scenario.has_fanout:  # copies run in parallel: an event's time is its slowest branch
        system = None
        reasons["system"] = (
            "fan-out: an event's end-to-end time is that of its last copy (a maximum over "
            "parallel branches) and the system holds copies, not events; no formula applies"
        )
        class_figures = {  # a class without fan-out still adds up its visits
            c.name: class_figures[c.name] for c in classes if not any(c.routing.fanout)
        }
    station_figures: dict[str, StationTheory | None] = dict(zip(names, stations, strict=True))
    if scenario.has_blocking:
        reason = (
            "on_full: block: blocking after service has no product-form solution; the "
            "station never loses events, its senders wait instead"
        )
        for station in scenario.stations:
            if station.on_full == "block":
                station_figures[station.name] = None
                reasons[station.name] = reason
        blocked_visits = [
            c.name
            for c in classes
            if any(
                c.routing.visit_ratios[j] > 0
                for j, st in enumerate(scenario.stations)
                if st.on_full == "block"
            )
        ]
        class_figures = {k: v for k, v in class_figures.items() if k not in blocked_visits}
        system = None
        reasons["system"] = reason

    article = {
        name: ArticleValues(
            float(loads[j]), article_L(float(loads[j])), article_W(float(rates[j]), float(loads[j]))
        )
        for j, name in enumerate(names)
        if servers[j] == 1 and capacity[j] is None and rates[j] > 0 and loads[j] < 1
    }
    return ScenarioTheory(
        stations=station_figures,
        system=system,
        classes=class_figures if not scenario.single_class else {},
        article=article,
        arrival_rates=dict(zip(names, map(float, rates), strict=True)),
        offered_load=dict(zip(names, map(float, loads), strict=True)),
        reasons=reasons,
    )
