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
from eda_sim.theory.single import mm1, mmc
from eda_sim.theory.traffic import (
    class_matrix,
    prepare_capacity,
    prepare_flows,
    prepare_servers,
    reachable,
    traffic_rates,
)
from eda_sim.traffic import network_traffic

__all__ = ["assemble", "jackson", "mix_weights", "raise_unstable", "traffic_rates"]

FloatArray = npt.NDArray[np.float64]


def mix_weights(lam_kn: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return total rates ``lambda_i`` and class shares ``p_k,i`` (uniform if idle)."""
    lam = lam_kn.sum(axis=0)
    k = lam_kn.shape[0]
    safe = np.where(lam > 0.0, lam, 1.0)
    share = np.where(lam > 0.0, lam_kn / safe, 1.0 / k)
    return lam, share


def raise_unstable(rho: FloatArray, unlimited: Sequence[bool]) -> None:
    """Raise UnstableError listing every unlimited station with load >= 1."""
    faults = [
        Fault(f"station {i}", unstable_message(float(r)))
        for i, r in enumerate(rho)
        if unlimited[i] and not r < 1.0
    ]
    if faults:
        raise UnstableError(faults)


def assemble(
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
    lam_kn, admit = _loss_traffic(gamma, p, s_kn, c, cap)
    lam, share = mix_weights(lam_kn)
    mean = (share * s_kn).sum(axis=0)
    raise_unstable(lam * mean / np.asarray(c, dtype=np.float64), [not f for f in finite])

    # Which stations break product form, and whom they feed.
    present = lam_kn > 0.0
    mixed = np.array(
        [present[:, i].any() and np.ptp(s_kn[present[:, i], i]) > 0.0 for i in range(n)]
    )
    bad = mixed | np.array(finite)
    flow = ((lam_kn * admit)[:, :, None] * p).sum(axis=0) > 0.0
    downstream_of_bad = reachable(flow[bad].any(axis=0), flow)
    on_cycle = [bool(reachable(flow[i], flow)[i]) for i in range(n)]
    stations = [
        _station(
            lam[i],
            1.0 / mean[i],
            c[i],
            cap[i],
            bool(mixed[i]),
            bool(downstream_of_bad[i]),
            on_cycle[i],
        )
        for i in range(n)
    ]
    return assemble(
        stations,
        lam_kn,
        gamma,
        admit,
        s_kn,
        ("Jackson network (product form)", "Jackson network (approx.)"),
    )


def _loss_traffic(
    gamma: FloatArray, p: FloatArray, s_kn: FloatArray, c: list[int], cap: list[int | None]
) -> tuple[FloatArray, FloatArray]:
    """Offered rates and admitted shares: the traffic equations with M/M/c/K losses."""
    finite = [i for i, x in enumerate(cap) if x is not None]

    def loss_model(offered: FloatArray) -> FloatArray:
        lam, share = mix_weights(offered)
        mean = (share * s_kn).sum(axis=0)
        loss = np.zeros(len(cap))
        for i in finite:
            cap_i = cap[i]
            assert cap_i is not None
            loss[i] = mmck(lam[i], 1.0 / mean[i], c[i], cap_i).loss
        return loss

    flows = network_traffic(gamma, list(p), loss_model if finite else None)
    if not flows.converged:
        warnings.warn(
            "jackson: the loss fixed point did not converge; figures are rough",
            EdaSimWarning,
            stacklevel=3,
        )
    return np.array(flows.offered), 1.0 - flows.loss


def _station(
    lam: float, mu: float, servers: int, cap: int | None, mixed: bool, behind_bad: bool, cycle: bool
) -> StationTheory:
    """One Jackson station: M/M/c (or M/M/c/K), labelled approximate where product form fails."""
    if cap is not None:
        res = mmck(lam, mu, servers, cap)
        if mixed or behind_bad or cycle:
            res = replace(res, method="M/M/c/K on offered rate (approx.)", exact=False)
        return res
    res = mm1(lam, mu) if servers == 1 else mmc(lam, mu, servers)
    if mixed:
        return replace(res, method=f"{res.method} on mixed service mean (approx.)", exact=False)
    if behind_bad:
        return replace(res, method=f"{res.method} (approx.)", exact=False)
    return res
