"""Stations with general service or arrivals: M/G/1, M/D/1, M/Ek/1, G/G/1, G/G/c.

Also :func:`best_station`, which picks the best formula that applies to a station
described by the first two moments of its inter-arrival and service times.

Convention: a squared coefficient of variation (SCV) of exactly 1 is read as
*exponential* (for service) or *Poisson* (for arrivals), as in the rest of
eda-sim; a result is marked ``exact`` only where its formula coincides with an
exact result under that reading.
"""

from __future__ import annotations

import math
from dataclasses import replace

from eda_sim.theory._checks import (
    check_capacity,
    check_nonnegative,
    check_positive,
    check_servers,
    check_stable,
)
from eda_sim.theory.finite import mmck
from eda_sim.theory.results import StationTheory
from eda_sim.theory.single import _erlang_c, mm1, mmc

__all__ = [
    "best_station",
    "gg1_kingman",
    "ggc_allen_cunneen",
    "md1",
    "mek1",
    "mg1",
]


def _station(
    lam: float, service_mean: float, wq: float, rho: float, method: str, exact: bool
) -> StationTheory:
    return StationTheory.from_waits(lam, wq, wq + service_mean, rho, method, exact)


def _pk(arrival_rate: float, service_mean: float, service_scv: float, method: str) -> StationTheory:
    lam = check_nonnegative("arrival_rate", arrival_rate)
    s = check_positive("service_mean", service_mean)
    cs2 = check_nonnegative("service_scv", service_scv)
    rho = lam * s
    check_stable(rho)
    # Wq = lambda E[S^2] / (2 (1 - rho)) with E[S^2] = E[S]^2 (1 + cs^2).
    wq = rho * s * (1.0 + cs2) / (2.0 * (1.0 - rho))
    return _station(lam, s, wq, rho, method, exact=True)


def mg1(arrival_rate: float, service_mean: float, service_scv: float) -> StationTheory:
    """M/G/1 queue by the Pollaczek-Khinchine mean-value formula.

    ``Wq = lambda E[S^2] / (2 (1 - rho))`` with ``E[S^2] = E[S]^2 (1 + cs^2)`` and
    ``rho = lambda E[S]``; ``W = Wq + E[S]``, ``L = lambda W``, ``Lq = lambda Wq``.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (>= 0).
    service_mean : float
        Mean service time ``E[S]`` (> 0).
    service_scv : float
        Squared coefficient of variation of the service time, ``Var[S] / E[S]^2``
        (>= 0).

    Returns
    -------
    StationTheory
        Exact mean values (FIFO or any work-conserving order that ignores service
        times), method ``"M/G/1 (Pollaczek-Khinchine)"``.

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho >= 1``.

    Notes
    -----
    Source: Kleinrock, *Queueing Systems*, vol. 1 (Wiley, 1975), ch. 5 "The Queue
    M/G/1" (P-K mean-value formula); Gross et al., *Fundamentals of Queueing
    Theory*, 4th ed., M/G/1 section.
    """
    return _pk(arrival_rate, service_mean, service_scv, "M/G/1 (Pollaczek-Khinchine)")


def md1(arrival_rate: float, service_mean: float) -> StationTheory:
    """M/D/1 queue: Poisson arrivals, constant service time.

    The Pollaczek-Khinchine formula with ``cs^2 = 0``:
    ``Lq = rho^2 / (2 (1 - rho))``, ``Wq = rho E[S] / (2 (1 - rho))``.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (>= 0).
    service_mean : float
        The constant service time (> 0).

    Returns
    -------
    StationTheory
        Exact figures, method ``"M/D/1 (Pollaczek-Khinchine)"``.

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho >= 1``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed., M/G/1
    section (M/D/1 special case); Kleinrock, *Queueing Systems*, vol. 1, ch. 5.
    """
    return _pk(arrival_rate, service_mean, 0.0, "M/D/1 (Pollaczek-Khinchine)")


