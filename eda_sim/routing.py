"""The routing of one event class: checks, traffic equations, next-hop draws (layer 1).

Row ``i`` of the routing matrix ``P`` gives the probability that an event finishing
service at station ``i`` goes next to station ``j``; ``1 - sum(P[i])`` is the
probability that it leaves the system. Each hop is an independent draw (the
Markov property). External arrivals enter at station ``j`` with probability
``entry[j]``.

A row may also *fan out*: every event finishing at station ``i`` is then also
copied to each subscriber in ``fanout[i]`` (publish–subscribe), and each copy
follows the routing from there. The expected number of events leaving ``i`` for
``j`` per completion is then ``M[i, j] = P[i, j] + F[i, j]`` (``F`` the 0/1
fan-out incidence), and the expected number of copies of one event is finite
exactly when the spectral radius of ``M`` is below 1 (the mean matrix of a
multi-type branching process, Harris 1963, *The Theory of Branching Processes*).

For a class with external arrival rate ``γ`` the traffic equations
``λ = γ·entry + Mᵀλ`` give the visit rate of every station; the fundamental matrix
``N = (I − M)⁻¹`` (Kemeny & Snell, *Finite Markov Chains*, 1960, §3.2) gives in
``N[i, j]`` the expected number of visits to ``j`` of an event now at ``i``, so the
visit ratios are ``entry @ N``. ``N`` exists exactly when every station can reach
the exit; :func:`check_routing` refuses routing where some station cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from eda_sim.errors import Fault

__all__ = [
    "ROUTING_TOLERANCE",
    "Routing",
    "check_probabilities",
    "copies_radius",
    "trapped_stations",
]

#: How far a row sum may exceed 1, or an entry vector's sum miss 1, before it is refused
#: (YAML decimals such as 0.1 + 0.2 + 0.7 do not add up exactly). The excess is removed.
ROUTING_TOLERANCE = 1e-9


def _format_number(value: float) -> str:
    return f"{value:.12g}"


def check_probabilities(matrix: np.ndarray, stations: Sequence[str]) -> list[Fault]:
    """Check that ``matrix`` is a sub-stochastic routing matrix over ``stations``.

    Parameters
    ----------
    matrix : numpy.ndarray
        Square matrix, row = from-station, column = to-station.
    stations : sequence of str
        Station names in matrix order (used in the fault paths).

    Returns
    -------
    list of Fault
        One fault per bad entry or row; paths are ``FROM.TO`` for entries and
        ``FROM`` for rows. Empty when the matrix is valid.
    """
    faults: list[Fault] = []
    n = len(stations)
    if matrix.shape != (n, n):
        return [
            Fault(
                "",
                f"must be a {n}x{n} matrix (one row and column per station), "
                f"got shape {'x'.join(map(str, matrix.shape))}",
            )
        ]
    for i, origin in enumerate(stations):
        row_ok = True
        for j, target in enumerate(stations):
            p = float(matrix[i, j])
            if not np.isfinite(p) or p < 0 or p > 1:
                faults.append(
                    Fault(
                        f"{origin}.{target}",
                        f"must be a probability in [0, 1], got {_format_number(p)}",
                    )
                )
                row_ok = False
        total = float(matrix[i].sum())
        if row_ok and total > 1 + ROUTING_TOLERANCE:
            faults.append(Fault(origin, f"probabilities sum to {_format_number(total)} (> 1)"))
    return faults


def trapped_stations(matrix: np.ndarray) -> list[int]:
    """Return the indices of stations from which no event can ever leave the system.

    A station can leave when its row sums to less than 1, or when it can reach
    (through positive probabilities) a station that can. The others form closed
    loops: an event that enters them circulates for ever.
    """
    n = matrix.shape[0]
    exits = matrix.sum(axis=1) < 1 - ROUTING_TOLERANCE
    can_leave = exits.copy()
    changed = True
    while changed:  # backward reachability; at most n sweeps
        reach = (matrix[:, can_leave] > 0).any(axis=1) if can_leave.any() else np.zeros(n, bool)
        new = can_leave | reach
        changed = bool((new != can_leave).any())
        can_leave = new
    return [i for i in range(n) if not can_leave[i]]


def copies_radius(matrix: np.ndarray, fanout: Sequence[Sequence[int]]) -> float:
    """Spectral radius of ``M = P + F``; the expected copies per event are finite iff < 1."""
    copies = np.array(matrix, dtype=float)
    for origin, targets in enumerate(fanout):
        for target in targets:
            copies[origin, target] += 1.0
    return float(np.max(np.abs(np.linalg.eigvals(copies)))) if copies.size else 0.0


@dataclass(frozen=True, eq=False)
class Routing:
    """The routing of one event class over the stations of a scenario.

    Parameters
    ----------
    stations : tuple of str
        Station names in matrix order.
    matrix : numpy.ndarray
        ``(N, N)`` sub-stochastic matrix; row sums ``<= 1`` (the rest exits).
    entry : numpy.ndarray
        ``(N,)`` probabilities that an external arrival enters at each station; sums to 1.
    fanout : tuple of tuple of int, optional
        Per station, the stations that get a copy of every event finishing there.

    Raises
    ------
    ValueError
        If the shapes disagree, a probability is out of range, or a station cannot
        reach the exit. (The scenario layer checks all this first and reports it
        with the place in the file; this is the last line of defence.)
    """

    stations: tuple[str, ...]
    matrix: np.ndarray
    entry: np.ndarray
    fanout: tuple[tuple[int, ...], ...] = ()
    _order: np.ndarray = field(init=False, repr=False)
    _cumulative: np.ndarray = field(init=False, repr=False)
    _entry_cumulative: np.ndarray = field(init=False, repr=False)
    _last_entry: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.stations)
        matrix = np.array(self.matrix, dtype=float)
        entry = np.array(self.entry, dtype=float)
        faults = check_probabilities(matrix, self.stations)
        if faults:
            raise ValueError("; ".join(map(str, faults)))
        if entry.shape != (n,) or (entry < 0).any() or abs(entry.sum() - 1) > ROUTING_TOLERANCE:
            raise ValueError(f"entry must be {n} probabilities summing to 1, got {entry.tolist()}")
        trapped = trapped_stations(matrix)
        if trapped:
            names = ", ".join(self.stations[i] for i in trapped)
            raise ValueError(f"no event can leave the system from: {names}")
        fanout = tuple(tuple(targets) for targets in self.fanout) or tuple(() for _ in range(n))
        if len(fanout) != n or any(not 0 <= t < n for targets in fanout for t in targets):
            raise ValueError(f"fanout must list station indices for each of {n} stations")
        if any(fanout) and copies_radius(matrix, fanout) >= 1 - ROUTING_TOLERANCE:
            raise ValueError("fan-out makes the expected number of copies infinite")
        object.__setattr__(self, "fanout", fanout)
        # Remove a within-tolerance excess so that 1 - row sum is never negative.
        sums = matrix.sum(axis=1)
        over = sums > 1
        matrix[over] /= sums[over, None]
        entry /= entry.sum()
        matrix.setflags(write=False)
        entry.setflags(write=False)
        # Draws map a uniform through cumulative sums taken in the order of the station
        # NAMES, not of their position in the file, so reordering stations in a
        # scenario changes no event's route.
        order = np.argsort(np.array(self.stations, dtype=object).astype(str), kind="stable")
        cumulative = np.cumsum(matrix[:, order], axis=1)
        entry_cumulative = np.cumsum(entry[order])
        order.setflags(write=False)
        cumulative.setflags(write=False)
        entry_cumulative.setflags(write=False)
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "entry", entry)
        object.__setattr__(self, "_order", order)
        object.__setattr__(self, "_cumulative", cumulative)
        object.__setattr__(self, "_entry_cumulative", entry_cumulative)
        object.__setattr__(self, "_last_entry", int(np.flatnonzero(entry[order] > 0)[-1]))

    @property
    def exit_probabilities(self) -> np.ndarray:
        """Probability, per station, that an event leaves the system after it."""
        return np.asarray(np.clip(1.0 - self.matrix.sum(axis=1), 0.0, 1.0))

    @property
    def copies_matrix(self) -> np.ndarray:
        """``M = P + F``: expected events sent from ``i`` to ``j`` per completion at ``i``."""
        copies = np.array(self.matrix)
        for origin, targets in enumerate(self.fanout):
            for target in targets:
                copies[origin, target] += 1.0
        return copies

    @property
    def fundamental_matrix(self) -> np.ndarray:
        """``(I − M)⁻¹``: expected visits to ``j`` of an event now at ``i`` (``i`` counted)."""
        n = len(self.stations)
        return np.asarray(np.linalg.inv(np.eye(n) - self.copies_matrix))

    @property
    def visit_ratios(self) -> np.ndarray:
        """Expected number of visits to each station per external arrival."""
        return np.asarray(self.entry @ self.fundamental_matrix)

    def traffic(self, arrival_rate: float) -> np.ndarray:
        """Solve the traffic equations ``λ = γ·entry + Mᵀλ`` for an external rate ``γ``."""
        n = len(self.stations)
        return np.asarray(
            np.linalg.solve(np.eye(n) - self.copies_matrix.T, arrival_rate * self.entry)
        )

    @property
    def draw_tables(self) -> tuple[np.ndarray, np.ndarray, int]:
        """What :meth:`draw_next` and :meth:`draw_entry` invert their uniforms through.

        For a compiled engine that reproduces those draws from the same uniforms
        (one ``rng.random()`` per hop or entry).

        Returns
        -------
        order : numpy.ndarray
            ``(N,)`` station indices in name order.
        cumulative : numpy.ndarray
            ``(N + 1, N)``: row ``i < N`` the cumulative probabilities of the hops
            after station ``i`` taken in ``order``; row ``N`` those of the entry.
        last_entry : int
            The last position in ``order`` with a positive entry probability.

        Notes
        -----
        A uniform ``u`` picks the position ``p``, the number of entries of the row
        that are ``<= u`` (``numpy.searchsorted(row, u, side="right")``). After
        station ``i`` the event leaves when ``p == N`` and otherwise moves to
        ``order[p]``; at entry it goes to ``order[min(p, last_entry)]``.
        """
        cumulative = np.vstack([self._cumulative, self._entry_cumulative])
        return self._order, cumulative, self._last_entry

    def draw_next(self, station: int, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent next hops after ``station``; ``-1`` means leave.

        One uniform per hop, inverted through the cumulative row (stations in name
        order, then the exit), so the hops are independent and identically
        distributed (the Markov property).
        """
        picks = np.searchsorted(self._cumulative[station], rng.random(size), side="right")
        leave = picks >= len(self.stations)
        hops = self._order[np.minimum(picks, len(self.stations) - 1)]
        hops[leave] = -1
        return hops

    def draw_entry(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent entry stations for external arrivals."""
        picks = np.searchsorted(self._entry_cumulative, rng.random(size), side="right")
        return np.asarray(self._order[np.minimum(picks, self._last_entry)])
