"""Honest notes about a run's own reliability: too short for its load, sequential stopping.

Three things make the 95% intervals of a queue near saturation cover the steady
state less often than 95% (measured in ``tests/test_coverage.py``; docs "Output
analysis"), and this module says so in the result's notes:

* **Start-up bias.** Every replication starts empty, and its time average over
  a measured length ``T`` is low by about ``D / T`` (``D``: the start-up deficit
  of :mod:`eda_sim.theory.run_length`), while the standard error of the mean of
  ``n`` replications is ``√(c₂ / (n T))``.
* **Skewed replication means.** Long busy periods make each replication mean
  skewed to the right, skewness ``γ = c₃ / (c₂^{3/2} √T)``. The Student-t
  interval then misses mostly on one side (its upper end falls below the true
  value) and, to order ``1/n``, covers less than its level by
  ``(2/n) φ(z) z γ² (z⁴ + 2z² − 3) / 18`` (the Edgeworth expansion of the
  Studentized mean: Hall, *The Bootstrap and Edgeworth Expansion*, 1992, §2.6;
  the kurtosis term, of opposite sign and a tenth the size, is left out, which
  errs on the long side).
* **A data-driven warm-up.** MSER-5 cuts the start of the run where the
  replications' average path happens to be high, which such skewed, slowly
  mixing output often is: the estimate is biased low. (Measured on the same
  sample paths: ρ = 0.95, horizon 690,000, MSER-5 covered 184/200 and no cut
  187/200, mean W −0.29% against −0.18%.)

:func:`needed_length` is the length after the warm-up at which the start-up bias,
with no credit for the warm-up, is at most :data:`BIAS_SHARE` standard errors and
the skew costs at most :data:`SKEW_SHORTFALL` of coverage; :func:`run_length_note`
applies it to the station that needs the longest run (an M/M/c station exactly;
others through the heavy-traffic scaling of every constant by the variability
factor ``v = (ca² + cs²) / 2``: time by ``v``, the number present by ``v``:
Whitt 1989) and, when the run is shorter, says so in one line with the horizon
to use and a fixed warm-up in place of the data-driven one.

* **Sequential stopping.** ``--precision`` adds replications until the interval is
  narrow enough; stopping when it first looks narrow favours samples whose
  spread happens to be small, so such intervals cover a little less than their
  level, the more so the fewer replications the first check sees (Law & Kelton,
  *Simulation Modeling and Analysis*, 5th ed., §9.4.1; Nadas 1969).
  With positively skewed replication means a small spread comes with a low
  mean, so the early stops miss *below*. :func:`precision_start` makes the first
  check see at least ``PRECISION_MIN_REPLICATIONS`` = 30 replications, and
  :func:`precision_note` says what the stopping rule does. The 30 was measured:
  M/M/1 at ρ = 0.8, horizon 10,000, target 0.05 (about 30 replications needed),
  1,000 experiments each with a Lindley-recursion emulation of the rounds and a
  fixed warm-up: a fixed 30 replications covered 94.3%, the rounds from 10
  replications 91.6%, from 20 92.9%, from 30 93.9%; and in eda-sim itself
  (``tests/test_coverage.py``, 200 experiments) the rounds from 10 covered 182/200,
  17 of the 18 misses below.

Sources: P. M. Morse, "Stochastic properties of waiting lines", *Operations
Research* 3 (1955) 255-261 (the relaxation time ``τ`` quoted in the note);
W. Whitt, "Planning queueing simulations", *Management Science* 35 (1989)
1341-1366; P. Hall, *The Bootstrap and Edgeworth Expansion*, Springer 1992.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from eda_sim.results import RunResult
from eda_sim.scenario import Scenario
from eda_sim.theory.run_length import RunLengthConstants, mmc_run_length_constants

__all__ = [
    "BIAS_SHARE",
    "CANDIDATES",
    "PRECISION_MIN_REPLICATIONS",
    "SKEW_SHORTFALL",
    "WARMUP_ALLOWANCE",
    "LoadNeeds",
    "busiest",
    "needed_length",
    "precision_note",
    "precision_start",
    "relaxation_time",
    "run_length_note",
    "run_notes",
    "skew_shortfall",
]

#: Largest start-up bias allowed (no credit for the warm-up), in standard errors of the mean.
BIAS_SHARE = 0.2
#: Largest loss of coverage allowed from the skew of replication means (Edgeworth, order 1/n).
SKEW_SHORTFALL = 0.01
#: Share of the needed length suggested as a fixed warm-up (added to the horizon).
WARMUP_ALLOWANCE = 0.1
#: The fewest replications a precision target is first checked on (measured: see above).
PRECISION_MIN_REPLICATIONS = 30


def relaxation_time(
    arrival_rate: float, service_mean: float, servers: int, variability: float
) -> float:
    """``τ ≈ ((ca² + cs²) / 2) / (√(c μ) - √λ)²`` of a station without a capacity (Morse 1955)."""
    capacity_rate = servers / service_mean
    if arrival_rate <= 0.0 or arrival_rate >= capacity_rate:
        return math.inf if arrival_rate > 0 else 0.0
    return variability / (math.sqrt(capacity_rate) - math.sqrt(arrival_rate)) ** 2


def _normal_quantile(confidence: float) -> tuple[float, float]:
    """``z`` of a two-sided ``confidence`` interval and the normal density ``φ(z)``."""
    from scipy.special import ndtri  # what scipy.stats.norm.ppf calls, without scipy.stats

    z = float(ndtri((1 + confidence) / 2))
    return z, math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def skew_shortfall(skewness: float, samples: int, confidence: float) -> float:
    """Coverage the Student-t interval loses to ``samples`` means of this skewness (order 1/n)."""
    z, density = _normal_quantile(confidence)
    return 2 / samples * density * z * skewness**2 * (z**4 + 2 * z**2 - 3) / 18


def needed_length(
    constants: RunLengthConstants, samples: int, confidence: float, batches: int = 1
) -> float:
    """Length after the warm-up per replication that keeps both coverage losses in bounds.

    ``samples`` replications, each measured over the returned length, have a
    start-up bias of at most :data:`BIAS_SHARE` standard errors of their mean
    (``n D² / (β² c₂)``) and lose at most :data:`SKEW_SHORTFALL` of coverage to
    skew (``K c₃² / (n c₂³ δ)``). For batch means (``samples = 1``, ``batches``
    batches of one run) the length is the run's: the skew of ``b`` batches of
    length ``T / b`` costs what ``b`` replications of that length would.
    """
    bias = samples * constants.start_deficit**2 / (BIAS_SHARE**2 * constants.variance_rate)
    # the shortfall at length T is skew_shortfall(1, n) · c₃² / (c₂³ T): solve for T
    spread = constants.third_cumulant_rate**2 / constants.variance_rate**3
    skew = skew_shortfall(1.0, samples * batches, confidence) * batches * spread / SKEW_SHORTFALL
    return max(bias, skew)


@dataclass(frozen=True)
class LoadNeeds:
    """What the station that needs the longest run needs (see :func:`busiest`)."""

    station: str
    rho: float
    """Its carried load."""
    tau: float
    """Its relaxation time (Morse 1955 × the variability factor)."""
    constants: RunLengthConstants
    """Its run-length constants, scaled by the variability factor."""


def _scaled(constants: RunLengthConstants, variability: float) -> RunLengthConstants:
    """Heavy-traffic scaling: time by ``v``, the number present by ``v`` (Whitt 1989)."""
    v = variability
    return RunLengthConstants(
        mean=constants.mean * v,
        start_deficit=constants.start_deficit * v**2,
        variance_rate=constants.variance_rate * v**3,
        third_cumulant_rate=constants.third_cumulant_rate * v**5,
    )


#: Stations (those with the longest relaxation times) whose exact constants are solved.
CANDIDATES = 8


def busiest(scenario: Scenario, samples: int, confidence: float) -> LoadNeeds | None:
    """The unlimited station that needs the longest run, or None when none is loaded.

    The needed length grows with the relaxation time ``τ``; the exact constants
    are solved for the :data:`CANDIDATES` stations with the longest ``τ`` only, so
    that a network of thousands of stations pays for a few.
    """
    rates = scenario.carried_rates()
    loads = scenario.carried_load()
    gaps = max(
        (c.arrivals.scv for c in scenario.classes if c.arrivals.kind != "trace"), default=1.0
    )
    candidates: list[tuple[float, int, float, float, float]] = []
    for j, station in enumerate(scenario.stations):
        total = float(rates[:, j].sum())
        if station.capacity is not None or total <= 0 or loads[j] >= 1:
            continue
        weights = rates[:, j] / total
        mean = math.fsum(
            w * c.service[j].mean for w, c in zip(weights, scenario.classes, strict=True)
        )
        second = math.fsum(
            w * c.service[j].mean ** 2 * (1 + c.service[j].scv)
            for w, c in zip(weights, scenario.classes, strict=True)
        )
        variability = (max(gaps, 1.0) + second / mean**2 - 1) / 2
        tau = relaxation_time(total, mean, station.servers, variability)
        candidates.append((tau, j, total, mean, variability))
    worst: tuple[float, LoadNeeds] | None = None
    for tau, j, total, mean, variability in sorted(candidates, reverse=True)[:CANDIDATES]:
        station = scenario.stations[j]
        exact = mmc_run_length_constants(total, 1 / mean, station.servers)
        needs = LoadNeeds(station.name, float(loads[j]), tau, _scaled(exact, variability))
        length = needed_length(needs.constants, samples, confidence)
        if not math.isfinite(length):  # an advisory note must never cost the run
            continue
        if worst is None or length > worst[0]:
            worst = (length, needs)
    return None if worst is None else worst[1]


def run_length_note(
    scenario: Scenario,
    horizon: float,
    warmup: float,
    replications: int,
    confidence: float = 0.95,
    batches: int = 1,
) -> str | None:
    """One line when the run is too short for its load, with the horizon to use; else None.

    ``replications`` is 1 for batch means (with ``batches`` batches of the one run).
    """
    if scenario.has_trace:
        return None
    needs = busiest(scenario, replications, confidence)
    if needs is None:
        return None
    needed = needed_length(needs.constants, replications, confidence, batches)
    measured = horizon - warmup
    if measured >= needed:
        return None
    constants, samples = needs.constants, replications * batches
    length = max(measured, 1e-9) / batches
    skewness = constants.skewness(length)
    bias = (constants.start_deficit / max(measured, 1e-9)) / math.sqrt(
        constants.variance_rate / (replications * max(measured, 1e-9))
    )
    shortfall = skew_shortfall(skewness, samples, confidence)
    fixed = _round_up(max(warmup, WARMUP_ALLOWANCE * needed))
    suggested = _round_up(fixed + needed)
    what = "batch" if batches > 1 else "replication"
    # the order-1/n expansion is only a guide beyond a few percent
    cost = f"about {shortfall:.1%}" if shortfall < 0.05 else "several percent"
    return (
        f"run too short for its load: {needs.station} (ρ = {needs.rho:.3g}, relaxation time "
        f"τ = {needs.tau:.3g}); {what} means over {length:.4g} time units after the warm-up "
        f"are skewed (skewness {skewness:.2g}) and start-up-biased (up to {bias:.2g} standard "
        f"errors), so {confidence:.0%} intervals cover the steady state less often than "
        f"stated (the skew alone costs {cost}) and miss mostly below; use a horizon of at "
        f"least {suggested:.0f} with a fixed warm-up of {fixed:.0f} (--warmup {fixed:.0f}: "
        "MSER-5's data-driven cut biases such runs low)"
    )


def _round_up(value: float) -> float:
    """``value`` rounded up to two significant digits."""
    if not value > 0 or not math.isfinite(value):
        return 0.0
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
    replications, batches = result.replications, 1
    if result.ci_method == "batch-means":
        samples = [m["W"].n for m in result.stations.values() if "W" in m]
        replications, batches = 1, max(samples, default=1)
    note = run_length_note(
        scenario, result.horizon, result.warmup, replications, result.confidence, batches
    )
    if note is not None:
        notes.append(note)
    if target is not None:
        notes.append(precision_note(target, result.replications))
    return notes
