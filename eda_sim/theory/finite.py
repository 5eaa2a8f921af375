"""Finite-capacity stations: M/M/c/K, M/M/1/K, the Erlang loss system, and M/G/1/K.

See D. Gross, J. F. Shortle, J. M. Thompson and C. M. Harris, *Fundamentals of
Queueing Theory*, 4th ed. (Wiley, 2008), chapter "Simple Markovian Queueing
Models" (finite queues, Erlang's loss formula), and L. Kleinrock, *Queueing
Systems, Volume 1: Theory* (Wiley, 1975), ch. 3. :func:`mmck` is in closed form
(:func:`eda_sim.traffic.mmck_figures`), O(1) in the number of servers and in the
capacity; :func:`mmck_state_probabilities` lists every state and so refuses more
than ``STATE_LIST_LIMIT`` of them. :func:`mg1k` solves the embedded Markov chain of
M/G/1/K at departures (exact for any service law) up to ``MG1K_LIMIT`` places.
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
from eda_sim.traffic import mmck_figures

__all__ = ["MG1K_LIMIT", "STATE_LIST_LIMIT", "mg1k", "mm1k", "mmck", "mmck_state_probabilities"]

#: :func:`mmck_state_probabilities` lists at most this many states.
STATE_LIST_LIMIT = 10_000_000
#: :func:`mg1k` solves its embedded chain (O(K²)) up to this capacity.
MG1K_LIMIT = 5_000

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
        For bad arguments, or more than ``STATE_LIST_LIMIT`` states (use
        :func:`mmck` for the figures: it does not list the states).

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed.
    (M/M/c/K, eqs. for ``p_n``).
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    c = check_servers(servers)
    k = check_capacity(capacity, c)
    if k >= STATE_LIST_LIMIT:
        raise ValueError(
            f"capacity {k} would list more than {STATE_LIST_LIMIT} states; mmck() gives the "
            "figures in closed form"
        )
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

    From the state probabilities ``p_n`` (in closed form, O(1) in ``c`` and ``K``):
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
    lam = check_nonnegative("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    c = check_servers(servers)
    k = check_capacity(capacity, c)
    loss, big_l, big_lq, busy = mmck_figures(lam, mu, c, k)
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


def _departure_epochs(a: np.ndarray, capacity: int) -> np.ndarray:
    """Departure-epoch probabilities ``π_0 .. π_{K-1}`` of M/G/1/K from ``a_k``.

    Level crossing between ``{<= n-1}`` and ``{>= n}``:
    ``π_n a_0 = π_0 ā_{n-1} + Σ_{i=1}^{n-1} π_i ā_{n-i}`` with ``ā_m = P(A > m)``,
    a recursion of positive terms (numerically stable); the capacity only caps the
    top state, so the same recursion holds up to ``K - 1``.
    """
    tail = np.maximum(1.0 - np.cumsum(a), 0.0)  # ā_m = P(A > m), m = 0..
    pi = np.zeros(capacity)
    pi[0] = 1.0
    for n in range(1, capacity):
        pi[n] = (pi[0] * tail[n - 1] + pi[1:n] @ tail[n - 1 : 0 : -1]) / a[0]
        if pi[n] > 1e250:  # rescale: only ratios matter
            pi[: n + 1] /= pi[n]
    return np.asarray(pi / pi.sum(), dtype=np.float64)


def mg1k(
    arrival_rate: float, service_mean: float, arrivals: npt.ArrayLike, capacity: int
) -> StationTheory:
    """M/G/1/K: Poisson arrivals, one server with any service law, at most ``K`` present.

    Solved exactly by the embedded Markov chain at departure epochs: ``a_k`` is the
    probability of ``k`` arrivals during one service (:func:`eda_sim.theory.families.
    arrivals_during`). With departure-epoch probabilities ``π_n`` (``n < K``) and
    ``ρ = λ E[S]``, the time-average probabilities are ``p_n = π_n / (π_0 + ρ)`` for
    ``n < K`` and ``p_K = 1 - 1 / (π_0 + ρ)``; loss ``= p_K`` (PASTA), throughput
    ``λ (1 - p_K)``, utilisation ``1 - p_0``, ``W = L / throughput`` (Little). Any load
    is allowed.

    Parameters
    ----------
    arrival_rate : float
        ``λ`` (> 0).
    service_mean : float
        ``E[S]`` (> 0).
    arrivals : array_like
        ``a_0, a_1, ...``, at least ``K`` values (a probability distribution).
    capacity : int
        ``K`` (1 to ``MG1K_LIMIT``).

    Returns
    -------
    StationTheory
        Exact figures, method ``"M/G/1/K (embedded chain)"``.

    Raises
    ------
    ValueError
        For bad arguments or a capacity above ``MG1K_LIMIT``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed., §5.1.10
    (M/G/1/K); H. Takagi, *Queueing Analysis*, vol. 2 (North-Holland, 1993), §2.2;
    the relation of the two distributions is in Tijms, *A First Course in
    Stochastic Models* (Wiley, 2003), §2.4.
    """
    lam = check_positive("arrival_rate", arrival_rate)
    s = check_positive("service_mean", service_mean)
    k = check_capacity(capacity, 1)
    if k > MG1K_LIMIT:
        raise ValueError(f"M/G/1/K is solved exactly up to capacity {MG1K_LIMIT}, got {k}")
    a = np.asarray(arrivals, dtype=np.float64)
    if a.size < k or not a[0] > 0.0:
        raise ValueError(f"need a_0 > 0 and at least {k} arrival probabilities, got {a.size}")
    rho = lam * s
    pi = _departure_epochs(a, k)
    scale = 1.0 / (pi[0] + rho)
    p = np.append(pi * scale, 1.0 - scale)
    n = np.arange(k + 1, dtype=np.float64)
    big_l = float(n @ p)
    busy = 1.0 - float(p[0])
    loss = float(p[k])
    throughput = lam * (1.0 - loss)
    return StationTheory(
        L=big_l,
        Lq=big_l - busy,
        W=big_l / throughput,
        Wq=(big_l - busy) / throughput,
        utilization=busy,
        throughput=throughput,
        loss=loss,
        method="M/G/1/K (embedded chain)",
        exact=True,
    )
