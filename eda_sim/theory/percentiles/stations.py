"""Which exact law a station's and a route's times follow, from what the model says (layer 3).

:func:`station_laws` takes the facts of one station (:class:`StationFacts`:
whether its input is Poisson or it lies in a product-form network, decided
*structurally* by the theory's traffic analysis, never from a moment; its
servers, capacity and the service laws of the classes that reach it) and
returns the exact laws of its wait and time per visit, or the reason there is
none:

* exponential service with one rate for every class, Poisson input or product
  form, unlimited buffer: **M/M/c** (in a product-form network on a cycle too:
  an arrival sees the network in equilibrium, the arrival theorem of open
  Jackson networks, Melamed 1979; Sevcik & Mitrani 1981; and under FIFO a
  visit's time depends only on what it finds and on service times);
* the same with a capacity and Poisson input: **M/M/c/K** (PASTA);
* exponential service with one rate, unlimited buffer, one renewal stream in
  (no feedback; :mod:`eda_sim.theory.scenario.renewal_input`): **GI/M/c**, whose
  wait is 0 or exponential of rate ``cμ(1 − σ)`` (:func:`~eda_sim.theory.renewal.gimc_wait`);
* one server, Poisson input, unlimited buffer, any service law with an exact
  transform (mixed over the classes by their rates): **M/G/1** by inverting the
  Pollaczek–Khinchine transform, or Erlang's formula for M/D/1 (:mod:`.mg1`);
* everything else: no value, with the reason (several servers with general
  service, non-Poisson input, priorities, blocking, lognormal service, ...).

:func:`route_law` gives an event class's end-to-end time along routes of
M/M/1 stations without overtaking: the stations' times along one path are
independent exponentials with rates ``μ_i − λ_i`` (Walrand & Varaiya,
"Sojourn times and the overtaking condition in Jacksonian networks", *Adv. Appl.
Prob.* 12, 1980; Reich 1957 for the tandem), so a path takes a hypoexponential
time and the class a mixture over its paths. A route is overtake-free here when
it has no cycle, no fan-out, and every station on it is fed by at most one
other station (of any class): then no later event can reach a station of the
path before the tagged one by another way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from eda_sim import distributions as dists
from eda_sim.routing import SparseRows
from eda_sim.theory.families import exponential_rate
from eda_sim.theory.finite import mmck_state_probabilities
from eda_sim.theory.percentiles.laws import (
    TimeLaw,
    exponential_wait,
    exponential_wait_visit,
    hypoexponential,
    mixture,
    mmc_sojourn,
    mmc_wait,
    mmck_sojourn,
    mmck_wait,
)
from eda_sim.theory.percentiles.mg1 import NoTransformError, mg1_sojourn, mg1_wait

__all__ = [
    "MAX_PATHS",
    "StationFacts",
    "StationLaws",
    "completed_share",
    "route_law",
    "station_laws",
]

#: The most paths a class's routes may have for its end-to-end law.
MAX_PATHS = 1000


@dataclass(frozen=True)
class StationFacts:
    """What decides a station's exact laws (see the module docstring).

    ``laws`` and ``rates`` are the service laws of the classes that reach the
    station and their arrival rates there (offered, before any loss).
    """

    name: str
    servers: int
    capacity: int | None
    laws: tuple[dists.Distribution, ...]
    rates: tuple[float, ...]
    poisson_input: bool
    product_form: bool
    priorities: bool = False
    blocking: bool = False
    renewal: Callable[[float], float] | None = None
    """The gap transform of the station's one renewal input stream (no feedback), if any."""


@dataclass(frozen=True)
class StationLaws:
    """The exact laws of a station's wait (``Wq``) and time per visit (``W``), or why none."""

    wait: TimeLaw | None
    visit: TimeLaw | None
    reason: str = ""
    exponential_rate: float | None = None
    """The common exponential service rate, when the station is M/M/c (for routes)."""
    classes: dict[int, TimeLaw] | None = None
    """Each class's own time per visit (by class index), where it differs by class
    (priorities, class-dependent service); None where every class has ``visit``."""
    admitted: float = 1.0
    """The probability that an arrival is admitted (a capacity refuses every class alike)."""


