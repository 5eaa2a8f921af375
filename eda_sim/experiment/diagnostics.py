"""Honest notes about a run's own reliability: too short for its load, sequential stopping.

Two things make confidence intervals cover the steady-state value less often than
they claim, and this module says so in the result's notes:

* **A run too short for its load.** A queue near saturation forgets its empty
  start slowly: the relaxation time of the number present at an M/M/c station is
  ``τ = 1 / (√(cμ) - √λ)²`` (Morse 1955; for M/M/1 ``1 / (μ (1 - √ρ)²)``), and in
  heavy traffic it scales with the variability ``(ca² + cs²) / 2`` (Whitt 1989).
  Replications that are short against ``τ`` have skewed means (long busy periods)
  and what is left of the start-up after the warm-up biases them all the same
  way, while the interval shrinks like ``1 / √(replications × length)``: both make
  the intervals cover less than their level. :func:`run_length_note` compares the
  part of the horizon after the warm-up with
  ``RELAXATIONS × τ × max(1, replications / 10)`` for the busiest station without
  a capacity and, when it is shorter, says so in one line with the horizon to use.
  The constant was measured (``tests/test_coverage.py``, slow; docs "Theory"):
  95% intervals of W at an M/M/1, 10 replications, ``warmup: auto``, 200
  experiments each, covered the exact value in 190/200 at ρ = 0.8 with the
  suggested horizon (40,000) and in 184/200 at ρ = 0.95 (horizon 690,000, about
  440 τ) — short of the 93-97% asked for at ρ = 0.95. With ``RELAXATIONS = 100``
  ρ = 0.95 gave 181/200 (horizon 160,000). In 100-experiment probes at that
  horizon the mean W was low by 0.9% ± 0.35% with ``warmup: auto`` and by
  0.4% ± 0.4% with a fixed warm-up of 10 τ, both covering 89/100: the shortfall
  is mostly the skew of the replication means, which a longer horizon reduces
  only slowly.
* **Sequential stopping.** ``--precision`` adds replications until the interval is
  narrow enough; stopping when it first looks narrow favours samples whose
  spread happens to be small, so such intervals cover a little less than their
  level, the more so the fewer replications the first check sees (Law & Kelton,
  *Simulation Modeling and Analysis*, 5th ed., §9.4.1; Nadas 1969).
  :func:`precision_start` makes the first check see at least
  ``PRECISION_MIN_REPLICATIONS`` replications, and :func:`precision_note` says
  what the stopping rule does.

Sources: P. M. Morse, "Stochastic properties of waiting lines", *Operations
Research* 3 (1955) 255-261; W. Whitt, "Planning queueing simulations",
*Management Science* 35 (1989) 1341-1366.
"""

from __future__ import annotations

import math

from eda_sim.results import RunResult
from eda_sim.scenario import Scenario

__all__ = [
    "PRECISION_MIN_REPLICATIONS",
    "RELAXATIONS",
    "WARMUP_ALLOWANCE",
    "precision_note",
    "precision_start",
    "relaxation_time",
    "run_length_note",
    "run_notes",
]

#: Relaxation times a replication needs after its warm-up (for 10 replications).
RELAXATIONS = 400.0
#: Share of the needed length added to a suggested horizon for the warm-up to cut.
WARMUP_ALLOWANCE = 0.1
#: The fewest replications a precision target is first checked on.
PRECISION_MIN_REPLICATIONS = 10


def relaxation_time(
    arrival_rate: float, service_mean: float, servers: int, variability: float
) -> float:
    """``τ ≈ ((ca² + cs²) / 2) / (√(c μ) - √λ)²`` of a station without a capacity."""
    capacity_rate = servers / service_mean
    if arrival_rate <= 0.0 or arrival_rate >= capacity_rate:
        return math.inf if arrival_rate > 0 else 0.0
    return variability / (math.sqrt(capacity_rate) - math.sqrt(arrival_rate)) ** 2


def _busiest(scenario: Scenario) -> tuple[str, float, float] | None:
    """(name, carried ρ, τ) of the unlimited station that relaxes slowest."""
    rates = scenario.carried_rates()
    loads = scenario.carried_load()
    worst: tuple[str, float, float] | None = None
    for j, station in enumerate(scenario.stations):
        total = float(rates[:, j].sum())
        if station.capacity is not None or total <= 0:
            continue
        weights = rates[:, j] / total
        mean = math.fsum(
            w * c.service[j].mean for w, c in zip(weights, scenario.classes, strict=True)
        )
        second = math.fsum(
            w * c.service[j].mean ** 2 * (1 + c.service[j].scv)
            for w, c in zip(weights, scenario.classes, strict=True)
        )
        scv = second / mean**2 - 1
        gaps = max(
            (c.arrivals.scv for c in scenario.classes if c.arrivals.kind != "trace"), default=1.0
        )
        tau = relaxation_time(total, mean, station.servers, (max(gaps, 1.0) + scv) / 2)
        if worst is None or tau > worst[2]:
            worst = (station.name, float(loads[j]), tau)
    return worst


def run_length_note(
    scenario: Scenario, horizon: float, warmup: float, replications: int
) -> str | None:
    """One line when the run is too short for its load, with the horizon to use; else None."""
    if scenario.has_trace:
        return None
    busiest = _busiest(scenario)
    if busiest is None:
        return None
    name, rho, tau = busiest
    if not math.isfinite(tau) or tau <= 0:
        return None
    needed = RELAXATIONS * tau * max(1.0, replications / 10.0)
    measured = horizon - warmup
    if measured >= needed:
        return None
    # MSER-5 chooses its cut from the data: leave it a tenth of the length to cut again.
    suggested = _round_up(max(warmup, WARMUP_ALLOWANCE * needed) + needed)
    return (
        f"run too short for its load: {name} (ρ = {rho:.3g}) relaxes in about τ = {tau:.3g} "
        f"time units, and {measured:.4g} after the warm-up is {measured / tau:.3g} τ; "
        "replications this short have skewed, start-up-biased means and the intervals may "
        f"miss the steady state more often than stated; use a horizon of at least {suggested:g}"
    )


def _round_up(value: float) -> float:
    """``value`` rounded up to two significant digits."""
    scale = 10 ** math.floor(math.log10(value)) / 10
    return float(math.ceil(value / scale) * scale)


def precision_start(replications: int, target: float | str | None) -> int:
    """Replications of the first round: at least ``PRECISION_MIN_REPLICATIONS`` with a target."""
    if target is None:
        return replications
    return max(replications, PRECISION_MIN_REPLICATIONS)


def precision_note(target: float | str, replications: int) -> str:
    """What stopping at a precision target (or when every SLO is decided) does."""
    rule = (
        "until every SLO was decided"
        if isinstance(target, str)
        else f"until the relative half-widths met the target {target:g}"
    )
    return (
        f"precision: replications were added {rule} ({replications} in the end, at least "
        f"{PRECISION_MIN_REPLICATIONS} before the first check); stopping when an interval "
        "first looks narrow makes it cover slightly less than its level "
        "(sequential-stopping bias)"
    )


def run_notes(scenario: Scenario, result: RunResult, target: float | str | None) -> list[str]:
    """The notes this module adds to a finished run (see the module's description)."""
    notes = []
    replications = 1 if result.ci_method == "batch-means" else result.replications
    note = run_length_note(scenario, result.horizon, result.warmup, replications)
    if note is not None:
        notes.append(note)
    if target is not None:
        notes.append(precision_note(target, result.replications))
    return notes
