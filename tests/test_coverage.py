"""Coverage of the 95% intervals of W, measured: 200 independent experiments per case (slow).

An experiment is a run of M/M/1 (10 replications) with its own seed; its 95%
interval of the station's W either covers the exact ``1 / (μ - λ)`` or misses it
below or above. Issue 12 asks that 93-97% of 200 experiments cover it at ρ = 0.8,
and at ρ = 0.95 with the horizon the run-length note suggests. Both run here as
the note says: its horizon and its fixed warm-up (at ρ = 0.8 the note asks for
14,000 with a warm-up of 1,300 in place of the default 10,000 with MSER-5). A
third case measures ``--precision`` at ρ = 0.8 with its minimum of replications
before the first check (sequential stopping; with a minimum of 10 these seeds
covered 182/200, 17 misses below and 1 above: the minimum is now 30). (A procedure with
exactly 95% coverage lands in 93-97% of 200 with probability about 0.8: the band
is the issue's target, not a 99% test.) The fast engine makes 200 long runs
affordable; seeds are fixed and never changed after a failure (the ρ = 0.95 and
ρ = 0.8 seeds are those the earlier rule was measured on; docs "Output analysis"
gives every figure measured, failures included). Run with
``pytest -m slow tests/test_coverage.py -s``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from eda_sim.experiment import run
from eda_sim.experiment.diagnostics import PRECISION_MIN_REPLICATIONS, run_length_note
from eda_sim.scenario import Scenario, scenario_from_dict

EXPERIMENTS = 200
REPLICATIONS = 10
#: The issue's band for the share of experiments that cover the exact W.
BAND = (0.93, 0.97)


def mm1(rho: float) -> Scenario:
    return scenario_from_dict(
        {
            "stations": {"handler": {"service": {"dist": "exponential", "rate": 1.0}}},
            "arrivals": {"process": "poisson", "rate": rho},
            "run": {"horizon": 10_000, "warmup": "auto", "replications": REPLICATIONS},
        }
    )


def suggestion(rho: float) -> tuple[float, float]:
    """The horizon and fixed warm-up the run-length note suggests for 10 short replications."""
    note = run_length_note(mm1(rho), 1000.0, 0.0, REPLICATIONS)
    assert note is not None
    found = re.search(r"horizon of at least ([0-9.e+]+) with a fixed warm-up of ([0-9.e+]+)", note)
    assert found is not None, note
    return float(found.group(1)), float(found.group(2))


def measure(rho: float, first_seed: int, **settings: Any) -> tuple[int, list[str]]:
    """Run the experiments; print hits, misses below and above, replications and wall time."""
    exact = 1 / (1 - rho)
    hits = below = above = replications = 0
    notes: list[str] = []
    started = time.perf_counter()
    for index in range(EXPERIMENTS):
        result = run(mm1(rho), seed=first_seed + index, engine="fast", workers=1, **settings)
        interval = result.stations["handler"]["W"]
        hits += interval.contains(exact)
        below += interval.high < exact
        above += interval.low > exact
        replications += result.replications
        notes.extend(result.notes)
    short = sum(n.startswith("run too short") for n in notes)
    print(
        f"\nrho {rho} {settings}: {hits}/{EXPERIMENTS} cover (miss below {below}, above "
        f"{above}); {replications / EXPERIMENTS:.1f} replications on average; {short} runs "
        f"noted short; {time.perf_counter() - started:.0f} s"
    )
    return hits, notes


def in_band(hits: int) -> bool:
    return BAND[0] * EXPERIMENTS <= hits <= BAND[1] * EXPERIMENTS


@pytest.mark.slow
def test_w_intervals_cover_at_rho_08_with_the_suggested_horizon() -> None:
    pytest.importorskip("numba")
    horizon, warmup = suggestion(0.8)
    hits, notes = measure(0.8, 12_000, horizon=horizon, warmup=warmup)
    assert not [n for n in notes if n.startswith("run too short")]
    assert in_band(hits), f"{hits}/{EXPERIMENTS} outside {BAND}"


@pytest.mark.slow
def test_w_intervals_cover_at_rho_095_with_the_suggested_horizon() -> None:
    pytest.importorskip("numba")
    horizon, warmup = suggestion(0.95)
    hits, notes = measure(0.95, 13_000, horizon=horizon, warmup=warmup)
    assert not [n for n in notes if n.startswith("run too short")]
    assert in_band(hits), f"{hits}/{EXPERIMENTS} outside {BAND}"


@pytest.mark.slow
def test_precision_runs_cover_at_rho_08_with_their_replication_minimum() -> None:
    """``--precision 0.05`` at the default horizon and warm-up: sequential stopping, first
    checked at ``PRECISION_MIN_REPLICATIONS`` replications."""
    pytest.importorskip("numba")
    hits, notes = measure(0.8, 14_000, replications=2, precision=0.05)
    assert sum("sequential-stopping" in n for n in notes) == EXPERIMENTS
    assert in_band(hits), f"{hits}/{EXPERIMENTS} outside {BAND}"


def test_a_short_high_load_run_says_so_with_a_horizon() -> None:
    """The default 10,000 at ρ = 0.95 is a few relaxation times: the note says so."""
    note = run_length_note(mm1(0.95), 10_000.0, 500.0, REPLICATIONS)
    assert note is not None and note.startswith("run too short for its load: handler")
    horizon, warmup = suggestion(0.95)
    assert horizon > 10_000.0 and 0 < warmup < horizon
    assert run_length_note(mm1(0.95), horizon, warmup, REPLICATIONS) is None
    assert run_length_note(mm1(0.5), 10_000.0, 500.0, REPLICATIONS) is None
    assert PRECISION_MIN_REPLICATIONS == 30
