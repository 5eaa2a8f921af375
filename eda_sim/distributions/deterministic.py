"""The deterministic distribution: every value the same."""

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
)

__all__ = ["Deterministic"]


@dataclass(frozen=True, slots=True)
class Deterministic(Distribution):
    """A constant: every draw equals ``value``; mean ``value``, variance 0.

    Parameters
    ----------
    value : float
        The constant, > 0.
    """

    name: ClassVar[str] = "deterministic"
    value: float

    def __post_init__(self) -> None:
        faults = _Faults()
        value = faults.number("value", self.value)
        faults.raise_if_any()
        _assign(self, value=value)
        _check_moments(self)

    @property
    def mean(self) -> float:
        """``value``."""
        return self.value

    @property
    def var(self) -> float:
        """0."""
        return 0.0

    @property
    def scv(self) -> float:
        """0."""
        return 0.0

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Return ``size`` copies of ``value`` (``rng`` is not used)."""
        return np.full(size, self.value, dtype=np.float64)

    def describe(self) -> str:
        """Return e.g. ``"deterministic(value=1.5)"``."""
        return f"deterministic(value={self.value:g})"