def mek1(arrival_rate: float, service_mean: float, phases: int) -> StationTheory:
    """M/Ek/1 queue: Poisson arrivals, Erlang-k service (``k`` exponential phases).

    The Pollaczek-Khinchine formula with ``cs^2 = 1 / k``:
    ``Wq = rho E[S] (1 + 1/k) / (2 (1 - rho))``.

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate ``lambda`` (>= 0).
    service_mean : float
        Mean service time ``E[S]`` (> 0), the sum of the ``k`` phase means.
    phases : int
        Number of phases ``k`` (>= 1); ``k = 1`` is M/M/1.

    Returns
    -------
    StationTheory
        Exact figures, method ``"M/E<k>/1 (Pollaczek-Khinchine)"``.

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho >= 1``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed., M/Ek/1
    (Erlang service) section; Kleinrock, *Queueing Systems*, vol. 1, ch. 4
    (method of stages) and ch. 5.
    """
    k = check_servers(phases, name="phases")
    return _pk(arrival_rate, service_mean, 1.0 / k, f"M/E{k}/1 (Pollaczek-Khinchine)")


def gg1_kingman(
    arrival_rate: float, service_mean: float, arrival_scv: float, service_scv: float
) -> StationTheory:
    """G/G/1 queue by Kingman's heavy-traffic approximation.

    ``Wq ~ E[S] * rho / (1 - rho) * (ca^2 + cs^2) / 2``; ``W = Wq + E[S]``,
    ``L = lambda W``, ``Lq = lambda Wq``.

    Parameters
    ----------
    arrival_rate : float
        Arrival rate ``lambda`` (>= 0).
    service_mean : float
        Mean service time ``E[S]`` (> 0).
    arrival_scv : float
        SCV of the inter-arrival times ``ca^2`` (>= 0).
    service_scv : float
        SCV of the service times ``cs^2`` (>= 0).

    Returns
    -------
    StationTheory
        Method ``"G/G/1 (Kingman)"``; ``exact`` is False unless ``ca^2 = 1``
        (Poisson arrivals), where the formula *is* Pollaczek-Khinchine.

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho >= 1``.

    Notes
    -----
    Source: J. F. C. Kingman, "The single server queue in heavy traffic",
    *Proc. Cambridge Philos. Soc.* 57 (1961) 902-904; also Gross et al.,
    *Fundamentals of Queueing Theory*, 4th ed., G/G/1 approximations.
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    s = check_positive("service_mean", service_mean)
    ca2 = check_nonnegative("arrival_scv", arrival_scv)
    cs2 = check_nonnegative("service_scv", service_scv)
    rho = lam * s
    check_stable(rho)
    wq = s * rho / (1.0 - rho) * (ca2 + cs2) / 2.0
    return _station(lam, s, wq, rho, "G/G/1 (Kingman)", exact=ca2 == 1.0)


def ggc_allen_cunneen(
    arrival_rate: float,
    service_mean: float,
    servers: int,
    arrival_scv: float,
    service_scv: float,
) -> StationTheory:
    """G/G/c queue by the Allen-Cunneen approximation.

    ``Wq ~ Wq(M/M/c) * (ca^2 + cs^2) / 2`` with
    ``Wq(M/M/c) = C(c, a) E[S] / (c (1 - rho))``, ``a = lambda E[S]``,
    ``rho = a / c`` and Erlang's ``C`` from the stable Erlang B recursion.

    Parameters
    ----------
    arrival_rate : float
        Arrival rate ``lambda`` (>= 0).
    service_mean : float
        Mean service time ``E[S]`` (> 0).
    servers : int
        Number of servers ``c`` (>= 1).
    arrival_scv : float
        SCV of the inter-arrival times ``ca^2`` (>= 0).
    service_scv : float
        SCV of the service times ``cs^2`` (>= 0).

    Returns
    -------
    StationTheory
        Method ``"G/G/c (Allen-Cunneen)"``; ``exact`` is True only where the formula
        is exact: ``ca^2 = cs^2 = 1`` (M/M/c) or ``c = 1`` with ``ca^2 = 1``
        (Pollaczek-Khinchine).

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when ``rho >= 1``.

    Notes
    -----
    Source: A. O. Allen, *Probability, Statistics, and Queueing Theory with
    Computer Science Applications*, 2nd ed. (Academic Press, 1990), the
    Allen-Cunneen approximation for GI/G/c; see also W. Whitt, "Approximations for
    the GI/G/m queue", *Production and Operations Management* 2 (1993) 114-161.
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    s = check_positive("service_mean", service_mean)
    c = check_servers(servers)
    ca2 = check_nonnegative("arrival_scv", arrival_scv)
    cs2 = check_nonnegative("service_scv", service_scv)
    a = lam * s
    rho = a / c
    check_stable(rho)
    wq_mmc = _erlang_c(c, a) * s / (c * (1.0 - rho))
    wq = wq_mmc * (ca2 + cs2) / 2.0
    exact = ca2 == 1.0 and (cs2 == 1.0 or c == 1)
    return _station(lam, s, wq, rho, "G/G/c (Allen-Cunneen)", exact=exact)


