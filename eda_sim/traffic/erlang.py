"""Erlang's loss formula and M/M/c/K in closed form, bounded in time (layer 1).

The traffic equations with losses need the loss of a full station at layer 1,
below the theory; these two formulas are its loss model and are what
:mod:`eda_sim.theory` evaluates too. :func:`erlang_b` is O(1) for any number of
servers, :func:`mmck_figures` O(1) in servers and capacity (nothing is allocated
per server or per place).

Sources: Tijms, *A First Course in Stochastic Models* (Wiley, 2003), §2.5 and
§5.1 (the recursion and the Poisson-ratio form); Gross et al., *Fundamentals of
Queueing Theory*, 4th ed. (Wiley, 2008), M/M/c/K; the continued fraction of the
incomplete gamma function: Numerical Recipes, 3rd ed., §6.2.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FRACTION_STEPS", "RECURSION_SERVERS", "erlang_b", "mmck_figures", "mmck_loss"]

#: Erlang B by its recursion up to this many servers; by the Poisson ratio above.
RECURSION_SERVERS = 1000
#: The most continued-fraction steps Erlang B takes for ``load > servers``.
FRACTION_STEPS = 100_000


def _log_poisson_pmf(servers: int, load: float) -> float:
    """``log(a^c e^-a / c!)`` for ``c >= RECURSION_SERVERS``, accurate for huge ``c``.

    Written as ``-c h(a/c - 1) - log(2 pi c)/2 - (Stirling corrections)`` with
    ``h(x) = x - log(1 + x)``, so no two large numbers are subtracted.
    """
    c = float(servers)
    x = load / c - 1.0
    if abs(x) < 1e-4:
        h = x * x * (0.5 - x / 3.0 + x * x / 4.0)
    else:  # log(a / c) directly: a / c - 1 may round to -1
        h = x - (math.log(load) - math.log(c))
    stirling = 1.0 / (12.0 * c) - 1.0 / (360.0 * c**3)
    return -c * h - 0.5 * math.log(2.0 * math.pi * c) - stirling


def _inverse_b_fraction(servers: int, load: float) -> float:
    """``1 / B(c, a) = P(Poisson(a) <= c) / P(Poisson(a) = c)`` by a continued fraction.

    ``P(N <= c) / P(N = c) = a Γ(s, a) / (a^s e^-a)`` with ``s = c + 1``; the upper
    incomplete gamma function by its Legendre continued fraction (modified
    Lentz), which converges quickly for ``a > c`` (Numerical Recipes, 3rd ed., §6.2).
    """
    s = float(servers) + 1.0
    tiny = 1e-300
    b = load + 1.0 - s
    c_term = 1.0 / tiny
    d = 1.0 / b if b != 0 else 1.0 / tiny
    h = d
    for i in range(1, FRACTION_STEPS + 1):
        an = -i * (i - s)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c_term = b + an / c_term
        c_term = tiny if abs(c_term) < tiny else c_term
        d = 1.0 / d
        step = d * c_term
        h *= step
        if abs(step - 1.0) < 1e-15:
            return load * h
    raise ValueError(
        f"Erlang B for {servers} servers at load {load:.6g} did not converge in "
        f"{FRACTION_STEPS} steps"
    )


def erlang_b(servers: int, load: float) -> float:
    """Erlang's loss formula ``B(c, a)``, in bounded time for any ``c``.

    Up to ``RECURSION_SERVERS`` servers by the stable recursion
    ``B(n) = a B(n-1) / (n + a B(n-1))``; above, as the ratio
    ``P(Poisson(a) = c) / P(Poisson(a) <= c)`` (log-space Stirling form and
    :func:`scipy.special.gammaincc`), or, when that probability underflows
    (``a`` far above ``c``), by a continued fraction. O(1) time for ``c = 1e20``.

    Parameters
    ----------
    servers : int
        Number of servers ``c`` (>= 0).
    load : float
        Offered load ``a = λ E[S]`` in Erlangs (>= 0, finite).

    Returns
    -------
    float
        The probability that a Poisson arrival finds all ``c`` servers busy.

    Raises
    ------
    ValueError
        If the continued fraction does not converge within ``FRACTION_STEPS``.
    """
    c, a = int(servers), float(load)
    if c == 0:
        return 1.0
    if a == 0.0:
        return 0.0
    if c <= RECURSION_SERVERS:
        b = 1.0
        for n in range(1, c + 1):
            ab = a * b
            b = ab / (n + ab)
        return b
    from scipy.special import gammaincc  # only for very many servers

    below = float(gammaincc(c + 1.0, a))  # P(Poisson(a) <= c)
    if below > 1e-280:
        return math.exp(_log_poisson_pmf(c, a) - math.log(below))
    return 1.0 / _inverse_b_fraction(c, a)


# --------------------------------------------------------------------------- M/M/c/K


def _log_geometric_sum(x: float, m: int) -> float:
    """``log(sum_{i=0}^{m} e^{i x})`` without overflow, for any sign of ``x``."""
    if m < 0:
        return -math.inf
    if x == 0.0:
        return math.log(m + 1.0)
    if x < 0.0:
        return math.log(-math.expm1((m + 1) * x)) - math.log(-math.expm1(x))
    return m * x + math.log(-math.expm1(-(m + 1) * x)) - math.log(-math.expm1(-x))


def _log_upper_sum(x: float, m: int) -> float:
    """``log(sum_{i=1}^{m} e^{i x})``, less ``m x`` when ``x > 0`` (the top term factored out)."""
    if m < 1:
        return -math.inf
    if x > 0.0:  # Σ ρ^i = ρ^m (1 - ρ^-m) / (1 - ρ^-1)
        return math.log(-math.expm1(-m * x)) - math.log(-math.expm1(-x))
    return x + _log_geometric_sum(x, m - 1)


def _truncated_geometric_mean(x: float, m: int) -> float:
    """Mean of the distribution ``∝ e^{i x}`` on ``i = 0..m``."""
    if abs(x) * (m + 1) < 1e-6:
        return m / 2.0 + x * m * (m + 2) / 12.0

    def ratio(scale: float, y: float) -> float:  # scale / expm1(y) without overflow
        return scale * math.exp(-y) / -math.expm1(-y) if y > 700.0 else scale / math.expm1(y)

    return ratio(1.0, -x) - ratio(m + 1.0, -(m + 1) * x)


def mmck_figures(
    arrival_rate: float, service_rate: float, servers: int, capacity: int
) -> tuple[float, float, float, float]:
    """Loss, L, Lq and mean busy servers of M/M/c/K in closed form, O(1) in ``c`` and ``K``.

    With ``a = λ/μ``, ``ρ = a/c`` and ``m = K - c``, the states ``n <= c`` weigh
    ``a^n/n!`` and the states above ``c`` a geometric ``ρ^(n-c)``; relative to state
    ``c`` the first group sums to ``1 / B(c, a)`` (Erlang B) and the second is a
    truncated geometric series, summed in closed form (in log space, so any ``ρ``
    and any ``K`` are fine). Nothing is allocated per server or per place.

    Parameters
    ----------
    arrival_rate, service_rate : float
        ``λ >= 0`` and ``μ > 0``.
    servers, capacity : int
        ``c >= 1`` and ``K >= c``.

    Returns
    -------
    tuple of float
        ``(p_K, L, Lq, busy)``: loss probability (PASTA), mean number present,
        mean number waiting, mean number of busy servers.

    Notes
    -----
    Source: Gross et al., *Fundamentals of Queueing Theory*, 4th ed. (Wiley, 2008),
    M/M/c/K; the relation ``Σ_{n<=c} n a^n/n! = a (1 - B) / B · a^c/c!`` follows
    from Erlang's recursion.
    """
    lam, mu, c, k = float(arrival_rate), float(service_rate), int(servers), int(capacity)
    if lam == 0.0:
        return 0.0, 0.0, 0.0, 0.0
    a = lam / mu
    b = erlang_b(c, a)
    if b == 0.0:  # P(all busy) below the smallest double: an M/M/∞ to double precision
        return 0.0, a, 0.0, a
    x = math.log(a) - math.log(c)
    m = k - c
    # Every weight relative to the top state K (the largest when ρ > 1), so that no two
    # large logarithms are subtracted: shift = log ρ^m for ρ > 1, else 0.
    shift = m * x if x > 0.0 else 0.0
    log_inv_b = -math.log(b) - shift
    log_upper = _log_upper_sum(x, m)  # Σ_{i=1..m} ρ^i, shifted
    log_z = float(np.logaddexp(log_inv_b, log_upper))
    loss = math.exp(m * x - shift - log_z)
    busy_low = math.exp(math.log(a) + math.log1p(-b) + log_inv_b - log_z)
    busy = busy_low + (c * math.exp(log_upper - log_z) if m >= 1 else 0.0)
    lq = math.exp(log_upper - log_z) * (1.0 + _truncated_geometric_mean(x, m - 1)) if m else 0.0
    return loss, busy + lq, lq, busy


def mmck_loss(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> float:
    """Probability that an arrival finds an M/M/c/K station full (Erlang B when K = c)."""
    if int(capacity) == int(servers):
        return erlang_b(int(servers), float(arrival_rate) / float(service_rate))
    return mmck_figures(arrival_rate, service_rate, servers, capacity)[0]
