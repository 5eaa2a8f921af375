"""Renewal arrivals at exponential servers: GI/M/1 and GI/M/c, exact through the root σ.

With ``A*`` the Laplace-Stieltjes transform of the gaps, ``c`` servers of rate
``μ`` and ``ρ = λ / (c μ) < 1``, the number present just before an arrival is
geometric above ``c - 1``: ``q_n = q_{c-1} σ^{n-c+1}``, where ``σ`` is the unique
root in ``(0, 1)`` of ``σ = A*(c μ (1 - σ))``. An arrival that waits does so for
an exponential time of rate ``c μ (1 - σ)``, so

    ``Wq = q_{c-1} σ / (c μ (1 - σ)²)``,  ``W = Wq + 1/μ``,  ``L = λ W``.

For one server ``q_0 = 1 - σ`` and ``Wq = σ / (μ (1 - σ))``. For several, the
boundary ``q_0 .. q_{c-1}`` solves the embedded chain's balance equations below
level ``c``; their transition probabilities are binomial sums of ``A*`` values,
and the tail's contribution sums the geometric tail in closed form. Those sums
alternate in sign, so the solver stops at ``GIMC_SERVER_LIMIT`` servers and
checks the balance equation it does not use (to 1e-9); beyond either, the
caller gets a ValueError and falls back to an approximation, labelled.

Sources: D. Gross, J. F. Shortle, J. M. Thompson and C. M. Harris, *Fundamentals
of Queueing Theory*, 4th ed. (Wiley, 2008), §6.3 (G/M/1 and G/M/c); L. Kleinrock,
*Queueing Systems*, vol. 1 (Wiley, 1975), §6.4 (G/M/1) and §6.5 (G/M/m);
L. Takács, *Introduction to the Theory of Queues* (Oxford, 1962), ch. 5.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from eda_sim.theory._checks import check_positive, check_servers, check_stable
from eda_sim.theory.results import StationTheory
from eda_sim.theory.roots import brent_root

__all__ = ["GIMC_SERVER_LIMIT", "gim1", "gimc", "gimc_wait", "sigma_root"]

#: GI/M/c is solved exactly up to this many servers (binomial sums of transforms).
GIMC_SERVER_LIMIT = 10
_BALANCE_TOLERANCE = 1e-9

Transform = Callable[[float], float]


def sigma_root(transform: Transform, capacity_rate: float, rho: float) -> float:
    """The root ``σ`` in ``(0, 1)`` of ``σ = A*(r (1 - σ))``, ``r = c μ``, for ``ρ < 1``.

    Bisection-safe Brent on ``g(σ) = (A*(r (1 - σ)) - σ) / (1 - σ)``, which is
    positive at 0 (``A*(r) > 0``) and tends to ``1 - 1/ρ < 0`` at 1.
    """

    def g(sigma: float) -> float:
        return (transform(capacity_rate * (1.0 - sigma)) - sigma) / (1.0 - sigma)

    upper, step = 1.0 - 1e-3, 1e-3
    while g(upper) >= 0.0:
        step /= 10.0
        upper = 1.0 - step
        if step < 1e-14:
            raise ValueError(f"no root σ < 1 of the GI/M/c equation found (ρ = {rho:.6g})")
    if g(0.0) <= 0.0:  # A*(r) = 0: gaps never shorter than ... (cannot happen for ρ < 1)
        return 0.0
    return brent_root(g, 0.0, upper, xtol=1e-15, rtol=1e-15, maxiter=500)


def gim1(arrival_rate: float, service_rate: float, transform: Transform) -> StationTheory:
    """GI/M/1: renewal arrivals (gap transform ``A*``), one exponential server.

    ``W = 1 / (μ (1 - σ))``, ``Wq = σ / (μ (1 - σ))``; exact for any gap law.
    (Gross et al., 4th ed., §6.3.1; Kleinrock vol. 1, §6.4.)
    """
    return gimc(arrival_rate, service_rate, 1, transform)


def _binomial(n: int, k: int) -> float:
    return float(math.comb(n, k))


def _boundary(c: int, mu: float, sigma: float, transform: Transform) -> np.ndarray:
    """``q_0 .. q_{c-1}``: arrival-epoch probabilities below ``c`` (the geometric tail after)."""
    alpha = c * mu * (1.0 - sigma)

    def after(m: int, j: int) -> float:  # P(m in service after an arrival -> j at the next)
        return _binomial(m, j) * math.fsum(
            _binomial(m - j, i) * (-1) ** i * transform((j + i) * mu) for i in range(m - j + 1)
        )

    def between(beta: float) -> float:  # E[∫_0^T e^{-α s} e^{-β (T - s)} ds]
        if abs(alpha - beta) <= 1e-9 * alpha:
            h = 1e-5 * alpha
            return (transform(alpha - h) - transform(alpha + h)) / (2.0 * h)
        return (transform(beta) - transform(alpha)) / (alpha - beta)

    def tail(j: int) -> float:  # Σ_{m >= c} σ^{m-c} P(m -> j), j < c
        return _binomial(c, j) * math.fsum(
            _binomial(c - j, i)
            * (-1) ** i
            * (transform((j + i) * mu) + sigma * c * mu * between((j + i) * mu))
            for i in range(c - j + 1)
        )

    # balance: q_j = Σ_{i=j-1}^{c-2} q_i P(i+1 -> j) + q_{c-1} τ_j, j = 0..c-1
    matrix = np.zeros((c, c))
    for j in range(c):
        matrix[j, j] -= 1.0
        for i in range(max(j - 1, 0), c - 1):
            matrix[j, i] += after(i + 1, j)
        matrix[j, c - 1] += tail(j)
    system = matrix.copy()
    system[0] = 1.0
    system[0, c - 1] = 1.0 / (1.0 - sigma)  # Σ_{n<c-1} q_n + q_{c-1}/(1 - σ) = 1
    rhs = np.zeros(c)
    rhs[0] = 1.0
    q = np.linalg.solve(system, rhs)
    residual = float(np.abs(matrix[0] @ q))
    if residual > _BALANCE_TOLERANCE or q.min() < -_BALANCE_TOLERANCE:
        raise ValueError(
            f"GI/M/c with {c} servers: the boundary equations lost precision "
            f"(balance residual {residual:.2g})"
        )
    return np.asarray(np.maximum(q, 0.0), dtype=np.float64)


def gimc(
    arrival_rate: float, service_rate: float, servers: int, transform: Transform
) -> StationTheory:
    """GI/M/c: renewal arrivals (gap transform ``A*``), ``c`` exponential servers, FIFO.

    Parameters
    ----------
    arrival_rate : float
        ``λ = 1 / E[gap]`` (> 0).
    service_rate : float
        ``μ`` of one server (> 0).
    servers : int
        ``c``, 1 to ``GIMC_SERVER_LIMIT``.
    transform : callable
        ``s -> E[exp(-s gap)]`` for ``s >= 0``.

    Returns
    -------
    StationTheory
        Exact mean values, method ``"GI/M/1 (root σ)"`` or ``"GI/M/c (root σ)"``.

    Raises
    ------
    ValueError
        For bad arguments, more servers than the limit, or a boundary solve that
        fails its check; :class:`eda_sim.errors.UnstableError` when ``ρ >= 1``.
    """
    lam = check_positive("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    c = check_servers(servers)
    waits, decay = gimc_wait(lam, mu, c, transform)
    wq = waits / decay
    method = "GI/M/1 (root σ)" if c == 1 else "GI/M/c (root σ)"
    return StationTheory.from_waits(lam, wq, wq + 1.0 / mu, lam / (c * mu), method, exact=True)


def gimc_wait(
    arrival_rate: float, service_rate: float, servers: int, transform: Transform
) -> tuple[float, float]:
    """GI/M/c's law of the wait (FIFO): ``P(Wq > t) = π_w e^{−α t}``, as ``(π_w, α)``.

    ``π_w = q_{c-1} σ / (1 − σ)`` is the probability that an arrival finds every
    server busy and ``α = c μ (1 − σ)`` the rate of the exponential wait it then
    has (Gross et al., 4th ed., §6.3.2; Kleinrock vol. 1, §6.5). Same arguments
    and errors as :func:`gimc`.
    """
    lam = check_positive("arrival_rate", arrival_rate)
    mu = check_positive("service_rate", service_rate)
    c = check_servers(servers)
    rho = lam / (c * mu)
    check_stable(rho)
    if c > GIMC_SERVER_LIMIT:
        raise ValueError(f"GI/M/c is solved exactly up to {GIMC_SERVER_LIMIT} servers, got {c}")
    sigma = sigma_root(transform, c * mu, rho)
    q_top = 1.0 - sigma if c == 1 else float(_boundary(c, mu, sigma, transform)[-1])
    return q_top * sigma / (1.0 - sigma), c * mu * (1.0 - sigma)
