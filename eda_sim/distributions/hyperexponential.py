"""The hyperexponential distribution: a mixture of exponentials (phase-type, SCV >= 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from eda_sim.distributions.base import (
    PROBABILITY_SUM_TOLERANCE,
    Distribution,
    FloatArray,
    _assign,
    _check_moments,
    _Faults,
    _show,
)

__all__ = ["Hyperexponential"]


@dataclass(frozen=True, slots=True)
class Hyperexponential(Distribution):
    """Hyperexponential distribution: with probability ``probs[i]``, exponential(``rates[i]``).

    As a mixture, its mean is ``Σ p_i / r_i`` and its second moment
    ``Σ 2 p_i / r_i²``; the variance is computed by the law of total variance,
    ``Σ p_i / r_i² + Σ p_i (1/r_i - mean)²``, a sum of non-negative terms. The scv
    is >= 1 (Tijms, *A First Course in Stochastic Models*, Wiley 2003, Appendix B;
    Kleinrock, *Queueing Systems*, vol. 1, 1975, §4.7).

    Parameters
    ----------
    probs : tuple of float
        The phase probabilities, each >= 0, summing to 1 within
        :data:`PROBABILITY_SUM_TOLERANCE`; at least one phase.
    rates : tuple of float
        The rate of each phase, each > 0; as many as ``probs``.
    """

    name: ClassVar[str] = "hyperexponential"
    probs: tuple[float, ...]
    rates: tuple[float, ...]

    def __post_init__(self) -> None:
        faults = _Faults()
        probs = faults.numbers("probs", self.probs, bound=">=0")
        rates = faults.numbers("rates", self.rates, bound=">0")
        if probs and rates and len(probs) != len(rates):
            faults.add(
                "rates",
                f"must have as many entries as probs ({len(probs)}), got {len(rates)}",
            )
        if not faults.faults:
            total = math.fsum(probs)
            if abs(total - 1.0) > PROBABILITY_SUM_TOLERANCE:
                faults.add("probs", f"must sum to 1, got a sum of {total!r}")
        faults.raise_if_any()
        _assign(self, probs=probs, rates=rates)
        _check_moments(self)

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> Self:
        """Make the two-phase hyperexponential with balanced means for a mean and cv >= 1.

        The "balanced means" fit puts equal mean mass ``p_i / r_i = mean/2`` in each
        phase: ``p1 = (1 + sqrt((cv² - 1)/(cv² + 1)))/2``, ``p2 = 1 - p1``,
        ``rate_i = 2 p_i / mean`` (Whitt, "Approximating a point process by a
        renewal process, I: two basic methods", *Operations Research* 30(1), 1982;
        Tijms, *A First Course in Stochastic Models*, Wiley 2003, Appendix B).
        ``p2`` is computed as ``1/((cv² + 1)(1 + s))`` with
        ``s = sqrt((cv² - 1)/(cv² + 1))``, the same number without cancellation.
        ``cv = 1`` gives two equal phases, an exponential in disguise.

        Parameters
        ----------
        mean : float
            The mean, > 0.
        cv : float
            The coefficient of variation, >= 1.

        Returns
        -------
        Hyperexponential
            The distribution.
        """
        faults = _Faults()
        m = faults.number("mean", mean)
        c = faults.number("cv", cv, bound="any")
        if math.isfinite(c) and c < 1:
            faults.add("cv", f"hyperexponential needs cv >= 1, got {_show(cv)}")
        faults.raise_if_any()
        c2 = c * c
        s = math.sqrt((c2 - 1.0) / (c2 + 1.0))
        p1 = (1.0 + s) / 2.0
        p2 = 1.0 / ((c2 + 1.0) * (1.0 + s))
        return cls(probs=(p1, p2), rates=(2.0 * p1 / m, 2.0 * p2 / m))

    @property
    def mean(self) -> float:
        """``Σ p_i / r_i``."""
        return math.fsum(p / r for p, r in zip(self.probs, self.rates, strict=True))

    @property
    def var(self) -> float:
        """``Σ p_i / r_i² + Σ p_i (1/r_i - mean)²`` (law of total variance)."""
        mean = self.mean
        pairs = tuple(zip(self.probs, self.rates, strict=True))
        within = math.fsum(p * (1.0 / r) * (1.0 / r) for p, r in pairs)
        between = math.fsum(p * (1.0 / r - mean) * (1.0 / r - mean) for p, r in pairs)
        return within + between

    @property
    def scv(self) -> float:
        """``var / mean²``, computed on phase means scaled by the mean (no underflow)."""
        mean = self.mean
        scaled = tuple((p, 1.0 / (r * mean)) for p, r in zip(self.probs, self.rates, strict=True))
        return math.fsum(p * u * u for p, u in scaled) + math.fsum(
            p * (u - 1.0) * (u - 1.0) for p, u in scaled
        )

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values: phases with one uniform call, durations with one exponential call.

        A phase with probability 0 is never chosen.
        """
        cdf = np.cumsum(np.asarray(self.probs, dtype=np.float64))
        cdf /= cdf[-1]
        phases = np.searchsorted(cdf, rng.random(size), side="right")
        scales = 1.0 / np.asarray(self.rates, dtype=np.float64)
        return rng.standard_exponential(size) * scales[phases]

    def describe(self) -> str:
        """Return e.g. ``"hyperexponential(mean=1, cv=2, phases=2)"``."""
        return (
            f"hyperexponential(mean={self.mean:g}, cv={math.sqrt(self.scv):g}, "
            f"phases={len(self.probs)})"
        )
