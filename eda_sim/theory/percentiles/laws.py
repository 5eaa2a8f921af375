"""Exact distributions of waits and times in system, and their quantiles (layer 3).

A :class:`TimeLaw` is the distribution of one time (a wait before service, a
visit, a journey end to end) as a complementary distribution function
``P(X > t)``, with what it knows exactly: its mass at its lowest value, and a
bound on the error of each evaluation (rounding for closed forms; the
inversion bound of :mod:`.inversion` for transforms). :meth:`TimeLaw.quantile`
is the smallest ``t`` with ``P(X <= t) >= p`` (the definition the simulation's
quantiles estimate), found by bracketing and Brent's method to a relative
``1e-13``, with a bound on its error from the function's error and slope.

Closed forms (the sources are named where each is built):

* M/M/c wait and time per visit (FIFO): ``P(Wq > t) = C e^{−(cμ−λ)t}``, ``C``
  Erlang's delay probability (Erlang 1917; Kleinrock, *Queueing Systems* I,
  §3.5); the visit adds an independent ``Exp(μ)`` service;
* M/M/c/K, Poisson arrivals seeing time averages (PASTA, Wolff 1982): an
  admitted arrival finding ``n >= c`` present waits an Erlang(n − c + 1, cμ)
  time (Gross & Harris, *Fundamentals of Queueing Theory*, §2.5);
* phase-type laws ``P(X > t) = α e^{Tt} 1`` (Neuts 1981), e.g. a sum of
  independent exponentials (a hypoexponential) for a journey through M/M/1
  stations without overtaking.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import gammainc, gammaincc

from eda_sim.theory.finite import mmck_state_probabilities
from eda_sim.theory.roots import brent_root
from eda_sim.theory.single import erlang_c

__all__ = [
    "TimeLaw",
    "exponential_wait",
    "exponential_wait_visit",
    "hypoexponential",
    "mixture",
    "mmc_sojourn",
    "mmc_wait",
    "mmck_sojourn",
    "mmck_wait",
    "phase_type",
]

FloatArray = npt.NDArray[np.float64]
#: Relative precision of a quantile's root search.
QUANTILE_RTOL = 1e-13
#: A quantile whose error bound exceeds this share of it is not called exact.
EXACT_RTOL = 1e-7
_ROUNDING = 1e-14


@dataclass(frozen=True)
class Quantile:
    """A quantile and a bound on its absolute error."""

    value: float
    error: float

    @property
    def exact(self) -> bool:
        """Within :data:`EXACT_RTOL` of the true quantile (relative), or 0 exactly."""
        return self.error <= EXACT_RTOL * abs(self.value)


@dataclass(frozen=True)
class TimeLaw:
    """The distribution of a time: ``P(X > t)``, its lowest value and its mass there.

    Attributes
    ----------
    survival : callable
        ``t -> (P(X > t), error bound)`` for ``t >= lower``.
    mean : float
        ``E[X]`` (where to start bracketing a quantile).
    lower : float
        ``X >= lower`` surely.
    method : str
        How the law was obtained (a formula and its source).
    """

    survival: Callable[[float], tuple[float, float]]
    mean: float
    lower: float
    method: str

    def ccdf(self, t: float) -> float:
        """``P(X > t)``."""
        if t < self.lower:
            return 1.0
        return self.survival(t)[0]

    def quantile(self, level: float) -> Quantile:
        """The smallest ``t`` with ``P(X <= t) >= level``, with an error bound."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        tail = 1.0 - level
        at_lower, error = self.survival(self.lower)
        if at_lower <= tail:  # the mass at the lowest value reaches the level
            return Quantile(self.lower, 0.0 if at_lower + error <= tail else math.inf)
        high = max(self.mean, self.lower, 1e-300) * 2.0
        while self.survival(high)[0] > tail:
            high *= 2.0
            if not math.isfinite(high):  # pragma: no cover - a law without a finite quantile
                return Quantile(math.nan, math.inf)
        root = brent_root(  # P(X > lower) > tail >= P(X > high): a sign change in between
            lambda t: self.survival(t)[0] - tail,
            self.lower,
            high,
            xtol=1e-300,
            rtol=QUANTILE_RTOL,
            maxiter=500,
        )
        return Quantile(root, self._error(root))

    def _error(self, t: float) -> float:
        """``δt ≤ (δG + slack of the root) / g(t)``, ``g`` the density (finite differences)."""
        error = self.survival(t)[1]
        step = max(abs(t), 1e-300) * 1e-5
        below = self.survival(max(t - step, self.lower))[0]
        above = self.survival(t + step)[0]
        slope = (below - above) / (t + step - max(t - step, self.lower))
        if slope <= 0:
            return math.inf
        return (error + 2 * _ROUNDING) / slope + QUANTILE_RTOL * abs(t)


