"""The traffic equations with losses: offered and carried rates of a whole network.

The stability check of the scenario layer and every network formula of the theory
layer need the same figures: per event class ``k`` and station ``j``, the rate
*offered* to the station and the rate it *carries* (admits) when full stations
refuse arrivals. They come from one place, :func:`network_traffic`, the fixed
point of the traffic equations with losses

    λ_k = γ_k + M_kᵀ carried_k,   carried_k,j = λ_k,j (1 − loss_j)   (refusing stations)
                                  carried_k,j = λ_k,j − γ_k,j loss_j  (``on_full: block``)

where ``M_k = P_k + F_k`` holds the routing probabilities and the fan-out copies
(expected events sent from ``i`` to ``j`` per completion at ``i``) and ``loss`` is
given by a loss model: a function of the offered rates. A blocking station refuses
only external arrivals (an internal sender waits instead). Only admitted events
complete and are routed on, so traffic behind a lossy station is thinned.

The loss model is a parameter: the scenario layer uses
:func:`mmck_loss` on each station's offered rate and mean service time (exact
for Poisson input with exponential service, and for ``capacity == servers`` with
any service, by insensitivity); the theory layer passes its best formula per
station. :func:`erlang_b` and :func:`mmck_loss` (:mod:`eda_sim.traffic.erlang`) are
bounded in time for any number of servers and any capacity.

Small networks are solved densely with NumPy; large ones (more than
``DENSE_LIMIT`` stations) with :mod:`scipy.sparse` (imported only then), so the
work grows with the number of routing entries, not with N³.

Sources: J. R. Jackson, "Jobshop-like queueing systems", *Management Science*
10 (1963) 131-142 (traffic equations); the reduced-load (Erlang fixed point)
approximation: F. P. Kelly, "Loss networks", *Annals of Applied Probability* 1
(1991) 319-378; Erlang B: Tijms, *A First Course in Stochastic Models* (Wiley,
2003), §2.5 and §5.1 (the recursion and the Poisson-ratio form).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DENSE_LIMIT", "LossModel", "Traffic", "network_traffic", "reachable_from"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: A loss model: offered rates ``(K, N)`` -> probability that an arrival is refused ``(N,)``.
LossModel = Callable[[FloatArray], FloatArray]

#: Networks with at most this many stations are solved with dense NumPy arrays.
DENSE_LIMIT = 300
_TOLERANCE = 1e-12
_MAX_ITERATIONS = 1000


# --------------------------------------------------------------------------- the fixed point


def reachable_from(sources: BoolArray, adjacency: Any) -> BoolArray:
    """Stations reachable (in >= 0 hops) from ``sources`` along ``adjacency`` (dense or sparse).

    Breadth-first, O(stations + edges) with a sparse ``adjacency``.
    """
    seen = np.array(sources, dtype=bool)
    if isinstance(adjacency, np.ndarray):
        frontier = seen.copy()
        while frontier.any():
            nxt = adjacency[frontier].any(axis=0) & ~seen
            seen |= nxt
            frontier = nxt
        return seen
    from scipy.sparse import csr_matrix

    graph = csr_matrix(adjacency, dtype=bool)
    frontier = np.flatnonzero(seen)
    while frontier.size:
        targets = np.unique(graph[frontier].indices)
        frontier = targets[~seen[targets]]
        seen[frontier] = True
    return seen


@dataclass(frozen=True, eq=False)
class Traffic:
    """Offered and carried rates of every class at every station (read-only arrays).

    Parameters
    ----------
    external : ndarray, shape (K, N)
        External arrival rate ``γ_k,j``.
    offered : ndarray, shape (K, N)
        Rate of class-``k`` arrivals at station ``j``: external plus internal.
    carried : ndarray, shape (K, N)
        The admitted part of ``offered`` (what the station serves and routes on).
    loss : ndarray, shape (N,)
        Probability that an arrival is refused (external arrivals only at a
        blocking station).
    iterations : int
        Fixed-point iterations taken (1 without losses).
    converged : bool
        Whether the fixed point met its tolerance.
    """

    external: FloatArray
    offered: FloatArray
    carried: FloatArray
    loss: FloatArray
    iterations: int = 1
    converged: bool = True

    def __post_init__(self) -> None:
        for name in ("external", "offered", "carried", "loss"):
            frozen = np.array(getattr(self, name), dtype=np.float64)
            frozen.flags.writeable = False
            object.__setattr__(self, name, frozen)

    @property
    def offered_total(self) -> FloatArray:
        """Rate offered to each station, all classes."""
        return np.asarray(self.offered.sum(axis=0))

    @property
    def carried_total(self) -> FloatArray:
        """Rate carried by each station, all classes."""
        return np.asarray(self.carried.sum(axis=0))

    def loads(self, means: FloatArray, servers: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Offered and carried load ``Σ_k rate_k,j E[S_k,j] / c_j`` per station."""
        offered = (self.offered * means).sum(axis=0) / servers
        carried = (self.carried * means).sum(axis=0) / servers
        return np.asarray(offered), np.asarray(carried)


