"""Traffic equations and the checking/shaping of network inputs.

:func:`traffic_rates` solves ``lambda = gamma + P^T lambda`` for one class. The
private helpers turn the arrays the scenario layer passes (one row per event class
``k`` and one column per station ``i``) into validated float arrays of fixed
shapes: ``(K, N)`` for rates, means and SCVs, ``(K, N, N)`` for routing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from eda_sim.theory._checks import check_capacity, check_servers
from eda_sim.traffic import network_traffic, reachable_from

__all__ = ["traffic_rates"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_ROW_TOL = 1e-9


def _check_routing(routing: FloatArray, where: str = "") -> None:
    n = routing.shape[0]
    if routing.shape != (n, n):
        raise ValueError(
            f"{where}routing must be a square (N, N) matrix, got shape {routing.shape}"
        )
    if not np.all(np.isfinite(routing)):
        raise ValueError(f"{where}routing entries must be finite")
    bad = np.argwhere((routing < 0.0) | (routing > 1.0))
    if bad.size:
        i, j = (int(x) for x in bad[0])
        raise ValueError(
            f"{where}routing entries must be in [0, 1], got {float(routing[i, j])!r} at [{i}, {j}]"
        )
    sums = routing.sum(axis=1)
    over = np.flatnonzero(sums > 1.0 + _ROW_TOL)
    if over.size:
        i = int(over[0])
        raise ValueError(f"{where}routing row {i} sums to {sums[i]:.6g} (> 1)")


def traffic_rates(external_rates: npt.ArrayLike, routing: npt.ArrayLike) -> FloatArray:
    """Solve the traffic equations ``lambda = gamma + P^T lambda`` of one class.

    Only stations reachable from a station with external arrivals are solved for
    (the others get 0), by :func:`eda_sim.traffic.network_traffic` (dense for small
    networks, sparse for large ones; no eigenvalues are computed: a loop no event
    leaves shows as a singular or negative solution).

    Parameters
    ----------
    external_rates : array_like, shape (N,)
        External (Poisson or other) arrival rate ``gamma_i`` into each station, >= 0.
    routing : array_like, shape (N, N)
        ``P[i, j]`` = probability that an event finishing at ``i`` goes next to
        ``j``; ``1 - sum_j P[i, j]`` leaves the system.

    Returns
    -------
    ndarray, shape (N,)
        Total arrival rate ``lambda_i`` into each station (external + internal).

    Raises
    ------
    ValueError
        On bad shapes or entries (negative rates, probabilities outside [0, 1],
        a row summing to more than 1), or when ``I - P^T`` is singular on the
        reachable stations: a routing loop that no event can leave.

    Notes
    -----
    Source: J. R. Jackson, "Jobshop-like queueing systems", *Management Science*
    10(1) (1963) 131-142; Gross et al., *Fundamentals of Queueing Theory*, 4th ed.,
    section on open Jackson networks.
    """
    gamma = np.asarray(external_rates, dtype=np.float64)
    p = np.asarray(routing, dtype=np.float64)
    if gamma.ndim != 1:
        raise ValueError(f"external_rates must have shape (N,), got {gamma.shape}")
    if p.ndim != 2:
        raise ValueError(f"routing must have shape (N, N), got {p.shape}")
    _check_routing(p)
    n = gamma.size
    if p.shape != (n, n):
        raise ValueError(
            f"routing must have shape ({n}, {n}) to match external_rates, got {p.shape}"
        )
    if not np.all(np.isfinite(gamma) & (gamma >= 0.0)):
        bad = gamma[~(np.isfinite(gamma) & (gamma >= 0.0))][0]
        raise ValueError(f"external_rates must be finite and >= 0, got {float(bad)!r}")
    return np.asarray(network_traffic(gamma[np.newaxis, :], [p]).offered[0], dtype=np.float64)


def class_matrix(name: str, value: npt.ArrayLike, k: int, n: int, *, positive: bool) -> FloatArray:
    """Broadcast a scalar, ``(N,)`` or ``(K, N)`` input to a checked ``(K, N)`` array."""
    arr = np.asarray(value, dtype=np.float64)
    if (
        arr.ndim > 2
        or (arr.ndim >= 1 and arr.shape[-1] != n)
        or (arr.ndim == 2 and arr.shape[0] != k)
    ):
        raise ValueError(f"{name} must be a scalar, shape ({n},) or ({k}, {n}), got {arr.shape}")
    out = np.array(np.broadcast_to(arr, (k, n)), dtype=np.float64)
    ok = np.isfinite(out) & ((out > 0.0) if positive else (out >= 0.0))
    if not ok.all():
        kk, ii = (int(x) for x in np.argwhere(~ok)[0])
        rule = "> 0" if positive else ">= 0"
        raise ValueError(
            f"{name}[{kk}, {ii}] must be finite and {rule}, got {float(out[kk, ii])!r}"
        )
    return out


def prepare_flows(
    external_rates: npt.ArrayLike, routing: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Check and shape external rates to ``(K, N)`` and routing to ``(K, N, N)``.

    A 1-D ``external_rates`` is one class; a 2-D ``routing`` is shared by all classes.
    """
    gamma = np.asarray(external_rates, dtype=np.float64)
    if gamma.ndim == 1:
        gamma = gamma[np.newaxis, :]
    if gamma.ndim != 2 or gamma.shape[1] == 0:
        raise ValueError(f"external_rates must have shape (N,) or (K, N), got {gamma.shape}")
    k, n = gamma.shape
    gamma = class_matrix("external_rates", gamma, k, n, positive=False)
    if gamma.sum() <= 0.0:
        raise ValueError("external_rates must not all be 0: no events enter the network")
    p = np.asarray(routing, dtype=np.float64)
    if p.ndim == 2:
        p = np.broadcast_to(p, (k, *p.shape))
    if p.shape != (k, n, n):
        raise ValueError(f"routing must have shape ({n}, {n}) or ({k}, {n}, {n}), got {p.shape}")
    p = np.array(p, dtype=np.float64)
    for cls in range(k):
        _check_routing(p[cls], f"class {cls}: " if k > 1 else "")
    return gamma, p