def station_laws(facts: StationFacts) -> StationLaws:
    """The exact wait and time-per-visit laws of one station (or the reason there are none)."""
    rate = math.fsum(facts.rates)
    if rate <= 0:
        return StationLaws(None, None, "no event reaches the station")
    if facts.blocking:
        return StationLaws(
            None, None, "blocking after service: the time held while blocked has no exact law here"
        )
    if facts.priorities:
        return StationLaws(
            None, None, "priorities: no closed form for the waiting-time distribution"
        )
    rates = {exponential_rate(law) for law in facts.laws}
    common = rates.pop() if len(rates) == 1 else None
    servers, capacity = facts.servers, facts.capacity
    if common is not None and capacity is not None and facts.poisson_input:
        full = float(mmck_state_probabilities(rate, common, servers, capacity)[capacity])
        return StationLaws(
            mmck_wait(rate, common, servers, capacity),
            mmck_sojourn(rate, common, servers, capacity),
            exponential_rate=common,
            admitted=1.0 - full,
        )
    if common is not None and capacity is None and (facts.poisson_input or facts.product_form):
        if not rate < servers * common:
            return StationLaws(None, None, "no steady state: load >= 1")
        return StationLaws(
            mmc_wait(rate, common, servers), mmc_sojourn(rate, common, servers), "", common
        )
    if common is not None and capacity is None and facts.renewal is not None:
        return _gimc_laws(rate, common, servers, facts.renewal)
    if not facts.poisson_input:
        return StationLaws(
            None,
            None,
            "non-Poisson input: the waiting-time distribution is known exactly only for "
            "Poisson arrivals (or M/M/c in a product-form network, or GI/M/c fed by one "
            "renewal stream that does not feed back)",
        )
    if capacity is not None:
        return StationLaws(
            None, None, "a capacity with non-exponential service: no exact waiting-time law here"
        )
    if servers > 1:
        return StationLaws(
            None,
            None,
            "several servers with non-exponential service: the M/G/c waiting-time "
            "distribution has no exact formula",
        )
    try:
        return StationLaws(
            mg1_wait(rate, facts.laws, facts.rates), mg1_sojourn(rate, facts.laws, facts.rates)
        )
    except NoTransformError as error:
        return StationLaws(None, None, str(error))
    except ValueError as error:
        return StationLaws(None, None, f"no steady state: {error}")


def _gimc_laws(
    rate: float, service_rate: float, servers: int, gaps: Callable[[float], float]
) -> StationLaws:
    """GI/M/c's wait and visit laws (FIFO), or why none (too many servers, no steady state)."""
    from eda_sim.errors import UnstableError
    from eda_sim.theory.renewal import gimc_wait

    try:
        waits, decay = gimc_wait(rate, service_rate, servers, gaps)
    except UnstableError:
        return StationLaws(None, None, "no steady state: load >= 1")
    except ValueError as error:
        return StationLaws(None, None, f"renewal input: {error}")
    label = "GI/M/1" if servers == 1 else "GI/M/c"
    return StationLaws(
        exponential_wait(waits, decay, f"{label} wait: 0 or Exp(cμ(1 − σ)) (root σ)"),
        exponential_wait_visit(
            waits, decay, service_rate, f"{label} time per visit: wait + Exp(μ) (root σ)"
        ),
    )


