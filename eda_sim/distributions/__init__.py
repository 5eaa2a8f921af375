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

One module per family (:mod:`~eda_sim.distributions.exponential`, ...), the base
class and the parameter checks in :mod:`~eda_sim.distributions.base`. The package
imports only the standard library, numpy, :mod:`eda_sim.errors` and
:mod:`eda_sim.files` (bounded reading of CSV files).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from eda_sim.distributions.base import (
    ERLANG_PHASES_TOLERANCE,
    MAX_CSV_FAULTS,
    PROBABILITY_SUM_TOLERANCE,
    Distribution,
)
from eda_sim.distributions.deterministic import Deterministic
from eda_sim.distributions.empirical import Empirical
from eda_sim.distributions.erlang import Erlang
from eda_sim.distributions.exponential import Exponential
from eda_sim.distributions.gamma import Gamma
from eda_sim.distributions.hyperexponential import Hyperexponential
from eda_sim.distributions.lognormal import Lognormal
from eda_sim.distributions.uniform import Uniform

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
