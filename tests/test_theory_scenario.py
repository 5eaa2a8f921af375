"""The scenario solver: the right method for each kind of scenario, and never a crash."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from test_engine_properties import PROPERTY_SEED, PROPERTY_SETTINGS, Network, networks

from eda_sim.scenario import load_scenario, scenario_from_dict
from eda_sim.theory import mm1
from eda_sim.theory.scenario import solve

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@PROPERTY_SEED
@PROPERTY_SETTINGS
@given(net=networks())
def test_solve_never_crashes_and_keeps_littles_law(net: Network) -> None:
    """Any valid scenario gets figures or a reason; every figure obeys L = throughput·W."""
    theory = solve(net.scenario)
    for name, station in theory.stations.items():
        if station is None:
            assert theory.reasons[name]
            continue
        assert station.L == pytest.approx(station.throughput * station.W, rel=1e-9, abs=1e-12)
        assert 0 <= station.utilization <= 1 + 1e-12
        assert 0 <= station.loss <= 1
        assert station.method
    if theory.system is not None:
        assert theory.system.L >= 0 and theory.system.W > 0


def test_unstable_scenario_gets_reasons_not_numbers() -> None:
    scenario = scenario_from_dict(
        {
            "stations": {"a": {"service": {"dist": "exponential", "rate": 1.0}}},
            "arrivals": {"process": "poisson", "rate": 1.5},
        },
        allow_unstable=True,
    )
    theory = solve(scenario)
    assert theory.stations["a"] is None and theory.system is None
    assert "ρ = 1.5" in theory.reasons["a"]
    assert theory.to_dict()["stations"]["a"] == {"available": False, "reason": theory.reasons["a"]}


@pytest.mark.parametrize(
    ("file", "station", "method", "exact"),
    [
        ("mm1.yaml", "handler", "M/M/1", True),
        ("mmc.yaml", "pool", "M/M/c (Erlang C)", True),
        ("jackson3.yaml", "enrich", "M/M/1", True),
        ("tandem.yaml", "validate", "M/M/1", True),
        ("tandem.yaml", "persist", "M/M/c/K on mean service time (approx.)", False),
        ("sync_vs_async.yaml", "handler_lossy", "M/M/c/c (Erlang B)", True),
        ("pubsub.yaml", "email", "M/G/1 (Pollaczek-Khinchine)", True),
    ],
)
def test_method_chosen_per_station(file: str, station: str, method: str, exact: bool) -> None:
    figures = solve(load_scenario(SCENARIOS / file)).stations[station]
    assert figures is not None
    assert (figures.method, figures.exact) == (method, exact)


def test_article_formulas_for_single_server_stations_only() -> None:
    theory = solve(load_scenario(SCENARIOS / "mm1.yaml"))
    values = theory.article["handler"]
    assert values.rho == pytest.approx(0.7)
    assert values.L == pytest.approx(0.7**2 / (2 * 0.3))  # the M/D/1 Lq, not the M/M/1 L
    assert values.W == pytest.approx(mm1(0.7, 1.0).W)  # the M/M/1 W
    assert solve(load_scenario(SCENARIOS / "mmc.yaml")).article == {}


def test_class_figures_follow_littles_law_per_station() -> None:
    scenario = scenario_from_dict(
        {
            "stations": {
                "a": {"service": {"dist": "exponential", "mean": 0.5}},
                "b": {"service": {"dist": "exponential", "mean": 0.5}},
            },
            "classes": {
                "x": {
                    "arrivals": {"process": "poisson", "rate": 0.4, "to": "a"},
                    "routing": {"a": {"b": 1.0}},
                },
                "y": {"arrivals": {"process": "poisson", "rate": 0.6, "to": "b"}},
            },
        }
    )
    theory = solve(scenario)
    a, b = theory.stations["a"], theory.stations["b"]
    assert a is not None and b is not None
    assert theory.classes["x"]["W"] == pytest.approx(a.W + b.W)
    assert theory.classes["y"]["W"] == pytest.approx(b.W)
    assert math.isclose(theory.classes["x"]["throughput"], 0.4)


def test_a_formula_outside_its_domain_gives_a_reason_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import eda_sim.theory.scenario.dispatch as solver

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValueError("the traffic-variability equations are singular")

    monkeypatch.setattr(solver, "arrival_scv", refuse)
    scenario = scenario_from_dict(  # b is fed by a lognormal server: QNA's variability
        {
            "stations": {
                "a": {"service": {"dist": "lognormal", "mean": 0.5, "cv": 2.0}},
                "b": {"service": {"dist": "exponential", "mean": 0.5}},
            },
            "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
            "routing": {"a": {"b": 1.0}},
        }
    )
    theory = solve(scenario)
    assert theory.system is None
    assert all(station is None for station in theory.stations.values())
    assert "singular" in theory.reasons["system"]
