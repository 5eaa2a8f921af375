"""Issue 12, finding 7: a run too short for its load and sequential stopping say so.

The relaxation times are checked against Morse's closed form computed here, the
needed length against the two bounds it is defined by (start-up bias and the
Edgeworth coverage loss, recomputed here from M/M/1's closed forms), and the
notes on real runs (SimPy engine, short, seeded). The coverage these notes
protect is measured in tests/test_coverage.py (slow).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from eda_sim.experiment import run
from eda_sim.experiment.diagnostics import (
    BIAS_SHARE,
    PRECISION_MIN_REPLICATIONS,
    SKEW_SHORTFALL,
    busiest,
    needed_length,
    precision_start,
    relaxation_time,
    run_length_note,
    skew_shortfall,
)
from eda_sim.scenario import scenario_from_dict


def mm1_document(rho: float, **station: Any) -> dict[str, Any]:
    return {
        "stations": {"handler": {"service": {"dist": "exponential", "rate": 1.0}, **station}},
        "arrivals": {"process": "poisson", "rate": rho},
    }


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.95, 0.99])
def test_mm1_relaxation_time_is_morses(rho: float) -> None:
    """M/M/1: τ = 1 / (μ (1 - √ρ)²) (Morse 1955), here with μ = 1."""
    assert relaxation_time(rho, 1.0, 1, 1.0) == pytest.approx(
        1 / (1 - math.sqrt(rho)) ** 2, rel=1e-12
    )


def test_mmc_relaxation_time_and_saturation() -> None:
    """M/M/c: τ = 1 / (√(cμ) - √λ)²; infinite at or above saturation, 0 with no arrivals."""
    assert relaxation_time(2.5, 1.0, 3, 1.0) == pytest.approx(
        1 / (math.sqrt(3.0) - math.sqrt(2.5)) ** 2, rel=1e-12
    )
    assert relaxation_time(3.0, 1.0, 3, 1.0) == math.inf
    assert relaxation_time(0.0, 1.0, 3, 1.0) == 0.0
    # variability scales it: deterministic service halves (1 + 0) / 2 the M/M/1 value
    assert relaxation_time(0.9, 1.0, 1, 0.5) == pytest.approx(
        0.5 * relaxation_time(0.9, 1.0, 1, 1.0), rel=1e-12
    )


def suggested(note: str) -> tuple[float, float]:
    """The horizon and the fixed warm-up a run-length note suggests."""
    found = re.search(r"horizon of at least ([0-9.e+]+) with a fixed warm-up of ([0-9.e+]+)", note)
    assert found is not None, note
    return float(found.group(1)), float(found.group(2))


def test_the_edgeworth_shortfall_is_halls_skew_term() -> None:
    """``(2/n) φ(z) z γ² (z⁴ + 2z² − 3) / 18`` at z = 1.959964 (95%), γ = 1, n = 10."""
    z = 1.959963984540054
    phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    assert skew_shortfall(1.0, 10, 0.95) == pytest.approx(
        0.2 * phi * z * (z**4 + 2 * z**2 - 3) / 18, rel=1e-12
    )
    assert skew_shortfall(0.5, 10, 0.95) == pytest.approx(skew_shortfall(1.0, 40, 0.95))


@pytest.mark.parametrize("replications", [2, 10, 40])
def test_the_needed_length_meets_both_bounds_and_one_exactly(replications: int) -> None:
    """M/M/1, ρ = 0.9: D = ρ/(1-ρ)³, c₂ = 2ρ(1+ρ)/(1-ρ)⁴ (closed forms), c₃ from the module."""
    rho = 0.9
    needs = busiest(scenario_from_dict(mm1_document(rho)), replications, 0.95)
    assert needs is not None and needs.station == "handler"
    deficit, variance = rho / (1 - rho) ** 3, 2 * rho * (1 + rho) / (1 - rho) ** 4
    length = needed_length(needs.constants, replications, 0.95)
    bias_share = (deficit / length) / math.sqrt(variance / (replications * length))
    skewness = needs.constants.third_cumulant_rate / (variance**1.5 * math.sqrt(length))
    shortfall = skew_shortfall(skewness, replications, 0.95)
    assert bias_share <= BIAS_SHARE * (1 + 1e-9) and shortfall <= SKEW_SHORTFALL * (1 + 1e-9)
    assert max(bias_share / BIAS_SHARE, shortfall / SKEW_SHORTFALL) == pytest.approx(1.0)


def test_a_short_run_at_high_load_says_so_and_suggests_a_horizon() -> None:
    """ρ = 0.95, horizon 3,000: about 2 τ. The note names the station, ρ, a horizon, a warm-up."""
    scenario = scenario_from_dict(mm1_document(0.95))
    result = run(scenario, replications=2, horizon=3000.0, warmup=100.0, seed=5, engine="simpy")
    notes = [n for n in result.notes if n.startswith("run too short for its load")]
    assert len(notes) == 1 and "handler (ρ = 0.95," in notes[0]
    assert "miss mostly below" in notes[0]
    horizon, warmup = suggested(notes[0])
    assert warmup >= 100.0 and horizon - warmup >= needed_length(
        busiest(scenario, 2, 0.95).constants,
        2,
        0.95,  # type: ignore[union-attr]
    )
    # the suggested horizon and warm-up silence the note
    assert run_length_note(scenario, horizon, warmup, 2) is None


def test_a_long_enough_run_and_a_light_load_carry_no_note() -> None:
    """ρ = 0.3: 4,900 after the warm-up is longer than 2 replications need (3,600: the skew)."""
    scenario = scenario_from_dict(mm1_document(0.3))
    assert 3000 < needed_length(busiest(scenario, 2, 0.95).constants, 2, 0.95) < 4900  # type: ignore[union-attr]
    result = run(scenario, replications=2, horizon=5000.0, warmup=100.0, seed=5, engine="simpy")
    assert not [n for n in result.notes if n.startswith("run too short")]


def test_more_replications_need_longer_runs_for_bias_and_shorter_for_skew() -> None:
    """Bias against the standard error grows with √n; the skew's cost falls like 1/n."""
    constants = busiest(scenario_from_dict(mm1_document(0.9)), 10, 0.95).constants  # type: ignore[union-attr]
    bias = constants.start_deficit**2 / (BIAS_SHARE**2 * constants.variance_rate)  # per replication
    assert needed_length(constants, 400, 0.95) == pytest.approx(400 * bias, rel=1e-12)
    assert needed_length(constants, 2, 0.95) == pytest.approx(
        5 * needed_length(constants, 10, 0.95), rel=1e-12
    )


