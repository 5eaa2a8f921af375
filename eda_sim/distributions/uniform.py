"""The continuous uniform distribution on ``[low, high]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from eda_sim.distributions.base import (
    Distribution,
    FloatArray,
    _assign,
    _check_moments,
    _Faults,
    _show,
)

__all__ = ["Uniform"]


@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    """Continuous uniform distribution on ``[low, high]``.

    Mean ``(low + high)/2``, variance ``(high - low)²/12``, so scv
    ``(high - low)² / (3 (high + low)²)`` (Johnson, Kotz & Balakrishnan,
    *Continuous Univariate Distributions*, vol. 2, 2nd ed., ch. 26).

    Parameters
    ----------
    low : float
        The lower end, >= 0.
    high : float
        The upper end, > ``low``.
    """

    name: ClassVar[str] = "uniform"
    low: float
    high: float

    def __post_init__(self) -> None:
        faults = _Faults()
        low = faults.number("low", self.low, bound=">=0")
        high = faults.number("high", self.high, bound="any")
        if not faults.faults and high <= low:
            faults.add("high", f"must be > low ({low!r}), got {_show(self.high)}")
        faults.raise_if_any()
        _assign(self, low=low, high=high)
        _check_moments(self)

    @property
    def mean(self) -> float:
        """``(low + high)/2``."""
        return 0.5 * self.low + 0.5 * self.high

    @property
    def var(self) -> float:
        """``(high - low)²/12``."""
        width = self.high - self.low
        return width * width / 12.0

    @property
    def scv(self) -> float:
        """``(high - low)² / (3 (high + low)²)``."""
        ratio = (self.high - self.low) / (self.high + self.low)
        return ratio * ratio / 3.0

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values (see :meth:`Distribution.draw`)."""
        return rng.uniform(self.low, self.high, size)

    def describe(self) -> str:
        """Return e.g. ``"uniform(low=0, high=2)"``."""
        return f"uniform(low={self.low:g}, high={self.high:g})"
