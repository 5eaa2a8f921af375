"""The gamma distribution, by shape and rate, mean, or mean and coefficient of variation."""

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
    _mean_and_cv,
)

__all__ = ["Gamma"]


@dataclass(frozen=True, slots=True)
class Gamma(Distribution):
    """Gamma distribution, density ``rate**shape x**(shape-1) exp(-rate x) / Γ(shape)``.

    Mean ``shape/rate``, variance ``shape/rate²``, scv ``1/shape`` (Johnson, Kotz &
    Balakrishnan, *Continuous Univariate Distributions*, vol. 1, 2nd ed., ch. 17).

    Parameters
    ----------
    shape : float
        The shape α > 0.
    rate : float
        The rate β > 0 (the inverse of numpy's and scipy's ``scale``).
    """

    name: ClassVar[str] = "gamma"
    shape: float
    rate: float

    def __post_init__(self) -> None:
        faults = _Faults()
        shape = faults.number("shape", self.shape)
        rate = faults.number("rate", self.rate)
        faults.raise_if_any()
        _assign(self, shape=shape, rate=rate)
        _check_moments(self)

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> Self:
        """Make the gamma distribution with the given mean and coefficient of variation.

        ``shape = 1/cv²`` and ``rate = shape/mean``, from the moments above.

        Parameters
        ----------
        mean : float
            The mean, > 0.
        cv : float
            The coefficient of variation, > 0.

        Returns
        -------
        Gamma
            The distribution.
        """
        m, c = _mean_and_cv(mean, cv)
        shape = 1.0 / (c * c)
        return cls(shape=shape, rate=shape / m)

    @property
    def mean(self) -> float:
        """``shape/rate``."""
        return self.shape / self.rate

    @property
    def var(self) -> float:
        """``shape/rate²``."""
        scale = 1.0 / self.rate
        return self.shape * scale * scale

    @property
    def scv(self) -> float:
        """``1/shape``."""
        return 1.0 / self.shape

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values (see :meth:`Distribution.draw`)."""
        return rng.gamma(self.shape, 1.0 / self.rate, size)

    def describe(self) -> str:
        """Return e.g. ``"gamma(shape=2, rate=1.5)"``."""
        return f"gamma(shape={self.shape:g}, rate={self.rate:g})"