def _solve_class(
    copies: Any, gamma: FloatArray, admit: FloatArray, refused_external: FloatArray
) -> FloatArray:
    """``λ = γ + Mᵀ (admit λ − refused_external)`` on the stations reachable from ``γ``."""
    n = gamma.size
    out = np.zeros(n, dtype=np.float64)
    live = reachable_from(gamma > 0.0, copies > 0)
    if not live.any():
        return out
    index = np.flatnonzero(live)
    if isinstance(copies, np.ndarray):
        sub = copies[np.ix_(index, index)]
        matrix = np.eye(index.size) - sub.T * admit[index][None, :]
        rhs = gamma[index] - sub.T @ refused_external[index]
        try:
            solution = np.linalg.solve(matrix, rhs)
        except np.linalg.LinAlgError as error:
            raise ValueError(_SINGULAR) from error
    else:
        from scipy.sparse import diags, identity
        from scipy.sparse.linalg import gmres, spsolve

        sub = copies[index][:, index]
        matrix = (identity(index.size, format="csr") - sub.T @ diags(admit[index])).tocsr()
        rhs = gamma[index] - sub.T @ refused_external[index]
        # GMRES first: a random routing graph makes a direct LU fill in almost densely.
        solution, info = gmres(matrix, rhs, x0=rhs, rtol=1e-14, atol=0.0, restart=60, maxiter=50)
        solution = np.asarray(solution, dtype=np.float64)
        if info != 0 or np.abs(matrix @ solution - rhs).max() > 1e-12 * np.abs(rhs).max():
            solution = np.asarray(spsolve(matrix.tocsc(), rhs), dtype=np.float64)
    scale = max(float(np.abs(rhs).max()), 1e-300)
    if not np.all(np.isfinite(solution)) or solution.min() < -1e-9 * scale:
        raise ValueError(_SINGULAR)
    out[index] = np.maximum(solution, 0.0)
    return out


_SINGULAR = (
    "traffic equations are singular: a routing loop that no event can leave "
    "(or fan-out that makes infinitely many copies)"
)


def _dense_or_sparse(matrix: Any, n: int) -> Any:
    """A dense array for a small network, a CSR matrix for a large one."""
    if n <= DENSE_LIMIT:
        dense = matrix.toarray() if hasattr(matrix, "toarray") else matrix
        return np.asarray(dense, dtype=np.float64).reshape(n, n)
    from scipy.sparse import csr_matrix

    return csr_matrix(matrix, dtype=np.float64)


def network_traffic(
    external: npt.ArrayLike,
    copies: Sequence[Any],
    loss_model: LossModel | None = None,
    blocking: npt.ArrayLike | None = None,
    *,
    tolerance: float = _TOLERANCE,
    max_iterations: int = _MAX_ITERATIONS,
) -> Traffic:
    """Solve the traffic equations with losses for every event class.

    Parameters
    ----------
    external : array_like, shape (K, N)
        External arrival rate of each class at each station.
    copies : sequence of K matrices, each (N, N), dense or scipy.sparse
        ``M_k = P_k + F_k``: routing probabilities plus fan-out copies.
    loss_model : callable, optional
        Offered rates ``(K, N)`` -> loss probability per station ``(N,)``. None: no
        station refuses anything (the plain traffic equations, one linear solve).
    blocking : array_like of bool, shape (N,), optional
        Stations with ``on_full: block``: they refuse only external arrivals.
    tolerance : float
        Relative change of the offered rates below which the fixed point stops.
    max_iterations : int
        The most fixed-point iterations; ``converged`` says whether that sufficed.

    Returns
    -------
    Traffic

    Raises
    ------
    ValueError
        When the equations are singular: a loop no event leaves, or fan-out with
        infinitely many copies (the solution is then negative or not finite).

    Notes
    -----
    Each iteration solves the linear equations with the losses held fixed, then
    updates the losses from the new offered rates, damped (halved) whenever the
    change grows.
    """
    gamma = np.atleast_2d(np.asarray(external, dtype=np.float64))
    k, n = gamma.shape
    block = np.zeros(n, dtype=bool) if blocking is None else np.asarray(blocking, dtype=bool)
    loss = np.zeros(n, dtype=np.float64)
    if len(copies) != k:
        raise ValueError(f"need one copies matrix per class ({k}), got {len(copies)}")
    matrices = [_dense_or_sparse(matrix, n) for matrix in copies]

    def solve(current: FloatArray) -> FloatArray:
        admit = np.where(block, 1.0, 1.0 - current)
        refused = np.where(block, current, 0.0)
        return np.array(
            [
                _solve_class(matrices[cls], gamma[cls], admit, gamma[cls] * refused)
                for cls in range(k)
            ]
        ).reshape(k, n)

    offered = solve(loss)
    iterations, converged = 1, True
    if loss_model is not None:
        converged = False
        weight, previous_change = 1.0, math.inf
        for iterations in range(2, max_iterations + 2):  # noqa: B007 - reported below
            target = np.clip(np.asarray(loss_model(offered), dtype=np.float64), 0.0, 1.0)
            loss = loss + weight * (target - loss)
            updated = solve(loss)
            change = float(np.abs(updated - offered).max()) / max(float(offered.max()), 1e-300)
            offered = updated
            if change <= tolerance and float(np.abs(target - loss).max()) <= tolerance:
                converged = True
                break
            if change >= previous_change:
                weight = max(weight / 2.0, 1.0 / 64.0)
            previous_change = change
    admit = np.where(block, 1.0, 1.0 - loss)
    carried = offered * admit[None, :] - gamma * np.where(block, loss, 0.0)[None, :]
    return Traffic(gamma, offered, np.maximum(carried, 0.0), loss, iterations, converged)
