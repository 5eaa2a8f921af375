"""The exact CTMC solver applied to a scenario: one station, or the whole network.

* :func:`station_ctmc` solves one station with Poisson input (the offered rates):
  the classes of one priority level are merged into one phase-type mixture (with
  Poisson arrivals a waiting event's class matters only when its service starts,
  so it can be drawn then), and an unlimited buffer is truncated.
* :func:`~eda_sim.theory.scenario.markov_network.network_ctmc` (its own module)
  solves a whole Markovian scenario (Poisson arrivals, phase-type service)
  exactly: blocking after service, priorities with buffers, losses anywhere,
  feedback, with the helpers of this module.

An unlimited buffer is truncated at a level chosen from its load; after the
solve, the tail beyond it is estimated from the geometric decay of the levels
below the top, ``P(top) r / (1 - r) + P(top)`` with ``r`` the mean ratio per level
over the twenty levels below the top one (the top level itself is distorted by
the truncation: :func:`eda_sim.theory.ctmc_metrics.chain_figures`), and the level is
doubled until that is below ``TAIL_TARGET`` (or the state space would pass its
limit, when the solver refuses, saying so). The figures then carry the
truncation and its tail bound in their ``reason``.
"""

from __future__ import annotations

import hashlib
import math
import weakref
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim.theory.ctmc import (
    STATE_LIMIT,
    Chain,
    MarkovClass,
    MarkovNetwork,
    MarkovStation,
    build_chain,
    state_bound,
    stationary,
)
from eda_sim.theory.ctmc_metrics import ChainFigures, chain_figures
from eda_sim.theory.families import phase_type
from eda_sim.theory.results import StationTheory
from eda_sim.theory.scenario.inputs import ScenarioInputs
from eda_sim.theory.scenario.stations import StationSolution

__all__ = [
    "TAIL_TARGET",
    "SolvedChain",
    "StationChain",
    "size_refusal",
    "station_chain",
    "station_ctmc",
]

FloatArray = npt.NDArray[np.float64]

#: A chain of two or more stations with a truncated buffer is a lattice whose sparse LU
#: fills in (a plane of 32,724 states solves in about 2 s; one of 121,524 states, and a
#: 166,625-state chain of three stations with one truncated buffer, took minutes): its limit.
PLANE_LIMIT = 40_000
#: With three or more truncated buffers the lattice fills in faster still: its limit.
LATTICE_LIMIT = 20_000
#: A truncated buffer is deepened until the estimated tail mass beyond it is below this.
TAIL_TARGET = 1e-10
_MAX_DOUBLINGS = 6


def _loss(carried: float, offered: float) -> float:
    """``1 - carried / offered``, with rounding below 1e-12 shown as no loss."""
    share = 1.0 - carried / offered if offered > 0 else 0.0
    return share if share > 1e-12 else 0.0


def _first_depth(rho: float, scv: float) -> int:
    """Waiting places to keep so that a geometric tail of the load's decay is ~1e-13."""
    if rho <= 0.0:
        return 4
    decay = max(rho, math.exp(-2.0 * (1.0 - rho) / (1.0 + max(scv, 0.0))))
    return max(8, min(100_000, math.ceil(math.log(1e-13) / math.log(decay)) + 4))


