"""Stations whose input is a renewal stream, and the feedback folded into it.

A station is a GI queue when every event reaching it comes from one renewal
stream: a class's own external stream (thinned by the entry probability,
which keeps it renewal), or the departures of a one-place loss station with
Poisson input. Events that a station routes straight back to itself join that
stream, which is then no longer renewal; with exponential service and a
common probability ``f`` of coming back (Bernoulli feedback, no fan-out copy
to itself) the number present is still exactly that of a GI/M/c queue: each
event's total service is a geometric sum of ``Exp(μ)`` times, ``Exp(μ(1 - f))``,
and a busy server ends an event's stay at rate ``μ(1 - f)`` (L. Takács, *Bell
System Tech. J.* 42 (1963) 505-519, for the Bernoulli feedback queue). Any
other feedback or merging leaves the station without a renewal input.

The station's figures are then exact; each class's are too, unless the
stream comes from a loss station whose classes have different service laws
there (:attr:`RenewalInput.class_blind`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim import distributions as dists
from eda_sim.routing import Routing
from eda_sim.scenario import Scenario
from eda_sim.theory.families import laplace_transform

__all__ = ["CLASS_BLIND_REASON", "RenewalInput", "renewal_inputs", "routing_entry"]

#: Why a class's wait at a station fed by a loss station is not the station's.
CLASS_BLIND_REASON = (
    "the station's figures are exact, but the gap before an arrival holds its own class's "
    "service at the loss station ahead, so each class waits differently"
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Transform = Callable[[float], float]


def routing_entry(routing: Routing, i: int, j: int) -> float:
    """``P[i, j]`` of one class, read from its sparse rows (no ``(N, N)`` array)."""
    columns, values = routing.transitions.row(i)
    hit = np.flatnonzero(columns == j)
    return float(values[hit[0]]) if hit.size else 0.0


@dataclass(frozen=True)
class RenewalInput:
    """A station's renewal input stream and its own feedback probability.

    Attributes
    ----------
    gaps : callable
        ``s -> E[exp(-s gap)]``: the Laplace transform of the stream's gaps
        (the stream before the station's own feedback joins it).
    feedback : float
        The probability ``f`` that a visit ends by coming straight back, the
        same for every event; 0.0 without a self-loop.
    class_blind : bool
        True when an arrival's class says nothing about the gaps before it, so
        each class waits as the station's arrivals do. False for the departures
        of a loss station whose classes have different service laws there: the
        gap before a class's event holds that class's service, so the classes'
        waits differ (the station's figures stay exact, the classes' do not).
    """

    gaps: Transform
    feedback: float = 0.0
    class_blind: bool = True


def _thinned(gaps: dists.Distribution, share: float) -> Transform:
    """A renewal stream kept with probability ``share`` per event: a geometric sum of gaps."""

    def transform(s: float) -> float:
        value = laplace_transform(gaps, s)
        return share * value / (1.0 - (1.0 - share) * value)

    return transform


def _loss_departures(scenario: Scenario, offered: FloatArray, i: int, j: int) -> Transform | None:
    """The stream from a one-place loss station ``i`` (M/G/1/1, Poisson input) to ``j``.

    After each departure ``i`` is empty; the next departs after an exponential
    idle time and one service, so its departures are a renewal process with gap
    ``Exp(λ) + S`` (class ``k`` with probability ``w_k``); keeping each with its
    class's probability of going to ``j`` is still renewal:
    ``F(s) / (1 - G(s))`` with ``F = Σ w_k p_k λ/(λ+s) S_k*(s)``, ``G`` the same with
    ``1 - p_k``. None when some class both copies and routes from ``i`` to ``j``.
    """
    used = [k for k in range(len(scenario.classes)) if offered[k, i] > 0]
    lam = float(offered[used, i].sum())
    parts = []
    for k in used:
        routing = scenario.classes[k].routing
        copied = j in routing.fanout[i]
        routed = routing_entry(routing, i, j)
        if copied and routed > 0:
            return None
        parts.append(
            (float(offered[k, i]) / lam, 1.0 if copied else routed, scenario.classes[k].service[i])
        )

    def transform(s: float) -> float:
        idle = lam / (lam + s)
        kept = math.fsum(w * p * idle * laplace_transform(law, s) for w, p, law in parts)
        dropped = math.fsum(w * (1 - p) * idle * laplace_transform(law, s) for w, p, law in parts)
        return kept / (1.0 - dropped)

    return transform


def _feedback(scenario: Scenario, offered: FloatArray, j: int) -> float | None:
    """The common probability that a visit to ``j`` returns straight to ``j``, or None.

    None when the classes at ``j`` come back with different probabilities or
    some class copies an event from ``j`` to ``j`` (the stream is then not a
    Bernoulli feedback of one renewal stream).
    """
    used = [k for k in range(len(scenario.classes)) if offered[k, j] > 0]
    routings = [scenario.classes[k].routing for k in used]
    if any(j in routing.fanout[j] for routing in routings):
        return None
    back = {routing_entry(routing, j, j) for routing in routings}
    return back.pop() if len(back) == 1 else None


def renewal_inputs(
    scenario: Scenario,
    gamma: FloatArray,
    incoming: list[list[int]],
    offered: FloatArray,
    poisson: BoolArray,
) -> dict[int, RenewalInput]:
    """Stations fed by one renewal stream only (and perhaps their own Bernoulli feedback).

    ``incoming[j]`` lists the stations other than ``j`` that send events to
    ``j``; ``poisson[i]`` says that station ``i`` has Poisson input.
    """
    out: dict[int, RenewalInput] = {}
    for j in range(len(scenario.stations)):
        sources = np.flatnonzero(gamma[:, j] > 0)
        stream: Transform | None = None
        class_blind = True
        if not incoming[j] and sources.size == 1:
            cls = scenario.classes[int(sources[0])]
            gaps = cls.arrivals.interarrival
            if cls.arrivals.kind == "renewal" and gaps is not None:
                stream = _thinned(gaps, float(cls.routing.entry[j]))
        elif sources.size == 0 and len(incoming[j]) == 1:
            (i,) = incoming[j]
            station = scenario.stations[i]
            if (
                station.capacity == station.servers == 1
                and poisson[i]
                and station.on_full == "lose"
            ):
                stream = _loss_departures(scenario, offered, i, j)
                laws = {c.service[i] for k, c in enumerate(scenario.classes) if offered[k, i] > 0}
                class_blind = len(laws) <= 1
        feedback = _feedback(scenario, offered, j) if stream is not None else None
        if stream is not None and feedback is not None:
            out[j] = RenewalInput(stream, feedback, class_blind)
    return out
