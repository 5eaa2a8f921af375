"""Errors and warnings of eda-sim (layer 0: imports only :mod:`eda_sim.text`).

Every fault in user input is a :class:`ScenarioError`, which is also a
:class:`ValueError`. It carries one :class:`Fault` per problem found, each naming
the place (a dotted path into the scenario document, or a command-line option),
the offending value and the rule it breaks, so that independent faults in one
file are reported together, one line each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eda_sim.text import escape_controls

__all__ = [
    "EdaSimError",
    "EdaSimWarning",
    "Fault",
    "ScenarioError",
    "UnstableError",
]


class EdaSimError(Exception):
    """Base class of every error eda-sim raises on purpose."""


class EdaSimWarning(UserWarning):
    """Something worth knowing about a run that does not stop it."""


@dataclass(frozen=True)
class Fault:
    """One problem in user input.

    Parameters
    ----------
    path : str
        Where the problem is: a dotted path into the scenario document
        (``"stations.store.service.cv"``), an option (``"--horizon"``), or ``""``
        for the document as a whole.
    message : str
        The rule and the offending value, e.g. ``"must be > 0, got -1.5"``.
    """

    path: str
    message: str

    def __post_init__(self) -> None:
        # One fault is one line, and the user's names and values in it cannot drive a
        # terminal: line breaks and every other control character are shown escaped.
        object.__setattr__(self, "path", escape_controls(self.path))
        object.__setattr__(self, "message", escape_controls(self.message))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def prefixed(self, prefix: str) -> Fault:
        """Return the same fault with ``prefix`` put in front of its path."""
        if not prefix:
            return self
        return Fault(f"{prefix}.{self.path}" if self.path else prefix, self.message)


class ScenarioError(EdaSimError, ValueError):
    """Invalid user input: a scenario, a distribution, an option.

    Parameters
    ----------
    faults : str, Fault or sequence of Fault
        The problems found; a plain string is one fault with no path.

    Examples
    --------
    >>> err = ScenarioError([Fault("run.horizon", "must be > 0, got -1")])
    >>> str(err)
    'run.horizon: must be > 0, got -1'
    """

    def __init__(self, faults: str | Fault | Sequence[Fault]) -> None:
        if isinstance(faults, str):
            faults = [Fault("", faults)]
        elif isinstance(faults, Fault):
            faults = [faults]
        self.faults: tuple[Fault, ...] = tuple(faults)
        if not self.faults:
            raise ValueError("ScenarioError needs at least one fault")
        super().__init__("\n".join(str(fault) for fault in self.faults))

    def prefixed(self, prefix: str) -> ScenarioError:
        """Return a copy whose fault paths all start with ``prefix``."""
        return type(self)([fault.prefixed(prefix) for fault in self.faults])

    @classmethod
    def collect(cls, errors: Iterable[ScenarioError]) -> ScenarioError | None:
        """Merge several errors into one, or return None when there are none."""
        faults = [fault for error in errors for fault in error.faults]
        return cls(faults) if faults else None


class UnstableError(ScenarioError):
    """A station without a capacity limit is offered a load ρ >= 1."""