def test_batch_means_are_judged_on_the_whole_run() -> None:
    """One run cut into 20 batches needs what the skew of 20 batches and its bias ask."""
    scenario = scenario_from_dict(mm1_document(0.9))
    constants = busiest(scenario, 1, 0.95).constants  # type: ignore[union-attr]
    assert needed_length(constants, 1, 0.95, 20) == pytest.approx(
        10 * needed_length(constants, 10, 0.95), rel=1e-12
    )
    note = run_length_note(scenario, 10_000.0, 0.0, 1, 0.95, 20)
    assert note is not None and "batch means over 500 time units" in note


def test_stations_with_a_capacity_are_not_judged() -> None:
    """A finite buffer relaxes fast at any load: no note however short the run."""
    finite = scenario_from_dict(mm1_document(0.99, capacity=5))
    assert run_length_note(finite, 100.0, 0.0, 10) is None


def test_precision_runs_start_with_enough_replications_and_say_what_stopping_does() -> None:
    assert precision_start(3, None) == 3
    assert precision_start(3, 0.1) == PRECISION_MIN_REPLICATIONS
    assert precision_start(30, 0.1) == 30
    scenario = scenario_from_dict(mm1_document(0.5))
    result = run(
        scenario, replications=2, horizon=2000.0, warmup=100.0, seed=3, precision=0.5,
        engine="simpy",
    )  # fmt: skip
    assert result.replications >= PRECISION_MIN_REPLICATIONS
    assert any("sequential-stopping bias" in n for n in result.notes)