def _closed(
    function: Callable[[float], float], mean: float, method: str, lower: float = 0.0
) -> TimeLaw:
    def survival(t: float) -> tuple[float, float]:
        return min(max(function(t), 0.0), 1.0), _ROUNDING

    return TimeLaw(survival, mean, lower, method)


def _two_exponentials(a: float, b: float, t: float) -> float:
    """``P(Exp(a) + Exp(b) > t)``, stable as ``a → b`` (then Erlang-2); symmetric in a, b."""
    a, b = max(a, b), min(a, b)  # e^{−bt} carries the slower decay; d >= 0 cannot overflow
    d = a - b
    ratio = -t if d == 0 else math.expm1(-d * t) / d
    return math.exp(-b * t) * (1.0 - b * ratio)


def mmc_wait(arrival_rate: float, service_rate: float, servers: int) -> TimeLaw:
    """M/M/c wait before service (FIFO): mass ``1 − C`` at 0, ``P(Wq > t) = C e^{−(cμ−λ)t}``."""
    load = arrival_rate / service_rate
    waits = erlang_c(servers, load)
    rate = servers * service_rate - arrival_rate
    return exponential_wait(
        waits,
        rate,
        "M/M/c wait: C·exp(−(cμ−λ)t) (Erlang C)" if servers > 1 else "M/M/1 wait: ρ·exp(−(μ−λ)t)",
    )


def mmc_sojourn(arrival_rate: float, service_rate: float, servers: int) -> TimeLaw:
    """M/M/c time per visit: the wait plus an independent Exp(μ) service."""
    load = arrival_rate / service_rate
    waits = erlang_c(servers, load)
    rate = servers * service_rate - arrival_rate
    mu = service_rate
    if servers == 1:
        return _closed(
            lambda t: math.exp(-rate * t), 1.0 / rate, "M/M/1 time per visit: exp(−(μ−λ)t)"
        )
    return exponential_wait_visit(waits, rate, mu, "M/M/c time per visit: wait (Erlang C) + Exp(μ)")


def exponential_wait(waits: float, decay: float, method: str) -> TimeLaw:
    """A wait that is 0 with probability ``1 − waits``, else ``Exp(decay)``.

    The FIFO wait of M/M/c (``waits = C``, ``decay = cμ − λ``) and of GI/M/c.
    """
    return _closed(lambda t: waits * math.exp(-decay * t), waits / decay, method)


def exponential_wait_visit(waits: float, decay: float, service_rate: float, method: str) -> TimeLaw:
    """That wait plus an independent ``Exp(service_rate)`` service: a visit's time."""
    mu = service_rate
    return _closed(
        lambda t: (1 - waits) * math.exp(-mu * t) + waits * _two_exponentials(decay, mu, t),
        waits / decay + 1.0 / mu,
        method,
    )


def _admitted_states(
    arrival_rate: float, service_rate: float, servers: int, capacity: int
) -> FloatArray:
    """``q_n``: the number an admitted arrival finds (PASTA, then conditioned on admission)."""
    states = mmck_state_probabilities(arrival_rate, service_rate, servers, capacity)
    found = states[:capacity]
    return np.asarray(found / found.sum())