def _mixture(
    laws: list[tuple[FloatArray, FloatArray]], weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The phase-type law of 'law i with probability weights[i]' (block-diagonal)."""
    alpha = np.concatenate([w * a for w, (a, _) in zip(weights, laws, strict=True)])
    size = alpha.size
    generator = np.zeros((size, size))
    start = 0
    for _, t in laws:
        generator[start : start + t.shape[0], start : start + t.shape[0]] = t
        start += t.shape[0]
    return alpha, generator


def _tail(figures: ChainFigures) -> float:
    worst = 0.0
    for j, top in figures.boundary.items():
        r = figures.decay[j]
        worst = max(worst, math.inf if r >= 1.0 else top * r / (1.0 - r) + top)
    return worst


@dataclass(frozen=True, eq=False)
class SolvedChain:
    """A solved chain: its stationary law, figures, truncation depths and tail estimate."""

    chain: Chain
    pi: FloatArray
    figures: ChainFigures
    depths: dict[int, int]
    tail: float


def size_refusal(network: MarkovNetwork, depths: dict[int, int], levels: int = 1) -> str | None:
    """Why :func:`_solve_truncated` refuses to build ``network`` at ``depths`` (None: it builds).

    Decided from :func:`~eda_sim.theory.ctmc_model.state_bound`, before anything is built.
    """
    bound = state_bound(network)
    if bound > STATE_LIMIT:
        return f"state space above the limit of {STATE_LIMIT:,} states"
    if depths and levels >= 2 and bound > (LATTICE_LIMIT if levels >= 3 else PLANE_LIMIT):
        return (
            f"an unlimited buffer shared by {levels} priority levels, to truncate: up to "
            f"{bound:,} states, which a sparse LU cannot solve in seconds (limit "
            f"{LATTICE_LIMIT if levels >= 3 else PLANE_LIMIT:,})"
        )
    limit = LATTICE_LIMIT if len(depths) >= 3 else PLANE_LIMIT
    if depths and len(network.stations) >= 2 and bound > limit:
        return (
            f"{len(depths)} unlimited buffer(s) to truncate in a chain of "
            f"{len(network.stations)} stations: up to {bound:,} states, which a sparse "
            f"LU cannot solve in seconds (limit {limit:,})"
        )
    return None


#: Solved chains kept per scenario (its lifetime), by what was solved: :func:`solve` and
#: :func:`~eda_sim.theory.percentiles.latency_theory` of one scenario solve a part once.
_SOLVED: weakref.WeakKeyDictionary[object, dict[bytes, SolvedChain | str]] = (
    weakref.WeakKeyDictionary()
)
#: The most solved chains kept per scenario (the last ones solved).
_KEPT = 8


def _fingerprint(network: MarkovNetwork, depths: dict[int, int], levels: int) -> bytes:
    """A key that determines :func:`_solve_truncated`'s result: the network at its first depths.

    Both builders (a station's, a component's) change only the truncated limits
    with the depths, by ``servers + depth``, so the first network, the depths and
    ``levels`` fix every chain solved after it, under this module's limits (read
    now, so a changed limit is a different key).
    """
    digest = hashlib.blake2b(digest_size=32)
    limits = (STATE_LIMIT, PLANE_LIMIT, LATTICE_LIMIT, TAIL_TARGET, _MAX_DOUBLINGS)
    digest.update(repr((network.stations, sorted(depths.items()), levels, limits)).encode())
    for c in network.classes:
        digest.update(repr((c.name, c.fanout, c.level, c.arrivals.shape)).encode())
        for part in (c.arrivals, c.routing):
            digest.update(np.ascontiguousarray(part, np.float64).tobytes())
        for law in c.service:
            if law is None:
                digest.update(b"none")
                continue
            for part in law:
                digest.update(repr(part.shape).encode())
                digest.update(np.ascontiguousarray(part, np.float64).tobytes())
    return digest.digest()


def _solve_truncated(
    build: object, depths: dict[int, int], levels: int = 1, owner: object = None
) -> SolvedChain | str:
    """Solve, deepening the truncated buffers until the tail is small; or why not.

    ``levels`` > 1 says that one truncated buffer holds several priority levels:
    a lattice too (one dimension per level), under the same limits. With an
    ``owner`` (the scenario), the result is kept while the owner lives and given
    again for the same chain (its arrays read-only), not solved again.
    """
    assert callable(build)
    if owner is None:
        return _solve_fresh(build, depths, levels)
    key = _fingerprint(build(depths), depths, levels)
    kept = _SOLVED.setdefault(owner, {})
    if key not in kept:
        solved = _solve_fresh(build, depths, levels)
        if not isinstance(solved, str):
            for array in (solved.pi, solved.chain.states):
                array.flags.writeable = False
        kept[key] = solved
        while len(kept) > _KEPT:
            del kept[next(iter(kept))]
    return kept[key]


def _solve_fresh(build: object, depths: dict[int, int], levels: int) -> SolvedChain | str:
    assert callable(build)
    for _ in range(_MAX_DOUBLINGS):
        network = build(depths)
        refused = size_refusal(network, depths, levels)
        if refused is not None:
            return refused
        try:
            chain = build_chain(network)
            pi = stationary(chain)
            figures = chain_figures(chain, pi)
        except ValueError as error:
            return str(error)
        tail = _tail(figures)
        if tail <= TAIL_TARGET:
            return SolvedChain(chain, pi, figures, depths, tail)
        depths = {j: 2 * d for j, d in depths.items()}
    return f"the truncated buffers' tail stayed above {TAIL_TARGET:g}"


def _note(
    states: int, names: list[str], depths: dict[int, int], limits: dict[int, int], tail: float
) -> str:
    if not depths:
        return f"exact numerical solution of the {states}-state CTMC"
    where = ", ".join(f"{names[j]} at {limits[j]}" for j in depths)
    return (
        f"CTMC truncated ({where} present at most); the tail cut off, estimated from "
        f"the geometric decay of the top levels, is below {max(tail, 1e-300):.1g}"
    )


@dataclass(frozen=True, eq=False)
class StationChain:
    """One station's own CTMC, solved: class ``k`` of the chain is priority level ``k``.

    ``groups[k]`` are the scenario's classes of that level (merged into one
    phase-type mixture by their rates: with Poisson arrivals a waiting event's
    class matters only when its service starts, so it can be drawn then).
    """

    solved: SolvedChain
    groups: list[list[int]]
    rates: FloatArray  # (levels,) arrival rates per level
    servers: int
    capacity: int | None
    limit: int  # the capacity, or the truncation level of an unlimited buffer


def station_chain(inputs: ScenarioInputs, j: int, lattice: bool = False) -> StationChain | str:
    """Station ``j`` alone as a CTMC, Poisson input at its offered rates; or why it cannot be.

    With ``lattice``, an unlimited buffer shared by several priority levels is
    held to the limits of a truncated lattice (``PLANE_LIMIT``, ``LATTICE_LIMIT``),
    as network chains are, instead of only ``STATE_LIMIT``.
    """
    scenario = inputs.scenario
    rates = inputs.traffic.offered[:, j]
    levels = inputs.levels_at(j)
    groups = [
        [k for k, c in enumerate(scenario.classes) if c.priority == lv and rates[k] > 0]
        for lv in levels
    ]
    classes = []
    for rank, group in enumerate(groups):
        laws = [phase_type(scenario.classes[k].service[j]) for k in group]
        if any(law is None for law in laws):
            return "a service law here is not phase-type"
        weights = rates[group] / rates[group].sum()
        law = _mixture([x for x in laws if x is not None], weights)
        classes.append(
            MarkovClass(
                f"level {rank}",
                np.array([rates[group].sum()]),
                np.zeros((1, 1)),
                ((),),
                (law,),
                rank,
            )
        )
    station = scenario.stations[j]
    servers, capacity = station.servers, station.capacity
    mean, scv = inputs.mixture(j)

    def build(depths: dict[int, int]) -> MarkovNetwork:
        limit = capacity if capacity is not None else servers + depths[0]
        return MarkovNetwork(
            (MarkovStation(station.name, servers, limit, truncated=capacity is None),),
            tuple(classes),
        )

    depths = (
        {} if capacity is not None else {0: _first_depth(float(rates.sum()) * mean / servers, scv)}
    )
    solved = _solve_truncated(build, depths, len(groups) if lattice else 1, scenario)
    if isinstance(solved, str):
        return solved
    limit = capacity if capacity is not None else servers + solved.depths[0]
    level_rates = np.array([float(rates[group].sum()) for group in groups])
    return StationChain(solved, groups, level_rates, servers, capacity, limit)


def station_ctmc(inputs: ScenarioInputs, j: int) -> StationSolution | str:
    """Station ``j`` alone, Poisson input at its offered rates; or the reason it cannot."""
    found = station_chain(inputs, j)
    if isinstance(found, str):
        return found
    scenario = inputs.scenario
    station = scenario.stations[j]
    servers, capacity = station.servers, station.capacity
    rates = inputs.traffic.offered[:, j]
    figures, depths, tail = found.solved.figures, found.solved.depths, found.solved.tail
    thr = float(figures.throughput.sum())
    offered = float(rates.sum())
    lq, big_l = float(figures.Lq.sum()), float(figures.L.sum())
    note = _note(
        figures.states, [station.name], depths, {0: servers + depths[0]} if depths else {}, tail
    )
    result = StationTheory(
        L=big_l,
        Lq=lq,
        W=big_l / thr,
        Wq=lq / thr,
        utilization=float(figures.busy[0]) / servers,
        throughput=thr if capacity is not None else offered,
        loss=_loss(thr, offered) if capacity is not None else 0.0,
        method=f"CTMC ({figures.states} states)",
        exact=True,
        reason=note,
    )
    waits = np.full(len(scenario.classes), math.nan)
    for rank, group in enumerate(found.groups):
        waits[group] = figures.Lq[rank, 0] / figures.throughput[rank, 0]
    return StationSolution(result, waits)
