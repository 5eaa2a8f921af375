"""The lognormal distribution, by the underlying normal's parameters or mean and cv."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from eda_sim.distributions.base import (
    Distribution,
    FloatArray,
    _assign,
    _check_moments,
    _exp,
    _expm1,
    _Faults,
    _mean_and_cv,
)

__all__ = ["Lognormal"]


@dataclass(frozen=True, slots=True)
class Lognormal(Distribution):
    """Lognormal distribution: ``exp(N)`` for a normal ``N`` with mean ``mu``, sd ``sigma``.

    Mean ``exp(mu + sigma²/2)``, variance ``(exp(sigma²) - 1) exp(2 mu + sigma²)``,
    so scv ``exp(sigma²) - 1`` (Johnson, Kotz & Balakrishnan, *Continuous
    Univariate Distributions*, vol. 1, 2nd ed., ch. 14).

    Parameters
    ----------
    mu : float
        The mean of the underlying normal (any finite number).
    sigma : float
        The standard deviation of the underlying normal, > 0.
    """

    name: ClassVar[str] = "lognormal"
    mu: float
    sigma: float

    def __post_init__(self) -> None:
        faults = _Faults()
        mu = faults.number("mu", self.mu, bound="any")
        sigma = faults.number("sigma", self.sigma)
        faults.raise_if_any()
        _assign(self, mu=mu, sigma=sigma)
        _check_moments(self)

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> Self:
        """Make the lognormal distribution with the given mean and coefficient of variation.

        Inverting the moments above: ``sigma² = ln(1 + cv²)`` and
        ``mu = ln(mean) - sigma²/2``.

        Parameters
        ----------
        mean : float
            The mean, > 0.
        cv : float
            The coefficient of variation, > 0.

        Returns
        -------
        Lognormal
            The distribution.
        """
        m, c = _mean_and_cv(mean, cv)
        sigma2 = math.log1p(c * c)
        return cls(mu=math.log(m) - sigma2 / 2.0, sigma=math.sqrt(sigma2))

    @property
    def mean(self) -> float:
        """``exp(mu + sigma²/2)``."""
        return _exp(self.mu + self.sigma * self.sigma / 2.0)

    @property
    def var(self) -> float:
        """``(exp(sigma²) - 1) exp(2 mu + sigma²)``, computed as ``scv * mean²``."""
        mean = self.mean
        return self.scv * mean * mean

    @property
    def scv(self) -> float:
        """``exp(sigma²) - 1``."""
        return _expm1(self.sigma * self.sigma)

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values (see :meth:`Distribution.draw`)."""
        return rng.lognormal(self.mu, self.sigma, size)

    def describe(self) -> str:
        """Return e.g. ``"lognormal(mean=0.8, cv=1.5)"``."""
        return f"lognormal(mean={self.mean:g}, cv={math.sqrt(self.scv):g})"
