"""Exact wait and time-per-visit laws of a station the CTMC solver makes exact (layer 3).

For a station with Poisson input and phase-type service (exponential, Erlang,
hyperexponential: :func:`eda_sim.theory.families.phase_type`, decided by the
distribution's family, never from a moment) — several servers, a capacity,
priority levels, with or without a capacity — the station's own CTMC
(:func:`eda_sim.theory.scenario.markov.station_chain`) gives what a tagged
arrival finds, and :mod:`.tagged` the first-passage chains of its wait and its
time per visit. The station's laws mix the levels by their arrival rates (each
level's admitted share: a full station refuses every level alike); each class
gets its own law (its level's wait, then its own service), for its end-to-end
time when it visits this station only.
"""

from __future__ import annotations

import numpy as np

from eda_sim.theory.families import PhaseType, phase_type
from eda_sim.theory.percentiles.laws import TimeLaw, mixture
from eda_sim.theory.percentiles.passage import Passage
from eda_sim.theory.percentiles.tagged import Arrivals, WaitChain, wait_chain
from eda_sim.theory.scenario.inputs import ScenarioInputs
from eda_sim.theory.scenario.markov import StationChain, station_chain

__all__ = ["CtmcLaws", "arrivals_of", "ctmc_station_laws", "method_of"]


def method_of(states: int) -> str:
    """The label of a law from a first-passage chain of ``states`` transient states."""
    return f"CTMC first passage ({states:,} state{'' if states == 1 else 's'})"


def arrivals_of(found: StationChain) -> Arrivals:
    """What an admitted arrival finds at a solved station (PASTA, then given admission)."""
    chain = found.solved.chain
    layout, states, pi = chain.layout, chain.states, found.solved.pi
    queue = np.column_stack([states[:, length] for length, _, _, _ in layout.queue[0]])
    slots = sorted(layout.serve[0])
    serving = np.column_stack([states[:, layout.serve[0][slot]] for slot in slots])
    present = states[:, layout.present[0]].sum(axis=1)
    admitted = present < found.limit
    weight = pi[admitted] / pi[admitted].sum()
    services = []
    for cls in chain.network.classes:
        law = cls.service[0]
        assert law is not None
        services.append(law)
    return Arrivals(
        servers=found.servers,
        capacity=found.capacity,
        slots=slots,
        serving=serving[admitted],
        queue=queue[admitted],
        weight=weight,
        services=services,
        rates=found.rates,
        tail=found.solved.tail,
    )


def _admitted(found: StationChain) -> float:
    """The probability that an arrival finds room (PASTA)."""
    chain = found.solved.chain
    present = chain.states[:, chain.layout.present[0]].sum(axis=1)
    return float(found.solved.pi[present < found.limit].sum())


class CtmcLaws:
    """A station's exact laws from its first-passage chains: station-wide and per class."""

    def __init__(
        self, wait: TimeLaw, visit: TimeLaw, classes: dict[int, TimeLaw], admitted: float
    ) -> None:
        self.wait, self.visit, self.classes, self.admitted = wait, visit, classes, admitted


def _law(passage: Passage, error: float, states: int) -> TimeLaw:
    def survival(t: float) -> tuple[float, float]:
        value, bound = passage(t)
        return value, bound + error

    return TimeLaw(survival, passage.mean, 0.0, method_of(states))


def _levels_label(sizes: list[int]) -> str:
    """The label of a station's law mixed over its priority levels' first-passage chains."""
    return (
        f"CTMC first passage ({sum(sizes):,} states in {len(sizes)} chains, "
        "one per priority level), mixed by rate"
    )


def _same(one: PhaseType, other: PhaseType) -> bool:
    return one[0].shape == other[0].shape and all(
        np.array_equal(a, b) for a, b in zip(one, other, strict=True)
    )


def ctmc_station_laws(inputs: ScenarioInputs, j: int) -> CtmcLaws | str:
    """The exact laws at station ``j`` from its CTMC, or why there are none.

    The caller has checked that the input is Poisson and the station does not
    block (nor send to a blocking station).
    """
    if not all(phase_type(law) is not None for law in inputs.laws_at(j)):
        return "a service law here is not phase-type"
    found = station_chain(inputs, j, lattice=True)
    if isinstance(found, str):
        return f"CTMC not used: {found}"
    arrivals = arrivals_of(found)
    admitted = 1.0 if found.capacity is None else _admitted(found)
    waits, visits, classes = [], [], {}
    sizes: list[int] = []
    visit_sizes: list[tuple[int, int]] = []
    for level, group in enumerate(found.groups):
        chain: WaitChain | str = wait_chain(arrivals, level)
        if isinstance(chain, str):
            return chain
        try:
            wait = _law(chain.wait(), chain.error, chain.size)
            merged = arrivals.services[level]
            visit_states = chain.size + merged[0].size
            visit = _law(chain.visit(merged), chain.error, visit_states)
            for k in group:
                own = phase_type(inputs.scenario.classes[k].service[j])
                assert own is not None
                classes[k] = (
                    visit
                    if _same(own, merged)
                    else _law(chain.visit(own), chain.error, chain.size + own[0].size)
                )
        except ValueError as error:  # the series would cost too much
            return str(error)
        waits.append(wait)
        visits.append(visit)
        sizes.append(chain.size)
        visit_sizes.append((chain.size, merged[0].size))
    rates = arrivals.rates.tolist()
    if len(waits) == 1:
        return CtmcLaws(waits[0], visits[0], classes, admitted)
    return CtmcLaws(
        mixture(waits, rates, _levels_label(sizes)),
        mixture(visits, rates, _levels_label([size + phases for size, phases in visit_sizes])),
        classes,
        admitted,
    )
