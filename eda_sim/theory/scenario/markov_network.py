"""The exact CTMC solver applied to a whole Markovian network (or each independent part).

:func:`network_ctmc` solves a scenario whose arrivals are Poisson and whose
service is phase-type exactly, as one chain per group of stations that exchange
events (:func:`components`): blocking after service, priorities with buffers,
losses anywhere, feedback. Unlimited buffers are truncated and deepened as in
:mod:`eda_sim.theory.scenario.markov` (one station's chain), whose helpers it uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim.routing import strongly_connected_components
from eda_sim.theory.ctmc import MarkovClass, MarkovNetwork, MarkovStation
from eda_sim.theory.ctmc_metrics import ChainFigures
from eda_sim.theory.families import phase_type
from eda_sim.theory.results import StationTheory
from eda_sim.theory.scenario.inputs import ScenarioInputs, flow_successors, routing_rows
from eda_sim.theory.scenario.markov import (
    SolvedChain,
    _first_depth,
    _loss,
    _note,
    _solve_truncated,
)
from eda_sim.theory.scenario.stations import StationSolution

__all__ = [
    "NetworkSolution",
    "component_model",
    "components",
    "markovian_reason",
    "network_ctmc",
    "solve_component",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class NetworkSolution:
    """A part of the network (``members``, station indices) solved by one CTMC."""

    members: list[int]
    stations: list[StationSolution]  # in the order of members
    throughput: FloatArray  # (K, len(members)) completions per class
    states: int
    note: str


def components(inputs: ScenarioInputs) -> list[list[int]]:
    """Groups of stations that exchange events (weakly connected); independent of each other.

    Poisson streams split at entry are independent, so stations that no event
    travels between evolve independently and each group has its own CTMC.
    """
    n = len(inputs.scenario.stations)
    successors, _ = flow_successors(inputs.flow, n)
    neighbours = [set(targets) for targets in successors]
    for source, targets in enumerate(successors):
        for target in targets:
            neighbours[target].add(source)
    # the strong components of the graph made symmetric are its weak ones; none
    # reaches another, so they come in the order of their lowest stations
    return strongly_connected_components([sorted(around) for around in neighbours])


def markovian_reason(inputs: ScenarioInputs, members: list[int]) -> str | None:
    """Why these stations are not a Markovian network the CTMC takes (None if they are)."""
    scenario = inputs.scenario
    offered = inputs.traffic.offered
    for k, c in enumerate(scenario.classes):
        if c.arrivals.kind != "poisson" and (inputs.gamma[k, members] > 0).any():
            return f"{c.arrivals.kind} arrivals of class {c.name} are not Poisson"
        for j in members:
            law = c.service[j]
            if offered[k, j] > 0 and phase_type(law) is None:
                where = f"{scenario.station_names[j]} ({law.describe()})"
                return f"the service at {where} is not phase-type"
    return None


def _classes(inputs: ScenarioInputs, members: list[int]) -> tuple[MarkovClass, ...]:
    scenario = inputs.scenario
    position = {j: i for i, j in enumerate(members)}
    ranks = {p: r for r, p in enumerate(sorted({c.priority for c in scenario.classes}))}
    offered = inputs.traffic.offered
    classes = []
    for k, c in enumerate(scenario.classes):
        routing = routing_rows(c.routing, members)
        fanout = tuple(
            tuple(position[t] for t in c.routing.fanout[j] if t in position) for j in members
        )
        service = tuple(phase_type(c.service[j]) if offered[k, j] > 0 else None for j in members)
        classes.append(
            MarkovClass(
                c.name, inputs.gamma[k, members], routing, fanout, service, ranks[c.priority]
            )
        )
    return tuple(classes)


def component_model(
    inputs: ScenarioInputs, arrival_scv: FloatArray | None, members: list[int]
) -> tuple[Callable[[dict[int, int]], MarkovNetwork], dict[int, int]] | str:
    """The stations ``members`` as a model: a builder by truncation depths, and first depths.

    Or the reason the CTMC does not take them (not Markovian, too many stations).
    """
    reason = markovian_reason(inputs, members)
    if reason is not None:
        return reason
    scenario = inputs.scenario
    if len(members) > 64:
        return f"{len(members)} connected stations: the joint state space is far above the limit"
    classes = _classes(inputs, members)
    loads = inputs.traffic.loads(inputs.means, inputs.servers)[1]

    def depth(j: int) -> int:
        ca2 = 1.0 if arrival_scv is None else float(arrival_scv[j])
        # heavy-traffic decay exp(-2 (1 - ρ) / (ca² + cs²)): _first_depth takes 1 + scv
        return _first_depth(float(loads[j]), ca2 + inputs.mixture(j)[1] - 1.0)

    def build(depths: dict[int, int]) -> MarkovNetwork:
        stations = []
        for i, j in enumerate(members):
            s = scenario.stations[j]
            limit = s.capacity if s.capacity is not None else s.servers + depths[i]
            stations.append(
                MarkovStation(s.name, s.servers, limit, s.on_full == "block", s.capacity is None)
            )
        return MarkovNetwork(tuple(stations), classes)

    unlimited = {
        i: depth(j) for i, j in enumerate(members) if scenario.stations[j].capacity is None
    }
    return build, unlimited


def solve_component(
    inputs: ScenarioInputs, arrival_scv: FloatArray | None, members: list[int]
) -> tuple[SolvedChain, Callable[[dict[int, int]], MarkovNetwork]] | str:
    """The stations ``members`` solved as one CTMC (truncations deepened), with its builder."""
    model = component_model(inputs, arrival_scv, members)
    if isinstance(model, str):
        return model
    build, unlimited = model
    solved = _solve_truncated(build, unlimited, owner=inputs.scenario)
    return solved if isinstance(solved, str) else (solved, build)


def network_ctmc(
    inputs: ScenarioInputs, arrival_scv: FloatArray | None, members: list[int]
) -> NetworkSolution | str:
    """The stations ``members`` (a component of the network) as one CTMC, or why not."""
    found = solve_component(inputs, arrival_scv, members)
    if isinstance(found, str):
        return found
    solved = found[0]
    scenario = inputs.scenario
    figures, depths, tail = solved.figures, solved.depths, solved.tail
    names = [scenario.station_names[j] for j in members]
    limits = {i: scenario.stations[members[i]].servers + d for i, d in depths.items()}
    note = _note(figures.states, names, depths, limits, tail)
    return NetworkSolution(
        members, _stations(inputs, figures, note, members), figures.throughput, figures.states, note
    )


def _stations(
    inputs: ScenarioInputs, figures: ChainFigures, note: str, members: list[int]
) -> list[StationSolution]:
    scenario = inputs.scenario
    out = []
    blocking_scenario = scenario.has_blocking
    for i, global_j in enumerate(members):
        station = scenario.stations[global_j]
        thr = float(figures.throughput[:, i].sum())
        offered = float(figures.offered[:, i].sum())
        big_l, lq = float(figures.L[:, i].sum()), float(figures.Lq[:, i].sum())
        blocked = float(figures.blocked[:, i].sum())
        servers = station.servers
        mean = inputs.mixture(global_j)[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            class_wq = np.where(
                figures.throughput[:, i] > 0, figures.Lq[:, i] / figures.throughput[:, i], math.nan
            )
            class_blocked = np.where(
                figures.throughput[:, i] > 0,
                figures.blocked[:, i] / figures.throughput[:, i],
                math.nan,
            )
        finite = station.capacity is not None
        result = StationTheory(
            L=big_l,
            Lq=lq,
            W=big_l / thr if thr > 0 else mean,
            Wq=lq / thr if thr > 0 else 0.0,
            utilization=float(figures.busy[i]) / servers,
            throughput=thr,
            loss=_loss(thr, offered) if finite else 0.0,
            method=f"CTMC ({figures.states} states)",
            exact=True,
            reason=note,
            blocked=(blocked / thr if thr > 0 else 0.0) if blocking_scenario else None,
        )
        out.append(StationSolution(result, class_wq, class_blocked if blocking_scenario else None))
    return out
