"""Open networks of multi-server stations: Jackson (product form) and Whitt's QNA.

Inputs are plain arrays over ``K`` event classes and ``N`` stations:
``external_rates (K, N)``, ``routing (K, N, N)``, ``service_mean (K, N)``,
``servers (N,)``; a 1-D ``external_rates`` is one class, a 2-D ``routing`` is
shared by every class, and a scalar or ``(N,)`` mean/SCV applies to every class.
Stations serve FIFO; a class's service time may differ from station to station
and from class to class.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from eda_sim.errors import EdaSimWarning, Fault, UnstableError
from eda_sim.theory._checks import unstable_message
from eda_sim.theory.finite import mmck
from eda_sim.theory.results import NetworkTheory, StationTheory, SystemTheory
from eda_sim.theory.single import _erlang_c, mm1, mmc
from eda_sim.theory.traffic import (
    class_matrix,
    class_rates,
    prepare_capacity,
    prepare_flows,
    prepare_servers,
    reachable,
    traffic_rates,
)

__all__ = ["jackson", "qna", "traffic_rates"]

FloatArray = npt.NDArray[np.float64]

_MAX_ITER = 10_000
_TOL = 1e-12


def _mix_weights(lam_kn: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return total rates ``lambda_i`` and class shares ``p_k,i`` (uniform if idle)."""
    lam = lam_kn.sum(axis=0)
    k = lam_kn.shape[0]
    safe = np.where(lam > 0.0, lam, 1.0)
    share = np.where(lam > 0.0, lam_kn / safe, 1.0 / k)
    return lam, share


def _raise_unstable(rho: FloatArray, unlimited: Sequence[bool]) -> None:
    faults = [
        Fault(f"station {i}", unstable_message(float(r)))
        for i, r in enumerate(rho)
        if unlimited[i] and not r < 1.0
    ]
    if faults:
        raise UnstableError(faults)


