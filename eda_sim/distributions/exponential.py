"""The exponential distribution (memoryless: the Markovian case of every formula)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from eda_sim.distributions.base import (
    Distribution,
    FloatArray,
    _assign,
    _check_moments,
    _Faults,
)

__all__ = ["Exponential"]


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    """Exponential distribution, density ``rate * exp(-rate * x)`` for ``x >= 0``.

    Mean ``1/rate``, variance ``1/rate²``, so scv = 1 (Ross, *Introduction to
    Probability Models*, 12th ed., §5.2; Johnson, Kotz & Balakrishnan,
    *Continuous Univariate Distributions*, vol. 1, 2nd ed., ch. 19).

    Parameters
    ----------
    rate : float
        The rate λ > 0 (events per unit time).
    """

    name: ClassVar[str] = "exponential"
    rate: float

    def __post_init__(self) -> None:
        faults = _Faults()
        rate = faults.number("rate", self.rate)
        faults.raise_if_any()
        _assign(self, rate=rate)
        _check_moments(self)

    @classmethod
    def from_mean(cls, mean: float) -> Self:
        """Make the exponential distribution with the given mean (``rate = 1/mean``).

        Parameters
        ----------
        mean : float
            The mean, > 0.

        Returns
        -------
        Exponential
            The distribution.
        """
        faults = _Faults()
        m = faults.number("mean", mean)
        faults.raise_if_any()
        return cls(rate=1.0 / m)

    @property
    def mean(self) -> float:
        """``1/rate``."""
        return 1.0 / self.rate

    @property
    def var(self) -> float:
        """``1/rate²``."""
        scale = 1.0 / self.rate
        return scale * scale

    @property
    def scv(self) -> float:
        """1."""
        return 1.0

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values (see :meth:`Distribution.draw`)."""
        return rng.exponential(1.0 / self.rate, size)

    def describe(self) -> str:
        """Return e.g. ``"exponential(rate=2)"``."""
        return f"exponential(rate={self.rate:g})"
