"""Which stations and classes get their laws from the network CTMC's first passages (layer 3).

After the single-station laws and the closed-form routes (:mod:`.stations`),
some stations have no law (blocking senders and their targets, stations
downstream of a loss, priorities inside a network) and some classes no
end-to-end law (routes with a cycle, a capacity, fan-out, non-M/M/1 stations).
For each group of stations that exchange events (solved as one CTMC by the
means' theory too) that has such a station or class, and is Markovian
(Poisson arrivals, phase-type service), :func:`network_findings` builds the
network with tagged events (:mod:`.network_chain`) and takes each missing
station's ``Wq`` and ``W`` and each missing class's end-to-end time from their
first passages (:mod:`.network_passage`). Where that is not possible the
reason is kept, after the reason no formula applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import numpy as np

from eda_sim.theory.percentiles import tagged as tagged_chains
from eda_sim.theory.percentiles.laws import TimeLaw
from eda_sim.theory.percentiles.network_bounds import PassageBounds, passage_bounds
from eda_sim.theory.percentiles.network_chain import (
    network_too_large,
    tagged_network,
    too_many_states,
)
from eda_sim.theory.percentiles.network_moves import TaggedNetwork
from eda_sim.theory.percentiles.network_passage import (
    journey_laws,
    returns_at_once,
    station_passage,
)
from eda_sim.theory.percentiles.stations import StationLaws
from eda_sim.theory.scenario.inputs import ScenarioInputs
from eda_sim.theory.scenario.markov_network import components, markovian_reason

__all__ = ["NetworkFindings", "network_findings"]

_NOT_USED = "network CTMC first passage not used"
_T = TypeVar("_T")


@dataclass
class NetworkFindings:
    """Station laws (by index) and class journeys (law, share that ends) found, or why not."""

    stations: dict[int, StationLaws] = field(default_factory=dict)
    journeys: dict[int, tuple[TimeLaw, float]] = field(default_factory=dict)
    station_reasons: dict[int, str] = field(default_factory=dict)
    class_reasons: dict[int, str] = field(default_factory=dict)


def _needs(
    inputs: ScenarioInputs, laws: list[StationLaws], classes: set[int], members: list[int]
) -> tuple[list[int], list[int], list[int]]:
    """The members without a law, the classes of this group without one, and split classes."""
    offered = np.asarray(inputs.traffic.offered)
    inside = np.zeros(offered.shape[1], bool)
    inside[members] = True
    stations = [j for j in members if laws[j].visit is None and offered[:, j].sum() > 0]
    here = [k for k in sorted(classes) if (offered[k, members] > 0).any()]
    split = [k for k in here if (offered[k, ~inside] > 0).any()]
    return stations, [k for k in here if k not in split], split


def _tagged(inputs: ScenarioInputs, members: list[int]) -> TaggedNetwork | str:
    try:
        return tagged_network(inputs, members)
    except (ValueError, ArithmeticError) as error:  # a solve that did not converge
        return str(error)


def _guarded(compute: Callable[[], _T]) -> _T | str:
    """``compute()``, or the reason it failed (a solver that refused, never a crash)."""
    try:
        return compute()
    except (ValueError, ArithmeticError) as error:
        return str(error)


def network_findings(
    inputs: ScenarioInputs, laws: list[StationLaws], classes: set[int]
) -> NetworkFindings:
    """The network first-passage laws of the stations without a law and of ``classes``.

    A class gets a law only when every station it reaches lies in one group
    (its journey is one chain's passage). A passage sure to be refused (one
    that returns at once, or above the limit by :mod:`.network_bounds`) is
    refused before the network is solved and explored; where all are, it is
    not solved at all.
    """
    found = NetworkFindings()
    for members in components(inputs):
        stations, wanted, split = _needs(inputs, laws, classes, members)
        for k in split:
            found.class_reasons[k] = f"{_NOT_USED}: its stations lie in independent groups"
        if not stations and not wanted:
            continue
        why = markovian_reason(inputs, members)
        position = {j: i for i, j in enumerate(members)}
        bounds = passage_bounds(inputs, members) if why is None else None
        early = _early(inputs, bounds, position, stations, wanted)
        whole = bounds is not None and not bounds.truncated  # the chain the solve would solve
        if bounds is not None and whole and bounds.chain.size > tagged_chains.PASSAGE_LIMIT:
            why = network_too_large(bounds.chain.size)  # tagged_network's reason, known now
        elif why is None and early.keys() == {*stations, *(~k for k in wanted)}:
            for j in stations:
                found.station_reasons[j] = f"{_NOT_USED}: {early[j]}"
            for k in wanted:
                found.class_reasons[k] = f"{_NOT_USED}: {early[~k]}"
            continue
        tagged = _tagged(inputs, members) if why is None else why
        if isinstance(tagged, str):
            for j in stations:
                found.station_reasons[j] = f"{_NOT_USED}: {tagged}"
            for k in wanted:
                found.class_reasons[k] = f"{_NOT_USED}: {tagged}"
            continue
        for j in stations:
            visit = 0 if bounds is None else bounds.visit(position[j])
            passage = (
                early[j]
                if j in early
                else _guarded(partial(station_passage, tagged, position[j], visit))
            )
            if isinstance(passage, str):
                found.station_reasons[j] = f"{_NOT_USED}: {passage}"
                continue
            wait, visit_law, _ = passage
            found.stations[j] = StationLaws(wait, visit_law, classes={})
        for k in wanted:
            journey = early[~k] if ~k in early else _guarded(partial(journey_laws, tagged, [k]))
            if isinstance(journey, str):
                found.class_reasons[k] = f"{_NOT_USED}: {journey}"
            else:
                found.journeys[k] = journey[k]
    return found


def _early(
    inputs: ScenarioInputs,
    bounds: PassageBounds | None,
    position: dict[int, int],
    stations: list[int],
    wanted: list[int],
) -> dict[int, str]:
    """The passages refused before solving: station ``j`` at ``j``, class ``k`` at ``~k``.

    The reasons are those :func:`~.network_passage.station_passage` and
    :func:`~.network_passage.journey_laws` give, in their order: a station an
    event returns to at once; then a ``Wq`` (for a station) or end-to-end chain
    whose lower bound is above :data:`~.tagged.PASSAGE_LIMIT`.
    """
    if bounds is None:
        return {}
    out: dict[int, str] = {}
    originals = len(bounds.network.classes)
    for j in stations:
        back = returns_at_once(bounds.network, originals, position[j])
        if back is not None:
            out[j] = back
        elif bounds.wait(position[j]) > tagged_chains.PASSAGE_LIMIT:
            out[j] = too_many_states()
    for k in wanted:
        if bounds.journey(k) > tagged_chains.PASSAGE_LIMIT:
            out[~k] = f"class {inputs.scenario.classes[k].name}: {too_many_states()}"
    return out
