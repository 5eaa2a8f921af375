"""A scenario's run settings: horizon, warm-up, replications, seed, precision (layer 2).

:func:`run_settings` reads the file's ``run:`` section, :func:`check_run` checks the
settings taken together, and :func:`checkable_run` keeps the well-formed part of a
section that failed the schema so that its cross-check still runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import ValidationError

from eda_sim.errors import Fault
from eda_sim.scenario import schema
from eda_sim.scenario.messages import describe_value
from eda_sim.scenario.slo import DEFAULT_QUANTILES

if TYPE_CHECKING:
    from eda_sim.scenario.model import ArrivalProcess

__all__ = ["RunSettings", "check_run", "checkable_run", "run_settings", "trace_horizon"]

WarmupSetting = Literal["auto", "none"] | float


@dataclass(frozen=True)
class RunSettings:
    """How a scenario is run (from the file's ``run:`` section, overridable on the command line)."""

    horizon: float = 10_000.0
    warmup: WarmupSetting = "auto"
    replications: int = 10
    seed: int = 1
    confidence: float = 0.95
    precision: float | Literal["slo"] | None = None
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES

    @property
    def warmup_time(self) -> float:
        """The warm-up fixed before the run: a given time, or 0 for ``none`` and ``auto``.

        With ``auto`` measurement starts at 0 and MSER-5 picks the warm-up from
        the sample path after the run.
        """
        if self.warmup in ("none", "auto"):
            return 0.0
        return float(self.warmup)


def trace_horizon(arrivals: Sequence[ArrivalProcess]) -> float | None:
    """The default horizon of a scenario that replays traces: just past the last arrival."""
    ends = [float(process.times[-1]) for process in arrivals if process.times is not None]
    return float(np.nextafter(max(ends), np.inf)) if ends else None


def run_settings(spec: schema.RunSpec, arrivals: Sequence[ArrivalProcess] = ()) -> RunSettings:
    """Run settings from the file's ``run:`` section.

    Without an explicit ``horizon``, a scenario that replays traces runs to the end
    of its longest trace (``arrivals``: every event class's arrival process).
    """
    horizon = spec.horizon
    if "horizon" not in spec.model_fields_set:
        horizon = trace_horizon(arrivals) or horizon
    return RunSettings(
        horizon=horizon,
        warmup=spec.warmup,
        replications=spec.replications,
        seed=spec.seed,
        confidence=spec.confidence,
        precision=spec.precision,
        quantiles=DEFAULT_QUANTILES if spec.quantiles is None else tuple(spec.quantiles),
    )


#: The run settings :func:`check_run` compares.
_CHECKED_RUN_FIELDS = frozenset({"horizon", "warmup"})


def checkable_run(raw: object) -> schema.RunSpec | None:
    """The well-formed part of a ``run:`` section that failed the schema, for :func:`check_run`.

    The settings that failed are left at their defaults, which :func:`check_run`
    does not look at, so its fault (if any) is independent of theirs. When the
    horizon or the warm-up failed, or an unknown field may be one of them misspelt,
    there is nothing to check and the result is None.

    Parameters
    ----------
    raw : object
        The section as written (a mapping of settings).

    Returns
    -------
    RunSpec or None
        The section without its malformed settings, or None.
    """
    if not isinstance(raw, dict):
        return None
    try:
        return schema.RunSpec.model_validate(raw)
    except ValidationError as error:
        locations = [item["loc"] for item in error.errors()]
    if any(len(loc) == 0 for loc in locations):
        return None
    malformed = {loc[0] for loc in locations}
    unknown = malformed - set(schema.RunSpec.model_fields)
    if malformed & _CHECKED_RUN_FIELDS or (unknown and not raw.keys() >= _CHECKED_RUN_FIELDS):
        return None
    try:
        return schema.RunSpec.model_validate(
            {key: value for key, value in raw.items() if key not in malformed}
        )
    except ValidationError:  # pragma: no cover - every malformed field was left out
        return None


def check_run(run: RunSettings) -> list[Fault]:
    """Faults of run settings taken together (the warm-up must end before the horizon)."""
    if run.warmup_time >= run.horizon:
        return [
            Fault(
                "run.warmup",
                f"must be < the horizon ({describe_value(run.horizon)}), "
                f"got {describe_value(run.warmup_time)}",
            )
        ]
    return []