def mmck_wait(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> TimeLaw:
    """M/M/c/K wait of an admitted event: ``Σ_{n>=c} q_n P(Erlang(n−c+1, cμ) > t)``."""
    found = _admitted_states(arrival_rate, service_rate, servers, capacity)
    rate = servers * service_rate
    stages = np.arange(1, capacity - servers + 1, dtype=float)  # n − c + 1 for n = c .. K−1
    weights = found[servers:]
    mean = float(weights @ stages) / rate
    return _closed(
        lambda t: float(weights @ gammaincc(stages, rate * t)) if t > 0 else float(weights.sum()),
        mean,
        "M/M/c/K wait: Erlang mixture over the number found (PASTA)",
    )


def mmck_sojourn(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> TimeLaw:
    """M/M/c/K time per visit of an admitted event: the wait plus an Exp(μ) service."""
    found = _admitted_states(arrival_rate, service_rate, servers, capacity)
    mu, rate = service_rate, servers * service_rate
    stages = np.arange(1, capacity - servers + 1, dtype=float)
    waiting, idle = found[servers:], float(found[:servers].sum())
    mean = float(waiting @ stages) / rate + 1.0 / mu

    def survival(t: float) -> float:
        served = idle * math.exp(-mu * t)
        if servers == 1:  # Erlang(k, μ) + Exp(μ) = Erlang(k + 1, μ)
            return served + float(waiting @ gammaincc(stages + 1, mu * t))
        # P(E_k + X > t) = Q(k, rt) + e^{−μt} (r/(r−μ))^k P(k, (r−μ)t), in logs (k may be large)
        logs = stages * math.log(rate / (rate - mu)) - mu * t
        lower = gammainc(stages, (rate - mu) * t)
        with np.errstate(divide="ignore"):
            tail = np.exp(logs + np.log(lower))
        return served + float(waiting @ (gammaincc(stages, rate * t) + tail))

    return _closed(survival, mean, "M/M/c/K time per visit: Erlang mixture (PASTA) + Exp(μ)")


def phase_type(alpha: npt.ArrayLike, generator: npt.ArrayLike, method: str) -> TimeLaw:
    """``P(X > t) = α e^{Tt} 1`` (a phase-type law; α may sum to less than 1: mass at 0)."""
    from scipy.linalg import expm  # imported when a phase-type law is built

    start = np.asarray(alpha, dtype=float)
    sub = np.asarray(generator, dtype=float)
    ones = np.ones(len(start))
    mean = float(start @ np.linalg.solve(-sub, ones))
    return _closed(lambda t: float(start @ expm(sub * t) @ ones), mean, method)


def hypoexponential(rates: Sequence[float], method: str) -> TimeLaw:
    """The sum of independent exponentials with ``rates`` (any, repeated ones too)."""
    count = len(rates)
    generator = np.diag([-float(r) for r in rates]) + np.diag([float(r) for r in rates[:-1]], k=1)
    alpha = np.zeros(count)
    alpha[0] = 1.0
    return phase_type(alpha, generator, method)


def mixture(laws: Sequence[TimeLaw], weights: Sequence[float], method: str) -> TimeLaw:
    """The law of ``X_i`` chosen with probability ``weights[i]`` (normalised)."""
    total = math.fsum(weights)
    kept = [(law, w / total) for law, w in zip(laws, weights, strict=True) if w > 0]
    if len(kept) == 1:
        return TimeLaw(kept[0][0].survival, kept[0][0].mean, kept[0][0].lower, method)
    lower = min(law.lower for law, _ in kept)

    def survival(t: float) -> tuple[float, float]:
        value = error = 0.0
        for law, weight in kept:
            if t < law.lower:
                value += weight
            else:
                v, e = law.survival(t)
                value += weight * v
                error += weight * e
        return value, error

    return TimeLaw(survival, math.fsum(law.mean * w for law, w in kept), lower, method)
