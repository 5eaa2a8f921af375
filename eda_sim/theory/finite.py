"""Finite-capacity Markovian stations: M/M/c/K, M/M/1/K and the Erlang loss system.

See D. Gross, J. F. Shortle, J. M. Thompson and C. M. Harris, *Fundamentals of
Queueing Theory*, 4th ed. (Wiley, 2008), chapter "Simple Markovian Queueing
Models" (finite queues, Erlang's loss formula), and L. Kleinrock, *Queueing
Systems, Volume 1: Theory* (Wiley, 1975), ch. 3. The state probabilities are
formed in log-space, so large capacities and many servers are fine.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from eda_sim.theory._checks import (
    check_capacity,
    check_nonnegative,
    check_positive,
    check_servers,
)
from eda_sim.theory.results import StationTheory

__all__ = ["mm1k", "mmck", "mmck_state_probabilities"]

FloatArray = npt.NDArray[np.float64]


def mmck_state_probabilities(
    arrival_rate: float, service_rate: float, servers: int, capacity: int
) -> FloatArray:
    """Stationary distribution ``p_0 .. p_K`` of the number present in M/M/c/K.

    ``p_n`` is proportional to ``a**n / n!`` for ``n <= c`` and to
    ``a**c / c! * rho**(n - c)`` for ``c < n <= K`` (``a = lambda / mu``,
    ``rho = a / c``). The weights are formed in log-space and normalised after
    subtracting their maximum, so ``K = 1000`` or ``c = 500`` is fine and any
    load (also ``rho >= 1``) is allowed.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (>= 0).
    service_rate : float
        Service rate ``mu`` of one server (> 0).
    servers : int
        Number of servers ``c`` (>= 1).
    capacity : int
        Maximum number present ``K``, in service included (``K >= c``).

    Returns
    -------
    ndarray, shape (K + 1,)
        ``p[n]`` = stationary probability of ``n`` present; sums to 1.

    Raises
    ------
    ValueError
        For bad arguments.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.
    (M/M/c/K, eqs. for ``p_n``).
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    c = check_servers(servers)
    k = check_capacity(capacity, c)
    p = np.zeros(k + 1, dtype=np.float64)
    if lam == 0.0:
        p[0] = 1.0
        return p
    log_a = math.log(lam) - math.log(mu)
    log_rho = log_a - math.log(c)
    n = np.arange(k + 1, dtype=np.float64)
    low = n * log_a - gammaln(n + 1.0)
    high = c * log_a - math.lgamma(c + 1.0) + (n - c) * log_rho
    log_w = np.where(n <= c, low, high)
    w = np.exp(log_w - log_w.max())
    p[:] = w / w.sum()
    return p


def mmck(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> StationTheory:
    """M/M/c/K queue: ``c`` exponential servers, at most ``K`` present.

    From the state probabilities ``p_n`` (:func:`mmck_state_probabilities`):
    ``loss = p_K``, throughput ``lambda (1 - p_K)``, ``L = sum n p_n``,
    ``Lq = sum (n - c)+ p_n``, utilisation ``sum min(n, c) p_n / c``, and
    ``W = L / throughput``, ``Wq = Lq / throughput`` by Little's law.
    ``K = c`` is the Erlang loss system (``loss = erlang_b(c, a)``).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` offered to the station (>= 0).
    service_rate : float
        Service rate ``mu`` of one server (> 0).
    servers : int
        Number of servers ``c`` (>= 1).
    capacity : int
        Maximum number present ``K``, in service included (``K >= c``).

    Returns
    -------
    StationTheory
        Exact figures, method ``"M/M/1/K"``, ``"M/M/c/c (Erlang B)"`` or
        ``"M/M/c/K"``. With no arrivals ``W`` is taken as ``1 / mu``.

    Raises
    ------
    ValueError
        For bad arguments.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.
    (M/M/1/K, M/M/c/K and M/M/c/c); Kleinrock, *Queueing Systems*, vol. 1, ch. 3.
    """
    p = mmck_state_probabilities(arrival_rate, service_rate, servers, capacity)
    lam = float(arrival_rate)
    mu = float(service_rate)
    c = int(servers)
    k = p.size - 1
    n = np.arange(k + 1, dtype=np.float64)
    big_l = float(n @ p)
    big_lq = float(np.maximum(n - c, 0.0) @ p)
    busy = float(np.minimum(n, c) @ p)
    loss = float(p[k])
    throughput = lam * (1.0 - loss)
    if throughput > 0.0:
        w = big_l / throughput
        wq = big_lq / throughput
    else:
        w, wq = 1.0 / mu, 0.0
    if c == 1 and k > 1:
        method = "M/M/1/K"
    elif k == c:
        method = "M/M/c/c (Erlang B)"
    else:
        method = "M/M/c/K"
    return StationTheory(
        L=big_l,
        Lq=big_lq,
        W=w,
        Wq=wq,
        utilization=busy / c,
        throughput=throughput,
        loss=loss,
        method=method,
        exact=True,
    )


def mm1k(arrival_rate: float, service_rate: float, capacity: int) -> StationTheory:
    """M/M/1/K queue: one exponential server, at most ``K`` present.

    The ``c = 1`` case of :func:`mmck`.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` offered to the station (>= 0).
    service_rate : float
        Service rate ``mu`` (> 0).
    capacity : int
        Maximum number present ``K``, the one in service included (>= 1).

    Returns
    -------
    StationTheory
        Exact figures, method ``"M/M/1/K"`` (``"M/M/c/c (Erlang B)"`` when K = 1).

    Raises
    ------
    ValueError
        For bad arguments.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed. (M/M/1/K).
    """
    return mmck(arrival_rate, service_rate, 1, capacity)
