"""An exact numerical solver for Markovian networks: build the CTMC, solve π Q = 0.

A :class:`MarkovNetwork` is a set of stations (servers, capacity or a truncation
level, ``on_full: block``) visited by event classes with Poisson arrivals,
Markov routing, fan-out copies, phase-type service per station (exponential,
Erlang, hyperexponential: :func:`eda_sim.theory.families.phase_type`) and a
priority level (non-preemptive; FIFO within a level). :func:`build_chain`
enumerates the states reachable from the empty network, breadth first and
vectorised over each frontier, and the sparse generator; :func:`stationary`
solves it (a direct sparse LU, or GMRES for large chains) for the stationary
distribution. :mod:`eda_sim.theory.ctmc_metrics` turns that into every station
and class figure.

The state of a station is, per priority level, the waiting events' classes in
arrival order (an integer code in base "number of classes at that level", so a
level with one class is just a count); per (class, phase) the events in service;
per (class, target) the servers held by events blocked towards a full station.
Per blocking station, the senders blocked on it in the order they blocked (the
engine lets the oldest in first). Transitions follow the simulation engine's
order of events at one instant: a completion frees its server (the head of the
line starts, the oldest blocked sender is admitted), the event moves on (or is
refused), its fan-out copies arrive, and then a released sender departs in turn.

Nothing large is built before the state space is known to be small: the number
of states is bounded from the stations' local state counts first
(:func:`state_bound`), and a network above ``STATE_LIMIT`` is refused.

Sources: W. J. Stewart, *Introduction to the Numerical Solution of Markov
Chains* (Princeton, 1994), ch. 2-3 (direct and iterative solution of π Q = 0);
M. F. Neuts, *Matrix-Geometric Solutions in Stochastic Models* (1981), ch. 2
(phase-type laws); blocking after service: H. G. Perros, *Queueing Networks with
Blocking* (Oxford, 1994), ch. 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from eda_sim.theory.ctmc_model import (
    STATE_LIMIT,
    Layout,
    MarkovClass,
    MarkovNetwork,
    MarkovStation,
    build_layout,
    state_bound,
)
from eda_sim.theory.ctmc_moves import Batch, Moves, events

__all__ = [
    "STATE_LIMIT",
    "Chain",
    "MarkovClass",
    "MarkovNetwork",
    "MarkovStation",
    "build_chain",
    "intern_states",
    "state_bound",
    "state_keys",
    "stationary",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Chains up to this many states are solved by a direct sparse LU; larger ones by GMRES.
DIRECT_LIMIT = 300_000
#: Above this many states a chain is first tried by GMRES with a light incomplete LU,
#: kept only if its residual is below ``_KEPT_RESIDUAL``: a chain of two stations whose
#: first one has many states (a FIFO line of two classes) fills a direct LU in, 22,656
#: states in 20 s against 1.2 s (the same π to 1.4e-15).
ITERATIVE_FROM = 2_000
_KEPT_RESIDUAL = 1e-12


# --------------------------------------------------------------------------- build and solve


@dataclass(frozen=True, eq=False)
class Chain:
    """A built chain: its states (one row each), the generator and where things live."""

    network: MarkovNetwork
    states: IntArray
    generator: object  # scipy.sparse.csr_matrix, (S, S)
    layout: Layout

    @property
    def size(self) -> int:
        """Number of states."""
        return int(self.states.shape[0])


def state_keys(rows: IntArray) -> npt.NDArray[np.void]:
    """Each row of ``rows`` (one state per row) as one bytes-comparable key, for ``np.unique``."""
    if rows.shape[1] == 0:  # no columns (nothing reaches the stations): every row is one state
        return np.zeros(len(rows), np.dtype((np.void, 1)))
    contiguous = np.ascontiguousarray(rows)
    return contiguous.view(np.dtype((np.void, contiguous.dtype.itemsize * rows.shape[1]))).ravel()


def intern_states(
    index: dict[bytes, int], unique: npt.NDArray[np.void]
) -> tuple[IntArray, list[int]]:
    """The state number of each key in ``unique``, numbering new ones in ``index`` as they come.

    Returns the numbers and the positions in ``unique`` of the keys not seen before.
    """
    ids = np.empty(len(unique), np.int64)
    fresh = []
    for position, key in enumerate(unique):
        raw = key.tobytes()
        known = index.get(raw)
        if known is None:
            known = len(index)
            index[raw] = known
            fresh.append(position)
        ids[position] = known
    return ids, fresh


def build_chain(network: MarkovNetwork) -> Chain:
    """Enumerate the states reachable from the empty network and the generator between them.

    Raises
    ------
    ValueError
        When :func:`state_bound` exceeds ``STATE_LIMIT`` (nothing is built), when a
        waiting line's code would not fit 62 bits, or a class reaches a station
        without a service law.
    """
    bound = state_bound(network)
    if bound > STATE_LIMIT:
        raise ValueError(f"state space above the limit of {STATE_LIMIT:,} states")
    layout = build_layout(network)
    for j, station in enumerate(network.stations):
        for _, _, base, _ in layout.queue[j]:
            if base > 1 and (station.limit - station.servers) * math.log2(base) > 62:
                raise ValueError(f"the waiting line at {station.name} is too long to encode")
    moves = Moves(network, layout)
    empty = np.zeros((1, layout.columns), np.int64)
    index = {state_keys(empty)[0].tobytes(): 0}
    found = [empty]
    sources, targets, rates = [], [], []
    frontier, frontier_index = empty, np.zeros(1, np.int64)
    while len(frontier):
        batch = Batch.join(events(moves, frontier, frontier_index), layout.columns)
        keys = state_keys(batch.rows)
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        ids, fresh = intern_states(index, unique)
        sources.append(batch.origin)
        targets.append(ids[inverse.ravel()])
        rates.append(batch.weight)
        frontier = batch.rows[first[fresh]] if fresh else np.zeros((0, layout.columns), np.int64)
        frontier_index = ids[fresh] if fresh else np.zeros(0, np.int64)
        found.append(frontier)
    states = np.concatenate(found)
    size = len(states)
    from scipy.sparse import coo_matrix, diags

    src, dst, rate = np.concatenate(sources), np.concatenate(targets), np.concatenate(rates)
    keep = src != dst
    matrix = coo_matrix((rate[keep], (src[keep], dst[keep])), shape=(size, size)).tocsr()
    generator = matrix - diags(np.asarray(matrix.sum(axis=1)).ravel())
    return Chain(network, states, generator.tocsr(), layout)


def stationary(chain: Chain) -> FloatArray:
    """The stationary distribution ``π`` of an irreducible chain (``π Q = 0``, ``Σ π = 1``).

    A direct sparse LU with one balance equation replaced by the normalisation, or,
    above ``DIRECT_LIMIT`` states, GMRES with an incomplete-LU preconditioner.
    Above ``ITERATIVE_FROM`` states GMRES with a light incomplete LU is tried
    first (:func:`_light_solve`), and kept where it reaches a residual of 1e-12.

    Raises
    ------
    ValueError
        When the solution is not a distribution to 1e-9 (residual or sign).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import LinearOperator, gmres, spilu, spsolve

    q = chain.generator
    assert isinstance(q, csr_matrix)
    size = q.shape[0]
    if size == 1:
        return np.ones(1)
    # π_0 = 1 and the balance equations of the other states: (Q')ᵀ x = -Q[0, 1:]
    # (no dense normalisation row, which would fill the LU factors in).
    sub = q[1:, 1:].T.tocsc()
    rhs = -np.asarray(q[0, 1:].todense()).ravel()
    light = _light_solve(q, sub, rhs) if size > ITERATIVE_FROM else None
    if light is not None:
        return light
    if size <= DIRECT_LIMIT:
        rest = np.asarray(spsolve(sub, rhs), dtype=np.float64)
    else:
        ilu = spilu(sub, drop_tol=1e-6, fill_factor=20)
        preconditioner = LinearOperator(sub.shape, ilu.solve)
        rest, _ = gmres(sub, rhs, M=preconditioner, rtol=1e-13, atol=0.0, restart=100, maxiter=200)
        rest = np.asarray(rest, dtype=np.float64)
    pi, residual = _accepted(q, rest, 1e-9, 1e-9)
    if pi is None:
        raise ValueError(f"the CTMC solve did not converge (residual {residual:.2g})")
    return pi


