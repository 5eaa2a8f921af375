"""Budgets a scenario and its run must fit before anything runs (layer 2).

A well-formed scenario can still ask for more than any machine gives: a rate of
1e300, a million replications of a thousand stations, gaps too small for the
clock to advance. These checks refuse such a run at once, with the estimate in
the message, instead of letting it run out of memory or never end:

* **Upper bounds** where memory or time scale with a number: :data:`MAX_SERVERS`
  and :data:`MAX_CAPACITY` per station, :data:`MAX_REPLICATIONS` (the schema
  enforces them; see :mod:`eda_sim.scenario.schema`).
* **Work per replication** (:func:`expected_visits`): the expected number of
  station visits in one replication, the horizon times the visit rate of every
  station from the traffic equations (fan-out copies and feedback loops
  included; for a replayed trace, its events up to the horizon times the visits
  each makes). Above :data:`DEFAULT_MAX_VISITS` the run is refused; the limit is
  an option (``--max-visits``), so a long run is a decision, not an accident.
* **Memory of the kept results** (:func:`results_memory`): every replication's
  measurements are kept until the end (and, for ``warmup: auto`` and batch means,
  its sample path on a grid of :data:`PATH_INTERVALS` intervals); above
  :data:`MEMORY_LIMIT` bytes the run is refused.
* **A clock that can advance** (:func:`clock_faults`): the mean gap between
  arrivals must be at least :data:`MIN_GAP_STEPS` steps of the floating-point
  clock at the horizon (``numpy.spacing(horizon)``), and the horizon must hold
  its sample-path grid; otherwise simulated time would stand still and the run
  would never end.

Every check returns faults (never raises), so they are reported with the others.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from eda_sim.errors import Fault

if TYPE_CHECKING:
    from eda_sim.scenario.model import Scenario

__all__ = [
    "DEFAULT_MAX_VISITS",
    "MAX_CAPACITY",
    "MAX_CONFIDENCE",
    "MAX_REPLICATIONS",
    "MAX_SERVERS",
    "MEMORY_LIMIT",
    "MIN_GAP_STEPS",
    "PATH_INTERVALS",
    "budget_faults",
    "clock_faults",
    "expected_visits",
    "results_memory",
]

#: Most servers a station may have.
MAX_SERVERS = 1_000_000
#: Largest finite capacity of a station (events present at once).
MAX_CAPACITY = 1_000_000
#: Most replications a run may ask for (also the most ``max_replications`` may allow).
MAX_REPLICATIONS = 1_000_000
#: Highest confidence level: nearer 1, ``(1 + confidence) / 2`` rounds to 1 and every
#: interval is infinite.
MAX_CONFIDENCE = 0.999999
#: Default limit on the expected station visits of one replication.
DEFAULT_MAX_VISITS = 1_000_000_000
#: Most bytes the results kept during a run may take (measurements and sample paths).
MEMORY_LIMIT = 4_000_000_000
#: A mean gap between arrivals must span at least this many clock steps at the horizon.
MIN_GAP_STEPS = 1024
#: Intervals of the sample-path grid every replication keeps (warm-up, batch means).
PATH_INTERVALS = 500

# Bytes kept per scope (a station, a class, the system) of one replication: its
# record (a frozen dataclass of a dozen numbers, about 1.5 kB in CPython with its
# dictionary entries) and, when kept, its path (grid points x 10 float64 fields).
_RECORD_BYTES = 1_500
_PATH_BYTES = (PATH_INTERVALS + 1) * 10 * 8
_REPLICATION_BYTES = 4_000


def _short(value: float) -> str:
    return f"{value:.3g}"


def expected_visits(scenario: Scenario, horizon: float | None = None) -> float:
    """Expected station visits in one replication of ``scenario`` (to ``horizon``).

    The traffic equations give each station's visit rate per class (fan-out
    copies and feedback included); a class replaying a trace contributes its
    events up to the horizon, each making the visits an arrival makes. It is an
    upper bound where stations lose events.
    """
    horizon = scenario.run.horizon if horizon is None else horizon
    rates = np.asarray(scenario.arrival_rates(), dtype=float)
    total = 0.0
    for event_class, row in zip(scenario.classes, rates, strict=True):
        per_time = float(np.sum(row))
        times = event_class.arrivals.times
        if times is None:
            total += per_time * horizon
        else:
            arrivals = int(np.searchsorted(times, horizon, side="right"))
            total += per_time / event_class.arrivals.rate * arrivals
    return total if math.isfinite(total) else math.inf


def results_memory(scenario: Scenario, replications: int, keep_paths: bool) -> float:
    """Bytes the measurements of ``replications`` replications take while a run keeps them."""
    scopes = len(scenario.stations) + len(scenario.classes) + 1
    per_scope = _RECORD_BYTES + (_PATH_BYTES if keep_paths else 0)
    return float(replications) * (_REPLICATION_BYTES + scopes * per_scope)


def _arrival_path(scenario: Scenario, index: int) -> str:
    if scenario.single_class:
        return "arrivals"
    return f"classes.{scenario.classes[index].name}.arrivals"


def clock_faults(scenario: Scenario, horizon: float | None = None) -> list[Fault]:
    """Faults where simulated time could not advance to ``horizon``.

    The clock is a float: near the horizon ``T`` it moves in steps of
    ``numpy.spacing(T)``. A mean gap between arrivals below :data:`MIN_GAP_STEPS`
    such steps, or a horizon too small to hold :data:`PATH_INTERVALS` grid
    intervals, would stop it.
    """
    horizon = scenario.run.horizon if horizon is None else horizon
    step = float(np.spacing(horizon))
    faults: list[Fault] = []
    if not horizon / PATH_INTERVALS >= MIN_GAP_STEPS * step:
        faults.append(
            Fault(
                "run.horizon",
                f"{horizon:.3g} is too small for the clock: its {PATH_INTERVALS} sample-path "
                "intervals cannot be told apart (use a larger time unit)",
            )
        )
        return faults
    for index, event_class in enumerate(scenario.classes):
        gaps = event_class.arrivals.interarrival
        if gaps is None:  # a trace: its times are what they are
            continue
        mean = gaps.mean
        if not mean >= MIN_GAP_STEPS * step:
            faults.append(
                Fault(
                    _arrival_path(scenario, index),
                    f"mean gap {_short(mean)} is below {MIN_GAP_STEPS} clock steps at the "
                    f"horizon {horizon:g} (a step is {_short(step)}): time could not advance; "
                    "use a larger time unit",
                )
            )
    return faults


def budget_faults(
    scenario: Scenario,
    *,
    replications: int,
    keep_paths: bool,
    max_visits: float = DEFAULT_MAX_VISITS,
    horizon: float | None = None,
    where: str = "run.horizon",
) -> list[Fault]:
    """Every budget a run of ``scenario`` breaks: the clock, the work, the memory.

    Parameters
    ----------
    scenario : Scenario
        The scenario, with the run settings it will use.
    replications : int
        The most replications the run may make (the precision cap, if any).
    keep_paths : bool
        True when every replication keeps its sample path (``warmup: auto``).
    max_visits : float
        Limit on the expected visits of one replication.
    horizon : float, optional
        The horizon (default: the scenario's).
    where : str
        Fault path of the work fault.

    Returns
    -------
    list of Fault
        Empty when the run fits.
    """
    if not max_visits > 0:  # NaN, 0 or below: no run fits, whatever its horizon
        return [Fault("max_visits", f"must be a number > 0, got {max_visits:g}")]
    faults = clock_faults(scenario, horizon)
    if faults:  # the work estimate would only repeat it
        return faults
    horizon = scenario.run.horizon if horizon is None else horizon
    visits = expected_visits(scenario, horizon)
    if not visits <= max_visits:
        faults.append(
            Fault(
                where,
                f"about {_short(visits)} station visits per replication (horizon "
                f"{horizon:g} x {_short(visits / horizon)} per time unit), over the limit of "
                f"{_short(max_visits)} (--max-visits raises it)",
            )
        )
    memory = results_memory(scenario, replications, keep_paths)
    if memory > MEMORY_LIMIT:
        paths = " and sample paths (warmup: auto)" if keep_paths else ""
        faults.append(
            Fault(
                "run.replications",
                f"{replications:,} replications of {len(scenario.stations):,} "
                f"station{'' if len(scenario.stations) == 1 else 's'} would "
                f"keep about {_short(memory / 1e9)} GB of measurements{paths}, over the "
                f"limit of {MEMORY_LIMIT / 1e9:g} GB; use fewer replications"
                + (" or a fixed warm-up" if keep_paths else ""),
            )
        )
    return faults
