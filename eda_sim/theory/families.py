"""What a distribution's family tells the formulas: exponential, phase-type, transforms.

Exactness is decided here, from the distribution *object* (its family and
parameters), never from a moment: an empirical law with squared coefficient of
variation 1 is not exponential, and a formula that needs exponential service is
not exact for it.

* :func:`exponential_rate` -- the rate when the law *is* exponential (an
  exponential, an Erlang with one phase, a gamma of shape 1, a hyperexponential
  whose phases share one rate), else None.
* :func:`phase_type` -- ``(alpha, T)`` when the law is phase-type with a small
  representation (exponential, Erlang, gamma of whole shape, hyperexponential),
  for the CTMC solver (Neuts, *Matrix-Geometric Solutions in Stochastic Models*,
  1981, ch. 2).
* :func:`laplace_transform` -- ``E[exp(-s X)]`` for every family (closed forms;
  lognormal by Gauss-Hermite quadrature), for the GI/M/c root.
* :func:`arrivals_during` -- ``a_k = P(k Poisson(λ) arrivals during X)`` for
  every family (closed forms; lognormal by quadrature), for M/G/1/K.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from eda_sim import distributions as dists

__all__ = [
    "PHASE_LIMIT",
    "PhaseType",
    "arrivals_during",
    "exponential_rate",
    "laplace_transform",
    "mixture_exponential_rate",
    "phase_type",
]

FloatArray = npt.NDArray[np.float64]

#: The most phases a phase-type representation may have (an Erlang of more is not expanded).
PHASE_LIMIT = 50
#: Gauss-Hermite nodes for lognormal transforms (exact for polynomials of degree < 2·nodes).
_HERMITE_NODES = 160

PhaseType = tuple[FloatArray, FloatArray]


def exponential_rate(distribution: dists.Distribution) -> float | None:
    """The rate of ``distribution`` if it is exactly exponential, whatever family spells it."""
    match distribution:
        case dists.Exponential(rate=rate):
            return float(rate)
        case dists.Erlang(k=1, rate=rate):
            return float(rate)
        case dists.Gamma(shape=1.0, rate=rate):
            return float(rate)
        case dists.Hyperexponential(rates=rates) if len(set(rates)) == 1:
            return float(rates[0])
    return None


def mixture_exponential_rate(laws: Sequence[dists.Distribution]) -> float | None:
    """The common rate when every law is exponential with one and the same rate, else None.

    A FIFO station whose classes are exponential with different rates serves a
    hyperexponential mixture, not an exponential.
    """
    rates = {exponential_rate(law) for law in laws}
    if len(rates) != 1:
        return None
    (rate,) = rates
    return rate


def phase_type(distribution: dists.Distribution) -> PhaseType | None:
    """A phase-type representation ``(alpha, T)`` of ``distribution``, or None.

    ``alpha`` is the initial phase distribution and ``T`` the sub-generator among
    the transient phases; the exit rates are ``-T·1``. Exponential, Erlang (and a
    gamma of whole shape), hyperexponential: exact representations. Deterministic,
    uniform, lognormal, empirical and a gamma of fractional shape have none.
    """
    match distribution:
        case dists.Hyperexponential(probs=probs, rates=rates):
            kept = [(p, r) for p, r in zip(probs, rates, strict=True) if p > 0]
            if len({r for _, r in kept}) == 1:
                return np.ones(1), np.array([[-kept[0][1]]])
            alpha = np.array([p for p, _ in kept]) / math.fsum(p for p, _ in kept)
            return alpha, np.diag([-r for _, r in kept])
        case dists.Erlang(k=k, rate=rate) if k <= PHASE_LIMIT:
            return _erlang(int(k), float(rate))
        case dists.Gamma(shape=shape, rate=rate) if float(shape).is_integer() and (
            shape <= PHASE_LIMIT
        ):
            return _erlang(int(shape), float(rate))
    single = exponential_rate(distribution)
    if single is not None:
        return np.ones(1), np.array([[-single]])
    return None


def _erlang(phases: int, rate: float) -> PhaseType:
    generator = np.diag(np.full(phases, -rate)) + np.diag(np.full(phases - 1, rate), k=1)
    alpha = np.zeros(phases)
    alpha[0] = 1.0
    return alpha, generator


@functools.cache
def _hermite_rule() -> tuple[FloatArray, FloatArray]:
    """Gauss-Hermite nodes and weights of order ``_HERMITE_NODES``, computed once.

    (An eigenvalue problem of that order: 40 ms, which a network of thousands of
    lognormal stations would otherwise pay per station and per fixed-point round.)
    """
    x, w = np.polynomial.hermite.hermgauss(_HERMITE_NODES)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def _hermite_lognormal(mu: float, sigma: float) -> tuple[FloatArray, FloatArray]:
    """Nodes ``t_i`` and weights ``w_i`` with ``E[f(X)] ≈ Σ w_i f(t_i)`` for lognormal ``X``."""
    x, w = _hermite_rule()
    return np.exp(mu + math.sqrt(2.0) * sigma * x), w / math.sqrt(math.pi)


def _poisson_pmf(k: FloatArray, mean: FloatArray | float) -> FloatArray:
    """``P(K = k)`` for ``K ~ Poisson(mean)`` (broadcast), from ``scipy.special``."""
    from scipy import special

    logs = special.xlogy(k, mean) - mean - special.gammaln(k + 1.0)
    return np.asarray(np.exp(logs), dtype=np.float64)


def _negative_binomial_pmf(k: FloatArray, shape: float, p: float) -> FloatArray:
    """``Γ(k + n) / (Γ(n) k!) p^n (1 - p)^k``: failures before the n-th success."""
    from scipy import special

    logs = (
        special.gammaln(k + shape)
        - special.gammaln(shape)
        - special.gammaln(k + 1.0)
        + shape * math.log(p)
        + special.xlog1py(k, -p)
    )
    return np.asarray(np.exp(logs), dtype=np.float64)


def laplace_transform(distribution: dists.Distribution, s: float) -> float:
    """``E[exp(-s X)]`` for ``s >= 0``, by family.

    Sources: the transforms of Johnson, Kotz & Balakrishnan, *Continuous Univariate
    Distributions*, 2nd ed. (exponential, gamma, uniform); the lognormal has no
    closed form and is integrated by Gauss-Hermite quadrature of order 160.
    """
    match distribution:
        case dists.Exponential(rate=rate):
            return float(rate / (rate + s))
        case dists.Deterministic(value=value):
            return math.exp(-s * value)
        case dists.Erlang(k=k, rate=rate):
            return float((rate / (rate + s)) ** k)
        case dists.Gamma(shape=shape, rate=rate):
            return float((rate / (rate + s)) ** shape)
        case dists.Hyperexponential(probs=probs, rates=rates):
            return math.fsum(p * r / (r + s) for p, r in zip(probs, rates, strict=True))
        case dists.Uniform(low=low, high=high):
            if s == 0.0:
                return 1.0
            return (math.exp(-s * low) * -math.expm1(-s * (high - low))) / (s * (high - low))
        case dists.Lognormal(mu=mu, sigma=sigma):
            nodes, weights = _hermite_lognormal(mu, sigma)
            return float(weights @ np.exp(-s * nodes))
        case dists.Empirical(values=values):
            return float(np.mean(np.exp(-s * np.asarray(values))))
    raise ValueError(f"no Laplace transform for {distribution.describe()}")


def arrivals_during(distribution: dists.Distribution, rate: float, count: int) -> FloatArray:
    """``a_k = P(k arrivals of a Poisson(rate) stream during one X)`` for ``k < count``.

    Closed forms by family: geometric (exponential), Poisson (deterministic),
    negative binomial (Erlang, gamma), a mixture of geometrics (hyperexponential),
    differences of regularised incomplete gamma functions (uniform), an average of
    Poisson probabilities (empirical), Gauss-Hermite quadrature (lognormal).
    (Kleinrock, *Queueing Systems*, vol. 1, §5.3: ``a_k = ∫ (λt)^k/k! e^{-λt} dB(t)``.)
    """
    from scipy import special

    k = np.arange(count, dtype=np.float64)
    lam = float(rate)
    match distribution:
        case dists.Exponential(rate=mu):
            return _negative_binomial_pmf(k, 1.0, mu / (lam + mu))  # geometric
        case dists.Deterministic(value=value):
            return _poisson_pmf(k, lam * value)
        case dists.Erlang(k=phases, rate=beta):
            return _negative_binomial_pmf(k, float(phases), beta / (beta + lam))
        case dists.Gamma(shape=shape, rate=beta):
            return _negative_binomial_pmf(k, float(shape), beta / (beta + lam))
        case dists.Hyperexponential(probs=probs, rates=rates):
            return np.asarray(
                sum(
                    p * _negative_binomial_pmf(k, 1.0, r / (lam + r))
                    for p, r in zip(probs, rates, strict=True)
                ),
                dtype=np.float64,
            )
        case dists.Uniform(low=low, high=high):
            upper = special.gammainc(k + 1.0, lam * high)
            lower = special.gammainc(k + 1.0, lam * low)
            return np.asarray((upper - lower) / (lam * (high - low)), dtype=np.float64)
        case dists.Lognormal(mu=mu, sigma=sigma):
            nodes, weights = _hermite_lognormal(mu, sigma)
            return np.asarray(weights @ _poisson_pmf(k[None, :], lam * nodes[:, None]))
        case dists.Empirical(values=values):
            points = np.asarray(values, dtype=np.float64)
            return np.asarray(_poisson_pmf(k[None, :], lam * points[:, None]).mean(axis=0))
    raise ValueError(f"no arrival distribution for {distribution.describe()}")
