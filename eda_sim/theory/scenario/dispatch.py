"""Theory for a whole scenario: one dispatch over the situations it can be in.

:func:`solve` tries, in order:

1. **a replayed trace**: no stochastic model, so no theory (the reason gives the
   trace's rate and gap SCV);
2. **no steady state**: a station without a capacity whose carried load is
   ``>= 1`` (the reason lists every station's carried ρ);
3. **station by station** (:mod:`eda_sim.theory.scenario.stations`): each
   station by the best formula for its situation, on the traffic equations with
   losses; exact where the formula is exact for the station's service family and
   its input is Poisson (by construction, Kelly, Burke) or in product form;
4. **the whole network as one CTMC** (:mod:`eda_sim.theory.scenario.markov`), when
   step 3 left something approximate or unavailable (blocking after service,
   buffers on cycles, priorities in networks, class-dependent service) and the
   scenario is Markovian (Poisson arrivals, phase-type service) with a state
   space under the limit. Otherwise step 3's figures stand, each approximate one
   saying why, and the reason the CTMC was not used.

Per class and for the system the figures follow from the stations
(:mod:`eda_sim.theory.scenario.totals`). The source article's two formulas are
evaluated for every single-server station with an unlimited buffer.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from eda_sim.scenario import Scenario
from eda_sim.theory.article import article_L, article_W
from eda_sim.theory.results import StationTheory
from eda_sim.theory.scenario.figures import ArticleValues, ClassTheory, ScenarioTheory
from eda_sim.theory.scenario.inputs import ScenarioInputs, scenario_inputs
from eda_sim.theory.scenario.markov import station_ctmc
from eda_sim.theory.scenario.markov_network import NetworkSolution, components, network_ctmc
from eda_sim.theory.scenario.renewal_input import CLASS_BLIND_REASON
from eda_sim.theory.scenario.stations import StationSolution, solve_station
from eda_sim.theory.scenario.totals import class_totals, system_totals
from eda_sim.theory.scenario.variability import arrival_scv

__all__ = ["solve"]

BLOCKING_REASON = (
    "on_full: block: blocking after service has no product-form solution and the "
    "network CTMC could not be used"
)
CLASS_METHOD = "sum over stations (Little's law)"
_JACKSON_METHODS = {"M/M/1", "M/M/c (Erlang C)", "no arrivals"}


def _traffic_dicts(
    scenario: Scenario, inputs: ScenarioInputs | None
) -> dict[str, dict[str, float]]:
    names = scenario.station_names
    if inputs is None:
        offered = scenario.arrival_rates().sum(axis=0)
        carried = scenario.carried_rates().sum(axis=0)
        loads = (scenario.offered_load(), scenario.carried_load())
    else:
        offered, carried = inputs.traffic.offered_total, inputs.traffic.carried_total
        loads = inputs.traffic.loads(inputs.means, inputs.servers)

    def named(values: np.ndarray) -> dict[str, float]:
        return dict(zip(names, map(float, values), strict=True))

    return {
        "arrival_rates": named(offered),
        "offered_load": named(loads[0]),
        "carried_rates": named(carried),
        "carried_load": named(loads[1]),
    }


def _unavailable(
    scenario: Scenario, reason: str, inputs: ScenarioInputs | None = None
) -> ScenarioTheory:
    names = scenario.station_names
    classes = (
        {}
        if scenario.single_class
        else {c.name: ClassTheory.unavailable(reason) for c in scenario.classes}
    )
    return ScenarioTheory(
        stations=dict.fromkeys(names),
        system=None,
        classes=classes,
        article={},
        reasons={**dict.fromkeys(names, reason), "system": reason},
        **_traffic_dicts(scenario, inputs),
    )


def _replayed_trace(inputs: ScenarioInputs) -> ScenarioTheory | None:
    scenario = inputs.scenario
    if not scenario.has_trace:
        return None
    replayed = [c for c in scenario.classes if c.arrivals.kind == "trace"]
    measured = ", ".join(
        f"{c.name}: rate {c.arrivals.rate:.4g}, gap SCV {c.arrivals.scv:.3g}" for c in replayed
    )
    return _unavailable(
        scenario,
        "trace arrivals: a replayed trace is not a stochastic model, no formula applies "
        f"(measured {measured})",
        inputs,
    )


def _no_steady_state(inputs: ScenarioInputs) -> ScenarioTheory | None:
    scenario = inputs.scenario
    carried = inputs.traffic.loads(inputs.means, inputs.servers)[1]
    unstable = [
        f"{station.name} (ρ = {rho:.4g})"
        for station, rho in zip(scenario.stations, carried, strict=True)
        if station.capacity is None and not rho < 1
    ]
    if not unstable:
        return None
    return _unavailable(
        scenario,
        "no steady state: carried load ρ >= 1 with unlimited capacity at " + ", ".join(unstable),
        inputs,
    )


def _by_station(inputs: ScenarioInputs) -> tuple[list[StationSolution | None], np.ndarray | None]:
    """Every station on its own; blocking stations (and their senders' blocked time) aside."""
    scenario = inputs.scenario
    poisson_everywhere = bool(inputs.poisson_input[inputs.traffic.offered_total > 0].all())
    scv = None if poisson_everywhere else arrival_scv(inputs)
    out: list[StationSolution | None] = []
    for j, station in enumerate(scenario.stations):
        if station.on_full == "block" and inputs.traffic.offered_total[j] > 0:
            out.append(None)  # a station that nothing reaches never blocks: solved as idle
            continue
        solution = solve_station(inputs, j, scv, station_ctmc)
        if inputs.senders[j]:
            figures = replace(
                solution.figures,
                method=f"{solution.figures.method.removesuffix(' (approx.)')}; blocked time "
                "not modelled (approx.)",
                exact=False,
                reason="it sends to a station with on_full: block, whose blocking is not modelled",
            )
            solution = StationSolution(figures, np.full(len(scenario.classes), math.nan))
        out.append(solution)
    return out, scv


def _exact_losses(
    inputs: ScenarioInputs, solutions: list[StationSolution | None]
) -> dict[int, float]:
    """Losses of finite stations solved exactly that the traffic equations' model missed.

    Such a station has Poisson input, so it lies on no cycle and its own loss does
    not change what it is offered: fixing it in the traffic equations only
    corrects what the stations after it are offered.
    """
    out = {}
    for j, solution in enumerate(solutions):
        if solution is None or inputs.capacity[j] is None or not solution.figures.exact:
            continue
        if abs(solution.figures.loss - float(inputs.traffic.loss[j])) > 1e-13:
            out[j] = solution.figures.loss
    return out


def _exact(solutions: list[StationSolution | None]) -> bool:
    return all(
        s is not None and s.figures.exact and s.classes_exact and not np.isnan(s.class_wq).any()
        for s in solutions
    )


def _system_method(solutions: list[StationSolution | None]) -> str:
    methods = [s.figures.method for s in solutions if s is not None]
    if any(m.startswith("CTMC") for m in methods):
        return "per-station figures, CTMC where needed (Little's law)"
    if all(m in _JACKSON_METHODS for m in methods):
        return "Jackson network"
    if any(m.startswith("QNA") for m in methods):
        return "QNA (Whitt 1983)"
    return "per-station formulas (Little's law)"


def _assemble(
    inputs: ScenarioInputs,
    solutions: list[StationSolution | None],
    networks: list[NetworkSolution],
    notes: dict[int, str],
) -> ScenarioTheory:
    """Stations (each from its own formula or its part's CTMC), then classes and system."""
    scenario = inputs.scenario
    names = scenario.station_names
    k_count, n = len(scenario.classes), len(names)
    carried = np.array(inputs.traffic.carried)
    for network in networks:
        carried[:, network.members] = network.throughput
        for j, solved in zip(network.members, network.stations, strict=True):
            solutions[j] = solved
    visit_time = np.full((k_count, n), math.nan)
    exact = np.zeros((k_count, n), dtype=bool)
    stations: dict[str, StationTheory | None] = {}
    reasons: dict[str, str] = {}
    for j, solution in enumerate(solutions):
        note = notes.get(j, "")
        if solution is None:
            stations[names[j]] = None
            reasons[names[j]] = BLOCKING_REASON + (f" ({note})" if note else "")
            continue
        figures = solution.figures
        if note and not figures.exact:
            figures = replace(figures, reason="; ".join(filter(None, [figures.reason, note])))
        stations[names[j]] = figures
        blocked = solution.class_blocked if solution.class_blocked is not None else 0.0
        visit_time[:, j] = solution.class_wq + inputs.means[:, j] + blocked
        exact[:, j] = figures.exact and solution.classes_exact
    loss = np.array([s.figures.loss if s is not None else 0.0 for s in solutions])
    class_notes = {
        j: CLASS_BLIND_REASON
        for j, solution in enumerate(solutions)
        if solution is not None and solution.figures.exact and not solution.classes_exact
    }
    classes = class_totals(
        inputs, carried, loss, visit_time, exact, "sum over stations (Little's law)", class_notes
    )
    station_l = math.fsum(s.figures.L for s in solutions if s is not None)
    totals = system_totals(inputs, classes, station_l, _system_method(solutions))
    system = None if isinstance(totals, str) else totals
    if isinstance(totals, str):
        reasons["system"] = totals
    if any(s is None for s in solutions) and system is None:
        reasons["system"] = BLOCKING_REASON
    return ScenarioTheory(
        stations=stations,
        system=system,
        classes={} if scenario.single_class else classes,
        article=_article(inputs),
        reasons=reasons,
        **_traffic_dicts(scenario, inputs),
    )


def _article(inputs: ScenarioInputs) -> dict[str, ArticleValues]:
    loads = inputs.traffic.loads(inputs.means, inputs.servers)[0]
    rates = inputs.traffic.offered_total
    return {
        name: ArticleValues(
            float(loads[j]), article_L(float(loads[j])), article_W(float(rates[j]), float(loads[j]))
        )
        for j, name in enumerate(inputs.names)
        if inputs.servers[j] == 1 and inputs.capacity[j] is None and rates[j] > 0 and loads[j] < 1
    }


def _dispatch(scenario: Scenario) -> ScenarioTheory:
    inputs = scenario_inputs(scenario)
    for situation in (_replayed_trace, _no_steady_state):
        theory = situation(inputs)
        if theory is not None:
            return theory
    solutions, scv = _by_station(inputs)
    exact_losses = _exact_losses(inputs, solutions)
    if exact_losses:  # carry the exact losses downstream, then solve the stations again
        inputs = scenario_inputs(scenario, exact_losses)
        solutions, scv = _by_station(inputs)
    networks: list[NetworkSolution] = []
    notes: dict[int, str] = {}
    for members in components(inputs):
        if _exact([solutions[j] for j in members]):
            continue
        network = network_ctmc(inputs, scv, members)
        if isinstance(network, NetworkSolution):
            networks.append(network)
        else:
            notes.update(dict.fromkeys(members, f"network CTMC not used: {network}"))
    return _assemble(inputs, solutions, networks, notes)


def solve(scenario: Scenario) -> ScenarioTheory:
    """Steady-state theory for every station, the system and each class of ``scenario``.

    Returns figures marked with their ``method``, ``exact`` and, where
    approximate, the ``reason``; where no formula applies the figures are ``None``
    (stations, system) or unavailable (classes) with the reason, never an exception.
    """
    try:
        return _dispatch(scenario)
    except ValueError as error:  # a formula refused its input: say so, do not crash
        return _unavailable(scenario, f"no formula applies: {error}")
