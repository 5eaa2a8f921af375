"""Issue 12, finding 7: a run too short for its load and sequential stopping say so.

The relaxation times are checked against Morse's closed form computed here; the
notes are checked on real runs (SimPy engine, short, seeded). The coverage these
notes protect is measured in tests/test_coverage.py (slow).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from eda_sim.experiment import run
from eda_sim.experiment.diagnostics import (
    PRECISION_MIN_REPLICATIONS,
    RELAXATIONS,
    precision_start,
    relaxation_time,
    run_length_note,
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


def suggested(note: str) -> float:
    found = re.search(r"horizon of at least ([0-9.e+]+)", note)
    assert found is not None, note
    return float(found.group(1))


def test_a_short_run_at_high_load_says_so_and_suggests_a_horizon() -> None:
    """ρ = 0.95, horizon 3,000: about 2 τ. The note names the station, ρ and a horizon."""
    scenario = scenario_from_dict(mm1_document(0.95))
    result = run(scenario, replications=2, horizon=3000.0, warmup=100.0, seed=5, engine="simpy")
    notes = [n for n in result.notes if n.startswith("run too short for its load")]
    assert len(notes) == 1 and "handler (ρ = 0.95)" in notes[0]
    tau = 1 / (1 - math.sqrt(0.95)) ** 2
    horizon = suggested(notes[0])
    assert horizon >= 100.0 + RELAXATIONS * tau
    # the suggested horizon silences the note
    assert run_length_note(scenario, horizon, 100.0, 2) is None


def test_a_long_enough_run_and_a_light_load_carry_no_note() -> None:
    """ρ = 0.3: τ = 4.9, and 2,900 after the warm-up is more than RELAXATIONS τ."""
    scenario = scenario_from_dict(mm1_document(0.3))
    result = run(scenario, replications=2, horizon=3000.0, warmup=100.0, seed=5, engine="simpy")
    assert not [n for n in result.notes if n.startswith("run too short")]


def test_the_note_scales_with_the_replications() -> None:
    """More replications shrink the interval, not the bias: the needed length grows."""
    scenario = scenario_from_dict(mm1_document(0.9))
    few = run_length_note(scenario, 100.0, 0.0, 10)
    many = run_length_note(scenario, 100.0, 0.0, 40)
    assert few is not None and many is not None
    assert suggested(many) == pytest.approx(4 * suggested(few), rel=0.06)


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