def best_station(
    arrival_rate: float,
    service_mean: float,
    service_scv: float,
    servers: int,
    capacity: float | None = None,
    arrival_scv: float = 1.0,
) -> StationTheory:
    """Steady-state figures of one station by the best formula that applies.

    The choice, in order:

    * finite ``capacity``, Poisson arrivals and exponential service: M/M/c/K
      (exact; Erlang B when ``capacity == servers``);
    * ``capacity == servers`` with Poisson arrivals and any service: Erlang B, exact
      by insensitivity (Sevastyanov 1957), labelled ``"M/G/c/c (Erlang B, insensitive)"``;
    * finite ``capacity`` otherwise: M/M/c/K on the mean service time, labelled
      ``"M/M/c/K on mean service time (approx.)"``, not exact;
    * Poisson arrivals and exponential service: M/M/1 or M/M/c, Erlang C (exact);
    * Poisson arrivals, one server: M/D/1 when ``service_scv == 0``, else M/G/1
      by Pollaczek-Khinchine (exact);
    * Poisson arrivals, several servers, non-exponential service: Allen-Cunneen
      (approximate);
    * other arrivals: Kingman for one server, Allen-Cunneen for several
      (approximate).

    Parameters
    ----------
    arrival_rate : float
        Arrival rate ``lambda`` offered to the station (>= 0).
    service_mean : float
        Mean service time ``E[S]`` (> 0).
    service_scv : float
        SCV of the service time (>= 0); 1 is read as exponential.
    servers : int
        Number of servers ``c`` (>= 1).
    capacity : float or None, optional
        Maximum number present, in service included (whole, >= ``servers``);
        None or ``inf`` for an unlimited buffer.
    arrival_scv : float, optional
        SCV of the inter-arrival times (>= 0); the default 1 is read as Poisson.

    Returns
    -------
    StationTheory
        The figures, with ``method`` and ``exact`` saying where they come from.

    Raises
    ------
    ValueError
        For bad arguments; :class:`eda_sim.errors.UnstableError` (a ValueError)
        when the buffer is unlimited and ``rho >= 1``.

    Notes
    -----
    Sources as in :func:`mmc`, :func:`mmck`, :func:`mg1`, :func:`md1`,
    :func:`gg1_kingman` and :func:`ggc_allen_cunneen`.
    """
    lam = check_nonnegative("arrival_rate", arrival_rate)
    s = check_positive("service_mean", service_mean)
    cs2 = check_nonnegative("service_scv", service_scv)
    c = check_servers(servers)
    ca2 = check_nonnegative("arrival_scv", arrival_scv)
    markovian = ca2 == 1.0 and cs2 == 1.0
    if capacity is not None and not (isinstance(capacity, float) and math.isinf(capacity)):
        k = check_capacity(capacity, c)
        result = mmck(lam, 1.0 / s, c, k)
        if markovian:
            return result
        if k == c and ca2 == 1.0:
            # The Erlang loss system is insensitive: with Poisson arrivals its state
            # distribution, and so loss, L and W, depend on the service time through
            # its mean only (Sevastyanov 1957; Gross & Harris, 4th ed., §6.2.1).
            return replace(result, method="M/G/c/c (Erlang B, insensitive)", exact=True)
        return replace(result, method="M/M/c/K on mean service time (approx.)", exact=False)
    if markovian:
        return mm1(lam, 1.0 / s) if c == 1 else mmc(lam, 1.0 / s, c)
    if ca2 == 1.0 and c == 1:
        return md1(lam, s) if cs2 == 0.0 else mg1(lam, s, cs2)
    if c == 1:
        return gg1_kingman(lam, s, ca2, cs2)
    return ggc_allen_cunneen(lam, s, c, ca2, cs2)
