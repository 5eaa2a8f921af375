"""Layer 3: simulation against exact queueing theory.

Each test runs seeded independent replications and checks that the exact value
of every checked metric lies inside its Student-t confidence interval. The
intervals are Bonferroni-corrected so that the whole test has a 99% family-wise
level: with ``m`` checked values, each interval has level ``1 − 0.01/m``. A test
of this kind fails by chance with probability at most 1%; the seeds were chosen
once and are never changed after a failure (a failure means: look for a bug).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from validation_support import FAMILY_ALPHA

from eda_sim.experiment import run
from eda_sim.scenario import load_scenario, scenario_from_dict
from eda_sim.stats import t_interval
from eda_sim.theory import StationTheory, jackson, mm1, mmc

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CHECKED = ("L", "W", "Wq")


def assert_inside(result, expected: dict[str, StationTheory]) -> None:
    """Every station's L, W, Wq replication means must cover the exact values."""
    checks = len(expected) * len(CHECKED)
    level = 1 - FAMILY_ALPHA / checks
    misses = []
    for station, theory in expected.items():
        for metric in CHECKED:
            values = [rep.stations[station].metric(metric) for rep in result.replication_results]
            interval = t_interval(values, level)
            exact = getattr(theory, metric)
            if not interval.contains(exact):
                misses.append(
                    f"{station}.{metric}: exact {exact:.5g} outside "
                    f"[{interval.low:.5g}, {interval.high:.5g}] ({level:.4%})"
                )
    assert not misses, "\n".join(misses)


def test_mm1_matches_exact_values() -> None:
    scenario = load_scenario(SCENARIOS / "mm1.yaml")
    result = run(scenario, replications=10, horizon=20_000, warmup=1_000, seed=11)
    assert_inside(result, {"handler": mm1(0.7, 1.0)})


def test_mmc_matches_erlang_c() -> None:
    scenario = load_scenario(SCENARIOS / "mmc.yaml")
    result = run(scenario, replications=10, horizon=10_000, warmup=1_000, seed=12)
    assert_inside(result, {"pool": mmc(2.4, 1.0, 3)})


def test_jackson3_matches_product_form() -> None:
    scenario = load_scenario(SCENARIOS / "jackson3.yaml")
    routing = np.array([[0, 0.6, 0.3], [0, 0, 0.5], [0.2, 0, 0]])
    theory = jackson(
        np.array([1.0, 0, 0]), routing, np.array([1 / 2.0, 1 / 1.5, 1 / 2.5]), np.array([1, 1, 1])
    )
    result = run(scenario, replications=10, horizon=10_000, warmup=500, seed=13)
    assert_inside(result, dict(zip(scenario.station_names, theory.stations, strict=True)))


def test_system_time_matches_littles_law_on_jackson3() -> None:
    """End-to-end W against Σ L_i / γ (Jackson + Little), at the 99% level."""
    scenario = load_scenario(SCENARIOS / "jackson3.yaml")
    routing = np.array([[0, 0.6, 0.3], [0, 0, 0.5], [0.2, 0, 0]])
    theory = jackson(
        np.array([1.0, 0, 0]), routing, np.array([1 / 2.0, 1 / 1.5, 1 / 2.5]), np.array([1, 1, 1])
    )
    result = run(scenario, replications=10, horizon=10_000, warmup=500, seed=14)
    values = [rep.system.W for rep in result.replication_results]
    assert t_interval(values, 1 - FAMILY_ALPHA).contains(theory.system.W)


@pytest.mark.parametrize("servers", [1, 2])
def test_multiclass_with_equal_exponential_service_is_product_form(servers: int) -> None:
    """Two event classes sharing one station with the same exponential service: M/M/c on the sum."""
    scenario = scenario_from_dict(
        {
            "stations": {
                "bus": {"servers": servers, "service": {"dist": "exponential", "rate": 1.0}}
            },
            "classes": {
                "orders": {"arrivals": {"process": "poisson", "rate": 0.3 * servers}},
                "clicks": {"arrivals": {"process": "poisson", "rate": 0.4 * servers}},
            },
            "run": {"horizon": 20_000, "warmup": 1_000, "replications": 10, "seed": 15 + servers},
        }
    )
    result = run(scenario)
    assert_inside(result, {"bus": mmc(0.7 * servers, 1.0, servers)})
