"""A tagged event's wait and time per visit at one CTMC-solved station, as first passages (layer 3).

The station (``c`` servers, a capacity ``K`` or an unlimited buffer, Poisson
arrivals per priority level, phase-type service per level; non-preemptive
priorities, FIFO within a level, as both engines serve) is solved by the CTMC
solver (:func:`eda_sim.theory.scenario.markov.station_chain`). A tagged event
of level ``l`` arrives:

1. **What it finds.** Poisson arrivals see time averages (PASTA, Wolff 1982),
   so it finds state ``s`` with the stationary probability ``π(s)``; with a
   capacity it is admitted only when fewer than ``K`` are present, so an
   *admitted* event finds ``π(s)`` conditioned on that (every level is refused
   alike when full).
2. **Its wait** is the time until it is the head of the most important waiting
   level when a server frees. If a server is free it starts at once (the atom
   at 0). Otherwise every server is busy until it starts (work conserving), and
   its wait is the absorption time of a chain on ``(phases of the c events in
   service, a_0 .. a_l, o)``: ``a_m`` events of level ``m <= l`` ahead of it
   (all those waiting at levels ``<= l`` when it came, its own level included),
   and, with a capacity, ``o`` events behind it, which count towards ``K``.
   What can overtake it is kept: later arrivals of more important levels
   (``m < l``) join ``a_m`` (when admitted); later arrivals of its own level or
   less important ones only fill the station (``o``). A completion hands the
   server to the head of the most important non-empty ``a_m`` (starting its
   phase-type service), or, with every ``a_m = 0``, to the tagged event:
   absorption. Without a capacity the more important levels' ``a_m`` are cut
   at a level; an arrival beyond it *leaks* (:class:`~.passage.Passage` bounds
   the error by the probability of leaking, and the cut is doubled until that
   is below :data:`LEAK_TARGET`).
3. **Its time per visit** adds its own service (non-preemptive: nothing
   interrupts it): the wait chain followed by the service phases.

Both laws are phase-type; :mod:`.passage` evaluates them by uniformisation.
Their error bound adds the series' bound, the leak, the stationary states left
out because their total probability is below :data:`DROP_MASS`, and twice the
stationary chain's estimated truncation tail (for an unlimited buffer).

Sources: PASTA, R. W. Wolff, "Poisson arrivals see time averages", *Oper.
Res.* 30, 1982; phase-type laws as absorption times, M. F. Neuts,
*Matrix-Geometric Solutions in Stochastic Models* (1981), ch. 2, and G.
Latouche and V. Ramaswami, *Introduction to Matrix Analytic Methods in
Stochastic Modeling* (SIAM, 1999), ch. 2; the waiting time of a low-priority
event as the time until the higher-priority work found and arriving is
cleared (non-preemptive), H. Takagi, *Queueing Analysis* vol. 1 (1991), ch. 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim.theory.families import PhaseType
from eda_sim.theory.percentiles import lattice
from eda_sim.theory.percentiles.lattice import Index
from eda_sim.theory.percentiles.passage import Passage

__all__ = ["DROP_MASS", "LEAK_TARGET", "PASSAGE_LIMIT", "Arrivals", "WaitChain", "wait_chain"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The most states a first-passage chain may have (it can be larger than the stationary one).
PASSAGE_LIMIT = 200_000
#: The cut of more important levels is deepened until the leak is below this.
LEAK_TARGET = 1e-12
#: Stationary states found by a tagged arrival may be left out up to this total probability.
DROP_MASS = 1e-13
_MAX_DOUBLINGS = 8


@dataclass(frozen=True, eq=False)
class Arrivals:
    """What a tagged arrival can find: the station's admitted states and their probabilities.

    ``serving[i, s]`` counts events in service in slot ``slots[s] = (level, phase)``,
    ``queue[i, m]`` the events waiting at level ``m``; ``weight`` is ``π``
    conditioned on admission. ``services[m]`` is level ``m``'s phase-type law and
    ``rates[m]`` its arrival rate.
    """

    servers: int
    capacity: int | None
    slots: list[tuple[int, int]]
    serving: IntArray
    queue: IntArray
    weight: FloatArray
    services: list[PhaseType]
    rates: FloatArray
    tail: float = 0.0


@dataclass(frozen=True, eq=False)
class WaitChain:
    """The absorbing chain of a tagged event's wait: start, generator, absorption, leak."""

    start: FloatArray
    generator: object  # scipy.sparse.csr_matrix
    absorb: FloatArray  # rate into "the tagged event starts service"
    leak: FloatArray | None
    immediate: float  # probability of starting at once
    error: float  # dropped stationary mass and truncation tail

    @property
    def size(self) -> int:
        """Number of transient states."""
        return int(self.start.size)

    def wait(self) -> Passage:
        """The law of the wait before service (its atom at 0 is ``immediate``)."""
        return Passage(self.start, self.generator, self.leak)

    def visit(self, service: PhaseType) -> Passage:
        """The law of wait plus the tagged event's own phase-type ``service``."""
        from scipy.sparse import bmat, csr_matrix

        alpha, sub = service
        handover = csr_matrix(np.outer(self.absorb, alpha))
        generator = bmat([[self.generator, handover], [None, csr_matrix(sub)]], format="csr")
        start = np.concatenate([self.start, self.immediate * alpha])
        leak = None if self.leak is None else np.concatenate([self.leak, np.zeros(alpha.size)])
        return Passage(start, generator, leak)


