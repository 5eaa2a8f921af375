"""The model the CTMC solver takes: stations, classes, state layout, a state-count bound.

See :mod:`eda_sim.theory.ctmc` for what is solved and how. A state is one row of
integers; :class:`Layout` says which column holds what, and :func:`state_bound`
bounds the number of reachable states from the stations' local state counts
without building anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from eda_sim.theory.families import PhaseType

__all__ = [
    "STATE_LIMIT",
    "Layout",
    "MarkovClass",
    "MarkovNetwork",
    "MarkovStation",
    "build_layout",
    "state_bound",
]

FloatArray = npt.NDArray[np.float64]

#: The largest state space the solver builds (states); above it, it refuses.
STATE_LIMIT = 2_000_000


@dataclass(frozen=True)
class MarkovStation:
    """One station: ``servers``, at most ``limit`` present, refusing or blocking when full.

    ``truncated`` marks a limit that is not a capacity but a truncation of an
    unlimited buffer (arrivals beyond it are dropped from the model; the caller
    bounds the probability of reaching it).
    """

    name: str
    servers: int
    limit: int
    blocking: bool = False
    truncated: bool = False


@dataclass(frozen=True, eq=False)
class MarkovClass:
    """One event class: Poisson ``arrivals`` per station, routing, fan-out, service, level."""

    name: str
    arrivals: FloatArray
    routing: FloatArray
    fanout: tuple[tuple[int, ...], ...]
    service: tuple[PhaseType | None, ...]
    level: int = 0


@dataclass(frozen=True, eq=False)
class MarkovNetwork:
    """Stations and classes; ``service[j]`` is None for a station the class never visits."""

    stations: tuple[MarkovStation, ...]
    classes: tuple[MarkovClass, ...]


@dataclass
class Layout:
    """Where each part of a state lives in a state row (column indices)."""

    columns: int = 0
    queue: list[list[tuple[int, int, int, list[int]]]] = field(default_factory=list)
    # per station: [(len column, code column, base, classes in digit order)] by level
    serve: list[dict[tuple[int, int], int]] = field(default_factory=list)  # (class, phase)
    blocked: list[dict[tuple[int, int], int]] = field(default_factory=list)  # (class, target)
    fifo: dict[int, tuple[int, int, list[tuple[int, int]]]] = field(default_factory=dict)
    # per blocking station: (len column, code column, [(sender, class)] in digit order)
    present: list[list[int]] = field(default_factory=list)
    busy: list[list[int]] = field(default_factory=list)

    def take(self) -> int:
        """Allocate the next column."""
        self.columns += 1
        return self.columns - 1


def _visits(network: MarkovNetwork) -> list[list[int]]:
    """Per station, the classes that reach it (external arrivals, routing or copies)."""
    n = len(network.stations)
    visitors: list[list[int]] = [[] for _ in range(n)]
    for k, cls in enumerate(network.classes):
        reach = cls.arrivals > 0
        frontier = reach.copy()
        adjacency = cls.routing > 0
        for origin, targets in enumerate(cls.fanout):
            adjacency[origin, list(targets)] = True
        while frontier.any():
            nxt = adjacency[frontier].any(axis=0) & ~reach
            reach |= nxt
            frontier = nxt
        for j in np.flatnonzero(reach):
            if cls.service[j] is None:
                raise ValueError(f"class {cls.name} reaches station {j} without a service law")
            visitors[j].append(k)
    return visitors


def build_layout(network: MarkovNetwork) -> Layout:
    """The columns of a state row: lines by level, service phases, blocked servers, orders."""
    layout = Layout()
    visitors = _visits(network)
    for j, station in enumerate(network.stations):
        levels = sorted({network.classes[k].level for k in visitors[j]})
        queue = []
        for level in levels:
            members = [k for k in visitors[j] if network.classes[k].level == level]
            queue.append((layout.take(), layout.take(), len(members), members))
        layout.queue.append(queue)
        serve = {}
        for k in visitors[j]:
            alpha, _ = network.classes[k].service[j]  # type: ignore[misc]
            for p in range(alpha.size):
                serve[(k, p)] = layout.take()
        layout.serve.append(serve)
        blocked = {}
        for k in visitors[j]:
            for target in np.flatnonzero(network.classes[k].routing[j] > 0).tolist():
                if network.stations[target].blocking:
                    blocked[(k, target)] = layout.take()
        layout.blocked.append(blocked)
        del station
    for t, station in enumerate(network.stations):
        if station.blocking:
            pairs = [
                (j, k)
                for j in range(len(network.stations))
                for (k, tt) in layout.blocked[j]
                if tt == t
            ]
            if pairs:
                layout.fifo[t] = (layout.take(), layout.take(), pairs)
    for j in range(len(network.stations)):
        lens = [length for length, _, _, _ in layout.queue[j]]
        held = list(layout.serve[j].values()) + list(layout.blocked[j].values())
        layout.present.append(lens + held)
        layout.busy.append(held)
    return layout


# --------------------------------------------------------------------------- the bound


def _saturating(value: int) -> int:
    return min(value, STATE_LIMIT + 1)


def _sequences(bases: list[int], longest: int) -> int:
    """Number of tuples of per-level class sequences of total length <= ``longest``.

    Saturates at ``STATE_LIMIT + 1``; there are at least ``longest + 1`` such tuples,
    so a longer line is over the limit at once.
    """
    if longest >= STATE_LIMIT:
        return STATE_LIMIT + 1
    counts = [1] + [0] * longest  # coefficients of Π 1 / (1 - b x), saturated
    for base in bases:
        for q in range(1, longest + 1):
            counts[q] = _saturating(counts[q] + base * counts[q - 1])
    return _saturating(sum(counts))


def state_bound(network: MarkovNetwork) -> int:
    """An upper bound on the reachable states, capped at ``STATE_LIMIT + 1``; builds nothing.

    The product over stations of their local state counts (service and blocked
    configurations of the busy servers, times the waiting lines when all are busy),
    times the orders of blocked senders.
    """
    layout = build_layout(network)
    total = 1
    for j, station in enumerate(network.stations):
        slots = len(layout.serve[j]) + len(layout.blocked[j])
        servers = min(station.servers, station.limit)
        local = 0
        for busy in range(min(servers, STATE_LIMIT) + 1):
            configs = _saturating(math.comb(busy + slots - 1, slots - 1)) if slots else 1
            if busy == servers:
                bases = [base for _, _, base, _ in layout.queue[j]]
                configs = _saturating(configs * _sequences(bases, station.limit - servers))
            local = _saturating(local + configs)
            if local > STATE_LIMIT:
                break
        total = _saturating(total * local)
    for _, _, pairs in layout.fifo.values():
        senders = sum(network.stations[j].servers for j in {s for s, _ in pairs})
        total = _saturating(total * _sequences([len(pairs)], senders))
    return total
