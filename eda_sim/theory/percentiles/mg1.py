"""M/G/1 wait and time per visit by inverting the Pollaczek–Khinchine transform (layer 3).

For Poisson arrivals at rate λ into one FIFO server whose service times are
i.i.d. with Laplace–Stieltjes transform ``B*(s)`` (a mixture over the classes
that arrive, weighted by their rates), the wait before service has the
Pollaczek–Khinchine transform

    ``W_q*(s) = (1 − ρ) s / (s − λ (1 − B*(s)))``, ``ρ = λ E[S] < 1``

(Kleinrock, *Queueing Systems* I, 1975, eq. 5.106), with an atom ``1 − ρ`` at 0
and a density elsewhere; the time per visit is ``W = W_q + S`` with ``S``
independent of ``W_q``. ``P(W_q > t)`` is inverted
from ``(1 − W_q*(s))/s`` and ``P(W > t)`` from ``(1 − W_q*(s)B*(s))/s`` by the
EULER algorithm (:mod:`.inversion`, with its error bound).

The transforms of the service laws are closed forms of their families
(exponential, Erlang, gamma, hyperexponential, uniform). The inversion needs
the distribution to be smooth where it is evaluated: these laws have densities
(the uniform's with two kinks, which the inversion's error estimate still
covers, checked against the Bromwich integral in the tests). Service laws with
atoms are different:

* **deterministic** (M/D/1, every class the same constant ``D``): Erlang's
  formula ``P(W_q <= t) = (1 − ρ) Σ_{k=0}^{⌊t/D⌋} (λ(kD − t))^k / k! · e^{−λ(kD − t)}``
  (A. K. Erlang 1909; C. D. Crommelin, *P.O.E.E. Journal* 25, 1932), summed in
  decimal arithmetic with enough digits that its alternating terms do not
  cancel (no rounding beyond the last digit of a double), and ``W = W_q + D``;
* **empirical** values, or classes with different constants: the atoms put
  kinks into ``P(W_q > t)`` at every sum of service values, where the
  Fourier-series inversion converges slowly and its error estimate does not
  bound its error (measured: 5e-5 at ``t = D`` for M/D/1), so no exact value is
  given;
* **lognormal**: no closed-form transform, no exact value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal, localcontext

import numpy as np

from eda_sim import distributions as dists
from eda_sim.theory.percentiles.inversion import invert_ccdf
from eda_sim.theory.percentiles.laws import TimeLaw

__all__ = ["NoTransformError", "md1_wait", "mg1_sojourn", "mg1_wait", "service_transform"]

METHOD = "M/G/1 (Pollaczek–Khinchine transform, Abate–Whitt inversion)"


class NoTransformError(ValueError):
    """No exact law for this service (the reason is the message): lognormal, atoms."""


def service_transform(law: dists.Distribution, s: np.ndarray) -> np.ndarray:
    """``E[e^{−sS}]`` at complex ``s`` (Re s > 0), from the law's family.

    Raises
    ------
    NoTransformError
        For a lognormal (no closed form) or an unknown family.
    """
    match law:
        case dists.Exponential(rate=rate):
            return np.asarray(rate / (rate + s))
        case dists.Erlang(k=k, rate=rate):
            return np.asarray((rate / (rate + s)) ** k)
        case dists.Gamma(shape=shape, rate=rate):
            return np.asarray((rate / (rate + s)) ** shape)  # principal branch: Re > 0
        case dists.Hyperexponential(probs=probs, rates=rates):
            return np.asarray(sum(p * r / (r + s) for p, r in zip(probs, rates, strict=True)))
        case dists.Deterministic(value=value):
            return np.asarray(np.exp(-s * value))
        case dists.Uniform(low=low, high=high):
            return np.asarray((np.exp(-s * low) - np.exp(-s * high)) / (s * (high - low)))
        case dists.Empirical(values=values):
            return np.asarray(np.exp(-np.multiply.outer(s, np.asarray(values))).mean(axis=-1))
        case dists.Lognormal():
            raise NoTransformError(
                "lognormal service has no closed-form Laplace transform, so the "
                "Pollaczek–Khinchine transform cannot be inverted exactly"
            )
    raise NoTransformError(f"no transform for {law.describe()}")


def _checked(
    rate: float, laws: Sequence[dists.Distribution], weights: Sequence[float]
) -> tuple[list[dists.Distribution], list[float], float]:
    total = math.fsum(weights)
    shares = [w / total for w in weights]
    mean = math.fsum(w * law.mean for law, w in zip(laws, shares, strict=True))
    load = rate * mean
    if not load < 1:
        raise ValueError(f"M/G/1 needs ρ < 1, got {load:.4g}")
    for law in laws:
        service_transform(law, np.array([1.0 + 0j]))  # raises for a law without a transform
        if isinstance(law, dists.Empirical | dists.Deterministic):
            raise NoTransformError(
                f"{law.describe()} service has atoms, which put kinks into the waiting-time "
                "distribution where the transform inversion's error is not bounded"
            )
    return list(laws), shares, load


def _wait_transform(
    rate: float, laws: Sequence[dists.Distribution], shares: Sequence[float], load: float
) -> Callable[[np.ndarray], np.ndarray]:
    def waits(s: np.ndarray) -> np.ndarray:
        service = sum(w * service_transform(law, s) for law, w in zip(laws, shares, strict=True))
        return np.asarray((1 - load) * s / (s - rate * (1 - service)))

    return waits


def mg1_wait(
    arrival_rate: float, laws: Sequence[dists.Distribution], weights: Sequence[float]
) -> TimeLaw:
    """The M/G/1 wait before service; ``laws`` mixed by ``weights`` (the classes' rates).

    Raises
    ------
    NoTransformError
        When a service law has no closed-form transform (lognormal), or atoms
        other than one constant shared by every class (empirical).
    ValueError
        For ρ >= 1.
    """
    constant = _one_constant(laws)
    if constant is not None:
        return md1_wait(arrival_rate, constant)
    laws, shares, load = _checked(arrival_rate, laws, weights)
    waits = _wait_transform(arrival_rate, laws, shares, load)
    second = math.fsum(w * (law.var + law.mean**2) for law, w in zip(laws, shares, strict=True))
    mean = arrival_rate * second / (2 * (1 - load))

    def survival(t: float) -> tuple[float, float]:
        if t <= 0:
            return load, 0.0
        inverted = invert_ccdf(lambda s: (1 - waits(s)) / s, t)
        return min(max(inverted.value, 0.0), load), inverted.error

    return TimeLaw(survival, mean, 0.0, f"{METHOD}: wait")


def mg1_sojourn(
    arrival_rate: float, laws: Sequence[dists.Distribution], weights: Sequence[float]
) -> TimeLaw:
    """The M/G/1 time per visit ``W_q + S`` (raises like :func:`mg1_wait`)."""
    constant = _one_constant(laws)
    if constant is not None:  # W = W_q + D exactly
        wait = md1_wait(arrival_rate, constant)

        def shifted(t: float) -> tuple[float, float]:
            return wait.survival(t - constant) if t >= constant else (1.0, 0.0)

        return TimeLaw(shifted, wait.mean + constant, constant, "M/D/1 (Erlang's formula): visit")
    laws, shares, load = _checked(arrival_rate, laws, weights)
    waits = _wait_transform(arrival_rate, laws, shares, load)
    second = math.fsum(w * (law.var + law.mean**2) for law, w in zip(laws, shares, strict=True))
    mean = arrival_rate * second / (2 * (1 - load)) + math.fsum(
        w * law.mean for law, w in zip(laws, shares, strict=True)
    )

    def visits(s: np.ndarray) -> np.ndarray:
        service = sum(w * service_transform(law, s) for law, w in zip(laws, shares, strict=True))
        return np.asarray((1 - waits(s) * service) / s)

    def survival(t: float) -> tuple[float, float]:
        if t <= 0:
            return 1.0, 0.0
        inverted = invert_ccdf(visits, t)
        return min(max(inverted.value, 0.0), 1.0), inverted.error

    return TimeLaw(survival, mean, 0.0, f"{METHOD}: time per visit")


def _one_constant(laws: Sequence[dists.Distribution]) -> float | None:
    """The constant ``D`` when every law is deterministic with the same value, else None."""
    values = {law.value for law in laws if isinstance(law, dists.Deterministic)}
    if len(values) == 1 and all(isinstance(law, dists.Deterministic) for law in laws):
        return values.pop()
    return None


def md1_wait(arrival_rate: float, constant: float) -> TimeLaw:
    """The M/D/1 wait by Erlang's formula (see the module docstring), exact to a double."""
    load = arrival_rate * constant
    if not load < 1:
        raise ValueError(f"M/D/1 needs ρ < 1, got {load:.4g}")
    rate, step = Decimal(float(arrival_rate)), Decimal(float(constant))  # exact binary values
    idle = 1 - rate * step

    def survival(t: float) -> tuple[float, float]:
        if t <= 0:
            return load, 0.0
        # |terms| <= e^{2λt}: that many digits more than a double's 17, and a margin
        digits = 30 + math.ceil(2 * arrival_rate * t / math.log(10))
        with localcontext() as context:
            context.prec = digits
            moment = Decimal(float(t))
            total = Decimal(0)
            for k in range(int(moment / step) + 1):
                x = rate * (k * step - moment)
                total += x**k / math.factorial(k) * (-x).exp()
            return float(1 - idle * total), 1e-16

    mean = arrival_rate * constant**2 / (2 * (1 - load))
    return TimeLaw(survival, mean, 0.0, "M/D/1 (Erlang's formula): wait")
