"""Non-preemptive (head-of-line) priority queues: M/G/1 (Cobham) and M/M/c.

Customers belong to ``K`` classes given in priority order: class 0 is the most
important and is served first. Whenever a server frees up it takes the
longest-waiting customer of the most important class present; a service once
started is never interrupted (*non-preemptive*, *head-of-line* priority). Each
class arrives in its own Poisson stream.

With ``sigma_k = rho_0 + ... + rho_k`` the load of the classes at least as
important as ``k`` (``sigma_{-1} = 0``), every class waits on average

``Wq_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k))``,

where ``W0`` is the mean residual work found in service by an arrival:
``W0 = sum_i lambda_i E[S_i^2] / 2`` for one server (Cobham 1954) and
``W0 = C(c, a) / (c mu)`` for ``c`` servers with one common exponential service
rate ``mu`` (Erlang's ``C``).

Sources: A. Cobham, "Priority assignment in waiting line problems", *Journal of
the Operations Research Society of America* (now *Operations Research*) 2(1)
(1954) 70-76; L. Kleinrock, *Queueing Systems, Volume 2: Computer Applications*
(Wiley, 1976), §3.6; D. Gross, J. F. Shortle, J. M. Thompson and C. M. Harris,
*Fundamentals of Queueing Theory*, 4th ed. (Wiley, 2008), §3.4 "Priority queue
disciplines"; O. Kella and U. Yechiali, "Waiting times in the non-preemptive
priority M/M/c queue", *Stochastic Models* 1(2) (1985) 257-262.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eda_sim.theory._checks import (
    check_nonnegative,
    check_positive,
    check_servers,
    check_stable,
)
from eda_sim.theory.results import StationTheory
from eda_sim.theory.single import _erlang_c

__all__ = ["PriorityTheory", "mg1_priority", "mmc_priority"]

MG1_PRIORITY_METHOD = "M/G/1 non-preemptive priority (Cobham)"
MMC_PRIORITY_METHOD = "M/M/c non-preemptive priority"


@dataclass(frozen=True)
class PriorityTheory:
    """Steady-state prediction for a station serving classes by priority.

    Parameters
    ----------
    classes : tuple of StationTheory
        One result per class, in priority order (index 0 served first): ``Wq`` and
        ``W = Wq + E[S_k]`` are the mean wait and time at the station of a
        customer of that class, ``Lq = lambda_k Wq`` and ``L = lambda_k W`` the
        mean number of that class waiting and present, ``utilization`` the share
        of the servers' capacity the class uses (``lambda_k E[S_k] / c``),
        ``throughput = lambda_k`` and ``loss = 0``. A class with no arrivals keeps
        the ``Wq`` and ``W`` an arrival of it would see, and ``L = Lq = 0``.
    station : StationTheory
        All classes together: ``L`` and ``Lq`` are the sums over the classes,
        ``W`` and ``Wq`` the arrival-rate-weighted means (so ``L = throughput W``),
        ``utilization`` the total load and ``throughput`` the total arrival rate.
        With no arrivals at all ``Wq = 0`` and ``W`` is the common mean service
        time, or NaN when the classes' mean service times differ (no single
        limit exists then).
    """

    classes: tuple[StationTheory, ...]
    station: StationTheory

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))

    def to_dict(self) -> dict[str, Any]:
        """Return the per-class and station figures as a JSON-ready dict."""
        return {
            "classes": [r.to_dict() for r in self.classes],
            "station": self.station.to_dict(),
        }


def _vector(
    name: str, values: Iterable[float], check: Callable[[str, object], float]
) -> list[float]:
    if isinstance(values, str | bytes):
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}")
    try:
        items = list(values)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}") from None
    if not items:
        raise ValueError(f"{name} must hold one entry per class (at least one), got {values!r}")
    return [check(f"{name}[{i}]", v) for i, v in enumerate(items)]


def _check_lengths(**vectors: list[float]) -> None:
    lengths = {name: len(v) for name, v in vectors.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"one entry per class is needed in each argument, but {listed}")


def _result(
    lams: list[float],
    means: list[float],
    wqs: list[float],
    shares: list[float],
    total_rho: float,
    method: str,
) -> PriorityTheory:
    classes = []
    for lam, s, wq, share in zip(lams, means, wqs, shares, strict=True):
        classes.append(StationTheory.from_waits(lam, wq, wq + s, share, method, exact=True))
    lam_total = math.fsum(lams)
    if lam_total > 0.0:
        weights = [lam / lam_total for lam in lams]
        w_all = math.fsum(p * r.W for p, r in zip(weights, classes, strict=True))
        wq_all = math.fsum(p * r.Wq for p, r in zip(weights, classes, strict=True))
    else:
        wq_all = 0.0
        w_all = means[0] if all(s == means[0] for s in means) else math.nan
    station = StationTheory(
        L=math.fsum(r.L for r in classes),
        Lq=math.fsum(r.Lq for r in classes),
        W=w_all,
        Wq=wq_all,
        utilization=total_rho,
        throughput=lam_total,
        loss=0.0,
        method=method,
        exact=True,
    )
    return PriorityTheory(classes=tuple(classes), station=station)


def mg1_priority(
    arrival_rates: Iterable[float],
    service_means: Iterable[float],
    service_scvs: Iterable[float],
) -> PriorityTheory:
    """M/G/1 queue with non-preemptive priority classes (Cobham's formula).

    ``Wq_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k))`` with the mean residual
    work ``W0 = sum_i lambda_i E[S_i^2] / 2``, ``E[S_i^2] = E[S_i]^2 (1 + c_i^2)``,
    ``rho_i = lambda_i E[S_i]`` and ``sigma_k = rho_0 + ... + rho_k``
    (``sigma_{-1} = 0``); then ``W_k = Wq_k + E[S_k]``, ``L_k = lambda_k W_k``,
    ``Lq_k = lambda_k Wq_k``. With one class this is the Pollaczek-Khinchine
    formula of :func:`eda_sim.theory.mg1`.

    Parameters
    ----------
    arrival_rates : sequence of float
        Poisson arrival rate ``lambda_k`` of each class (>= 0), in priority order:
        index 0 is served first.
    service_means : sequence of float
        Mean service time ``E[S_k]`` of each class (> 0).
    service_scvs : sequence of float
        Squared coefficient of variation ``Var[S_k] / E[S_k]^2`` of each class's
        service time (>= 0).

    Returns
    -------
    PriorityTheory
        Exact mean values per class and for the station, method
        ``"M/G/1 non-preemptive priority (Cobham)"``.

    Raises
    ------
    ValueError
        If an argument is not a sequence, the lengths differ, there is no class,
        a rate is negative, a mean is not positive or an SCV is negative (the
        message names the argument, the class index and the value);
        :class:`eda_sim.errors.UnstableError` (a ValueError) when the total load
        ``rho = sum_k lambda_k E[S_k] >= 1``.

    Notes
    -----
    Source: A. Cobham, "Priority assignment in waiting line problems", *J. Oper.
    Res. Soc. America* 2(1) (1954) 70-76; Kleinrock, *Queueing Systems*, vol. 2
    (1976), §3.6; Gross et al., *Fundamentals of Queueing Theory*, 4th ed.,
    §3.4 (non-preemptive priorities). Work is conserved (Kleinrock's conservation
    law): ``sum_k rho_k Wq_k`` equals ``rho`` times the FCFS M/G/1 wait of the
    mixed service time.

    Examples
    --------
    Two classes, exponential service of mean 1, rates 0.2 and 0.4:
    ``W0 = 0.6``, ``Wq_0 = 0.6 / 0.8`` and ``Wq_1 = 0.6 / (0.8 * 0.4)``.

    >>> r = mg1_priority([0.2, 0.4], [1.0, 1.0], [1.0, 1.0])
    >>> [round(c.Wq, 6) for c in r.classes]
    [0.75, 1.875]
    >>> round(r.station.utilization, 6)
    0.6
    """
    lams = _vector("arrival_rates", arrival_rates, check_nonnegative)
    means = _vector("service_means", service_means, check_positive)
    scvs = _vector("service_scvs", service_scvs, check_nonnegative)
    _check_lengths(arrival_rates=lams, service_means=means, service_scvs=scvs)
    rhos = [lam * s for lam, s in zip(lams, means, strict=True)]
    sigmas = []
    sigma = 0.0
    for rho in rhos:
        sigma += rho
        sigmas.append(sigma)
    check_stable(sigma)
    # W0 = sum_i lambda_i E[S_i^2] / 2 = sum_i rho_i E[S_i] (1 + c_i^2) / 2.
    w0 = math.fsum(
        rho * s * (1.0 + cs2) / 2.0 for rho, s, cs2 in zip(rhos, means, scvs, strict=True)
    )
    wqs = []
    before = 0.0
    for upto in sigmas:
        wqs.append(w0 / ((1.0 - before) * (1.0 - upto)))
        before = upto
    return _result(lams, means, wqs, rhos, sigma, MG1_PRIORITY_METHOD)


def mmc_priority(
    arrival_rates: Iterable[float], service_rate: float, servers: int
) -> PriorityTheory:
    """M/M/c queue with non-preemptive priority classes and one common service rate.

    ``Wq_k = (C(c, a) / (c mu)) / ((1 - sigma_{k-1}) (1 - sigma_k))`` with the
    total offered load ``a = lambda / mu``, ``lambda = sum_i lambda_i``,
    ``sigma_k = (lambda_0 + ... + lambda_k) / (c mu)`` (``sigma_{-1} = 0``) and
    Erlang's ``C`` from the stable Erlang B recursion; then
    ``W_k = Wq_k + 1 / mu``, ``L_k = lambda_k W_k``, ``Lq_k = lambda_k Wq_k``.
    With one class this is :func:`eda_sim.theory.mmc`.

    Parameters
    ----------
    arrival_rates : sequence of float
        Poisson arrival rate ``lambda_k`` of each class (>= 0), in priority order:
        index 0 is served first.
    service_rate : float
        Exponential service rate ``mu`` of one server, the same for every class
        (> 0). The formula needs the common rate: with class-dependent rates the
        number of busy servers would depend on the priority order.
    servers : int
        Number of servers ``c`` (>= 1).

    Returns
    -------
    PriorityTheory
        Exact mean values per class and for the station, method
        ``"M/M/c non-preemptive priority"``; a class's ``utilization`` is
        ``lambda_k / (c mu)``.

    Raises
    ------
    ValueError
        If ``arrival_rates`` is not a non-empty sequence of rates >= 0,
        ``service_rate`` is not > 0 or ``servers`` is not a whole number >= 1
        (the message names the argument and the value);
        :class:`eda_sim.errors.UnstableError` (a ValueError) when the total load
        ``rho = lambda / (c mu) >= 1``.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed., §3.4
    (non-preemptive priorities, many servers); O. Kella and U. Yechiali,
    "Waiting times in the non-preemptive priority M/M/c queue", *Stochastic
    Models* 1(2) (1985) 257-262; the single-server case is Cobham (1954). While
    all ``c`` servers are busy they complete services at rate ``c mu`` whatever
    the classes in service, so the station behaves as a single server of rate
    ``c mu`` that is reached with probability ``C(c, a)``. The rate-weighted mean
    of ``Wq_k`` equals the FCFS M/M/c wait (conservation).

    Examples
    --------
    One server, ``mu = 3``, classes at rates 0.2, 0.6 and 1.2:
    ``W0 = (2/3) / 3``, ``Wq_0 = W0 / (1 - 1/15) = 5/21``.

    >>> r = mmc_priority([0.2, 0.6, 1.2], 3.0, 1)
    >>> [round(c.Wq, 4) for c in r.classes]
    [0.2381, 0.3247, 0.9091]
    """
    lams = _vector("arrival_rates", arrival_rates, check_nonnegative)
    mu = check_positive("service_rate", service_rate)
    c = check_servers(servers)
    cumulative = []
    lam_total = 0.0
    for lam in lams:
        lam_total += lam
        cumulative.append(lam_total)
    a = lam_total / mu
    rho = a / c
    check_stable(rho)
    capacity = c * mu
    prob_wait = _erlang_c(c, a)
    # Wq_k = (C / (c mu)) / ((1 - sigma_{k-1}) (1 - sigma_k)), written as
    # C / (c mu - Lambda_k) * c mu / (c mu - Lambda_{k-1}) with the cumulative
    # rates Lambda_k; for k = 0 the second factor is exactly 1.
    wqs = []
    before = 0.0
    for upto in cumulative:
        wqs.append(prob_wait / (capacity - upto) * (capacity / (capacity - before)))
        before = upto
    shares = [lam / mu / c for lam in lams]
    return _result(lams, [1.0 / mu] * len(lams), wqs, shares, rho, MMC_PRIORITY_METHOD)
