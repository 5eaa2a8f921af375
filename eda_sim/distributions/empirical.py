"""The empirical distribution of observed values, given inline or read from a CSV file."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import ClassVar, Self

import numpy as np

from eda_sim.distributions.base import (
    MAX_CSV_FAULTS,
    Distribution,
    FloatArray,
    _assign,
    _check_moments,
    _Faults,
)
from eda_sim.errors import Fault, ScenarioError
from eda_sim.files import EMPIRICAL_LIMIT, InputFileError, iter_csv_rows

__all__ = ["Empirical"]


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