def _kept(arrivals: Arrivals) -> tuple[npt.NDArray[np.bool_], float]:
    """The found states kept (all but the least likely ones, up to DROP_MASS in all)."""
    weight = arrivals.weight
    order = np.argsort(weight)
    dropped = np.cumsum(weight[order]) <= DROP_MASS
    keep = np.ones(len(weight), bool)
    keep[order[dropped]] = False
    return keep, float(weight[~keep].sum())


def wait_chain(arrivals: Arrivals, level: int) -> WaitChain | str:
    """The wait chain of a tagged event of ``level`` (0 = most important), or why not.

    Without a capacity, the more important levels are cut and the cut deepened
    until the leak is below :data:`LEAK_TARGET` (module docstring).
    """
    keep, _ = _kept(arrivals)
    c = arrivals.servers
    busy = arrivals.serving.sum(axis=1)
    waits = keep & (busy >= c)
    found = arrivals.queue[waits, : level + 1]
    deepest = found.max(axis=0).tolist() if len(found) else [0] * (level + 1)
    cut = max([16, *deepest[:level]]) if level > 0 else 0
    for _ in range(_MAX_DOUBLINGS):
        maxima = [cut] * level + [deepest[level]]
        built = _build(arrivals, level, maxima)
        if isinstance(built, str) or built.leak is None:
            return built
        leaked = built.wait().overflow
        if leaked <= LEAK_TARGET:
            return WaitChain(
                built.start,
                built.generator,
                built.absorb,
                built.leak,
                built.immediate,
                built.error + leaked,
            )
        cut *= 2
    return f"the more important levels' cut stayed leaky (above {LEAK_TARGET:g})"


def _build(arrivals: Arrivals, level: int, maxima: list[int]) -> WaitChain | str:
    c, capacity = arrivals.servers, arrivals.capacity
    slots = len(arrivals.slots)
    behind = capacity is not None and level > 0  # o counts towards K
    total = None if capacity is None else capacity - c - 1
    if capacity is not None:
        maxima = [max(total or 0, 0)] * (level + 1) + ([max(total or 0, 0)] if behind else [])
    configs_count = math.comb(c + slots - 1, slots - 1)
    size = configs_count * lattice.grid_size(maxima, total)
    if size > PASSAGE_LIMIT:
        return f"the first-passage chain would have {size:,} states (limit {PASSAGE_LIMIT:,})"
    if slots * math.log2(c + 1) > 62:
        return "too many service phases and servers to index the first-passage chain"
    configs = lattice.configs(slots, c)
    grid = lattice.grid(maxima, total)
    config_index = Index(configs, np.full(slots, c + 1, np.int64))
    grid_index = Index(grid, np.array([m + 2 for m in maxima], np.int64))
    g_count = len(grid)
    state = np.arange(len(configs) * g_count)
    cfg, row = state // g_count, state % g_count
    moves = _Moves(arrivals, level, configs, config_index, grid, grid_index, cfg, row, behind)
    moves.phases()
    moves.completions()
    moves.arrivals(total)
    return moves.chain(_start(arrivals, level, config_index, grid_index, g_count, behind))


def _start(
    arrivals: Arrivals,
    level: int,
    config_index: Index,
    grid_index: Index,
    g_count: int,
    behind: bool,
) -> tuple[FloatArray, float, float]:
    """``β`` over the wait chain, the mass that starts at once, and the mass left out."""
    keep, dropped = _kept(arrivals)
    busy = arrivals.serving.sum(axis=1)
    immediate = float(arrivals.weight[keep & (busy < arrivals.servers)].sum())
    waits = keep & (busy >= arrivals.servers)
    rows = arrivals.queue[waits, : level + 1]
    if behind:
        rows = np.column_stack([rows, arrivals.queue[waits, level + 1 :].sum(axis=1)])
    cfg = config_index.find(arrivals.serving[waits])
    where = grid_index.find(rows)
    missing = (cfg < 0) | (where < 0)
    start = np.zeros(len(config_index.keys) * g_count)
    np.add.at(start, (cfg * g_count + where)[~missing], arrivals.weight[waits][~missing])
    return start, immediate, dropped + float(arrivals.weight[waits][missing].sum())


