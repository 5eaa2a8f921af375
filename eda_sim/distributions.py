"""Service-time and inter-arrival distributions (layer 1).

Each family of the scenario files' ``dist:`` keyword is one frozen dataclass
deriving from :class:`Distribution`. An object knows its first two moments
(``mean``, ``var``, ``scv``) exactly, for the queueing formulas, and draws
batches of independent values with one vectorised numpy call, for the
simulation engine (``draw(rng, size)``; ``sample(rng)`` draws one value).

Parameters are checked when an object is made. Every bad value raises a
:class:`~eda_sim.errors.ScenarioError` holding one :class:`~eda_sim.errors.Fault`
per problem; a fault's path is the parameter's name (``"rate"``, ``"cv"``,
``"file"``, ...) and its message the rule and the value, e.g.
``rate: must be > 0, got -1.5``. The scenario layer puts the place in the
document in front of the path. Valid objects store plain Python floats, ints and
tuples, so they are immutable, hashable and compare by value; their mean is a
finite number > 0 and their variance a finite number >= 0.

This module imports only the standard library, numpy, :mod:`eda_sim.errors` and
:mod:`eda_sim.files` (bounded reading of CSV files).
"""

from __future__ import annotations

import math
import numbers
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt

from eda_sim.errors import Fault, ScenarioError
from eda_sim.files import EMPIRICAL_LIMIT, InputFileError, iter_csv_rows

__all__ = [
    "DISTRIBUTIONS",
    "ERLANG_PHASES_TOLERANCE",
    "MAX_CSV_FAULTS",
    "PROBABILITY_SUM_TOLERANCE",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Erlang",
    "Exponential",
    "Gamma",
    "Hyperexponential",
    "Lognormal",
    "Uniform",
]

PROBABILITY_SUM_TOLERANCE = 1e-9
"""How far from 1 the phase probabilities of a hyperexponential may sum."""

ERLANG_PHASES_TOLERANCE = 1e-9
"""Relative distance from an integer that ``1/cv²`` may have in :meth:`Erlang.from_mean_cv`."""

MAX_CSV_FAULTS = 10
"""At most this many bad lines of a CSV file are reported one by one."""

FloatArray = npt.NDArray[np.float64]

_Bound = Literal[">0", ">=0", "any"]


# --------------------------------------------------------------------------- checks


def _show(value: object, limit: int = 60) -> str:
    """Return a short ``repr`` of a user value, numpy scalars shown as Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Faults:
    """Collect the faults found in one set of parameters, then raise them together."""

    __slots__ = ("faults",)

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, path: str, message: str) -> None:
        """Record one fault."""
        self.faults.append(Fault(path, message))

    def number(self, path: str, value: object, bound: _Bound = ">0", label: str = "") -> float:
        """Return ``value`` as a float, recording a fault unless it is finite and in bounds.

        Parameters
        ----------
        path : str
            The parameter's name, the fault's path.
        value : object
            The value given.
        bound : {">0", ">=0", "any"}
            The rule besides being a finite real number.
        label : str
            Put in front of the message, e.g. ``"entry 2 "`` for one entry of a tuple.

        Returns
        -------
        float
            The value as a float, or NaN when it is not a real number.
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            self.add(path, f"{label}must be a number, got {_show(value)}")
            return math.nan
        number = float(value)
        if not math.isfinite(number):
            self.add(path, f"{label}must be a finite number, got {number!r}")
        elif bound == ">0" and number <= 0:
            self.add(path, f"{label}must be > 0, got {_show(value)}")
        elif bound == ">=0" and number < 0:
            self.add(path, f"{label}must be >= 0, got {_show(value)}")
        return number

    def integer(self, path: str, value: object, minimum: int) -> int:
        """Return ``value`` as an int, recording a fault unless it is an integer >= ``minimum``.

        A float with an integral value (``3.0``) is accepted.
        """
        rule = f"must be an integer >= {minimum}, got {_show(value)}"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            self.add(path, rule)
            return minimum
        number = float(value)
        if not math.isfinite(number):
            self.add(path, f"must be a finite number, got {number!r}")
            return minimum
        if not number.is_integer() or number < minimum:
            self.add(path, rule)
            return minimum
        return int(number)

    def numbers(self, path: str, values: object, bound: _Bound) -> tuple[float, ...]:
        """Return ``values`` as a non-empty tuple of floats, recording a fault per bad entry."""
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            self.add(path, f"must be a list of numbers, got {_show(values)}")
            return ()
        items = tuple(values)
        if not items:
            self.add(path, f"must hold at least one number, got {_show(values)}")
        return tuple(self.number(path, item, bound, f"entry {i} ") for i, item in enumerate(items))

    def raise_if_any(self) -> None:
        """Raise one :class:`ScenarioError` with every fault recorded, if there is any."""
        if self.faults:
            raise ScenarioError(self.faults)


