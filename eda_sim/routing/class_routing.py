"""The routing of one event class: its checks, traffic equations and next-hop draws (layer 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate

import numpy as np

from eda_sim.routing.checks import (
    ROUTING_TOLERANCE,
    check_probabilities,
    copies_radius,
    copies_rows,
    trapped_stations,
)
from eda_sim.routing.sparse import SparseRows, reaching

__all__ = ["SPARSE_SOLVE_FROM", "Routing"]

#: From this many stations on, the traffic equations are solved by a sparse LU
#: factorisation (scipy.sparse, SuperLU) instead of a dense one: a dense solve costs N³,
#: seconds at a thousand stations, and N² memory.
SPARSE_SOLVE_FROM = 500

#: Relative residual to which the traffic equations of a large network are solved.
_ITERATIVE_TOLERANCE = 1e-14


@dataclass(frozen=True, eq=False)
class Routing:
    """The routing of one event class over the stations of a scenario.

    Parameters
    ----------
    stations : tuple of str
        Station names in matrix order.
    transitions : SparseRows
        The ``(N, N)`` sub-stochastic matrix by rows (a dense array is accepted too);
        row sums ``<= 1`` (the rest exits). :attr:`matrix` gives it as an array.
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
    transitions: SparseRows
    entry: np.ndarray
    fanout: tuple[tuple[int, ...], ...] = ()
    _order: np.ndarray = field(init=False, repr=False)
    _hops: SparseRows = field(init=False, repr=False)
    _entry_cumulative: np.ndarray = field(init=False, repr=False)
    _last_entry: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.stations)
        given = self.transitions
        rows = (
            given
            if isinstance(given, SparseRows)
            else SparseRows.from_dense(np.array(given, dtype=float))
        )
        if not isinstance(given, SparseRows) and np.shape(given) != (n, n):
            raise ValueError(f"the routing matrix must be {n}x{n}, got shape {np.shape(given)}")
        entry = np.array(self.entry, dtype=float)
        faults = check_probabilities(rows, self.stations)
        if faults:
            raise ValueError("; ".join(map(str, faults)))
        if entry.shape != (n,) or (entry < 0).any() or abs(entry.sum() - 1) > ROUTING_TOLERANCE:
            raise ValueError(f"entry must be {n} probabilities summing to 1, got {entry.tolist()}")
        trapped = trapped_stations(rows)
        if trapped:
            names = ", ".join(self.stations[i] for i in trapped)
            raise ValueError(f"no event can leave the system from: {names}")
        fanout = tuple(tuple(targets) for targets in self.fanout) or tuple(() for _ in range(n))
        if len(fanout) != n or any(not 0 <= t < n for targets in fanout for t in targets):
            raise ValueError(f"fanout must list station indices for each of {n} stations")
        if any(fanout) and copies_radius(rows, fanout) >= 1 - ROUTING_TOLERANCE:
            raise ValueError("fan-out makes the expected number of copies infinite")
        # Remove a within-tolerance excess so that 1 - row sum is never negative.
        sums = rows.row_sums()
        values = rows.values.copy()
        over = (sums > 1)[rows.row_of_entry]
        values[over] /= sums[rows.row_of_entry[over]]
        transitions = SparseRows(n, rows.indptr, rows.columns, values).positive()
        entry /= entry.sum()
        entry.setflags(write=False)
        for array in (transitions.indptr, transitions.columns, transitions.values):
            array.setflags(write=False)
        object.__setattr__(self, "transitions", transitions)
        object.__setattr__(self, "entry", entry)
        object.__setattr__(self, "fanout", fanout)
        self._set_draw_tables()

    def _set_draw_tables(self) -> None:
        # Draws map a uniform through cumulative sums taken in the order of the station
        # NAMES, not of their position in the file, so reordering stations in a
        # scenario changes no event's route. Each row's sums run over its entries only
        # (a zero adds nothing to a sum), so they equal those over the whole row.
        order = np.argsort(np.array(self.stations, dtype=object).astype(str), kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        rows = self.transitions
        by_name = np.lexsort((rank[rows.columns], rows.row_of_entry))
        targets = rows.columns[by_name]
        probabilities = rows.values[by_name].tolist()
        bounds = rows.indptr.tolist()
        cumulative = [
            total
            for i in range(rows.size)
            for total in accumulate(probabilities[bounds[i] : bounds[i + 1]])
        ]
        hops = SparseRows(rows.size, rows.indptr, targets, np.array(cumulative, dtype=float))
        entry_cumulative = np.cumsum(self.entry[order])
        for array in (order, hops.columns, hops.values, entry_cumulative):
            array.setflags(write=False)
        object.__setattr__(self, "_order", order)
        object.__setattr__(self, "_hops", hops)
        object.__setattr__(self, "_entry_cumulative", entry_cumulative)
        object.__setattr__(self, "_last_entry", int(np.flatnonzero(self.entry[order] > 0)[-1]))

    @cached_property
    def matrix(self) -> np.ndarray:
        """The routing matrix ``P`` as an ``(N, N)`` array (read-only; N² floats)."""
        matrix = self.transitions.dense()
        matrix.setflags(write=False)
        return matrix

    @property
    def exit_probabilities(self) -> np.ndarray:
        """Probability, per station, that an event leaves the system after it."""
        return np.asarray(np.clip(1.0 - self.transitions.row_sums(), 0.0, 1.0))

    @cached_property
    def copies(self) -> SparseRows:
        """``M = P + F`` by rows: expected events sent from ``i`` to ``j`` per completion."""
        return copies_rows(self.transitions, self.fanout)

    @property
    def copies_matrix(self) -> np.ndarray:
        """``M = P + F`` as an ``(N, N)`` array."""
        return self.copies.dense()

    @property
    def fundamental_matrix(self) -> np.ndarray:
        """``(I − M)⁻¹``: expected visits to ``j`` of an event now at ``i`` (``i`` counted).

        A dense ``(N, N)`` inverse: N³ work; :meth:`traffic` and :attr:`visit_ratios`
        do not need it.
        """
        n = len(self.stations)
        return np.asarray(np.linalg.inv(np.eye(n) - self.copies_matrix))

    @cached_property
    def reachable(self) -> np.ndarray:
        """Which stations an event of this class can visit (entry, then positive hops)."""
        edges = self.copies.successors()
        backwards: list[list[int]] = [[] for _ in edges]
        for origin, targets in enumerate(edges):
            for target in targets:
                backwards[target].append(origin)
        # Reaching an entry station backwards is being reached from it forwards.
        found = reaching(backwards, np.flatnonzero(self.entry > 0).tolist())
        found.setflags(write=False)
        return found

    @property
    def visit_ratios(self) -> np.ndarray:
        """Expected number of visits to each station per external arrival (0: never visited)."""
        return np.where(self.reachable, self.traffic(1.0), 0.0)

    def traffic(self, arrival_rate: float) -> np.ndarray:
        """Solve the traffic equations ``λ = γ·entry + Mᵀλ`` for an external rate ``γ``.

        Densely (LU) below :data:`SPARSE_SOLVE_FROM` stations; beyond, ``γ`` times the
        solution for ``γ = 1`` by :meth:`_sparse_unit_traffic`.
        """
        n = len(self.stations)
        if n < SPARSE_SOLVE_FROM:
            return np.asarray(
                np.linalg.solve(np.eye(n) - self.copies_matrix.T, arrival_rate * self.entry)
            )
        return arrival_rate * self._sparse_unit_traffic

    @cached_property
    def _sparse_unit_traffic(self) -> np.ndarray:
        """``(I − Mᵀ)⁻¹ entry`` for a large network, read-only.

        BiCGSTAB (van der Vorst 1992) to a relative residual of 1e-14, which needs a
        few sparse products with ``M`` (milliseconds at 10,000 stations); a sparse LU
        (SuperLU) when it does not get there, which is exact but fills in on large
        well-connected networks (seconds at 10,000 stations).
        """
        from scipy.sparse import csr_matrix, identity
        from scipy.sparse.linalg import bicgstab, spsolve

        n = len(self.stations)
        copies = self.copies
        transposed = csr_matrix(
            (copies.values, (copies.columns, copies.row_of_entry)), shape=(n, n)
        )
        system = (identity(n, format="csr") - transposed).tocsr()
        solution, info = bicgstab(system, self.entry, rtol=_ITERATIVE_TOLERANCE, atol=0.0)
        residual = np.linalg.norm(self.entry - system @ solution) if info == 0 else np.inf
        if not residual <= 10 * _ITERATIVE_TOLERANCE * np.linalg.norm(self.entry):
            solution = spsolve(system.tocsc(), self.entry, permc_spec="MMD_AT_PLUS_A")
        solution = np.asarray(solution, dtype=float)
        solution.setflags(write=False)
        return solution

    @cached_property
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
        ``order[p]``; at entry it goes to ``order[min(p, last_entry)]``. The table
        is dense (``N²`` floats).
        """
        cumulative = np.vstack(
            [np.cumsum(self.matrix[:, self._order], axis=1), self._entry_cumulative]
        )
        return self._order, cumulative, self._last_entry

    @cached_property
    def draw_rows(self) -> tuple[SparseRows, np.ndarray, np.ndarray]:
        """The sparse tables :meth:`draw_next` and :meth:`draw_entry` invert their uniforms through.

        For a compiled engine that reproduces those draws from the same uniforms
        without a scan over all N stations (:attr:`draw_tables` is the dense form).

        Returns
        -------
        hops : SparseRows
            Row ``i``: the stations an event can go to after station ``i`` (as
            ``columns``), in station-name order, with their cumulative
            probabilities (as ``values``).
        entry_targets, entry_cumulative : numpy.ndarray
            The stations an external arrival can enter at, in station-name
            order, with their cumulative probabilities.

        Notes
        -----
        A uniform ``u`` picks ``p``, the number of cumulative values ``<= u``
        (``numpy.searchsorted(values, u, side="right")``, e.g. by bisection).
        After station ``i`` the event leaves when ``p`` is the row's length and
        otherwise moves to ``columns[p]``; at entry it goes to
        ``entry_targets[min(p, len(entry_targets) - 1)]``. These are the dense
        table's picks: its zero entries add nothing to a cumulative sum, and
        the first cumulative value above ``u`` is always that of a positive entry.
        """
        positive = np.flatnonzero(self.entry[self._order] > 0)
        entry_targets = self._order[positive]
        entry_cumulative = self._entry_cumulative[positive]
        for array in (entry_targets, entry_cumulative):
            array.setflags(write=False)
        return self._hops, entry_targets, entry_cumulative

    def draw_next(self, station: int, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent next hops after ``station``; ``-1`` means leave.

        One uniform per hop, inverted through the cumulative row (stations in name
        order, then the exit), so the hops are independent and identically
        distributed (the Markov property).
        """
        targets, cumulative = self._hops.row(station)
        picks = np.searchsorted(cumulative, rng.random(size), side="right")
        hops = np.full(size, -1, dtype=np.int64)
        stay = picks < len(targets)
        hops[stay] = targets[picks[stay]]
        return hops

    def draw_entry(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent entry stations for external arrivals."""
        picks = np.searchsorted(self._entry_cumulative, rng.random(size), side="right")
        return np.asarray(self._order[np.minimum(picks, self._last_entry)])
