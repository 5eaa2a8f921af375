"""What every distribution family shares: the base class, parameter checks, safe exponentials."""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt

from eda_sim.errors import Fault, ScenarioError

__all__ = [
    "ERLANG_PHASES_TOLERANCE",
    "MAX_CSV_FAULTS",
    "PROBABILITY_SUM_TOLERANCE",
    "Distribution",
    "FloatArray",
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


def _mean_and_cv(mean: object, cv: object) -> tuple[float, float]:
    """The ``mean`` and ``cv`` of a ``from_mean_cv``, checked (both finite and > 0) together.

    Raises
    ------
    ScenarioError
        With a fault at ``mean`` and one at ``cv`` for each that is not.
    """
    faults = _Faults()
    m = faults.number("mean", mean)
    c = faults.number("cv", cv)
    faults.raise_if_any()
    return m, c


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