def _accepted(
    q: Any, rest: FloatArray, negative: float, tolerance: float
) -> tuple[FloatArray | None, float]:
    """``π`` from ``π_0 = 1`` and the others ``rest`` if it is a distribution, and its residual.

    Accepted when finite, no entry below ``-negative`` and the residual ``|πQ|``
    over ``max |Q|`` at most ``tolerance``; then clipped at 0 and renormalised.
    """
    pi = np.concatenate([[1.0], np.asarray(rest, dtype=np.float64)])
    pi = pi / pi.sum()
    scale = float(abs(q).max())
    residual = float(np.abs(q.T @ pi).max()) / scale if scale > 0 else 0.0
    if not np.all(np.isfinite(pi)) or pi.min() < -negative or not residual <= tolerance:
        return None, residual
    pi = np.maximum(pi, 0.0)
    return np.asarray(pi / pi.sum(), dtype=np.float64), residual


def _light_solve(q: Any, sub: Any, rhs: FloatArray) -> FloatArray | None:
    """``π`` by GMRES with a light incomplete LU (None where it does not reach 1e-12).

    The factor keeps entries above 1e-3 and at most 3× the matrix's nonzeros, in a
    minimum-degree order of ``Aᵀ + A``: cheap to build even where a full LU fills in,
    and a preconditioner that GMRES needs some tens of steps with (at most 300 here).
    """
    from scipy.sparse.linalg import LinearOperator, gmres, spilu

    try:
        factor = spilu(sub, drop_tol=1e-3, fill_factor=3, permc_spec="MMD_AT_PLUS_A")
    except RuntimeError:  # an exactly singular factor: the direct solve decides
        return None
    preconditioner = LinearOperator(factor.shape, factor.solve)
    with np.errstate(all="ignore"):
        rest, info = gmres(sub, rhs, M=preconditioner, rtol=1e-13, atol=0.0, restart=100, maxiter=3)
    if info != 0:
        return None
    return _accepted(q, rest, 1e-12, _KEPT_RESIDUAL)[0]
