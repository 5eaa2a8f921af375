"""Exact percentiles for a whole scenario: per station, per class and for the system (layer 3).

:func:`latency_theory` gathers each station's facts (:class:`~.stations.StationFacts`)
from the scenario and its traffic (offered rates per class, carried downstream
after losses: :attr:`eda_sim.scenario.Scenario.traffic`), finds the exact laws
(:func:`~.stations.station_laws`, :func:`~.stations.route_law`); the
stations and classes still without one get the network CTMC's first passages
where their group of stations is Markovian
(:func:`~.network_laws.network_findings`); the reason is kept wherever there
is none. The system's end-to-end time is the mixture of the classes' by the
rates of their journeys that end (the engines time no lost event: each class
counts with the share of its events that end, given by the first passage or,
for a one-station class, that station's admitted share), when every class has one.

Poisson input and product form are decided by the theory's own structural
analysis (:func:`eda_sim.theory.scenario.inputs.scenario_inputs`: product form,
Kelly's and Burke's theorems), never from a moment, so a value here is exact
under the same conditions as the theory's means beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eda_sim.scenario import Scenario
from eda_sim.theory.families import phase_type
from eda_sim.theory.percentiles.ctmc_station import ctmc_station_laws
from eda_sim.theory.percentiles.laws import TimeLaw, mixture
from eda_sim.theory.percentiles.network_laws import network_findings
from eda_sim.theory.percentiles.stations import (
    StationFacts,
    StationLaws,
    completed_share,
    route_law,
    station_laws,
)
from eda_sim.theory.scenario.inputs import ScenarioInputs, scenario_inputs

__all__ = ["LatencyTheory", "latency_theory"]

#: ``(scope, name, base metric)``, as the engines' sketches are keyed.
Key = tuple[str, str, str]
_BASES = {"W": "visit", "Wq": "wait"}


@dataclass(frozen=True)
class LatencyTheory:
    """The exact laws theory knows for a scenario's times, and why the others are missing."""

    laws: dict[Key, TimeLaw] = field(default_factory=dict)
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)
    _known: dict[tuple[Key, float], tuple[float, str, bool]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def quantile(self, scope: str, name: str, base: str, level: float) -> tuple[float, str, bool]:
        """``(value, method, exact)`` of a percentile; NaN and the reason when unknown."""
        key = (scope, name, base)
        if (key, level) in self._known:
            return self._known[key, level]
        law = self.laws.get(key)
        if law is None:
            return math.nan, f"unavailable: {self.reasons.get((scope, name), 'no formula')}", False
        found = law.quantile(level)
        answer = (
            (found.value, law.method, True)
            if found.exact
            else (math.nan, f"unavailable: {law.method}: its error bound exceeds 1e-7", False)
        )
        self._known[key, level] = answer
        return answer

    def to_dict(self, levels: tuple[float, ...]) -> dict[str, Any]:
        """The JSON ``theory.percentiles`` section: per scope and name, each percentile or why not.

        ``{"stations": {NAME: {"W_p99": {"value", "method", "exact"}, ...} or
        {"reason": str}}, "classes": {...}, "system": {...}}``.
        """
        from eda_sim.metrics import level_suffix

        out: dict[str, Any] = {"stations": {}, "classes": {}, "system": {}}
        names = {key[:2] for key in self.laws} | set(self.reasons)
        for scope, name in sorted(names):
            entry: dict[str, Any] = {}
            for base in ("W", "Wq"):
                if (scope, name, base) not in self.laws:
                    continue
                for level in levels:
                    value, method, exact = self.quantile(scope, name, base, level)
                    entry[f"{base}_p{level_suffix(level)}"] = {
                        "value": value if math.isfinite(value) else None,
                        "method": method,
                        "exact": exact,
                    }
            if not entry:
                entry = {"reason": self.reasons.get((scope, name), "")}
            target = {"station": "stations", "class": "classes"}.get(scope, "system")
            if scope == "system":
                out["system"] = entry
            else:
                out[target][name] = entry
        return out

    def ccdf_curve(self, key: Key, upper: float, points: int = 160) -> dict[str, Any] | None:
        """``{"t", "ccdf", "method"}`` of an exact law on ``[0, upper]`` (None without one)."""
        law = self.laws.get(key)
        if law is None or not upper > 0:
            return None
        grid = np.linspace(0.0, upper, points)
        return {
            "t": [float(f"{t:.6g}") for t in grid],
            "ccdf": [float(f"{law.ccdf(float(t)):.6g}") for t in grid],
            "method": law.method,
        }


def _links(scenario: Scenario) -> np.ndarray:
    """``(from, to)`` pairs between different stations that some class's events (or copies) take."""
    pairs = []
    for c in scenario.classes:
        rows = c.routing.copies
        keep = (rows.values > 0) & (rows.row_of_entry != rows.columns)
        pairs.append(np.column_stack([rows.row_of_entry[keep], rows.columns[keep]]))
    joined = np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)
    return np.unique(joined, axis=0) if len(joined) else joined.astype(np.int64)


def _facts(scenario: Scenario, inputs: ScenarioInputs | None = None) -> list[StationFacts]:
    """Each station's facts, from the theory's structural analysis of the scenario."""
    inputs = scenario_inputs(scenario) if inputs is None else inputs
    offered = np.asarray(inputs.traffic.offered)  # (K, N), losses carried downstream
    facts = []
    for j, station in enumerate(scenario.stations):
        reach = [k for k in range(len(scenario.classes)) if offered[k, j] > 0]
        facts.append(
            StationFacts(
                name=station.name,
                servers=station.servers,
                capacity=station.capacity,
                laws=tuple(inputs.laws[k][j] for k in reach),
                rates=tuple(float(offered[k, j]) for k in reach),
                poisson_input=bool(inputs.poisson_input[j]),
                product_form=bool(inputs.product_form[j]),
                priorities=len({scenario.classes[k].priority for k in reach}) > 1,
                blocking=bool(inputs.blocking[j] or inputs.senders[j]),
                renewal=_renewal_gaps(inputs, j),
            )
        )
    return facts