class _Moves:
    """The wait chain's transitions, vectorised over its states (see the module docstring)."""

    def __init__(
        self,
        arrivals: Arrivals,
        level: int,
        configs: IntArray,
        config_index: Index,
        grid: IntArray,
        grid_index: Index,
        cfg: IntArray,
        row: IntArray,
        behind: bool,
    ) -> None:
        self.a, self.level, self.behind = arrivals, level, behind
        self.configs, self.config_index = configs, config_index
        self.grid, self.grid_index = grid, grid_index
        self.cfg, self.row = cfg, row
        self.g_count = len(grid)
        self.size = len(cfg)
        self.slot = {pair: s for s, pair in enumerate(arrivals.slots)}
        self.parts: list[tuple[IntArray, IntArray, FloatArray]] = []
        self.absorb = np.zeros(self.size)
        self.leak = np.zeros(self.size)
        self.out = np.zeros(self.size)

    def _moved(self, cfg: IntArray, remove: int, add: int) -> IntArray:
        rows = self.configs[cfg].copy()
        rows[:, remove] -= 1
        rows[:, add] += 1
        return self.config_index.find(rows)

    def _add(self, src: IntArray, dst: IntArray, rate: FloatArray) -> None:
        keep = rate > 0
        self.parts.append((src[keep], dst[keep], rate[keep]))
        np.add.at(self.out, src[keep], rate[keep])

    def phases(self) -> None:
        """A server of level ``k`` moves from phase ``p`` to ``q``."""
        for s, (k, p) in enumerate(self.a.slots):
            sub = self.a.services[k][1]
            count = self.configs[self.cfg, s]
            for q in np.flatnonzero(sub[p] > 0).tolist():
                if q == p:
                    continue
                on = np.flatnonzero(count > 0)
                target = self._moved(self.cfg[on], s, self.slot[(k, q)])
                self._add(on, target * self.g_count + self.row[on], count[on] * sub[p, q])

    def completions(self) -> None:
        """A completion: the head of the most important non-empty ``a_m`` starts, else the tag."""
        ahead = self.grid[self.row][:, : self.level + 1]
        nonempty = ahead > 0
        first = np.where(nonempty.any(axis=1), nonempty.argmax(axis=1), -1)
        for s, (k, p) in enumerate(self.a.slots):
            sub = self.a.services[k][1]
            exit_rate = float(-sub[p].sum())
            count = self.configs[self.cfg, s]
            if exit_rate <= 1e-300:
                continue
            on = count > 0
            done = np.flatnonzero(on & (first < 0))
            np.add.at(self.absorb, done, count[done] * exit_rate)
            np.add.at(self.out, done, count[done] * exit_rate)
            for m in range(self.level + 1):
                here = np.flatnonzero(on & (first == m))
                if not len(here):
                    continue
                rows = self.grid[self.row[here]].copy()
                rows[:, m] -= 1
                where = self.grid_index.find(rows)
                alpha_m = self.a.services[m][0]
                for q in np.flatnonzero(alpha_m > 0).tolist():
                    target = self._moved(self.cfg[here], s, self.slot[(m, q)])
                    rate = count[here] * exit_rate * alpha_m[q]
                    self._add(here, target * self.g_count + where, rate)

    def arrivals(self, total: int | None) -> None:
        """Arrivals that matter: more important levels join ``a_m``; with a capacity, ``o``."""
        rows = self.grid[self.row]
        room = np.ones(self.size, bool) if total is None else rows.sum(axis=1) < total
        everyone = np.arange(self.size)
        for m in range(self.level):
            grown = rows.copy()
            grown[:, m] += 1
            where = self.grid_index.find(grown)
            rate = float(self.a.rates[m])
            fits = room & (where >= 0)
            self._add(
                everyone[fits],
                self.cfg[fits] * self.g_count + where[fits],
                np.full(int(fits.sum()), rate),
            )
            if total is None:  # beyond the cut: a leak
                spill = np.flatnonzero(where < 0)
                self.leak[spill] += rate
                self.out[spill] += rate
        if self.behind:
            grown = rows.copy()
            grown[:, -1] += 1
            where = self.grid_index.find(grown)
            rate = float(self.a.rates[self.level :].sum())
            fits = room & (where >= 0)
            self._add(
                everyone[fits],
                self.cfg[fits] * self.g_count + where[fits],
                np.full(int(fits.sum()), rate),
            )

    def chain(self, start: tuple[FloatArray, float, float]) -> WaitChain:
        """The chain: generator (diagonal = −all rates out), start, absorption, leak."""
        from scipy.sparse import coo_matrix, diags

        beta, immediate, left_out = start
        src = np.concatenate([p[0] for p in self.parts]) if self.parts else np.zeros(0, np.int64)
        dst = np.concatenate([p[1] for p in self.parts]) if self.parts else np.zeros(0, np.int64)
        rate = np.concatenate([p[2] for p in self.parts]) if self.parts else np.zeros(0)
        assert (dst >= 0).all()
        matrix = coo_matrix((rate, (src, dst)), shape=(self.size, self.size)).tocsr()
        generator = (matrix - diags(self.out)).tocsr()
        leak = self.leak if self.leak.any() else None
        if leak is None and not self.behind and self.level > 0 and self.a.capacity is None:
            leak = np.zeros(self.size)  # a cut chain that happens not to leak
        error = left_out + 2.0 * self.a.tail
        return WaitChain(beta, generator, self.absorb, leak, immediate, error)