def prepare_servers(servers: npt.ArrayLike, n: int) -> list[int]:
    """Check ``servers`` (shape ``(N,)``, whole numbers >= 1)."""
    arr = np.asarray(servers)
    if arr.shape != (n,):
        raise ValueError(f"servers must have shape ({n},), got {arr.shape}")
    return [check_servers(arr[i].item(), name=f"servers[{i}]") for i in range(n)]


def prepare_capacity(
    capacity: Sequence[float | None] | npt.ArrayLike | None, servers: list[int]
) -> list[int | None]:
    """Check ``capacity`` (shape ``(N,)``; None or inf = unlimited; else whole >= servers)."""
    n = len(servers)
    if capacity is None:
        return [None] * n
    items = list(np.asarray(capacity, dtype=object).reshape(-1))
    if len(items) != n or np.ndim(np.asarray(capacity, dtype=object)) != 1:
        raise ValueError(f"capacity must have {n} entries (None or inf for unlimited)")
    out: list[int | None] = []
    for i, item in enumerate(items):
        value = item.item() if isinstance(item, np.generic) else item
        if value is None or (isinstance(value, float) and math.isinf(value) and value > 0):
            out.append(None)
        else:
            out.append(check_capacity(value, servers[i], name=f"capacity[{i}]"))
    return out


def class_rates(gamma: FloatArray, routing: FloatArray, admit: FloatArray) -> FloatArray:
    """Offered rates ``lambda_k,i`` when station ``i`` admits a share ``admit_i``.

    Solves ``lambda_k = gamma_k + P_k^T (admit * lambda_k)`` for each class: only
    admitted events are routed on.
    """
    out = np.zeros_like(gamma)
    for cls in range(gamma.shape[0]):
        try:
            out[cls] = traffic_rates(gamma[cls], admit[:, np.newaxis] * routing[cls])
        except ValueError as exc:
            if gamma.shape[0] == 1:
                raise
            raise ValueError(f"class {cls}: {exc}") from exc
    return out


def reachable(sources: BoolArray, adjacency: BoolArray) -> BoolArray:
    """Return the stations reachable (in >= 0 hops) from ``sources`` along ``adjacency``."""
    return reachable_from(sources, adjacency)