def _assemble(
    stations: list[StationTheory],
    lam_kn: FloatArray,
    gamma: FloatArray,
    admit: FloatArray,
    service_mean: FloatArray,
    method: tuple[str, str],
    arrival_scv: FloatArray | None = None,
) -> NetworkTheory:
    """Build the network result; ``method`` is (label if exact, label if not)."""
    wq = np.array([s.Wq for s in stations], dtype=np.float64)
    accepted_kn = lam_kn * admit
    class_thr = (gamma * admit).sum(axis=1)
    class_time = (accepted_kn * (wq + service_mean)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        class_w = np.where(class_thr > 0.0, class_time / class_thr, np.nan)
        gamma_tot = gamma.sum(axis=1)
        visits = np.where(gamma_tot[:, None] > 0.0, lam_kn / gamma_tot[:, None], 0.0)
    big_l = float(sum(s.L for s in stations))
    throughput = float(class_thr.sum())
    exact = all(s.exact for s in stations)
    system = SystemTheory(
        L=big_l,
        W=big_l / throughput,
        throughput=throughput,
        method=method[0] if exact else method[1],
        exact=exact,
    )
    return NetworkTheory(
        stations=tuple(stations),
        system=system,
        arrival_rates=lam_kn.sum(axis=0),
        visit_ratios=visits,
        class_throughput=class_thr,
        class_W=class_w,
        arrival_scv=arrival_scv,
    )


def jackson(
    external_rates: npt.ArrayLike,
    routing: npt.ArrayLike,
    service_mean: npt.ArrayLike,
    servers: npt.ArrayLike,
    capacity: Sequence[float | None] | npt.ArrayLike | None = None,
) -> NetworkTheory:
    """Open (multi-class) Jackson network of FIFO M/M/c stations.

    Per class ``k`` the traffic equations ``lambda_k = gamma_k + P_k^T lambda_k``
    give the rates ``lambda_k,i``; station ``i`` sees ``lambda_i = sum_k
    lambda_k,i`` and the rate-weighted mean service time ``s_i = sum_k
    (lambda_k,i / lambda_i) E[S_k,i]``, and is solved as M/M/c with rate
    ``lambda_i`` and ``mu_i = 1 / s_i`` (M/M/1 when ``c = 1``). System ``L`` is the
    sum of the stations' ``L``, the throughput the sum of the admitted external
    rates, and ``W = L / throughput`` (Little's law).

    Service times are taken as exponential. A station's figures are ``exact``
    (product form) when it has no capacity limit, every class there has the same
    mean, and no station with a finite capacity or mixed means lies upstream of
    it. A station with a finite ``capacity`` is solved as M/M/c/K on its offered
    rate, labelled ``"M/M/c/K on offered rate (approx.)"``, unless its input is
    Poisson (nothing upstream breaks product form and it lies on no routing
    cycle), when it is exact. Refused events leave the system, so the traffic
    equations are solved with each station routing on only its admitted share,
    ``lambda_k = gamma_k + P_k^T (1 - loss) lambda_k``, by damped fixed-point
    iteration on the losses (a reduced-load approximation).

    Parameters
    ----------
    external_rates : array_like, shape (K, N) or (N,)
        External arrival rate of each class into each station (>= 0).
    routing : array_like, shape (K, N, N) or (N, N)
        Routing matrix of each class; a row's deficit from 1 leaves the system.
    service_mean : array_like, shape (K, N), (N,) or scalar
        Mean service time of each class at each station (> 0).
    servers : array_like, shape (N,)
        Number of servers per station (whole, >= 1).
    capacity : sequence or array_like, shape (N,), optional
        Maximum number present per station, in service included; None or ``inf``
        for unlimited. Default: all unlimited.

    Returns
    -------
    NetworkTheory
        Per-station results, system figures, offered rates, visit ratios and
        per-class throughput and mean time in the system.

    Raises
    ------
    ValueError
        For bad shapes or values, or a routing loop no event can leave;
        :class:`eda_sim.errors.UnstableError` (a ValueError) listing every station
        without a capacity limit whose load ``rho = lambda_i s_i / c_i`` is >= 1.

    Notes
    -----
    Source: J. R. Jackson, "Jobshop-like queueing systems", *Management Science*
    10(1) (1963) 131-142; F. Baskett, K. M. Chandy, R. R. Muntz and F. G. Palacios,
    "Open, closed and mixed networks of queues with different classes of
    customers", *J. ACM* 22(2) (1975) 248-260 (FCFS stations need a common
    exponential mean); Gross et al., *Fundamentals of Queueing Theory*, 4th ed.,
    chapter on networks of queues. Poisson flows: P. J. Burke, "The output of a
    queuing system", *Operations Research* 4 (1956) 699-704; B. Melamed,
    "Characterizations of Poisson traffic streams in Jackson queueing networks",
    *Advances in Applied Probability* 11 (1979) 422-438 (flows leaving a
    Jackson sub-network are Poisson, flows on cycles are not).
    """
    gamma, p = prepare_flows(external_rates, routing)
    k, n = gamma.shape
    s_kn = class_matrix("service_mean", service_mean, k, n, positive=True)
    c = prepare_servers(servers, n)
    cap = prepare_capacity(capacity, c)
    finite = [x is not None for x in cap]

    admit = np.ones(n, dtype=np.float64)
    for _ in range(_MAX_ITER if any(finite) else 1):
        lam_kn = class_rates(gamma, p, admit)
        lam, share = _mix_weights(lam_kn)
        mean = (share * s_kn).sum(axis=0)
        target = np.ones(n, dtype=np.float64)
        for i in range(n):
            cap_i = cap[i]
            if cap_i is not None:
                target[i] = 1.0 - mmck(lam[i], 1.0 / mean[i], c[i], cap_i).loss
        if np.max(np.abs(target - admit)) <= _TOL:
            admit = target
            break
        admit = 0.5 * (admit + target)
    else:
        if any(finite):
            warnings.warn(
                "jackson: the loss fixed point did not converge; figures are rough",
                EdaSimWarning,
                stacklevel=2,
            )
    lam_kn = class_rates(gamma, p, admit)
    lam, share = _mix_weights(lam_kn)
    mean = (share * s_kn).sum(axis=0)
    _raise_unstable(lam * mean / np.asarray(c, dtype=np.float64), [not f for f in finite])

    # Which stations break product form, and whom they feed.
    present = lam_kn > 0.0
    mixed = np.array(
        [present[:, i].any() and np.ptp(s_kn[present[:, i], i]) > 0.0 for i in range(n)]
    )
    bad = mixed | np.array(finite)
    flow = ((lam_kn * admit)[:, :, None] * p).sum(axis=0) > 0.0
    downstream_of_bad = reachable(flow[bad].any(axis=0), flow)
    on_cycle = [bool(reachable(flow[i], flow)[i]) for i in range(n)]

    stations: list[StationTheory] = []
    for i in range(n):
        cap_i = cap[i]
        mu = 1.0 / mean[i]
        if cap_i is not None:
            res = mmck(lam[i], mu, c[i], cap_i)
            if mixed[i] or downstream_of_bad[i] or on_cycle[i]:
                res = replace(res, method="M/M/c/K on offered rate (approx.)", exact=False)
        else:
            res = mm1(lam[i], mu) if c[i] == 1 else mmc(lam[i], mu, c[i])
            if mixed[i]:
                res = replace(
                    res, method=f"{res.method} on mixed service mean (approx.)", exact=False
                )
            elif downstream_of_bad[i]:
                res = replace(res, method=f"{res.method} (approx.)", exact=False)
        stations.append(res)
    return _assemble(
        stations,
        lam_kn,
        gamma,
        admit,
        s_kn,
        ("Jackson network (product form)", "Jackson network (approx.)"),
    )


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
    lam, share = _mix_weights(lam_kn)
    mean = (share * s_kn).sum(axis=0)
    rho = lam * mean / cf
    _raise_unstable(rho, [True] * n)
    second = (share * s_kn**2 * (1.0 + cs_kn)).sum(axis=0)
    cs2 = np.maximum(second / mean**2 - 1.0, 0.0)

    flows = (lam_kn[:, :, None] * p).sum(axis=0)  # lambda_ij, aggregated over classes
    safe_lam = np.where(lam > 0.0, lam, 1.0)
    q = flows / safe_lam[:, None]
    gamma0 = gamma.sum(axis=0)
    ca0 = np.where(
        gamma0 > 0.0, (gamma * ca0_kn).sum(axis=0) / np.where(gamma0 > 0, gamma0, 1.0), 1.0
    )
    active = lam > 0.0
    p_in = flows / safe_lam[None, :]  # p_ij = lambda_ij / lambda_j
    p0 = gamma0 / safe_lam
    concentration = p0**2 + (p_in**2).sum(axis=0)
    v = np.where(active, 1.0 / np.where(active, concentration, 1.0), 1.0)
    w = 1.0 / (1.0 + 4.0 * (1.0 - rho) ** 2 * (v - 1.0))
    x = 1.0 + (cs2 - 1.0) / np.sqrt(cf)  # departure term: cd^2 = (1 - rho^2) ca^2 + rho^2 x

    b = (w[:, None] * (p_in * q).T) * (1.0 - rho**2)[None, :]  # B[j, i]
    a = 1.0 - w + w * (p0 * ca0 + (p_in * (1.0 - q + q * (rho**2 * x)[:, None])).sum(axis=0))
    ca2 = np.ones(n, dtype=np.float64)
    idx = np.flatnonzero(active)
    sub = np.eye(idx.size) - b[np.ix_(idx, idx)]
    try:
        ca2[idx] = np.linalg.solve(sub, a[idx])
    except np.linalg.LinAlgError as exc:  # pragma: no cover - guarded by traffic_rates
        raise ValueError(f"QNA traffic-variability equations are singular: {exc}") from exc
    ca2 = np.maximum(ca2, 0.0)

    stations: list[StationTheory] = []
    for i in range(n):
        wq = _erlang_c(c[i], lam[i] * mean[i]) * mean[i] / (c[i] * (1.0 - rho[i]))
        wq *= (ca2[i] + cs2[i]) / 2.0
        w_i = wq + mean[i]
        stations.append(
            StationTheory(
                L=lam[i] * w_i,
                Lq=lam[i] * wq,
                W=w_i,
                Wq=wq,
                utilization=rho[i],
                throughput=lam[i],
                loss=0.0,
                method="QNA (Whitt 1983) + " + ("Kingman" if c[i] == 1 else "Allen-Cunneen"),
                exact=False,
            )
        )
    ones = np.ones(n, dtype=np.float64)
    return _assemble(
        stations, lam_kn, gamma, ones, s_kn, ("QNA (Whitt 1983)",) * 2, arrival_scv=ca2
    )
