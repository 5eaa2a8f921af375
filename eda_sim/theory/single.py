"""Markovian single stations with unlimited buffers: M/M/1, M/M/c; Erlang B and C.

All formulas are the classical birth-death results; see D. Gross, J. F. Shortle,
J. M. Thompson and C. M. Harris, *Fundamentals of Queueing Theory*, 4th ed.
(Wiley, 2008), chapter "Simple Markovian Queueing Models", and L. Kleinrock,
*Queueing Systems, Volume 1: Theory* (Wiley, 1975), ch. 3. Erlang's formulas are
evaluated by the numerically stable recursion of Erlang B, so that hundreds of
servers neither overflow nor lose precision (H. C. Tijms, *A First Course in
Stochastic Models*, Wiley, 2003, chapter "Markov Chains and Queues").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from eda_sim.theory._checks import (
    check_nonnegative,
    check_positive,
    check_servers,
    check_stable,
)
from eda_sim.theory.results import StationTheory
from eda_sim.traffic import erlang_b as erlang_b_bounded

__all__ = [
    "erlang_b",
    "erlang_c",
    "mm1",
    "mm1_sojourn_cdf",
    "mmc",
    "mmc_wait_ccdf",
]

FloatArray = npt.NDArray[np.float64]


def _erlang_b(servers: int, offered_load: float) -> float:
    # The recursion B(n) = a B(n-1) / (n + a B(n-1)) for few servers, O(1) forms for
    # many (eda_sim.traffic.erlang_b): bounded time for servers = 1e20.
    return erlang_b_bounded(servers, offered_load)


def _erlang_c(servers: int, offered_load: float) -> float:
    b = _erlang_b(servers, offered_load)
    rho = offered_load / servers
    return b / (1.0 - rho * (1.0 - b))


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang's loss formula B(c, a): blocking probability of the M/M/c/c queue.

    Computed by the recursion ``B(0) = 1``, ``B(n) = a B(n-1) / (n + a B(n-1))``,
    which is stable for any number of servers.

    Parameters
    ----------
    servers : int
        Number of servers ``c`` (>= 0).
    offered_load : float
        Offered load ``a = lambda / mu`` in Erlangs (>= 0).

    Returns
    -------
    float
        The probability that an arriving customer finds all ``c`` servers busy.

    Raises
    ------
    ValueError
        If ``servers`` is not a whole number >= 0 or ``offered_load`` is negative.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.
    (M/M/c/c, Erlang's loss formula); the recursion is in Tijms, *A First Course in
    Stochastic Models*.
    """
    c = check_servers(servers, minimum=0)
    a = check_nonnegative("offered_load", offered_load)
    return _erlang_b(c, a)


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang's delay formula C(c, a): probability of waiting in the M/M/c queue.

    Computed from Erlang B as ``C = B / (1 - rho (1 - B))`` with ``rho = a / c``.

    Parameters
    ----------
    servers : int
        Number of servers ``c`` (>= 1).
    offered_load : float
        Offered load ``a = lambda / mu`` in Erlangs, ``0 <= a < c``.

    Returns
    -------
    float
        The probability that an arriving customer has to wait.

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``a / c >= 1``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.
    (M/M/c); Kleinrock, *Queueing Systems*, vol. 1, ch. 3 (M/M/m); the relation to
    Erlang B is in Tijms, *A First Course in Stochastic Models*.
    """
    c = check_servers(servers)
    a = check_nonnegative("offered_load", offered_load)
    check_stable(a / c)
    return _erlang_c(c, a)


def mm1(arrival_rate: float, service_rate: float) -> StationTheory:
    """M/M/1 queue: Poisson arrivals, one exponential server, infinite buffer.

    ``L = rho / (1 - rho)``, ``W = 1 / (mu - lambda)``, ``Wq = rho / (mu - lambda)``.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (>= 0).
    service_rate : float
        Service rate ``mu`` (> 0).

    Returns
    -------
    StationTheory
        Exact steady-state figures, method ``"M/M/1"``.

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho = lambda / mu >= 1``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.;
    Kleinrock, *Queueing Systems*, vol. 1, ch. 3.
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    rho = lam / mu
    check_stable(rho)
    wq = rho / (mu - lam)
    w = 1.0 / (mu - lam)
    return StationTheory.from_waits(lam, wq, w, rho, "M/M/1", exact=True)


