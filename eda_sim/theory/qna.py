"""Whitt's Queueing Network Analyzer: arrival variability and GI/G/c node delays.

:func:`arrival_variability` solves QNA's traffic-variability equations for the
squared coefficient of variation ``ca_j²`` of every station's arrival stream, on
the carried flows (losses upstream thin the flows), sparse for large networks;
:func:`qna` is the classical open-network analyzer on plain arrays.

With the flows ``λ_ij`` of admitted events (and fan-out copies) from ``i`` to
``j``, the departures' ``cd_i² = (1 - ρ_i²) ca_i² + ρ_i² (1 + (cs_i² - 1)/√c_i)``,
the split ``q_ij = min(λ_ij / λ_i, 1)`` (a fan-out copy stream is the whole
departure stream), and Whitt's hybrid superposition weight
``w_j = 1 / (1 + 4 (1 - ρ_j)² (v_j - 1))``, ``v_j = 1 / Σ_i (λ_ij / λ_j)²``, the
``ca_j²`` solve one linear system, sparse in the routing:
``ca_j² − w_j Σ_i p_ij q_ij (1 − ρ_i²) ca_i² = a_j``.

Source: W. Whitt, "The Queueing Network Analyzer", *Bell System Technical
Journal* 62(9) (1983) 2779-2815; node delays after J. F. C. Kingman (1961) and
A. O. Allen, *Probability, Statistics, and Queueing Theory*, 2nd ed. (1990).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from eda_sim.theory.network import assemble, mix_weights, raise_unstable
from eda_sim.theory.results import NetworkTheory, StationTheory
from eda_sim.theory.single import _erlang_c
from eda_sim.theory.traffic import class_matrix, class_rates, prepare_flows, prepare_servers
from eda_sim.traffic import DENSE_LIMIT

__all__ = ["arrival_variability", "qna"]

FloatArray = npt.NDArray[np.float64]


def arrival_variability(
    gamma: FloatArray,
    external_scv: FloatArray,
    copies: Sequence[Any],
    carried: FloatArray,
    offered: FloatArray,
    means: FloatArray,
    scvs: FloatArray,
    servers: FloatArray,
) -> FloatArray:
    """``ca_j²`` of the stream offered to every station (1 where nothing arrives).

    Parameters
    ----------
    gamma, external_scv : ndarray, shape (K, N)
        External rates and the SCV of their gaps.
    copies : sequence of K (N, N) matrices (dense, or CSR above ``DENSE_LIMIT``)
        Routing plus fan-out copies per class.
    carried, offered : ndarray, shape (K, N)
        Admitted and offered rates (from :func:`eda_sim.traffic.network_traffic`).
    means, scvs : ndarray, shape (K, N)
        Service means and SCVs.
    servers : ndarray, shape (N,)
        Servers per station.
    """
    n = gamma.shape[1]
    lam_out = carried.sum(axis=0)
    lam_in = offered.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(lam_out > 0, carried / np.where(lam_out > 0, lam_out, 1.0), 0.0)
        mean = (share * means).sum(axis=0)
        second = (share * means**2 * (1 + scvs)).sum(axis=0)
        cs2 = np.where(mean > 0, np.maximum(second / np.where(mean > 0, mean, 1.0) ** 2 - 1, 0), 1)
    rho = np.minimum(lam_out * mean / servers, 1.0 - 1e-12)
    gamma0 = gamma.sum(axis=0)
    safe_in = np.where(lam_in > 0, lam_in, 1.0)
    ca0 = np.where(
        gamma0 > 0, (gamma * external_scv).sum(axis=0) / np.where(gamma0 > 0, gamma0, 1), 1
    )
    if n <= DENSE_LIMIT:
        flows = sum(carried[k][:, None] * np.asarray(m) for k, m in enumerate(copies))
        flows = np.asarray(flows, dtype=np.float64)
        q = np.minimum(flows / np.where(lam_out > 0, lam_out, 1.0)[:, None], 1.0)
        p_in = flows / safe_in[None, :]
        concentration = (gamma0 / safe_in) ** 2 + (p_in**2).sum(axis=0)
    else:
        from scipy.sparse import diags

        flows = sum(diags(carried[k]) @ m for k, m in enumerate(copies)).tocsr()
        q = diags(1.0 / np.where(lam_out > 0, lam_out, 1.0)) @ flows
        q.data = np.minimum(q.data, 1.0)
        p_in = flows @ diags(1.0 / safe_in)
        concentration = (gamma0 / safe_in) ** 2 + np.asarray(
            p_in.multiply(p_in).sum(axis=0)
        ).ravel()
    # a station whose inflow underflows (a rate of 1e-300 after a long chain) takes
    # the stream as it comes (v = 1) rather than dividing by a zero concentration
    active = (lam_in > 0) & (concentration > 0)
    v = np.where(active, 1.0 / np.where(active, concentration, 1.0), 1.0)
    w = 1.0 / (1.0 + 4.0 * (1.0 - rho) ** 2 * (v - 1.0))
    x = 1.0 + (cs2 - 1.0) / np.sqrt(servers)
    p0 = gamma0 / safe_in
    return _solve(p_in, q, w, rho, x, p0, ca0, active, n)


def _solve(
    p_in: object,
    q: object,
    w: FloatArray,
    rho: FloatArray,
    x: FloatArray,
    p0: FloatArray,
    ca0: FloatArray,
    active: npt.NDArray[np.bool_],
    n: int,
) -> FloatArray:
    """Solve ``(I - B) ca² = a`` with ``B_ji = w_j p_ij q_ij (1 - ρ_i²)``."""
    ca2 = np.ones(n)
    if isinstance(p_in, np.ndarray):
        assert isinstance(q, np.ndarray)
        pq = p_in * q
        a = 1 - w + w * (p0 * ca0 + (p_in * (1 - q) + pq * (rho**2 * x)[:, None]).sum(axis=0))
        b = (w[:, None] * pq.T) * (1 - rho**2)[None, :]
        idx = np.flatnonzero(active)
        ca2[idx] = np.linalg.solve(np.eye(idx.size) - b[np.ix_(idx, idx)], a[idx])
        return np.maximum(ca2, 0.0)
    from scipy.sparse import diags, identity
    from scipy.sparse.linalg import gmres, spsolve

    pq = p_in.multiply(q).tocsr()  # type: ignore[attr-defined]
    col = np.asarray(p_in.sum(axis=0)).ravel() - np.asarray(pq.sum(axis=0)).ravel()  # type: ignore[attr-defined]
    col += np.asarray((diags(rho**2 * x) @ pq).sum(axis=0)).ravel()
    a = 1 - w + w * (p0 * ca0 + col)
    b = (diags(w) @ pq.T @ diags(1 - rho**2)).tocsr()
    idx = np.flatnonzero(active)
    system = (identity(idx.size, format="csr") - b[idx][:, idx]).tocsr()
    solution, info = gmres(system, a[idx], x0=a[idx], rtol=1e-12, atol=0.0, restart=60, maxiter=50)
    if info != 0:
        solution = spsolve(system.tocsc(), a[idx])
    ca2[idx] = solution
    return np.maximum(ca2, 0.0)


def qna(
    external_rates: npt.ArrayLike,
    external_scv: npt.ArrayLike,
    routing: npt.ArrayLike,
    service_mean: npt.ArrayLike,
    service_scv: npt.ArrayLike,
    servers: npt.ArrayLike,
) -> NetworkTheory:
    r"""Whitt's Queueing Network Analyzer for an open network of GI/G/c stations.

    1. Rates: per-class traffic equations, ``lambda_i = sum_k lambda_k,i``.
    2. Classes are aggregated per station: mean ``s_i = sum_k p_k E[S_k,i]`` and
       SCV ``cs_i^2 = sum_k p_k E[S_k,i^2] / s_i^2 - 1`` with
       ``E[S^2] = E[S]^2 (1 + c^2)`` and ``p_k = lambda_k,i / lambda_i``; routing is
       aggregated to ``q_ij = sum_k lambda_k,i P_k,ij / lambda_i``; the external
       stream into ``j`` has rate ``lambda_0j = sum_k gamma_k,j`` and the
       rate-weighted SCV of the class streams.
    3. Traffic-variability equations (linear in the arrival SCVs ``ca_j^2``):

       * departures: ``cd_i^2 = 1 + (1 - rho_i^2)(ca_i^2 - 1)
         + rho_i^2 (cs_i^2 - 1) / sqrt(c_i)`` (no floor is put on ``cs_i^2``);
       * splitting: the stream ``i -> j`` has SCV ``q_ij cd_i^2 + 1 - q_ij``;
       * superposition (Whitt's hybrid):
         ``ca_j^2 = w_j sum_i (lambda_ij / lambda_j) c_ij^2 + 1 - w_j``, the sum
         over the external stream and every ``i -> j`` stream, with
         ``w_j = 1 / (1 + 4 (1 - rho_j)^2 (v_j - 1))`` and
         ``v_j = 1 / sum_i (lambda_ij / lambda_j)^2``.

       Substituting gives ``(I - B) ca^2 = a`` with
       ``B_ji = w_j p_ij q_ij (1 - rho_i^2)``, solved by ``numpy.linalg.solve``.
    4. Node delays (Kingman for ``c = 1``, Allen-Cunneen otherwise):
       ``Wq_j = Wq(M/M/c_j; lambda_j, s_j) * (ca_j^2 + cs_j^2) / 2``, with
       ``W = Wq + s``, ``L = lambda W`` and ``Lq = lambda Wq``. Whitt's QNA refines
       the single-server delay for ``ca^2 < 1`` by the Kraemer and
       Langenbach-Belz factor; this implementation does not.

    When every SCV is 1 and the classes at a station share one mean, every
    ``ca_j^2`` is 1 and the figures are those of :func:`jackson`. Results are
    always marked ``exact=False``.

    Parameters
    ----------
    external_rates : array_like, shape (K, N) or (N,)
        External arrival rate of each class into each station (>= 0).
    external_scv : array_like, shape (K, N), (N,) or scalar
        SCV of the external inter-arrival times (1 for Poisson).
    routing : array_like, shape (K, N, N) or (N, N)
        Routing matrix of each class.
    service_mean : array_like, shape (K, N), (N,) or scalar
        Mean service time of each class at each station (> 0).
    service_scv : array_like, shape (K, N), (N,) or scalar
        SCV of the service time of each class at each station (>= 0).
    servers : array_like, shape (N,)
        Number of servers per station (whole, >= 1).

    Returns
    -------
    NetworkTheory
        As :func:`jackson`, with ``arrival_scv`` holding each ``ca_j^2``.

    Raises
    ------
    ValueError
        For bad shapes or values, or a routing loop no event can leave;
        :class:`eda_sim.errors.UnstableError` (a ValueError) listing every station
        whose load is >= 1.

    Notes
    -----
    Source: W. Whitt, "The Queueing Network Analyzer", *Bell System Technical
    Journal* 62(9) (1983) 2779-2815; node delays after J. F. C. Kingman (1961) and
    A. O. Allen, *Probability, Statistics, and Queueing Theory*, 2nd ed. (1990).
    """
    gamma, p = prepare_flows(external_rates, routing)
    k, n = gamma.shape
    ca0_kn = class_matrix("external_scv", external_scv, k, n, positive=False)
    s_kn = class_matrix("service_mean", service_mean, k, n, positive=True)
    cs_kn = class_matrix("service_scv", service_scv, k, n, positive=False)
    c = prepare_servers(servers, n)
    cf = np.asarray(c, dtype=np.float64)

    lam_kn = class_rates(gamma, p, np.ones(n, dtype=np.float64))
    lam, share = mix_weights(lam_kn)
    mean = (share * s_kn).sum(axis=0)
    rho = lam * mean / cf
    raise_unstable(rho, [True] * n)
    second = (share * s_kn**2 * (1.0 + cs_kn)).sum(axis=0)
    cs2 = np.maximum(second / mean**2 - 1.0, 0.0)
    ca2 = arrival_variability(gamma, ca0_kn, list(p), lam_kn, lam_kn, s_kn, cs_kn, cf)
    stations = [_node(lam[i], mean[i], c[i], ca2[i], cs2[i]) for i in range(n)]
    ones = np.ones(n, dtype=np.float64)
    return assemble(stations, lam_kn, gamma, ones, s_kn, ("QNA (Whitt 1983)",) * 2, arrival_scv=ca2)


def _node(lam: float, mean: float, servers: int, ca2: float, cs2: float) -> StationTheory:
    """Kingman (one server) or Allen-Cunneen (several): the M/M/c wait times (ca² + cs²)/2."""
    rho = lam * mean / servers
    wq = _erlang_c(servers, lam * mean) * mean / (servers * (1.0 - rho)) * (ca2 + cs2) / 2.0
    label = "QNA (Whitt 1983) + " + ("Kingman" if servers == 1 else "Allen-Cunneen")
    return StationTheory.from_waits(lam, wq, wq + mean, rho, label, exact=False)