def _paths(
    entry: np.ndarray, rows: SparseRows, exits: np.ndarray
) -> list[tuple[tuple[int, ...], float]] | None:
    """Every path (stations in order) with its probability; None for too many or a cycle."""
    found: list[tuple[tuple[int, ...], float]] = []
    stack: list[tuple[tuple[int, ...], float]] = [
        ((int(j),), float(entry[j])) for j in np.flatnonzero(entry > 0)
    ]
    while stack:
        path, weight = stack.pop()
        last = path[-1]
        if exits[last] > 0:
            found.append((path, weight * float(exits[last])))
        columns, values = rows.row(last)
        for nxt, probability in zip(columns.tolist(), values.tolist(), strict=True):
            if probability <= 0:
                continue
            if nxt in path:
                return None
            stack.append(((*path, nxt), weight * probability))
        if len(found) + len(stack) > MAX_PATHS:
            return None
    return found


def route_law(
    entry: np.ndarray,
    rows: SparseRows,
    exits: np.ndarray,
    stations: Sequence[StationLaws],
    facts: Sequence[StationFacts],
    feeders: Sequence[int],
    klass: int = 0,
) -> TimeLaw | str:
    """A class's end-to-end law along overtake-free M/M/1 routes, or the reason there is none.

    ``rows`` are the class's next-hop probabilities, ``exits`` each station's exit
    probability; ``feeders[j]`` is how many other stations send events (of any class) to ``j``.
    A class that always visits one station only takes its own time per visit there
    (``StationLaws.classes[klass]``), or the station's when the service is the same for
    every class reaching it and they share one priority; its stations may have a
    capacity (the engines time only the events that are not lost, so each station
    counts with its admitted share: :func:`completed_share`).
    """
    paths = _paths(entry, rows, exits)
    if paths is None:
        return "the routes have a cycle or too many paths: the visits' times are not independent"
    visited = sorted({j for path, _ in paths for j in path})
    if all(len(path) == 1 for path, _ in paths):
        laws = []
        for path, weight in paths:
            station, known = stations[path[0]], facts[path[0]]
            if station.visit is None:
                return f"no exact law at {known.name}: {station.reason}"
            weight *= station.admitted  # lost events end no journey: not counted
            if station.classes is not None and klass in station.classes:
                laws.append((station.classes[klass], weight))
                continue
            if len(set(known.laws)) > 1 or known.priorities:
                return f"{known.name} mixes classes with different service: no per-class law"
            laws.append((station.visit, weight))
        methods = sorted({law.method for law, _ in laws})
        label = f"one visit per event: {methods[0]}" if len(methods) == 1 else "one visit per event"
        return mixture([law for law, _ in laws], [w for _, w in laws], label)
    for j in visited:
        known, station = facts[j], stations[j]
        if station.exponential_rate is None or known.servers != 1 or known.capacity is not None:
            return (
                f"{known.name} is not an exact M/M/1 station: the end-to-end time is known "
                "only along M/M/1 stations without overtaking"
            )
        if feeders[j] > 1:
            return f"{known.name} is fed by several stations: events can overtake on the way"
    laws = []
    for path, weight in paths:
        rates = []
        for j in path:
            service = stations[j].exponential_rate
            assert service is not None  # checked above for every station visited
            rates.append(service - math.fsum(facts[j].rates))
        laws.append((hypoexponential(rates, "sum of independent exponentials"), weight))
    return mixture(
        [law for law, _ in laws],
        [w for _, w in laws],
        "M/M/1 stations without overtaking: hypoexponential (Walrand & Varaiya 1980)",
    )


def completed_share(
    entry: np.ndarray, rows: SparseRows, exits: np.ndarray, stations: Sequence[StationLaws]
) -> float:
    """The share of a class's events that end their journey (are not lost).

    1 for a class whose stations have no capacity; for a class that visits one
    station only, the admitted share of its entry stations, weighted by entry
    (the only case with a capacity for which :func:`route_law` gives a law).
    """
    paths = _paths(entry, rows, exits)
    if paths is None or not all(len(path) == 1 for path, _ in paths):
        return 1.0
    total = math.fsum(weight for _, weight in paths)
    done = math.fsum(weight * stations[path[0]].admitted for path, weight in paths)
    return done / total if total > 0 else 1.0
