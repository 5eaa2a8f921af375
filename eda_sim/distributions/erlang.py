"""The Erlang distribution: a sum of ``k`` exponential phases (phase-type, SCV 1/k)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from eda_sim.distributions.base import (
    ERLANG_PHASES_TOLERANCE,
    Distribution,
    FloatArray,
    _assign,
    _check_moments,
    _Faults,
    _mean_and_cv,
    _show,
)

__all__ = ["Erlang"]


@dataclass(frozen=True, slots=True)
class Erlang(Distribution):
    """Erlang distribution: the sum of ``k`` independent exponential phases.

    Each phase is exponential with rate ``rate``, so the **per-phase** rate is
    given, not the overall one: the mean is ``k/rate``, the variance ``k/rate²``
    and the scv ``1/k`` (Ross, *Introduction to Probability Models*, 12th ed.,
    §5.2.3; it is the gamma distribution with integer shape ``k``).

    Parameters
    ----------
    k : int
        The number of phases, >= 1.
    rate : float
        The rate of each phase, > 0.
    """

    name: ClassVar[str] = "erlang"
    k: int
    rate: float

    def __post_init__(self) -> None:
        faults = _Faults()
        k = faults.integer("k", self.k, minimum=1)
        rate = faults.number("rate", self.rate)
        faults.raise_if_any()
        _assign(self, k=k, rate=rate)
        _check_moments(self)

    @classmethod
    def from_mean(cls, k: int, mean: float) -> Self:
        """Make the ``k``-phase Erlang distribution with the given mean (``rate = k/mean``).

        Parameters
        ----------
        k : int
            The number of phases, >= 1.
        mean : float
            The overall mean, > 0.

        Returns
        -------
        Erlang
            The distribution.
        """
        faults = _Faults()
        phases = faults.integer("k", k, minimum=1)
        m = faults.number("mean", mean)
        faults.raise_if_any()
        return cls(k=phases, rate=phases / m)

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> Self:
        """Make the Erlang distribution with the given mean and coefficient of variation.

        An Erlang's scv is ``1/k``, so ``k = 1/cv²`` must be an integer >= 1 (within
        a relative :data:`ERLANG_PHASES_TOLERANCE`).

        Parameters
        ----------
        mean : float
            The mean, > 0.
        cv : float
            The coefficient of variation, ``1/sqrt(k)`` for an integer ``k >= 1``.

        Returns
        -------
        Erlang
            The distribution.
        """
        m, c = _mean_and_cv(mean, cv)
        phases = 1.0 / (c * c)
        k = round(phases) if math.isfinite(phases) else 0
        if k < 1 or abs(phases - k) > ERLANG_PHASES_TOLERANCE * phases:
            faults = _Faults()
            faults.add(
                "cv",
                f"Erlang needs cv = 1/sqrt(k) for an integer k >= 1, got cv={_show(cv)} "
                f"(1/cv² = {phases:.6g})",
            )
            faults.raise_if_any()
        return cls(k=k, rate=k / m)

    @property
    def mean(self) -> float:
        """``k/rate``."""
        return self.k / self.rate

    @property
    def var(self) -> float:
        """``k/rate²``."""
        scale = 1.0 / self.rate
        return self.k * scale * scale

    @property
    def scv(self) -> float:
        """``1/k``."""
        return 1.0 / self.k

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values (see :meth:`Distribution.draw`)."""
        return rng.gamma(float(self.k), 1.0 / self.rate, size)

    def describe(self) -> str:
        """Return e.g. ``"erlang(k=3, rate=2)"``."""
        return f"erlang(k={self.k}, rate={self.rate:g})"
