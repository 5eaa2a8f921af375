"""How long to simulate an M/M/c station: its start-up bias, the cumulants of its time average.

A replication that starts empty and averages the number present ``N(t)`` over
``[0, T]`` has, to first order in ``1/T`` (asymptotic bias and variance of a
Markov chain's time average: Whitt 1992):

* **bias** ``-D / T``, where ``D = ∫₀^∞ (L - E₀[N(t)]) dt`` is the area between the
  stationary mean and the mean started empty (the *start-up deficit*);
* **variance** ``c₂ / T`` (``c₂``: the asymptotic variance rate);
* **third cumulant** ``c₃ / T²``, so the skewness of a replication mean is
  ``c₃ / (c₂^{3/2} √T)``: it falls only like ``1 / √T``.

All three come from Poisson's equation ``A h = -(f - L)`` of the chain's generator
``A`` (``f(n) = n``): ``D = E_π[h] - h(0)``, ``c₂ = 2 E_π[(f - L) h]``, and
``c₃ = 6 E_π[(f - L) v]`` with ``A v = -((f - L) h - c₂ / 2)``, the third
derivative of the principal eigenvalue of ``A + θ diag(f - L)`` at ``θ = 0``
(that eigenvalue is the scaled cumulant generating function of ``∫ N dt``: Ney &
Nummelin 1987; its second-order term is ``c₂ / 2``, its third ``c₃ / 6``; the
tests check ``c₃`` against finite differences of the eigenvalue). For a birth-death chain
Poisson's equation is solved by one pass of flux balance:
``π(n) λ (h(n+1) - h(n)) = Σ_{m>n} π(m) g(m)`` for ``A h = -g``.

For M/M/1 (``μ = 1``) this gives the closed forms ``D = ρ / (1 - ρ)³`` and
``c₂ = 2ρ(1 + ρ) / (1 - ρ)⁴`` (``c₂``: Whitt 1989; with service rate ``μ`` both
divide by ``μ``), which the tests check; in heavy traffic ``D ∝ (1 - ρ)⁻³``, ``c₂ ∝ (1 - ρ)⁻⁴`` and
``c₃ ∝ (1 - ρ)⁻⁷``, as the reflected Brownian motion limit says (Abate & Whitt
1987).

References
----------
W. Whitt, "Asymptotic formulas for Markov processes with applications to
simulation", *Operations Research* 40 (1992) 279-291.
W. Whitt, "Planning queueing simulations", *Management Science* 35 (1989) 1341-1366.
J. Abate and W. Whitt, "Transient behavior of regulated Brownian motion, I:
starting at the origin", *Advances in Applied Probability* 19 (1987) 560-598.
P. Ney and E. Nummelin, "Markov additive processes I. Eigenvalue properties and
limit theorems", *Annals of Probability* 15 (1987) 561-592.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from eda_sim.errors import UnstableError

__all__ = ["MAX_STATES", "TAIL_MASS", "RunLengthConstants", "mmc_run_length_constants"]

#: Stationary mass left beyond the truncated birth-death chain.
TAIL_MASS = 1e-13
#: Most states solved directly; nearer saturation the heavy-traffic powers extrapolate.
MAX_STATES = 20_000


@dataclass(frozen=True)
class RunLengthConstants:
    """The first-order constants of the time-average number present, started empty.

    Over ``[0, T]`` the time average has mean ``L - start_deficit / T``, variance
    ``variance_rate / T`` and third cumulant ``third_cumulant_rate / T²``
    (to first order in ``1 / T``).
    """

    mean: float
    """``L``, the stationary mean number present."""
    start_deficit: float
    """``D = ∫₀^∞ (L - E₀[N(t)]) dt`` (number × time)."""
    variance_rate: float
    """``c₂ = lim T · Var(time average)``."""
    third_cumulant_rate: float
    """``c₃ = lim T² · κ₃(time average)``."""

    def skewness(self, length: float) -> float:
        """Skewness of the time average over ``length`` time units."""
        return float(self.third_cumulant_rate / (self.variance_rate**1.5 * math.sqrt(length)))


def _poisson(
    gap: np.ndarray, birth: float, deaths: np.ndarray, stationary: np.ndarray
) -> np.ndarray:
    """``h`` with ``A h = -gap`` and ``E_π[h] = 0`` on the birth-death chain (``E_π[gap] = 0``).

    Flux balance gives ``h(n+1) - h(n) = a(n) / λ`` with ``a(n) = Σ_{m>n} π(m) gap(m) / π(n)``
    ``= -Σ_{m≤n} π(m) gap(m) / π(n)``. Both sums are run as recursions in the
    ratios ``π(m) / π(n)``, never in ``π`` itself (whose far states underflow when
    the mean number present is in the hundreds): upwards from state 0 below the mode,
    where ``π(n-1) / π(n) = deaths(n) / λ < 1``, and downwards from the top above it,
    where ``π(n+1) / π(n) = λ / deaths(n+1) <= 1``, so that rounding errors shrink.
    """
    states = len(gap)
    below = deaths / birth  # π(n) / π(n+1) for n = 0 .. states-2 (deaths[n] of state n+1)
    mode = int(np.searchsorted(deaths, birth))  # first n with deaths(n+1) >= λ
    steps = np.empty(states - 1)
    values = gap.tolist()
    ratios = below.tolist()
    running = 0.0
    for n in range(mode):  # -Σ_{m≤n} π(m)/π(n) gap(m), upwards
        running = (running * ratios[n - 1] if n else 0.0) + values[n]
        steps[n] = -running
    running = 0.0
    for n in range(states - 2, mode - 1, -1):  # Σ_{m>n} π(m)/π(n) gap(m), downwards
        running = (values[n + 1] + running) / ratios[n]
        steps[n] = running
    h = np.concatenate([[0.0], np.cumsum(steps / birth)])
    return np.asarray(h - float(np.dot(stationary, h)))


def _states(
    arrival_rate: float, service_rate: float, servers: int
) -> tuple[np.ndarray, np.ndarray]:
    """The death rates of states ``1 ..`` and ``log π``, up to where the mass is negligible.

    The chain is cut where ``π`` has fallen below :data:`TAIL_MASS` times ``1e-3`` of
    its mode (above the mode ``π`` falls at least geometrically), so a station with
    a million servers and little load is solved on the few states it visits.
    """
    rho = arrival_rate / (servers * service_rate)
    last = servers + math.ceil(math.log(TAIL_MASS) / math.log(rho)) + 10
    deaths = service_rate * np.minimum(np.arange(1, last + 1, dtype=float), servers)
    log_pi = np.concatenate([[0.0], np.cumsum(math.log(arrival_rate) - np.log(deaths))])
    peak = int(np.argmax(log_pi))
    negligible = np.flatnonzero(log_pi[peak:] - log_pi[peak] < math.log(TAIL_MASS * 1e-3))
    if negligible.size:
        last = min(last, peak + int(negligible[0]))
    return deaths[:last], log_pi[: last + 1]


def _solve(arrival_rate: float, service_rate: float, servers: int) -> RunLengthConstants:
    deaths, log_pi = _states(arrival_rate, service_rate, servers)
    n = np.arange(len(log_pi), dtype=float)
    stationary = np.exp(log_pi - log_pi.max())
    stationary /= stationary.sum()
    mean = float(np.dot(stationary, n))
    gap = n - mean
    h = _poisson(gap, arrival_rate, deaths, stationary)
    half_variance = float(np.dot(stationary, gap * h))
    v = _poisson(gap * h - half_variance, arrival_rate, deaths, stationary)
    return RunLengthConstants(
        mean=mean,
        start_deficit=-float(h[0]),
        variance_rate=2.0 * half_variance,
        third_cumulant_rate=6.0 * float(np.dot(stationary, gap * v)),
    )


def mmc_run_length_constants(
    arrival_rate: float, service_rate: float, servers: int = 1
) -> RunLengthConstants:
    """The run-length constants of the number present at an M/M/c station.

    Solved on the birth-death chain truncated where less than :data:`TAIL_MASS`
    of the stationary mass is left; when that needs more than :data:`MAX_STATES`
    states (``ρ`` within about ``1.5e-3`` of 1) the constants are solved at the
    load that fits and extrapolated by their heavy-traffic powers of ``1 - ρ``.

    Raises
    ------
    UnstableError
        When ``ρ = λ / (c μ) >= 1``.
    ValueError
        For a non-positive rate or fewer than one server.
    """
    if arrival_rate <= 0 or service_rate <= 0 or servers < 1:
        raise ValueError(
            "need arrival_rate > 0, service_rate > 0, servers >= 1, got "
            f"{arrival_rate}, {service_rate}, {servers}"
        )
    rho = arrival_rate / (servers * service_rate)
    if rho >= 1:
        raise UnstableError(f"rho = {rho:.4g} >= 1: no steady state")
    # many servers: the tail beyond them still gets MAX_STATES - 10 states' worth
    fitting = math.exp(math.log(TAIL_MASS) / max(MAX_STATES - servers - 10, MAX_STATES // 2))
    if rho <= fitting:
        return _solve(arrival_rate, service_rate, servers)
    near = _solve(fitting * servers * service_rate, service_rate, servers)
    scale = (1 - fitting) / (1 - rho)
    return RunLengthConstants(
        mean=near.mean * scale,
        start_deficit=near.start_deficit * scale**3,
        variance_rate=near.variance_rate * scale**4,
        third_cumulant_rate=near.third_cumulant_rate * scale**7,
    )