def _assign(obj: object, **values: object) -> None:
    """Set fields of a frozen dataclass (for normalising parameters in ``__post_init__``)."""
    for key, value in values.items():
        object.__setattr__(obj, key, value)


def _exp(x: float) -> float:
    """Return ``exp(x)``, or ``inf`` when it overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _expm1(x: float) -> float:
    """Return ``exp(x) - 1``, or ``inf`` when it overflows."""
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def _check_moments(dist: Distribution) -> None:
    """Refuse parameters whose mean or variance does not fit in a float (or mean == 0)."""
    mean, var = dist.mean, dist.var
    if not (math.isfinite(mean) and mean > 0 and math.isfinite(var) and var >= 0):
        raise ScenarioError(
            Fault(
                "",
                f"{dist.describe()} has mean {mean!r} and variance {var!r}; "
                "both must be finite numbers and the mean > 0",
            )
        )


# --------------------------------------------------------------------------- base


class Distribution(ABC):
    """A non-negative random duration: a service time or a gap between arrivals.

    Subclasses are frozen dataclasses; their fields are the parameters.

    Attributes
    ----------
    name : str
        The ``dist:`` keyword of the family in scenario files.
    """

    __slots__ = ()

    name: ClassVar[str]

    @property
    @abstractmethod
    def mean(self) -> float:
        """The expected value, a finite number > 0."""

    @property
    @abstractmethod
    def var(self) -> float:
        """The variance, a finite number >= 0."""

    @property
    def scv(self) -> float:
        """The squared coefficient of variation, ``var / mean**2``."""
        return self.var / (self.mean * self.mean)

    @abstractmethod
    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` independent values in one vectorised call.

        Parameters
        ----------
        rng : numpy.random.Generator
            The random stream to consume.
        size : int
            How many values, >= 0.

        Returns
        -------
        numpy.ndarray
            A float64 array of shape ``(size,)``.
        """

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value (the same stream use as ``draw(rng, 1)``).

        Parameters
        ----------
        rng : numpy.random.Generator
            The random stream to consume.

        Returns
        -------
        float
            One draw.
        """
        return float(self.draw(rng, 1)[0])

    @abstractmethod
    def describe(self) -> str:
        """Return a short human label, e.g. ``"exponential(rate=2)"``."""

    def __str__(self) -> str:
        return self.describe()


# --------------------------------------------------------------------------- families


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
        faults = _Faults()
        m = faults.number("mean", mean)
        c = faults.number("cv", cv)
        faults.raise_if_any()
        phases = 1.0 / (c * c)
        k = round(phases) if math.isfinite(phases) else 0
        if k < 1 or abs(phases - k) > ERLANG_PHASES_TOLERANCE * phases:
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
        faults = _Faults()
        m = faults.number("mean", mean)
        c = faults.number("cv", cv)
        faults.raise_if_any()
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
        faults = _Faults()
        m = faults.number("mean", mean)
        c = faults.number("cv", cv)
        faults.raise_if_any()
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


@dataclass(frozen=True, slots=True)
class Empirical(Distribution):
    """The empirical distribution of observed values: draws resample them with replacement.

    Each value is drawn with probability ``1/n`` (the bootstrap distribution,
    Efron 1979), so the mean is the plain average of the values and the variance
    their population variance ``Σ (x_i - mean)² / n`` (divisor ``n``, not
    ``n - 1``: these are the exact moments of what is drawn).

    Parameters
    ----------
    values : tuple of float
        The observed values: at least one, each finite and >= 0, with mean > 0.
    """

    name: ClassVar[str] = "empirical"
    values: tuple[float, ...]
    # A read-only float64 copy of ``values`` for the hot path; not a parameter, it
    # takes no part in equality, hashing or repr.
    _array: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        faults = _Faults()
        values = faults.numbers("values", self.values, bound=">=0")
        if not faults.faults and math.fsum(values) <= 0:
            faults.add("values", "must have a mean > 0, got all values 0")
        faults.raise_if_any()
        array = np.array(values, dtype=np.float64)
        array.setflags(write=False)
        _assign(self, values=values, _array=array)
        _check_moments(self)

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> Self:
        """Read the values from the first column of a CSV file, one number per row.

        Blank lines are skipped; a first (non-blank) row that is not a number is taken
        as a header. Every fault names the file and has the path ``"file"``, and says
        where and why (line, column, the form expected), never what the file holds.
        The file is streamed (:func:`eda_sim.files.iter_csv_rows`): a regular file of
        at most :data:`~eda_sim.files.EMPIRICAL_LIMIT` bytes.

        Parameters
        ----------
        path : str or os.PathLike
            The CSV file.

        Returns
        -------
        Empirical
            The distribution of the numbers read.

        Raises
        ------
        ScenarioError
            When the file cannot be read, holds no numbers, or a cell is not a
            finite number >= 0 (one fault per bad line, up to
            :data:`MAX_CSV_FAULTS`), or all the numbers are 0.
        """
        where = os.fspath(path)
        values: list[float] = []
        problems: list[str] = []  # the first MAX_CSV_FAULTS + 1; `bad` counts them all
        bad = 0
        first = True
        try:
            for line, row in iter_csv_rows(where, what="file of values", limit=EMPIRICAL_LIMIT):
                cell = row[0].strip() if row else ""
                if not cell and not any(part.strip() for part in row):
                    continue
                # Messages say where and why, never what the file holds.
                try:
                    value = float(cell)
                except ValueError:
                    if not first:
                        bad += 1
                        problems.append(f"line {line}, column 1: not a number")
                    first = False
                    continue
                first = False
                if not math.isfinite(value):
                    bad += 1
                    problems.append(f"line {line}, column 1: not a finite number")
                elif value < 0:
                    bad += 1
                    problems.append(f"line {line}, column 1: a negative number; must be >= 0")
                else:
                    values.append(value)
                del problems[MAX_CSV_FAULTS + 1 :]
        except InputFileError as error:
            raise ScenarioError(Fault("file", f"{where}: {error.reason}")) from None
        if problems:
            faults = [Fault("file", f"{where}, {problem}") for problem in problems]
            if bad > MAX_CSV_FAULTS:
                extra = bad - MAX_CSV_FAULTS
                faults = faults[:MAX_CSV_FAULTS]
                faults.append(Fault("file", f"{where}: and {extra} more bad lines"))
            raise ScenarioError(faults)
        if not values:
            raise ScenarioError(
                Fault("file", f"{where}: no numbers found (the file is empty or only a header)")
            )
        if math.fsum(values) <= 0:
            raise ScenarioError(Fault("file", f"{where}: all values are 0; the mean must be > 0"))
        return cls(values=tuple(values))

    @property
    def mean(self) -> float:
        """``Σ x_i / n``."""
        return math.fsum(self.values) / len(self.values)

    @property
    def var(self) -> float:
        """``Σ (x_i - mean)² / n``."""
        mean = self.mean
        return math.fsum((x - mean) * (x - mean) for x in self.values) / len(self.values)

    @property
    def scv(self) -> float:
        """``Σ (x_i/mean - 1)² / n``, computed on values scaled by the mean."""
        mean = self.mean
        return math.fsum((x / mean - 1.0) * (x / mean - 1.0) for x in self.values) / len(
            self.values
        )

    def draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values uniformly from ``values``, with replacement."""
        return self._array[rng.integers(0, len(self.values), size)]

    def describe(self) -> str:
        """Return e.g. ``"empirical(n=120, mean=0.5)"``."""
        return f"empirical(n={len(self.values)}, mean={self.mean:g})"


DISTRIBUTIONS: Mapping[str, type[Distribution]] = MappingProxyType(
    {
        family.name: family
        for family in (
            Exponential,
            Deterministic,
            Erlang,
            Gamma,
            Lognormal,
            Hyperexponential,
            Uniform,
            Empirical,
        )
    }
)
"""Each family's class by its ``dist:`` keyword in scenario files."""