def _renewal_gaps(inputs: ScenarioInputs, j: int) -> Callable[[float], float] | None:
    """The gaps of ``j``'s one renewal input stream, where its visits do not feed back."""
    found = inputs.renewal.get(j)
    return found.gaps if found is not None and found.feedback == 0.0 else None


def _feeders(scenario: Scenario) -> list[int]:
    """Per station, how many other stations send it events (of any class)."""
    links = _links(scenario)
    counts = np.bincount(links[:, 1], minlength=len(scenario.stations)) if len(links) else None
    return [0] * len(scenario.stations) if counts is None else [int(c) for c in counts]


def _station(inputs: ScenarioInputs, j: int, facts: StationFacts) -> StationLaws:
    """A station's laws: a closed form or transform where one applies, else its CTMC's.

    The CTMC's first-passage laws (:mod:`.ctmc_station`) are tried for a station
    with Poisson input that does not block (nor send to a blocking station), with
    phase-type service and a steady state, where no formula above applies.
    """
    found = station_laws(facts)
    if found.visit is not None or facts.blocking or not facts.poisson_input:
        return found
    if not any(r > 0 for r in facts.rates):
        return found
    if facts.capacity is None:
        carried = inputs.traffic.loads(inputs.means, inputs.servers)[1]
        if not float(carried[j]) < 1.0:
            return found
    other = [law for law in facts.laws if phase_type(law) is None]
    if other:
        why = f"CTMC not used: {other[0].describe()} service is not phase-type"
        return StationLaws(None, None, f"{found.reason}; {why}")
    laws = ctmc_station_laws(inputs, j)
    if isinstance(laws, str):
        return StationLaws(None, None, f"{found.reason}; {laws}")
    return StationLaws(laws.wait, laws.visit, classes=laws.classes, admitted=laws.admitted)


def _routes(
    scenario: Scenario, laws: list[StationLaws], facts: list[StationFacts]
) -> dict[int, TimeLaw | str]:
    """Each class's end-to-end law by the closed forms (:func:`~.stations.route_law`), or why."""
    feeders = _feeders(scenario)
    out: dict[int, TimeLaw | str] = {}
    for k, c in enumerate(scenario.classes):
        if any(c.routing.fanout):
            out[k] = "fan-out: an event ends with its last copy, a maximum over parallel branches"
            continue
        out[k] = route_law(
            np.asarray(c.routing.entry),
            c.routing.transitions,
            np.asarray(c.routing.exit_probabilities),
            laws,
            facts,
            feeders,
            k,
        )
    return out


def latency_theory(scenario: Scenario) -> LatencyTheory:
    """The exact laws of every station's W and Wq, each class's and the system's end-to-end W.

    Never raises for a valid scenario: a formula that refuses its input leaves the
    laws out, with the reason.
    """
    try:
        return _latency_theory(scenario)
    except (ValueError, ArithmeticError) as error:
        return LatencyTheory(reasons={("system", "system"): f"no formula applies: {error}"})


def _latency_theory(scenario: Scenario) -> LatencyTheory:
    theory = LatencyTheory()
    if scenario.has_trace:
        reason = "trace arrivals: a replayed trace is not a stochastic model"
        for station in scenario.stations:
            theory.reasons[("station", station.name)] = reason
        theory.reasons[("system", "system")] = reason
        return theory
    inputs = scenario_inputs(scenario)
    facts = _facts(scenario, inputs)
    laws: list[StationLaws] = [_station(inputs, j, f) for j, f in enumerate(facts)]
    routes = _routes(scenario, laws, facts)
    network = network_findings(inputs, laws, {k for k, r in routes.items() if isinstance(r, str)})
    for j, why in network.station_reasons.items():
        laws[j] = StationLaws(None, None, f"{laws[j].reason}; {why}")
    laws = [network.stations.get(j, found) for j, found in enumerate(laws)]
    for known, found in zip(facts, laws, strict=True):
        if found.visit is None or found.wait is None:
            theory.reasons[("station", known.name)] = found.reason
            continue
        theory.laws[("station", known.name, "W")] = found.visit
        theory.laws[("station", known.name, "Wq")] = found.wait
    classes: list[tuple[TimeLaw, float]] = []
    why_not = ""
    for k, c in enumerate(scenario.classes):
        route = routes[k]
        if k in network.journeys:
            found_law, share = network.journeys[k]
        elif isinstance(route, str):
            reason = route + (f"; {network.class_reasons[k]}" if k in network.class_reasons else "")
            why_not = why_not or f"{c.name}: {reason}"
            if not scenario.single_class:
                theory.reasons[("class", c.name)] = reason
            continue
        else:
            found_law = route
            share = completed_share(
                np.asarray(c.routing.entry),
                c.routing.transitions,
                np.asarray(c.routing.exit_probabilities),
                laws,
            )
        classes.append((found_law, c.arrivals.rate * share))  # the journeys that end
        if not scenario.single_class:
            theory.laws[("class", c.name, "W")] = found_law
    if len(classes) == len(scenario.classes):
        theory.laws[("system", "system", "W")] = mixture(
            [law for law, _ in classes],
            [rate for _, rate in classes],
            classes[0][0].method if len(classes) == 1 else "the classes' laws mixed by rate",
        )
    else:
        theory.reasons[("system", "system")] = why_not
    return theory