def mmc(arrival_rate: float, service_rate: float, servers: int) -> StationTheory:
    """M/M/c queue (Erlang C): Poisson arrivals, ``c`` exponential servers.

    ``Wq = C(c, a) / (c mu - lambda)``, ``W = Wq + 1 / mu``, ``L = lambda W``,
    ``Lq = lambda Wq`` with ``a = lambda / mu`` and Erlang's ``C`` computed from the
    stable Erlang B recursion (fine for ``c = 500`` and beyond).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (>= 0).
    service_rate : float
        Service rate ``mu`` of one server (> 0).
    servers : int
        Number of servers ``c`` (>= 1).

    Returns
    -------
    StationTheory
        Exact steady-state figures, method ``"M/M/c (Erlang C)"``.

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho = lambda / (c mu) >= 1``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.;
    Kleinrock, *Queueing Systems*, vol. 1, ch. 3 (M/M/m).
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    c = check_servers(servers)
    a = lam / mu
    rho = a / c
    check_stable(rho)
    prob_wait = _erlang_c(c, a)
    wq = prob_wait / (c * mu - lam)
    w = wq + 1.0 / mu
    return StationTheory.from_waits(lam, wq, w, rho, "M/M/c (Erlang C)", exact=True)


def mmc_wait_ccdf(
    t: float | npt.ArrayLike, arrival_rate: float, service_rate: float, servers: int
) -> FloatArray:
    """Waiting-time tail of the FIFO M/M/c queue, ``P(Wq > t)``.

    ``P(Wq > t) = C(c, a) exp(-(c mu - lambda) t)`` for ``t >= 0`` and 1 for
    ``t < 0``; vectorised over ``t``.

    Parameters
    ----------
    t : float or array_like
        Time(s) at which to evaluate the tail.
    arrival_rate : float
        Poisson arrival rate ``lambda`` (>= 0).
    service_rate : float
        Service rate ``mu`` of one server (> 0).
    servers : int
        Number of servers ``c`` (>= 1).

    Returns
    -------
    ndarray
        ``P(Wq > t)`` with the shape of ``t`` (0-d for a scalar).

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho >= 1``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.
    (waiting-time distribution of M/M/c, FCFS); Kleinrock, *Queueing Systems*,
    vol. 1, ch. 3 (M/M/m).
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    c = check_servers(servers)
    check_stable(lam / (c * mu))
    prob_wait = _erlang_c(c, lam / mu)
    tt = np.asarray(t, dtype=np.float64)
    tail = prob_wait * np.exp(-(c * mu - lam) * np.maximum(tt, 0.0))
    return np.asarray(np.where(tt < 0.0, 1.0, tail), dtype=np.float64)


def mm1_sojourn_cdf(
    t: float | npt.ArrayLike, arrival_rate: float, service_rate: float
) -> FloatArray:
    """Sojourn-time distribution of the FIFO M/M/1 queue, ``P(W <= t)``.

    The time in system is exponential with rate ``mu - lambda``:
    ``P(W <= t) = 1 - exp(-(mu - lambda) t)`` for ``t >= 0``, 0 otherwise;
    vectorised over ``t``.

    Parameters
    ----------
    t : float or array_like
        Time(s) at which to evaluate the distribution function.
    arrival_rate : float
        Poisson arrival rate ``lambda`` (>= 0).
    service_rate : float
        Service rate ``mu`` (> 0).

    Returns
    -------
    ndarray
        ``P(W <= t)`` with the shape of ``t`` (0-d for a scalar).

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho >= 1``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.;
    Kleinrock, *Queueing Systems*, vol. 1, ch. 3 (M/M/1, FCFS).
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    check_stable(lam / mu)
    tt = np.asarray(t, dtype=np.float64)
    cdf = -np.expm1(-(mu - lam) * np.maximum(tt, 0.0))
    return np.asarray(np.where(tt < 0.0, 0.0, cdf), dtype=np.float64)
